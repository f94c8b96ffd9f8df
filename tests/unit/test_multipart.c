/*
 * multipart/form-data: the boundary parameter, the streaming parser (the
 * same body split at every position must give the same events), every
 * limit at and one past its bound, malformed bodies, callbacks that stop
 * the parser, keel_req_multipart's statuses, and file-name sanitising.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "keel/multipart.h"

#define S(lit) keel_str_from_cstr(lit)

/* ----------------------------------------------------- the boundary */

Test(multipart, boundary_from_content_type)
{
	static const char *const ok[][2] = {
	        {"multipart/form-data; boundary=abc", "abc"},
	        {"multipart/form-data;boundary=abc", "abc"},
	        {"Multipart/Form-Data; BOUNDARY=abc", "abc"},
	        {"multipart/form-data; boundary=\"a b:c\"", "a b:c"},
	        {"multipart/form-data; charset=utf-8; boundary=x-1", "x-1"},
	        {"multipart/form-data; boundary=x ; charset=utf-8", "x"},
	        {"multipart/form-data; a=\"; boundary=evil\"; boundary=ok",
	         "ok"},
	        {"multipart/form-data; boundary=----WebKitFormBoundary7MA4YW",
	         "----WebKitFormBoundary7MA4YW"},
	        {"multipart/form-data; boundary=abc;", "abc"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++) {
		keel_str_t b;
		cr_assert_eq(keel_multipart_boundary(S(ok[i][0]), &b), KEEL_OK,
		             "%s", ok[i][0]);
		cr_expect(keel_str_eq(b, S(ok[i][1])), "%s", ok[i][0]);
	}
}

Test(multipart, boundary_refusals)
{
	static const char *const not_form[] = {
	        "text/plain",
	        "multipart/mixed; boundary=a",
	        "multipart/form-datax; boundary=a",
	        "",
	        "multipart",
	};
	keel_str_t b;
	for (size_t i = 0; i < KEEL_COUNTOF(not_form); i++)
		cr_expect_eq(keel_multipart_boundary(S(not_form[i]), &b),
		             KEEL_ENOENT, "%s", not_form[i]);
	static const char *const bad[] = {
	        "multipart/form-data",
	        "multipart/form-data; charset=utf-8",
	        "multipart/form-data; boundary=",
	        "multipart/form-data; boundary=\"\"",
	        "multipart/form-data; boundary=a; boundary=a",
	        "multipart/form-data; boundary=\"a \"",
	        "multipart/form-data; boundary=\"a\\b\"",
	        "multipart/form-data; boundary=\"a;b\"",
	        "multipart/form-data; boundary=\"abc",
	        "multipart/form-data; boundary=a@b",
	        "multipart/form-data boundary=a",
	        "multipart/form-data; =a",
	        "multipart/form-data, boundary=a",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_expect_eq(keel_multipart_boundary(S(bad[i]), &b),
		             KEEL_EINVAL, "%s", bad[i]);
}

Test(multipart, boundary_length_limit)
{
	char ct[160];
	char b70[71], b71[72];
	memset(b70, 'b', 70);
	b70[70] = '\0';
	memset(b71, 'b', 71);
	b71[71] = '\0';
	keel_str_t b;
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	cr_expect_eq(keel_multipart_boundary(S(ct), &b), KEEL_OK);
	cr_expect_eq(b.len, 70);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b71);
	cr_expect_eq(keel_multipart_boundary(S(ct), &b), KEEL_EINVAL);
	keel_multipart_t mp;
	cr_expect_eq(keel_multipart_init(&mp, S(b71), NULL, NULL, NULL),
	             KEEL_EINVAL);
	keel_multipart_deinit(&mp);
	cr_expect_eq(keel_multipart_init(&mp, S(""), NULL, NULL, NULL),
	             KEEL_EINVAL);
	keel_multipart_deinit(&mp);
}

/* ----------------------------------------------- a recording parser */

typedef struct rec {
	keel_buf_t log;
	long stop_part;  /* part index whose callback stops, -1: none */
	int stop_status; /* what it returns */
	int stop_in;     /* 0 begin, 1 data, 2 end */
} rec_t;

typedef struct outcome {
	int rc;
	int status;
	char *log;
} outcome_t;

static int stop_here(rec_t *r, const keel_multipart_part_t *p, int where)
{
	return (long)p->index == r->stop_part && r->stop_in == where
	               ? r->stop_status
	               : 0;
}

static int rec_begin(void *ud, const keel_multipart_part_t *p)
{
	rec_t *r = ud;
	keel_buf_appendf(&r->log, "<%zu name=%.*s file=%d:%.*s ct=%.*s>",
	                 p->index, KEEL_STR_FMT(p->name), p->is_file,
	                 KEEL_STR_FMT(p->filename),
	                 KEEL_STR_FMT(p->content_type));
	cr_expect_eq(p->size, 0);
	return stop_here(r, p, 0);
}

static int rec_data(void *ud, const keel_multipart_part_t *p, const char *d,
                    size_t n)
{
	rec_t *r = ud;
	cr_expect(n > 0, "empty data callback");
	keel_buf_append(&r->log, d, n);
	return stop_here(r, p, 1);
}

static int rec_end(void *ud, const keel_multipart_part_t *p)
{
	rec_t *r = ud;
	keel_buf_appendf(&r->log, "</%zu:%llu>", p->index,
	                 (unsigned long long)p->size);
	return stop_here(r, p, 2);
}

static const keel_multipart_callbacks_t rec_cb = {rec_begin, rec_data, rec_end};

/*
 * Feed `body` cut at the sorted offsets cuts[0..ncuts), then finish;
 * returns the final code, the status and the event log.
 */
static outcome_t parse_cut(const char *boundary, const char *body, size_t len,
                           const size_t *cuts, size_t ncuts,
                           const keel_multipart_limits_t *lim, rec_t *r)
{
	keel_multipart_t mp;
	cr_assert_eq(keel_multipart_init(&mp, S(boundary), lim, &rec_cb, r),
	             KEEL_OK);
	int rc = KEEL_AGAIN;
	size_t from = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		rc = keel_multipart_feed(&mp, body + from, to - from);
		from = to;
	}
	if (rc == KEEL_AGAIN)
		rc = keel_multipart_finish(&mp);
	cr_expect_eq(keel_multipart_feed(&mp, "x", 1), rc == 0 ? 0 : rc);
	outcome_t o = {rc, keel_multipart_status(&mp), NULL};
	o.log = keel_buf_detach(&r->log, NULL);
	cr_assert(o.log != NULL);
	keel_multipart_deinit(&mp);
	return o;
}

