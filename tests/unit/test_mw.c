/*
 * The built-in middleware, each hook called directly on a real request
 * (a head parsed by keel_http_parse_request) and a real response, the way
 * the middleware chain will call them; no sockets, no app.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "http/conn.h"
#include "keel/clock.h"
#include "keel/log.h"
#include "keel/mw.h"

#define S(lit) keel_str_from_cstr(lit)

/* ------------------------------------------------------------- fixture */

typedef struct mwfx {
	keel_req_t req;
	keel_res_t res;
	char raw[8192];
	keel_http_header_t hdrs[32];
} mwfx_t;

/* A request "<line> HTTP/1.1" with the extra header lines `hdrs` (each
 * ending in \r\n), as the connection would hand it to the app. */
static mwfx_t *mwfx_new(const char *line, const char *hdrs)
{
	mwfx_t *f = calloc(1, sizeof(*f));
	cr_assert_not_null(f);
	int n = snprintf(f->raw, sizeof(f->raw),
	                 "%s HTTP/1.1\r\nHost: test\r\n%s\r\n", line,
	                 hdrs ? hdrs : "");
	cr_assert(n > 0 && (size_t)n < sizeof(f->raw));
	int status = 0;
	int rc = keel_http_parse_request(f->raw, (size_t)n, NULL, &f->req.head,
	                                 f->hdrs, KEEL_COUNTOF(f->hdrs),
	                                 &status);
	cr_assert_eq(rc, n, "parse failed, status %d", status);
	f->req.path = f->req.head.path;
	keel_buf_init(&f->req.body, 0);
	keel_arena_init(&f->req.arena, 0, 1 << 20);
	f->req.start_ns = keel_clock_now_ns();
	snprintf(f->req.id, sizeof(f->req.id), "1a2b-3f");
	keel_buf_init(&f->res.headers, 64 * 1024);
	keel_buf_init(&f->res.body, 0);
	f->res.file_fd = -1;
	f->res.status = 200;
	return f;
}

static void mwfx_free(mwfx_t *f)
{
	keel__res_deinit(&f->res);
	keel_arena_deinit(&f->req.arena);
	keel_buf_deinit(&f->req.body);
	free(f);
}

/* Response header `name` as a malloc'd string, or NULL. */
static char *mwfx_hdr(const mwfx_t *f, const char *name)
{
	keel_str_t v;
	if (keel_res_header_get(&f->res, name, &v) < 0)
		return NULL;
	return strndup(v.ptr, v.len);
}

static void mwfx_expect_hdr(const mwfx_t *f, const char *name, const char *v)
{
	char *got = mwfx_hdr(f, name);
	cr_expect_not_null(got, "header %s missing", name);
	if (got)
		cr_expect_str_eq(got, v, "header %s", name);
	free(got);
}

static void mwfx_expect_no_hdr(const mwfx_t *f, const char *name)
{
	char *got = mwfx_hdr(f, name);
	cr_expect_null(got, "header %s present: %s", name, got);
	free(got);
}

