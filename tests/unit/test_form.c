/*
 * application/x-www-form-urlencoded: decoding, repeated names, strict
 * refusals, the field limit, and keel_req_form's statuses over hand-built
 * requests.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "keel/form.h"

#define S(lit) keel_str_from_cstr(lit)

static keel_arena_t form_arena;

static void arena_up(void)
{
	keel_arena_init(&form_arena, 0, 0);
}

static void arena_down(void)
{
	keel_arena_deinit(&form_arena);
}

TestSuite(form, .init = arena_up, .fini = arena_down);

/* "name=value|name=value|..." of a parsed form, for table comparisons. */
static char *flatten(const keel_form_t *f)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	for (size_t i = 0; i < f->count; i++) {
		if (i)
			keel_buf_append_char(&b, '|');
		keel_buf_append_str(&b, f->fields[i].name);
		keel_buf_append_char(&b, '=');
		keel_buf_append_str(&b, f->fields[i].value);
	}
	char *s = keel_buf_detach(&b, NULL);
	cr_assert(s != NULL);
	return s;
}

Test(form, decodes_fields_in_order)
{
	static const char *const t[][2] = {
	        {"", ""},
	        {"a=1", "a=1"},
	        {"a=1&b=2", "a=1|b=2"},
	        {"a=1&a=2&a=3", "a=1|a=2|a=3"},
	        {"q=hello+world", "q=hello world"},
	        {"q=%41%42c%2B%26%3D", "q=ABc+&="},
	        {"a%20b=c", "a b=c"},
	        {"flag", "flag="},
	        {"a=&b=", "a=|b="},
	        {"=v", "=v"},
	        {"=", "="},
	        {"a=b=c", "a=b=c"},
	        {"&&a=1&&&b=2&", "a=1|b=2"},
	        {"name=J%C3%A9r%C3%B4me", "name=J\xc3\xa9r\xc3\xb4me"},
	        {"e=%F0%9F%98%80", "e=\xf0\x9f\x98\x80"},
	        {"x=%e2%82%ac", "x=\xe2\x82\xac"},
	        {"k=a;b", "k=a;b"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		keel_form_t f;
		int rc = keel_form_parse(&form_arena, S(t[i][0]), 100, &f);
		cr_assert_eq(rc, KEEL_OK, "%s: %d", t[i][0], rc);
		char *got = flatten(&f);
		cr_expect_str_eq(got, t[i][1], "input %s", t[i][0]);
		free(got);
	}
}

Test(form, refuses_bad_escapes_and_invalid_utf8)
{
	static const char *const bad[] = {
	        "a=%zz",       "a=%4",           "a=%",
	        "%=1",         "a=%00",          "a%00=1",
	        "a=1&b=%g0",   "a=%FF",          "a=%C0%AF",
	        "a=%ED%A0%80", "a=%F4%90%80%80", "a=%E2%82",
	        "a=%80",       "a=\xff",         "\xc3=1",
	};
	keel_form_t nul;
	const char raw_nul[] = "a=x\0y";
	cr_expect_eq(keel_form_parse(&form_arena,
	                             (keel_str_t){raw_nul, sizeof(raw_nul) - 1},
	                             10, &nul),
	             KEEL_EINVAL);
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		keel_form_t f = {(keel_form_field_t *)1, 99};
		cr_expect_eq(keel_form_parse(&form_arena, S(bad[i]), 100, &f),
		             KEEL_EINVAL, "%s accepted", bad[i]);
		cr_expect_eq(f.count, 0);
		cr_expect_null(f.fields);
	}
}

Test(form, field_limit_at_and_past_the_bound)
{
	keel_form_t f;
	cr_expect_eq(keel_form_parse(&form_arena, S("a=1&b=2&c=3"), 3, &f),
	             KEEL_OK);
	cr_expect_eq(f.count, 3);
	cr_expect_eq(keel_form_parse(&form_arena, S("a=1&b=2&c=3&d"), 3, &f),
	             KEEL_ELIMIT);
	cr_expect_eq(f.count, 0);
	/* empty pairs are not fields */
	cr_expect_eq(keel_form_parse(&form_arena, S("&&a&&b&&c&&"), 3, &f),
	             KEEL_OK);
	cr_expect_eq(keel_form_parse(&form_arena, S("a"), 0, &f), KEEL_ELIMIT);
	cr_expect_eq(keel_form_parse(&form_arena, S(""), 0, &f), KEEL_OK);
	cr_expect_eq(keel_form_parse(&form_arena, S("a"), SIZE_MAX, &f),
	             KEEL_OK);
}

Test(form, arena_refusal_is_enomem)
{
	keel_arena_t small;
	keel_arena_init(&small, 256, 512);
	char body[2048];
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	keel_form_t f;
	cr_expect_eq(keel_form_parse(&small, S(body), 10, &f), KEEL_ENOMEM);
	keel_arena_deinit(&small);
}