static outcome_t parse_lim(const char *boundary, const char *body, size_t len,
                           const keel_multipart_limits_t *lim)
{
	rec_t r = {.stop_part = -1};
	keel_buf_init(&r.log, 0);
	return parse_cut(boundary, body, len, NULL, 0, lim, &r);
}

static outcome_t parse(const char *boundary, const char *body)
{
	return parse_lim(boundary, body, strlen(body), NULL);
}

static void expect_same(outcome_t a, outcome_t b, const char *what)
{
	cr_expect_eq(a.rc, b.rc, "%s: rc %d vs %d", what, a.rc, b.rc);
	cr_expect_eq(a.status, b.status, "%s: status", what);
	cr_expect_str_eq(a.log, b.log, "%s", what);
}

/*
 * The whole body, then every 2-way split, every 3-way split when the body
 * is short, and byte-at-a-time: all must agree.
 */
static void check_every_split(const char *boundary, const char *body,
                              size_t len, const keel_multipart_limits_t *lim,
                              outcome_t *whole_out)
{
	outcome_t whole = parse_lim(boundary, body, len, lim);
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j += (len <= 160 ? 1 : len + 1)) {
			size_t cuts[2] = {i, j};
			rec_t r = {.stop_part = -1};
			keel_buf_init(&r.log, 0);
			outcome_t o = parse_cut(boundary, body, len, cuts, 2,
			                        lim, &r);
			char what[64];
			snprintf(what, sizeof(what), "cuts %zu,%zu", i, j);
			expect_same(whole, o, what);
			free(o.log);
		}
	}
	size_t *bytes = malloc((len + 1) * sizeof(*bytes));
	cr_assert(bytes != NULL);
	for (size_t i = 0; i < len; i++)
		bytes[i] = i;
	rec_t r = {.stop_part = -1};
	keel_buf_init(&r.log, 0);
	outcome_t o = parse_cut(boundary, body, len, bytes, len, lim, &r);
	expect_same(whole, o, "byte by byte");
	free(o.log);
	free(bytes);
	if (whole_out)
		*whole_out = whole;
	else
		free(whole.log);
}