/* How many header lines are called `name`. */
static int mwfx_count_hdr(const mwfx_t *f, const char *name)
{
	int n = 0;
	size_t len = strlen(name);
	const char *p = f->res.headers.data;
	while (*p) {
		if (strncasecmp(p, name, len) == 0 && p[len] == ':')
			n++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static void mwfx_body(mwfx_t *f, const char *type, const void *body, size_t len)
{
	cr_assert_eq(keel_res_header(&f->res, "Content-Type", type), 0);
	cr_assert_eq(keel_res_body(&f->res, body, len), 0);
}

static char *mwfx_body_str(const mwfx_t *f)
{
	return strndup(f->res.body.data, f->res.body.len);
}

/* Run one middleware around nothing: before (if any), then after. */
static int mwfx_run(mwfx_t *f, keel_middleware_t mw)
{
	int rc = KEEL_NEXT;
	if (mw.before)
		rc = mw.before(&f->req, &f->res, mw.ud);
	if (mw.after)
		mw.after(&f->req, &f->res, mw.ud);
	return rc;
}

/* ---------------------------------------------------------- request id */

Test(mw, request_id_accepts_common_id_shapes)
{
	static const char *const ok[] = {
	        "1a2b-3f",
	        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
	        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
	        "abc_DEF.123:456",
	        "dGhpcyBpcw+/=",
	        "x",
	        "123456789012345678901234567890123456789", /* 39 */
	};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++)
		cr_expect(keel_mw_request_id_valid(S(ok[i])), "%s", ok[i]);
}

Test(mw, request_id_refuses_hostile_values)
{
	static const char *const bad[] = {
	        "",
	        "1234567890123456789012345678901234567890", /* 40 */
	        "a b",
	        "a\"b",
	        "a\\b",
	        "<script>alert(1)</script>",
	        "id\r\nSet-Cookie: x=1",
	        "id\nfake log line",
	        "caf\xc3\xa9",
	        "a,b",
	        "a;b",
	        "{\"x\":1}",
	        "%0d%0a",
	        "a\tb",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_expect(!keel_mw_request_id_valid(S(bad[i])), "%s", bad[i]);
	cr_expect(!keel_mw_request_id_valid((keel_str_t){"ab\0cd", 5}));
}

Test(mw, request_id_adopts_a_sane_incoming_id)
{
	mwfx_t *f = mwfx_new("GET /a", "X-Request-Id: trace-42:abc\r\n");
	keel_middleware_t mw = keel_mw_request_id(NULL);
	cr_expect_str_eq(mw.name, "request_id");
	cr_expect_eq(mwfx_run(f, mw), KEEL_NEXT);
	cr_expect_str_eq(keel_req_id(&f->req), "trace-42:abc");
	mwfx_expect_hdr(f, "X-Request-Id", "trace-42:abc");
	mwfx_free(f);
}

Test(mw, request_id_keeps_server_id_for_hostile_incoming)
{
	static const char *const hostile[] = {
	        "X-Request-Id: <img src=x onerror=alert(1)>\r\n",
	        "X-Request-Id: a\"b\r\n",
	        "X-Request-Id: "
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
	        "X-Request-Id: two words\r\n",
	        "X-Request-Id:\r\n",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(hostile); i++) {
		mwfx_t *f = mwfx_new("GET /", hostile[i]);
		mwfx_run(f, keel_mw_request_id(NULL));
		cr_expect_str_eq(keel_req_id(&f->req), "1a2b-3f", "%s",
		                 hostile[i]);
		mwfx_expect_hdr(f, "X-Request-Id", "1a2b-3f");
		mwfx_free(f);
	}
}

Test(mw, request_id_without_incoming_uses_server_id)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	mwfx_run(f, keel_mw_request_id(NULL));
	mwfx_expect_hdr(f, "X-Request-Id", "1a2b-3f");
	mwfx_free(f);
}

Test(mw, request_id_untrusted_incoming_is_ignored)
{
	static keel_mw_request_id_opts_t o;
	keel_mw_request_id_opts_init(&o);
	cr_expect_str_eq(o.header, "X-Request-Id");
	cr_expect(o.trust_incoming);
	o.trust_incoming = false;
	mwfx_t *f = mwfx_new("GET /", "X-Request-Id: from-client\r\n");
	mwfx_run(f, keel_mw_request_id(&o));
	cr_expect_str_eq(keel_req_id(&f->req), "1a2b-3f");
	mwfx_expect_hdr(f, "X-Request-Id", "1a2b-3f");
	mwfx_free(f);
}

Test(mw, request_id_custom_header_and_single_response_header)
{
	static keel_mw_request_id_opts_t o;
	keel_mw_request_id_opts_init(&o);
	o.header = "X-Correlation-Id";
	mwfx_t *f = mwfx_new("GET /", "x-correlation-id: corr-9\r\n"
	                              "X-Request-Id: other\r\n");
	keel_middleware_t mw = keel_mw_request_id(&o);
	mw.before(&f->req, &f->res, mw.ud);
	/* A handler that set the header itself does not cause a duplicate. */
	keel_res_header(&f->res, "X-Correlation-Id", "handler-value");
	mw.after(&f->req, &f->res, mw.ud);
	cr_expect_eq(mwfx_count_hdr(f, "X-Correlation-Id"), 1);
	mwfx_expect_hdr(f, "X-Correlation-Id", "corr-9");
	mwfx_expect_no_hdr(f, "X-Request-Id");
	mwfx_free(f);
}

/* -------------------------------------------------------------- timing */

/* Parse "app;dur=<int>.<3 digits>" at the end of `v` into microseconds. */
static long long timing_app_us(const char *v)
{
	const char *app = strstr(v, "app;dur=");
	cr_assert_not_null(app, "no app entry in %s", v);
	long long ms = 0, frac = 0;
	int used = 0;
	cr_assert_eq(sscanf(app, "app;dur=%lld.%3lld%n", &ms, &frac, &used), 2);
	cr_expect_eq(app[used], '\0', "app must be last: %s", v);
	cr_expect_eq(strlen(strchr(app, '.') + 1), 3u, "three decimals");
	return ms * 1000 + frac;
}

Test(mw, timing_reports_app_duration_since_request_start)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	f->req.start_ns = keel_clock_now_ns() - 1500 * KEEL_NS_PER_MS;
	keel_middleware_t mw = keel_mw_timing();
	cr_expect_null(mw.before);
	mwfx_run(f, mw);
	char *v = mwfx_hdr(f, "Server-Timing");
	cr_assert_not_null(v);
	long long us = timing_app_us(v);
	cr_expect(us >= 1500000 && us < 1600000, "%s", v);
	free(v);
	mwfx_free(f);
}

Test(mw, timing_start_in_future_clamps_to_zero)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	f->req.start_ns = keel_clock_now_ns() + KEEL_NS_PER_S;
	mwfx_run(f, keel_mw_timing());
	mwfx_expect_hdr(f, "Server-Timing", "app;dur=0.000");
	mwfx_free(f);
}

Test(mw, timing_entries_from_other_layers_come_first)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	cr_expect_eq(keel_timing_add(&f->req, "db", 2500000, "3 queries"), 0);
	cr_expect_eq(keel_timing_add(&f->req, "cache", -1, "hit"), 0);
	cr_expect_eq(keel_timing_add(&f->req, "tpl", 999, NULL), 0);
	cr_expect_eq(keel_timing_add(&f->req, "q", 0, "say \"hi\" \\o/"), 0);
	mwfx_run(f, keel_mw_timing());
	char *v = mwfx_hdr(f, "Server-Timing");
	cr_assert_not_null(v);
	const char *want =
	        "db;dur=2.500;desc=\"3 queries\", cache;desc=\"hit\", "
	        "tpl;dur=0.000, q;dur=0.000;desc=\"say \\\"hi\\\" "
	        "\\\\o/\", app;dur=";
	cr_expect(strncmp(v, want, strlen(want)) == 0, "%s", v);
	timing_app_us(v);
	free(v);
	mwfx_free(f);
}