Test(form, values_do_not_alias_the_body)
{
	char body[] = "a=x%41&b=y";
	keel_form_t f;
	cr_assert_eq(keel_form_parse(&form_arena, S(body), 10, &f), KEEL_OK);
	memset(body, '#', sizeof(body) - 1);
	keel_str_t v;
	cr_assert_eq(keel_form_get(&f, "a", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("xA")));
	cr_assert_eq(keel_form_get(&f, "b", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("y")));
}

Test(form, get_and_next_over_repeated_names)
{
	keel_form_t f;
	cr_assert_eq(keel_form_parse(&form_arena,
	                             S("tag=a&x=1&tag=b&Tag=no&tag="), 10, &f),
	             KEEL_OK);
	keel_str_t v;
	cr_assert_eq(keel_form_get(&f, "x", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("1")));
	cr_expect_eq(keel_form_get(&f, "missing", &v), KEEL_ENOENT);
	cr_expect_eq(keel_form_get(&f, "TAG", &v), KEEL_ENOENT);
	static const char *const want[] = {"a", "b", ""};
	size_t pos = 0, n = 0;
	while (keel_form_next(&f, "tag", &pos, &v) == KEEL_OK) {
		cr_assert(n < KEEL_COUNTOF(want));
		cr_expect(keel_str_eq(v, S(want[n])), "tag %zu", n);
		n++;
	}
	cr_expect_eq(n, 3);
	cr_expect_eq(keel_form_next(&f, "tag", &pos, &v), KEEL_ENOENT);
	keel_form_t empty = {0};
	pos = 0;
	cr_expect_eq(keel_form_next(&empty, "tag", &pos, &v), KEEL_ENOENT);
}

/* ------------------------------------------------------ keel_req_form */

typedef struct fake {
	keel_req_t req;
	keel_http_header_t hdrs[4];
} fake_t;

static fake_t *fake_new(const char *ctype, const char *body)
{
	fake_t *f = calloc(1, sizeof(*f));
	cr_assert(f != NULL);
	f->req.head.method = KEEL_HTTP_POST;
	f->req.head.headers = f->hdrs;
	keel_arena_init(&f->req.arena, 0, 0);
	keel_buf_init(&f->req.body, 0);
	keel_buf_append(&f->req.body, body, strlen(body));
	if (ctype)
		f->hdrs[f->req.head.header_count++] =
		        (keel_http_header_t){S("Content-Type"), S(ctype)};
	return f;
}

static void fake_free(fake_t *f)
{
	keel_buf_deinit(&f->req.body);
	keel_arena_deinit(&f->req.arena);
	free(f);
}

static int req_form_status(const char *ctype, const char *body)
{
	fake_t *f = fake_new(ctype, body);
	keel_form_t form;
	int st = keel_req_form(&f->req, &form);
	fake_free(f);
	return st;
}

Test(form, request_content_type_is_checked)
{
	const char *body = "a=1";
	cr_expect_eq(req_form_status(NULL, body), 415);
	cr_expect_eq(req_form_status("text/plain", body), 415);
	cr_expect_eq(req_form_status("application/json", body), 415);
	cr_expect_eq(req_form_status("multipart/form-data; boundary=x", body),
	             415);
	cr_expect_eq(
	        req_form_status("application/x-www-form-urlencodedx", body),
	        415);
	cr_expect_eq(req_form_status("application/x-www-form-urlencoded", body),
	             0);
	cr_expect_eq(req_form_status("Application/X-WWW-Form-URLEncoded ; "
	                             "charset=UTF-8",
	                             body),
	             0);
}

Test(form, request_statuses_for_bad_and_big_forms)
{
	const char *ct = "application/x-www-form-urlencoded";
	cr_expect_eq(req_form_status(ct, "a=%zz"), 400);
	cr_expect_eq(req_form_status(ct, ""), 0);
	size_t n = KEEL_FORM_MAX_FIELDS;
	char *body = malloc(n * 2 + 2);
	cr_assert(body != NULL);
	for (size_t i = 0; i < n; i++)
		memcpy(body + 2 * i, "a&", 2);
	body[2 * n - 1] = '\0'; /* exactly the limit */
	cr_expect_eq(req_form_status(ct, body), 0);
	body[2 * n - 1] = '&';
	body[2 * n] = 'b';
	body[2 * n + 1] = '\0';
	cr_expect_eq(req_form_status(ct, body), 413);
	free(body);
}

Test(form, request_form_reads_the_body)
{
	fake_t *f = fake_new("application/x-www-form-urlencoded",
	                     "user=ann+lee&pw=p%40ss");
	keel_form_t form;
	cr_assert_eq(keel_req_form(&f->req, &form), 0);
	keel_str_t v;
	cr_assert_eq(keel_form_get(&form, "user", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("ann lee")));
	cr_assert_eq(keel_form_get(&form, "pw", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("p@ss")));
	fake_free(f);
}