static const char sample[] =
        "preamble, ignored\r\n--XyA in the preamble\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"title\"\r\n"
        "\r\n"
        "Hi\r\n--XyA\r\r\n--Xy\n--XyZ-\r\n-\r"
        "\r\n--XyZ \t \r\n"
        "Content-Disposition: form-data; name=\"doc\"; "
        "filename=\"C:\\dir\\a.txt\"\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "X-Other: ignored\r\n"
        "\r\n"
        "line1\r\nline2\r\n\r\n"
        "\r\n--XyZ\r\n"
        "content-disposition: FORM-DATA; name=empty\r\n"
        "\r\n"
        "\r\n--XyZ--\r\nepilogue\r\n--XyZ\r\ngarbage";

static const char sample_log[] =
        "<0 name=title file=0: ct=text/plain>"
        "Hi\r\n--XyA\r\r\n--Xy\n--XyZ-\r\n-\r"
        "</0:27>"
        "<1 name=doc file=1:C:\\dir\\a.txt ct=text/plain; charset=utf-8>"
        "line1\r\nline2\r\n\r\n"
        "</1:16>"
        "<2 name=empty file=0: ct=text/plain>"
        "</2:0>";

Test(multipart, parses_fields_files_preamble_and_epilogue)
{
	outcome_t o = parse("XyZ", sample);
	cr_expect_eq(o.rc, KEEL_OK);
	cr_expect_eq(o.status, 0);
	cr_expect_str_eq(o.log, sample_log);
	free(o.log);
}

Test(multipart, same_events_at_every_split)
{
	outcome_t whole;
	check_every_split("XyZ", sample, strlen(sample), NULL, &whole);
	cr_expect_str_eq(whole.log, sample_log);
	free(whole.log);
}

Test(multipart, binary_data_with_crs_and_nuls)
{
	static const char body[] = "--b\r\n"
	                           "Content-Disposition: form-data; name=f; "
	                           "filename=x.bin\r\n"
	                           "\r\n"
	                           "\r\0\r\r\n\r\n-\r\n--\r\n--c\0\xff\r"
	                           "\r\n--b--";
	outcome_t whole;
	check_every_split("b", body, sizeof(body) - 1, NULL, &whole);
	cr_expect_eq(whole.rc, KEEL_OK);
	static const char want[] = "<0 name=f file=1:x.bin ct=text/plain>"
	                           "\r\0\r\r\n\r\n-\r\n--\r\n--c\0\xff\r"
	                           "</0:20>";
	cr_expect_eq(memcmp(whole.log, want, sizeof(want)), 0);
	free(whole.log);
}