Test(mw, timing_add_refuses_bad_names_and_descriptions)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	static const char *const names[] = {
	        "",
	        "a b",
	        "a,b",
	        "a;b",
	        "a=b",
	        "a\"b",
	        "123456789012345678901234567890123", /* 33 */
	};
	for (size_t i = 0; i < KEEL_COUNTOF(names); i++)
		cr_expect_eq(keel_timing_add(&f->req, names[i], 1, NULL),
		             KEEL_EINVAL, "%s", names[i]);
	cr_expect_eq(keel_timing_add(&f->req, NULL, 1, NULL), KEEL_EINVAL);
	cr_expect_eq(keel_timing_add(NULL, "db", 1, NULL), KEEL_EINVAL);
	cr_expect_eq(keel_timing_add(&f->req, "db", 1, "a\r\nb"), KEEL_EINVAL);
	cr_expect_eq(keel_timing_add(&f->req, "db", 1, "\x7f"), KEEL_EINVAL);
	char long_desc[130];
	memset(long_desc, 'd', 129);
	long_desc[129] = '\0';
	cr_expect_eq(keel_timing_add(&f->req, "db", 1, long_desc), KEEL_EINVAL);
	long_desc[128] = '\0';
	cr_expect_eq(keel_timing_add(&f->req, "db", 1, long_desc), 0);
	cr_expect_eq(keel_timing_add(&f->req,
	                             "12345678901234567890123456789012", 1,
	                             NULL),
	             0);
	mwfx_free(f);
}

Test(mw, timing_entries_are_capped)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	for (int i = 0; i < KEEL_TIMING_MAX; i++)
		cr_expect_eq(keel_timing_add(&f->req, "db", i, NULL), 0);
	cr_expect_eq(keel_timing_add(&f->req, "db", 1, NULL), KEEL_ELIMIT);
	mwfx_run(f, keel_mw_timing());
	char *v = mwfx_hdr(f, "Server-Timing");
	int entries = 0;
	for (const char *p = v; (p = strstr(p, "db;")); p++)
		entries++;
	cr_expect_eq(entries, KEEL_TIMING_MAX);
	free(v);
	mwfx_free(f);
}

Test(mw, timing_entries_belong_to_their_request_and_end_with_it)
{
	mwfx_t *a = mwfx_new("GET /a", NULL);
	mwfx_t *b = mwfx_new("GET /b", NULL);
	cr_expect_eq(keel_timing_add(&a->req, "db", 1000000, NULL), 0);
	mwfx_run(b, keel_mw_timing());
	char *vb = mwfx_hdr(b, "Server-Timing");
	cr_expect(strncmp(vb, "app;dur=", 8) == 0, "%s", vb);
	free(vb);
	/* The request ends: its arena is reset, its entries are gone. */
	keel_arena_reset(&a->req.arena);
	keel__res_reset(&a->res);
	mwfx_run(a, keel_mw_timing());
	char *va = mwfx_hdr(a, "Server-Timing");
	cr_expect(strncmp(va, "app;dur=", 8) == 0, "%s", va);
	free(va);
	/* And the next request on the same struct starts a fresh list. */
	keel__res_reset(&a->res);
	cr_expect_eq(keel_timing_add(&a->req, "db2", 1000000, NULL), 0);
	mwfx_run(a, keel_mw_timing());
	va = mwfx_hdr(a, "Server-Timing");
	cr_expect(strncmp(va, "db2;dur=1.000, app;dur=", 23) == 0, "%s", va);
	free(va);
	mwfx_free(b);
	mwfx_free(a);
}

/* -------------------------------------------------------------- errors */

static json_t *errors_json(const mwfx_t *f)
{
	json_error_t err;
	json_t *j = json_loadb(f->res.body.data, f->res.body.len, 0, &err);
	cr_assert_not_null(j, "invalid JSON (%s): %.*s", err.text,
	                   (int)f->res.body.len, f->res.body.data);
	return j;
}

Test(mw, errors_write_default_format)
{
	mwfx_t *f = mwfx_new("POST /api/users", NULL);
	int rc = keel_errors_write(&f->req, &f->res, 404, "article",
	                           "not found");
	cr_expect_eq(rc, 404);
	cr_expect_eq(keel_res_get_status(&f->res), 404);
	mwfx_expect_hdr(f, "Content-Type", "application/json");
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{\"article\":[\"not found\"]}}\n");
	free(body);
	mwfx_free(f);
}

Test(mw, errors_list_groups_messages_by_field)
{
	mwfx_t *f = mwfx_new("POST /api/users", NULL);
	keel_error_item_t items[] = {
	        {"email", "is invalid"},
	        {"username", "can't be blank"},
	        {"email", "is too long (maximum is 64 characters)"},
	        {NULL, "no field"},
	};
	keel_errors_write_list(&f->req, &f->res, 422, items,
	                       KEEL_COUNTOF(items));
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{\"email\":[\"is invalid\",\"is "
	                       "too long (maximum is 64 characters)\"],"
	                       "\"username\":[\"can't be blank\"],"
	                       "\"\":[\"no field\"]}}\n");
	free(body);
	json_decref(errors_json(f));
	mwfx_free(f);
}

Test(mw, errors_empty_list_is_still_valid_json)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_errors_write_list(&f->req, &f->res, 400, NULL, 0);
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{}}\n");
	free(body);
	mwfx_free(f);
}

Test(mw, errors_escape_hostile_messages_into_valid_json)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	const char *msg = "'\"}],\"admin\":true,{\\' \x01\x1f\x7f <b> "
	                  "\xff\xfe caf\xc3\xa9 \xe2\x82 \xed\xa0\x80 "
	                  "\xf4\x90\x80\x80 \xc0\xaf \xf0\x9f\x98\x80";
	keel_errors_write(&f->req, &f->res, 422, "na\"me\n", msg);
	json_t *j = errors_json(f);
	json_t *errs = json_object_get(j, "errors");
	cr_assert_eq(json_object_size(errs), 1u);
	json_t *arr = json_object_get(errs, "na\"me\n");
	cr_assert_not_null(arr);
	const char *got = json_string_value(json_array_get(arr, 0));
	cr_assert_not_null(got);
	cr_expect(strstr(got, "'\"}],\"admin\":true,{\\' \x01\x1f\x7f <b> ") ==
	          got);
	cr_expect_not_null(strstr(got, "caf\xc3\xa9"));
	cr_expect_not_null(strstr(got, "\xf0\x9f\x98\x80"));
	/* Each invalid sequence (lone bytes, a cut sequence, a surrogate,
	 * past U+10FFFF, an overlong '/') became U+FFFD. */
	cr_expect_null(strstr(got, "\xff"));
	cr_expect_null(strstr(got, "\xed\xa0"));
	cr_expect_null(strstr(got, "\xc0"));
	cr_expect_not_null(strstr(got, "\xef\xbf\xbd"));
	cr_expect_null(json_object_get(j, "admin"));
	json_decref(j);
	mwfx_free(f);
}

Test(mw, errors_write_replaces_body_and_its_headers_only)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_res_header(&f->res, "Content-Type", "text/html");
	keel_res_header(&f->res, "ETag", "\"v1\"");
	keel_res_header(&f->res, "Content-Encoding", "gzip");
	keel_res_header(&f->res, "Last-Modified", "x");
	keel_res_header(&f->res, "Set-Cookie", "sid=1");
	keel_res_header(&f->res, "Retry-After", "30");
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(keel_res_file(&f->res, fd, 0, 10), 0);
	keel_errors_write(&f->req, &f->res, 503, "server", "busy");
	cr_expect_eq(f->res.file_fd, -1, "file body dropped");
	cr_expect_eq(mwfx_count_hdr(f, "Content-Type"), 1);
	mwfx_expect_hdr(f, "Content-Type", "application/json");
	mwfx_expect_no_hdr(f, "ETag");
	mwfx_expect_no_hdr(f, "Content-Encoding");
	mwfx_expect_no_hdr(f, "Last-Modified");
	mwfx_expect_hdr(f, "Set-Cookie", "sid=1");
	mwfx_expect_hdr(f, "Retry-After", "30");
	mwfx_free(f);
}

Test(mw, errors_problem_format_is_selectable_and_reset)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_errors_set_format(keel_errors_format_problem);
	keel_errors_write(&f->req, &f->res, 422, "email", "is invalid");
	mwfx_expect_hdr(f, "Content-Type", "application/problem+json");
	json_t *j = errors_json(f);
	cr_expect_str_eq(json_string_value(json_object_get(j, "title")),
	                 "Unprocessable Content");
	cr_expect_eq(json_integer_value(json_object_get(j, "status")), 422);
	cr_expect_str_eq(json_string_value(json_object_get(j, "request_id")),
	                 "1a2b-3f");
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(e0, "field")),
	                 "email");
	cr_expect_str_eq(json_string_value(json_object_get(e0, "message")),
	                 "is invalid");
	json_decref(j);
	keel_errors_set_format(NULL);
	keel_errors_write(&f->req, &f->res, 400, "q", "bad");
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{\"q\":[\"bad\"]}}\n");
	free(body);
	mwfx_free(f);
}

static int mw_test_seen_n;
static int mw_test_format(const keel_req_t *req, keel_res_t *res, int status,
                          const keel_error_item_t *items, size_t n)
{
	mw_test_seen_n = (int)n;
	keel_res_header(res, "Content-Type", "text/plain");
	return keel_res_printf(res, "%d %s %s=%s", status, keel_req_id(req),
	                       items[0].field, items[0].message);
}

static int mw_test_failing_format(const keel_req_t *req, keel_res_t *res,
                                  int status, const keel_error_item_t *items,
                                  size_t n)
{
	(void)req, (void)status, (void)items, (void)n;
	keel_res_write(res, "partial", 7);
	return KEEL_ENOMEM;
}

Test(mw, errors_custom_format_gets_request_and_items)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_errors_set_format(mw_test_format);
	keel_errors_write(&f->req, &f->res, 409, "slug", "taken");
	cr_expect_eq(mw_test_seen_n, 1);
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "409 1a2b-3f slug=taken");
	free(body);
	mwfx_expect_hdr(f, "Content-Type", "text/plain");
	mwfx_free(f);
}