Test(multipart, edge_forms_of_the_body)
{
	static const char *const t[][2] = {
	        /* no parts at all: what browsers send for an empty form */
	        {"--b--", ""},
	        {"--b--\r\n", ""},
	        {"\r\n--b--", ""},
	        {"junk\r\n--b--anything", ""},
	        /* first delimiter right at the start, and after a CRLF */
	        {"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n"
	         "--b--",
	         "<0 name=a file=0: ct=text/plain>v</0:1>"},
	        {"\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	         "\r\n--b--",
	         "<0 name=a file=0: ct=text/plain></0:0>"},
	        /* empty name and empty filename are still given */
	        {"--b\r\nContent-Disposition: form-data; name=\"\"; "
	         "filename=\"\"\r\n\r\nz\r\n--b--",
	         "<0 name= file=1: ct=text/plain>z</0:1>"},
	        /* filename* is ignored, spaces around '=' are fine */
	        {"--b\r\nContent-Disposition: form-data ; name = \"a\" ; "
	         "filename*=UTF-8''x\r\n\r\nv\r\n--b--",
	         "<0 name=a file=0: ct=text/plain>v</0:1>"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		outcome_t o = parse("b", t[i][0]);
		cr_expect_eq(o.rc, KEEL_OK, "%s: %d", t[i][0], o.rc);
		cr_expect_str_eq(o.log, t[i][1], "%s", t[i][0]);
		free(o.log);
	}
}

/* ------------------------------------------------------- malformed */

Test(multipart, malformed_bodies_are_400)
{
	static const char *const bad[] = {
	        "",
	        "no delimiter at all",
	        "--b",
	        "--b\r\n",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b",
	        "--bX\r\n",
	        "--b-\r\n",
	        "--b-x",
	        "--b\n",
	        "--b \n",
	        "--b\rX",
	        "--b x\r\n",
	        "--b\r\n\r\nno headers\r\n--b--",
	        "--b\r\nX-Other: 1\r\n\r\nv\r\n--b--",
	        "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n"
	        "\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a; NAME=b\r\n"
	        "\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a; filename=x; "
	        "filename=y\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n"
	        "Content-Disposition: form-data; name=b\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n"
	        "Content-Type: a/b\r\nContent-Type: c/d\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n"
	        "Content-Type:\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\r\nNoColon\r\n"
	        "\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a b\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=\r\n\r\n"
	        "\r\n--b--",
	        "--b\r\nBad Name: x\r\nContent-Disposition: form-data; "
	        "name=a\r\n\r\n\r\n--b--",
	        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	        "\r\n--bad\r\n",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		outcome_t o = parse("b", bad[i]);
		cr_expect_eq(o.rc, KEEL_EINVAL, "[%s] rc %d", bad[i], o.rc);
		cr_expect_eq(o.status, 400, "[%s]", bad[i]);
		free(o.log);
	}
}

Test(multipart, control_bytes_in_header_values_are_400)
{
	const char body[] = "--b\r\nContent-Disposition: form-data; name=\"a\0"
	                    "\"\r\n\r\n\r\n--b--";
	outcome_t o = parse_lim("b", body, sizeof(body) - 1, NULL);
	cr_expect_eq(o.status, 400);
	free(o.log);
}

/* --------------------------------------------------------- limits */

/* A body of `n` parts named p<i> whose data is `size` bytes of 'x'. */
static char *make_body(size_t n, size_t size, bool files, size_t *len)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		keel_buf_appendf(&b,
		                 "--B\r\nContent-Disposition: form-data; "
		                 "name=p%zu%s\r\n\r\n",
		                 i, files ? "; filename=f" : "");
		for (size_t k = 0; k < size; k++)
			keel_buf_append_char(&b, 'x');
		keel_buf_append(&b, "\r\n", 2);
	}
	keel_buf_append(&b, "--B--\r\n", 7);
	char *s = keel_buf_detach(&b, len);
	cr_assert(s != NULL);
	return s;
}