Test(mw, errors_failing_format_falls_back_with_same_status)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_errors_set_format(mw_test_failing_format);
	cr_expect_eq(keel_errors_write(&f->req, &f->res, 418, "x", "y"), 418);
	cr_expect_eq(keel_res_get_status(&f->res), 418);
	char *body = mwfx_body_str(f);
	cr_expect_null(strstr(body, "partial"));
	cr_expect_not_null(strstr(body, "\"error\""));
	free(body);
	mwfx_free(f);
}

/* A temp file as the log; its path in `path`. */
static void mw_log_to_tmp(char path[64])
{
	snprintf(path, 64, "/tmp/keel-mw-log-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(
	        keel_log_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT),
	        0);
}

static char *mw_slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	char *buf = calloc(1, 65536);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

Test(mw, errors_handler_hides_internals_and_logs_them)
{
	char path[64];
	mw_log_to_tmp(path);
	mwfx_t *f = mwfx_new("POST /api/articles?x=1", NULL);
	keel_res_header(&f->res, "Content-Type", "text/plain");
	keel_res_header(&f->res, "X-Keep", "yes");
	keel_res_printf(&f->res, "sqlite3: no such table: users (%s:%d)",
	                "src/data/db.c", 42);
	keel_res_status(&f->res, 500);
	keel_middleware_t mw = keel_mw_errors();
	cr_expect_str_eq(mw.name, "errors");
	mwfx_run(f, mw);
	keel_log_close();

	cr_expect_eq(keel_res_get_status(&f->res), 500);
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{\"server\":[\"internal server "
	                       "error, request id 1a2b-3f\"]}}\n");
	cr_expect_null(strstr(body, "sqlite"));
	free(body);
	mwfx_expect_hdr(f, "Content-Type", "application/json");
	mwfx_expect_hdr(f, "X-Keep", "yes");

	char *log = mw_slurp(path);
	cr_expect_not_null(strstr(log, " error "), "%s", log);
	cr_expect_not_null(strstr(log, "1a2b-3f"), "%s", log);
	cr_expect_not_null(strstr(log, "POST"), "%s", log);
	cr_expect_not_null(strstr(log, "/api/articles"), "%s", log);
	cr_expect_not_null(strstr(log, "500"), "%s", log);
	cr_expect_not_null(strstr(log, "no such table"), "%s", log);
	free(log);
	unlink(path);
	mwfx_free(f);
}

Test(mw, errors_handler_covers_every_5xx_with_its_reason)
{
	static const struct {
		int status;
		const char *want;
	} t[] = {
	        {501, "not implemented, request id 1a2b-3f"},
	        {502, "bad gateway, request id 1a2b-3f"},
	        {503, "service unavailable, request id 1a2b-3f"},
	        {599, "server error, request id 1a2b-3f"},
	};
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		mwfx_t *f = mwfx_new("GET /", NULL);
		keel_res_error(&f->res, t[i].status, "upstream 10.0.0.7 died");
		mwfx_run(f, keel_mw_errors());
		cr_expect_eq(keel_res_get_status(&f->res), t[i].status);
		json_t *j = errors_json(f);
		json_t *m = json_array_get(
		        json_object_get(json_object_get(j, "errors"), "server"),
		        0);
		cr_expect_str_eq(json_string_value(m), t[i].want);
		json_decref(j);
		mwfx_free(f);
	}
}

Test(mw, errors_handler_leaves_non_5xx_alone)
{
	static const int statuses[] = {200, 201, 204, 301, 404, 422, 499};
	for (size_t i = 0; i < KEEL_COUNTOF(statuses); i++) {
		mwfx_t *f = mwfx_new("GET /", NULL);
		keel_res_status(&f->res, statuses[i]);
		mwfx_body(f, "text/plain", "detail", 6);
		mwfx_run(f, keel_mw_errors());
		cr_expect_eq(keel_res_get_status(&f->res), statuses[i]);
		char *body = mwfx_body_str(f);
		cr_expect_str_eq(body, "detail");
		free(body);
		mwfx_free(f);
	}
}

Test(mw, errors_handler_uses_the_app_format)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	keel_errors_set_format(mw_test_format);
	mwfx_t *f = mwfx_new("GET /", NULL);
	keel_res_status(&f->res, 500);
	mwfx_run(f, keel_mw_errors());
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "500 1a2b-3f server=internal server error, "
	                       "request id 1a2b-3f");
	free(body);
	mwfx_free(f);
}

/* ---------------------------------------------------------------- gzip */

Test(mw, gzip_compressible_types)
{
	static const char *const yes[] = {
	        "text/html",
	        "text/plain; charset=utf-8",
	        "TEXT/CSS",
	        "text/javascript",
	        "application/json",
	        "Application/JSON ; charset=utf-8",
	        "application/javascript",
	        "application/xml",
	        "application/problem+json",
	        "application/vnd.api+json",
	        "application/atom+xml",
	        "image/svg+xml",
	        "application/wasm",
	};
	static const char *const no[] = {
	        "",
	        "text/",
	        "text",
	        "text/event-stream",
	        "image/png",
	        "image/jpeg",
	        "application/octet-stream",
	        "application/zip",
	        "application/gzip",
	        "video/mp4",
	        "font/woff2",
	        "+json",
	        "json",
	        "application/jsonx",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(yes); i++)
		cr_expect(keel_mw_gzip_compressible(S(yes[i])), "%s", yes[i]);
	for (size_t i = 0; i < KEEL_COUNTOF(no); i++)
		cr_expect(!keel_mw_gzip_compressible(S(no[i])), "%s", no[i]);
}