Test(multipart, part_count_limit)
{
	size_t len;
	char *body = make_body(3, 1, false, &len);
	keel_multipart_limits_t lim = {.max_parts = 3};
	outcome_t o = parse_lim("B", body, len, &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	free(o.log);
	lim.max_parts = 2;
	o = parse_lim("B", body, len, &lim);
	cr_expect_eq(o.rc, KEEL_ELIMIT);
	cr_expect_eq(o.status, 413);
	/* the third part is refused before its begin, after 2's end */
	cr_expect_str_eq(o.log, "<0 name=p0 file=0: ct=text/plain>x</0:1>"
	                        "<1 name=p1 file=0: ct=text/plain>x</1:1>");
	free(o.log);
	check_every_split("B", body, len, &lim, NULL);
	free(body);
}

Test(multipart, field_and_file_byte_limits)
{
	size_t len;
	char *field = make_body(1, 10, false, &len);
	keel_multipart_limits_t lim = {.max_field_bytes = 10,
	                               .max_file_bytes = 1};
	outcome_t o = parse_lim("B", field, len, &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	free(o.log);
	lim.max_field_bytes = 9;
	o = parse_lim("B", field, len, &lim);
	cr_expect_eq(o.status, 413);
	/* exactly the limit was delivered, then no end event */
	cr_expect_str_eq(o.log, "<0 name=p0 file=0: ct=text/plain>xxxxxxxxx");
	free(o.log);
	check_every_split("B", field, len, &lim, NULL);
	free(field);

	char *file = make_body(1, 10, true, &len);
	lim = (keel_multipart_limits_t){.max_file_bytes = 10,
	                                .max_field_bytes = 1};
	o = parse_lim("B", file, len, &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	free(o.log);
	lim.max_file_bytes = 9;
	o = parse_lim("B", file, len, &lim);
	cr_expect_eq(o.status, 413);
	cr_expect_str_eq(o.log, "<0 name=p0 file=1:f ct=text/plain>xxxxxxxxx");
	free(o.log);
	check_every_split("B", file, len, &lim, NULL);
	free(file);
}

Test(multipart, header_section_limit)
{
	static const char body[] = "--B\r\n"
	                           "Content-Disposition: form-data; name=a\r\n"
	                           "\r\n"
	                           "v\r\n--B--";
	size_t hdr = strlen("Content-Disposition: form-data; name=a\r\n\r\n");
	keel_multipart_limits_t lim = {.max_header_bytes = hdr};
	outcome_t o = parse_lim("B", body, sizeof(body) - 1, &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	free(o.log);
	lim.max_header_bytes = hdr - 1;
	o = parse_lim("B", body, sizeof(body) - 1, &lim);
	cr_expect_eq(o.rc, KEEL_ELIMIT);
	cr_expect_eq(o.status, 413);
	cr_expect_str_eq(o.log, "");
	free(o.log);
	check_every_split("B", body, sizeof(body) - 1, &lim, NULL);

	/* An empty section ends at its first CRLF: refused as malformed at
	 * once, not buffered on as if the data were more header lines. */
	static const char none[] =
	        "--B\r\n\r\nsome data, no CRLF CRLF\r\n--B--";
	lim.max_header_bytes = 8;
	o = parse_lim("B", none, sizeof(none) - 1, &lim);
	cr_expect_eq(o.status, 400);
	free(o.log);
}

Test(multipart, total_limit_counts_through_the_close_delimiter)
{
	static const char body[] = "--B\r\n"
	                           "Content-Disposition: form-data; name=a\r\n"
	                           "\r\n"
	                           "v\r\n--B--"
	                           "epilogue is never counted";
	size_t upto = strlen(body) - strlen("epilogue is never counted");
	keel_multipart_limits_t lim = {.max_total = upto};
	outcome_t o = parse_lim("B", body, sizeof(body) - 1, &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	free(o.log);
	check_every_split("B", body, sizeof(body) - 1, &lim, NULL);
	lim.max_total = upto - 1;
	o = parse_lim("B", body, sizeof(body) - 1, &lim);
	cr_expect_eq(o.rc, KEEL_ELIMIT);
	cr_expect_eq(o.status, 413);
	/* the data was delivered; the part never ended */
	cr_expect_str_eq(o.log, "<0 name=a file=0: ct=text/plain>v");
	free(o.log);
	check_every_split("B", body, sizeof(body) - 1, &lim, NULL);
}

Test(multipart, zero_limits_mean_defaults)
{
	keel_multipart_limits_t lim = {0};
	outcome_t o = parse_lim("XyZ", sample, strlen(sample), &lim);
	cr_expect_eq(o.rc, KEEL_OK);
	cr_expect_str_eq(o.log, sample_log);
	free(o.log);
}

/* ------------------------------------------------------ callbacks */

static outcome_t parse_stop(long part, int where, int status)
{
	rec_t r = {.stop_part = part, .stop_in = where, .stop_status = status};
	keel_buf_init(&r.log, 0);
	return parse_cut("XyZ", sample, strlen(sample), NULL, 0, NULL, &r);
}

Test(multipart, a_callback_can_stop_the_parser)
{
	outcome_t o = parse_stop(1, 0, 415);
	cr_expect_eq(o.rc, KEEL_ESTATE);
	cr_expect_eq(o.status, 415);
	cr_expect_str_eq(o.log, "<0 name=title file=0: ct=text/plain>"
	                        "Hi\r\n--XyA\r\r\n--Xy\n--XyZ-\r\n-\r</0:27>"
	                        "<1 name=doc file=1:C:\\dir\\a.txt "
	                        "ct=text/plain; charset=utf-8>");
	free(o.log);
	o = parse_stop(0, 1, -3);
	cr_expect_eq(o.rc, KEEL_ESTATE);
	cr_expect_eq(o.status, 500);
	free(o.log);
	o = parse_stop(2, 2, 422);
	cr_expect_eq(o.status, 422);
	cr_expect(strstr(o.log, "</2:0>") != NULL);
	free(o.log);
	o = parse_stop(0, 0, 200);
	cr_expect_eq(o.status, 500);
	free(o.log);
}

Test(multipart, null_callbacks_are_allowed)
{
	keel_multipart_t mp;
	cr_assert_eq(keel_multipart_init(&mp, S("XyZ"), NULL, NULL, NULL),
	             KEEL_OK);
	cr_expect_eq(keel_multipart_feed(&mp, sample, strlen(sample)), KEEL_OK);
	cr_expect_eq(keel_multipart_finish(&mp), KEEL_OK);
	cr_expect_eq(keel_multipart_status(&mp), 0);
	keel_multipart_deinit(&mp);
}

Test(multipart, part_slices_are_stable_until_the_end_callback)
{
	/* The header buffer must not move while a part is open. */
	keel_multipart_t mp;
	cr_assert_eq(keel_multipart_init(&mp, S("XyZ"), NULL, NULL, NULL),
	             KEEL_OK);
	const char *head = "--XyZ\r\nContent-Disposition: form-data; name=n\r\n"
	                   "\r\nabc";
	cr_assert_eq(keel_multipart_feed(&mp, head, strlen(head)), KEEL_AGAIN);
	keel_str_t name = mp.part.name;
	cr_assert_eq(keel_multipart_feed(&mp, "def", 3), KEEL_AGAIN);
	cr_expect(keel_str_eq(name, S("n")));
	cr_expect_eq(mp.part.size, 6);
	cr_expect_eq(keel_multipart_finish(&mp), KEEL_EINVAL);
	cr_expect_eq(keel_multipart_status(&mp), 400);
	keel_multipart_deinit(&mp);
}

/* ------------------------------------------------ keel_req_multipart */

typedef struct fake {
	keel_req_t req;
	keel_http_header_t hdrs[4];
} fake_t;

static int req_status(const char *ctype, const char *body, size_t len,
                      const keel_multipart_limits_t *lim, rec_t *r)
{
	fake_t *f = calloc(1, sizeof(*f));
	cr_assert(f != NULL);
	f->req.head.method = KEEL_HTTP_POST;
	f->req.head.headers = f->hdrs;
	keel_arena_init(&f->req.arena, 0, 0);
	keel_buf_init(&f->req.body, 0);
	keel_buf_append(&f->req.body, body, len);
	if (ctype)
		f->hdrs[f->req.head.header_count++] =
		        (keel_http_header_t){S("Content-Type"), S(ctype)};
	int st = keel_req_multipart(&f->req, lim, &rec_cb, r);
	keel_buf_deinit(&f->req.body);
	keel_arena_deinit(&f->req.arena);
	free(f);
	return st;
}

Test(multipart, request_statuses)
{
	rec_t r = {.stop_part = -1};
	keel_buf_init(&r.log, 0);
	const char *ct = "multipart/form-data; boundary=XyZ";
	size_t n = strlen(sample);
	cr_expect_eq(req_status(ct, sample, n, NULL, &r), 0);
	cr_expect_str_eq(r.log.data, sample_log);
	keel_buf_reset(&r.log);
	cr_expect_eq(req_status(NULL, sample, n, NULL, &r), 415);
	cr_expect_eq(req_status("application/json", sample, n, NULL, &r), 415);
	cr_expect_eq(req_status("multipart/form-data", sample, n, NULL, &r),
	             400);
	cr_expect_eq(req_status(ct, sample, 40, NULL, &r), 400);
	cr_expect_eq(req_status(ct, "", 0, NULL, &r), 400);
	keel_multipart_limits_t lim = {.max_parts = 1};
	cr_expect_eq(req_status(ct, sample, n, &lim, &r), 413);
	r.stop_part = 0;
	r.stop_status = 415;
	cr_expect_eq(req_status(ct, sample, n, NULL, &r), 415);
	keel_buf_deinit(&r.log);
}

/* -------------------------------------------------- safe filenames */

Test(multipart, safe_filenames)
{
	static const char *const t[][2] = {
	        {"a.txt", "a.txt"},
	        {"../../etc/passwd", "passwd"},
	        {"/abs/path/x.png", "x.png"},
	        {"C:\\Users\\me\\evil.exe", "evil.exe"},
	        {"dir\\..\\x", "x"},
	        {".bashrc", "bashrc"},
	        {"...hidden. . .", "hidden"},
	        {"  spaced name.txt  ", "spaced name.txt"},
	        {"a\x01\x1b[31mb\x7f.txt", "a[31mb.txt"},
	        {"a<b>:c\"d|e?f*.txt", "a_b__c_d_e_f_.txt"},
	        {"r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf"},
	        {"bad\xff\xc3utf8.txt", "badutf8.txt"},
	        {"\xc0\xaf.txt", "txt"},
	        {"cod\xe2\x80\xae"
	         "fdp.exe",
	         "codfdp.exe"},
	        {"a\xc2\x85"
	         "b",
	         "ab"},
	        {"100%22.txt", "100%22.txt"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		char out[64];
		size_t n = 0;
		int rc = keel_multipart_safe_filename(S(t[i][0]), out,
		                                      sizeof(out), &n);
		cr_expect_eq(rc, KEEL_OK, "%s: %d", t[i][0], rc);
		cr_expect_str_eq(out, t[i][1]);
		cr_expect_eq(n, strlen(t[i][1]));
	}
}

Test(multipart, safe_filename_refusals_and_length)
{
	static const char *const empty[] = {
	        "", "..", ".", "/", "a/", "a\\", "dir/..", "\x01\x02", " . "};
	char out[64];
	size_t n = 99;
	for (size_t i = 0; i < KEEL_COUNTOF(empty); i++)
		cr_expect_eq(keel_multipart_safe_filename(S(empty[i]), out,
		                                          sizeof(out), &n),
		             KEEL_EINVAL, "%s", empty[i]);
	cr_expect_eq(keel_multipart_safe_filename(S("abc"), out, 3, &n),
	             KEEL_ENOMEM);
	cr_expect_eq(keel_multipart_safe_filename(S("abc"), out, 4, NULL),
	             KEEL_OK);

	char big[400], res[401];
	memset(big, 'a', sizeof(big));
	memcpy(big + 253, "\xc3\xa9", 2); /* straddles byte 255 */
	keel_str_t raw = {big, sizeof(big)};
	cr_assert_eq(keel_multipart_safe_filename(raw, res, sizeof(res), &n),
	             KEEL_OK);
	cr_expect_eq(n, 255);
	cr_expect_eq(memcmp(res + 253, "\xc3\xa9", 2), 0);
	memcpy(big + 253, "a\xc3\xa9", 3); /* would end at byte 256 */
	cr_assert_eq(keel_multipart_safe_filename(raw, res, sizeof(res), &n),
	             KEEL_OK);
	cr_expect_eq(n, 254);
}