/* `n` bytes of JSON-ish text that compresses well. */
static char *gz_text(size_t n)
{
	char *s = malloc(n + 1);
	cr_assert_not_null(s);
	static const char unit[] = "{\"title\":\"How to train a dragon\"},";
	for (size_t i = 0; i < n; i++)
		s[i] = unit[i % (sizeof(unit) - 1)];
	s[n] = '\0';
	return s;
}

/* Inflate a gzip member; returns the malloc'd bytes and their count. */
static unsigned char *gz_inflate(const void *in, size_t len, size_t *out_len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	size_t cap = 1 << 20;
	unsigned char *out = malloc(cap);
	cr_assert_not_null(out);
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	cr_expect_eq(zs.avail_in, 0u, "trailing bytes after the member");
	*out_len = cap - zs.avail_out;
	inflateEnd(&zs);
	return out;
}

static mwfx_t *gz_fx(const char *accept, const char *type, size_t len)
{
	char hdrs[256];
	snprintf(hdrs, sizeof(hdrs), "%s%s%s",
	         accept ? "Accept-Encoding: " : "", accept ? accept : "",
	         accept ? "\r\n" : "");
	mwfx_t *f = mwfx_new("GET /api/articles", hdrs);
	char *text = gz_text(len);
	mwfx_body(f, type, text, len);
	free(text);
	return f;
}

static bool gz_compressed(const mwfx_t *f)
{
	char *ce = mwfx_hdr(f, "Content-Encoding");
	bool yes = ce && strcmp(ce, "gzip") == 0;
	free(ce);
	return yes;
}

Test(mw, gzip_round_trip_with_headers)
{
	mwfx_t *f = gz_fx("gzip, deflate, br", "application/json", 20000);
	keel_middleware_t mw = keel_mw_gzip(NULL);
	cr_expect_str_eq(mw.name, "gzip");
	mwfx_run(f, mw);
	cr_assert(gz_compressed(f));
	mwfx_expect_hdr(f, "Vary", "Accept-Encoding");
	cr_expect_lt(f->res.body.len, 2000u);
	size_t n = 0;
	unsigned char *plain =
	        gz_inflate(f->res.body.data, f->res.body.len, &n);
	char *want = gz_text(20000);
	cr_expect_eq(n, 20000u);
	cr_expect(memcmp(plain, want, n) == 0);
	free(want);
	free(plain);
	mwfx_free(f);
}

Test(mw, gzip_threshold_boundary)
{
	mwfx_t *below = gz_fx("gzip", "text/plain", 1023);
	mwfx_run(below, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(below));
	cr_expect_eq(below->res.body.len, 1023u);
	mwfx_free(below);

	mwfx_t *at = gz_fx("gzip", "text/plain", 1024);
	mwfx_run(at, keel_mw_gzip(NULL));
	cr_expect(gz_compressed(at));
	size_t n = 0;
	free(gz_inflate(at->res.body.data, at->res.body.len, &n));
	cr_expect_eq(n, 1024u);
	mwfx_free(at);

	static keel_mw_gzip_opts_t o;
	keel_mw_gzip_opts_init(&o);
	cr_expect_eq(o.min_size, 1024u);
	cr_expect_eq(o.level, 6);
	o.min_size = 100;
	mwfx_t *custom = gz_fx("gzip", "text/plain", 100);
	mwfx_run(custom, keel_mw_gzip(&o));
	cr_expect(gz_compressed(custom));
	mwfx_free(custom);
	mwfx_t *custom_below = gz_fx("gzip", "text/plain", 99);
	mwfx_run(custom_below, keel_mw_gzip(&o));
	cr_expect(!gz_compressed(custom_below));
	mwfx_free(custom_below);
}

Test(mw, gzip_skips_incompressible_types)
{
	mwfx_t *f = gz_fx("gzip", "image/png", 5000);
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(f));
	mwfx_expect_no_hdr(f, "Vary");
	cr_expect_eq(f->res.body.len, 5000u);
	mwfx_free(f);
	f = mwfx_new("GET /", "Accept-Encoding: gzip\r\n");
	char *text = gz_text(5000);
	keel_res_body(&f->res, text, 5000); /* no Content-Type at all */
	free(text);
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(f));
	mwfx_free(f);
}

Test(mw, gzip_follows_accept_encoding)
{
	static const struct {
		const char *accept;
		bool gz;
	} t[] = {
	        {NULL, false},
	        {"identity", false},
	        {"br", false},
	        {"gzip;q=0", false},
	        {"gzip;q=0.000, br", false},
	        {"GZIP", true},
	        {"x-gzip", true},
	        {"*", true},
	        {"br;q=1, gzip;q=0.1", true},
	        {"*;q=0, gzip;q=0.5", true},
	        {"*;q=0", false},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		mwfx_t *f = gz_fx(t[i].accept, "text/html", 4096);
		mwfx_run(f, keel_mw_gzip(NULL));
		cr_expect_eq(gz_compressed(f), t[i].gz, "%s", t[i].accept);
		/* Cacheable either way, so every variant says what it varies
		 * on. */
		mwfx_expect_hdr(f, "Vary", "Accept-Encoding");
		mwfx_free(f);
	}
}

Test(mw, gzip_skips_statuses_without_a_plain_body)
{
	static const int skip[] = {204, 206, 304, 101};
	for (size_t i = 0; i < KEEL_COUNTOF(skip); i++) {
		mwfx_t *f = gz_fx("gzip", "text/plain", 4096);
		keel_res_status(&f->res, skip[i]);
		mwfx_run(f, keel_mw_gzip(NULL));
		cr_expect(!gz_compressed(f), "%d", skip[i]);
		mwfx_free(f);
	}
	static const int ok[] = {200, 201, 404, 500};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++) {
		mwfx_t *f = gz_fx("gzip", "text/plain", 4096);
		keel_res_status(&f->res, ok[i]);
		mwfx_run(f, keel_mw_gzip(NULL));
		cr_expect(gz_compressed(f), "%d", ok[i]);
		mwfx_free(f);
	}
}

Test(mw, gzip_skips_encoded_file_and_no_transform_bodies)
{
	mwfx_t *f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "Content-Encoding", "br");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "Content-Encoding"), 1);
	mwfx_expect_hdr(f, "Content-Encoding", "br");
	cr_expect_eq(f->res.body.len, 4096u);
	mwfx_free(f);

	f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "Cache-Control", "public, No-Transform");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(f));
	mwfx_free(f);

	f = gz_fx("gzip", "text/plain", 0);
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(keel_res_file(&f->res, fd, 0, 4096), 0);
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(f));
	cr_expect_eq(f->res.file_fd, fd);
	mwfx_free(f);
}

Test(mw, gzip_weakens_strong_etag_and_keeps_weak)
{
	mwfx_t *f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "ETag", "\"abc123\"");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(gz_compressed(f));
	mwfx_expect_hdr(f, "ETag", "W/\"abc123\"");
	mwfx_free(f);

	f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "ETag", "W/\"w1\"");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "ETag"), 1);
	mwfx_expect_hdr(f, "ETag", "W/\"w1\"");
	mwfx_free(f);

	/* Not compressed: the strong tag still names the bytes. */
	f = gz_fx(NULL, "text/plain", 4096);
	keel_res_header(&f->res, "ETag", "\"abc123\"");
	mwfx_run(f, keel_mw_gzip(NULL));
	mwfx_expect_hdr(f, "ETag", "\"abc123\"");
	mwfx_free(f);
}

Test(mw, gzip_merges_with_existing_vary)
{
	mwfx_t *f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "Vary", "Origin");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "Vary"), 2);
	mwfx_free(f);

	f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "Vary", "Origin, accept-encoding");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "Vary"), 1);
	cr_expect(gz_compressed(f));
	mwfx_free(f);

	f = gz_fx("gzip", "text/plain", 4096);
	keel_res_header(&f->res, "Vary", "*");
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "Vary"), 1);
	mwfx_free(f);
}

Test(mw, gzip_keeps_bodies_that_would_not_shrink)
{
	mwfx_t *f = mwfx_new("GET /", "Accept-Encoding: gzip\r\n");
	unsigned char noise[4096];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
		noise[i] = (unsigned char)x;
	}
	mwfx_body(f, "text/plain", noise, sizeof(noise));
	mwfx_run(f, keel_mw_gzip(NULL));
	cr_expect(!gz_compressed(f));
	cr_expect_eq(f->res.body.len, sizeof(noise));
	cr_expect(memcmp(f->res.body.data, noise, sizeof(noise)) == 0);
	mwfx_free(f);
}

Test(mw, gzip_levels_are_clamped)
{
	static const int levels[] = {-5, 0, 1, 9, 42};
	for (size_t i = 0; i < KEEL_COUNTOF(levels); i++) {
		static keel_mw_gzip_opts_t o;
		keel_mw_gzip_opts_init(&o);
		o.level = levels[i];
		mwfx_t *f = gz_fx("gzip", "text/plain", 70000);
		mwfx_run(f, keel_mw_gzip(&o));
		cr_expect(gz_compressed(f), "level %d", levels[i]);
		size_t n = 0;
		free(gz_inflate(f->res.body.data, f->res.body.len, &n));
		cr_expect_eq(n, 70000u);
		mwfx_free(f);
	}
}

/* ------------------------------------------------------------ security */

Test(mw, security_defaults_on_a_json_response)
{
	mwfx_t *f = mwfx_new("GET /api", "X-Forwarded-Proto: https\r\n");
	mwfx_body(f, "application/json", "{}", 2);
	keel_middleware_t mw = keel_mw_security(NULL);
	cr_expect_str_eq(mw.name, "security");
	mwfx_run(f, mw);
	mwfx_expect_hdr(f, "X-Content-Type-Options", "nosniff");
	mwfx_expect_hdr(f, "Referrer-Policy",
	                "strict-origin-when-cross-origin");
	mwfx_expect_hdr(f, "X-Frame-Options", "DENY");
	mwfx_expect_hdr(f, "Content-Security-Policy", "frame-ancestors 'none'");
	mwfx_expect_no_hdr(f, "Strict-Transport-Security");
	mwfx_free(f);
}

Test(mw, security_html_gets_the_document_policy)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	mwfx_body(f, "Text/HTML; charset=utf-8", "<p>", 3);
	mwfx_run(f, keel_mw_security(NULL));
	mwfx_expect_hdr(f, "Content-Security-Policy",
	                "default-src 'self'; frame-ancestors 'none'");
	mwfx_free(f);
}

Test(mw, security_keeps_what_the_handler_set)
{
	mwfx_t *f = mwfx_new("GET /", NULL);
	mwfx_body(f, "text/html", "<p>", 3);
	keel_res_header(&f->res, "X-Frame-Options", "SAMEORIGIN");
	keel_res_header(&f->res, "content-security-policy",
	                "script-src 'none'");
	keel_res_header(&f->res, "Referrer-Policy", "no-referrer");
	mwfx_run(f, keel_mw_security(NULL));
	cr_expect_eq(mwfx_count_hdr(f, "X-Frame-Options"), 1);
	cr_expect_eq(mwfx_count_hdr(f, "Content-Security-Policy"), 1);
	cr_expect_eq(mwfx_count_hdr(f, "Referrer-Policy"), 1);
	mwfx_expect_hdr(f, "X-Frame-Options", "SAMEORIGIN");
	mwfx_expect_hdr(f, "Content-Security-Policy", "script-src 'none'");
	mwfx_expect_hdr(f, "Referrer-Policy", "no-referrer");
	mwfx_expect_hdr(f, "X-Content-Type-Options", "nosniff");
	mwfx_free(f);
}

Test(mw, security_options_turn_headers_off_or_change_them)
{
	static keel_mw_security_opts_t o;
	keel_mw_security_opts_init(&o);
	o.referrer_policy = NULL;
	o.frame_options = "";
	o.frame_ancestors = "'self'";
	o.csp_html = "default-src 'none'; frame-ancestors 'none'";
	mwfx_t *f = mwfx_new("GET /", NULL);
	mwfx_body(f, "text/html", "<p>", 3);
	mwfx_run(f, keel_mw_security(&o));
	mwfx_expect_no_hdr(f, "Referrer-Policy");
	mwfx_expect_no_hdr(f, "X-Frame-Options");
	mwfx_expect_hdr(f, "Content-Security-Policy",
	                "default-src 'none'; frame-ancestors 'none'");
	mwfx_free(f);

	o.frame_ancestors = NULL;
	f = mwfx_new("GET /", NULL);
	mwfx_body(f, "application/json", "{}", 2);
	mwfx_run(f, keel_mw_security(&o));
	mwfx_expect_no_hdr(f, "Content-Security-Policy");
	mwfx_expect_hdr(f, "X-Content-Type-Options", "nosniff");
	mwfx_free(f);
}

Test(mw, security_hsts_only_when_enabled_and_over_tls)
{
	static keel_mw_security_opts_t o;
	keel_mw_security_opts_init(&o);
	cr_expect_eq(o.hsts_max_age, 0);
	o.hsts_max_age = 31536000;
	o.hsts_subdomains = true;
	static const struct {
		const char *hdrs;
		bool hsts;
	} t[] = {
	        {"X-Forwarded-Proto: https\r\n", true},
	        {"X-Forwarded-Proto: HTTPS\r\n", true},
	        {"X-Forwarded-Proto: https, http\r\n", true},
	        {"X-Forwarded-Proto: http\r\n", false},
	        {"X-Forwarded-Proto: http, https\r\n", false},
	        {"X-Forwarded-Proto: httpsx\r\n", false},
	        {NULL, false},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		mwfx_t *f = mwfx_new("GET /", t[i].hdrs);
		mwfx_run(f, keel_mw_security(&o));
		if (t[i].hsts)
			mwfx_expect_hdr(f, "Strict-Transport-Security",
			                "max-age=31536000; includeSubDomains");
		else
			mwfx_expect_no_hdr(f, "Strict-Transport-Security");
		mwfx_free(f);
	}
}

/* ---------------------------------------------------- all of them */

/* The recommended app-wide chain: befores in order, afters reversed. */
Test(mw, recommended_chain_turns_a_crash_into_a_safe_500)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	keel_middleware_t chain[] = {
	        keel_mw_request_id(NULL), keel_mw_timing(),
	        keel_mw_security(NULL),   keel_mw_gzip(NULL),
	        keel_mw_errors(),
	};
	mwfx_t *f = mwfx_new("GET /boom", "X-Request-Id: req-77\r\n"
	                                  "Accept-Encoding: gzip\r\n");
	for (size_t i = 0; i < KEEL_COUNTOF(chain); i++)
		if (chain[i].before)
			cr_expect_eq(
			        chain[i].before(&f->req, &f->res, chain[i].ud),
			        KEEL_NEXT);
	/* The handler fails with a large, detailed, compressible body. */
	char *trace = gz_text(8000);
	mwfx_body(f, "text/plain", trace, 8000);
	free(trace);
	keel_res_status(&f->res, 500);
	for (size_t i = KEEL_COUNTOF(chain); i-- > 0;)
		if (chain[i].after)
			chain[i].after(&f->req, &f->res, chain[i].ud);

	cr_expect_eq(keel_res_get_status(&f->res), 500);
	cr_expect(!gz_compressed(f), "the small error body stays plain");
	char *body = mwfx_body_str(f);
	cr_expect_str_eq(body, "{\"errors\":{\"server\":[\"internal server "
	                       "error, request id req-77\"]}}\n");
	free(body);
	mwfx_expect_hdr(f, "X-Request-Id", "req-77");
	mwfx_expect_hdr(f, "X-Content-Type-Options", "nosniff");
	char *st = mwfx_hdr(f, "Server-Timing");
	cr_expect_not_null(st);
	free(st);
	mwfx_free(f);
}
