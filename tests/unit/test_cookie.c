/*
 * Cookies: the Cookie header reader (a table of ordinary and hostile
 * headers), keel_req_cookie over hand-built requests, and the Set-Cookie
 * writer's output and refusals.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "keel/cookie.h"
#include "keel/res.h"

#define S(lit) keel_str_from_cstr(lit)

/* ------------------------------------------------------------ parsing */

typedef struct lookup_case {
	const char *header;
	const char *name;
	const char *want; /* NULL: not found */
} lookup_case_t;

static void check_lookups(const lookup_case_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		keel_str_t v = {0};
		int rc = keel_cookie_parse(S(t[i].header), S(t[i].name), &v);
		if (!t[i].want) {
			cr_expect_eq(rc, KEEL_ENOENT, "[%s] %s found",
			             t[i].header, t[i].name);
			continue;
		}
		cr_expect_eq(rc, KEEL_OK, "[%s] %s missing", t[i].header,
		             t[i].name);
		cr_expect(keel_str_eq(v, S(t[i].want)), "[%s] %s = '%.*s'",
		          t[i].header, t[i].name, KEEL_STR_FMT(v));
	}
}

Test(cookie, parses_ordinary_headers)
{
	static const lookup_case_t t[] = {
	        {"a=1", "a", "1"},
	        {"a=1; b=2", "b", "2"},
	        {"a=1;b=2", "b", "2"},
	        {"a=1 ;  b=2  ", "b", "2"},
	        {"a=1;\tb=2", "b", "2"},
	        {"a=", "a", ""},
	        {"a=\"quoted\"", "a", "quoted"},
	        {"a=\"\"", "a", ""},
	        {"sid=abc.DEF-123_~!#$%&'()*+-./:<=>?@[]^_`{|}~", "sid",
	         "abc.DEF-123_~!#$%&'()*+-./:<=>?@[]^_`{|}~"},
	        {"a=1; a=2", "a", "1"},
	        {"A=1; a=2", "a", "2"},
	        {"a=1", "A", NULL},
	        {"a=1", "b", NULL},
	        {"", "a", NULL},
	        {";;; ;", "a", NULL},
	        {"a=b=c", "a", "b=c"},
	};
	check_lookups(t, KEEL_COUNTOF(t));
}

Test(cookie, skips_invalid_pairs_and_keeps_going)
{
	static const lookup_case_t t[] = {
	        {"novalue; b=2", "b", "2"},
	        {"novalue; b=2", "novalue", NULL},
	        {"=x; b=2", "b", "2"},
	        {"a b=1; c=3", "c", "3"},
	        {"a b=1", "a b", NULL},
	        {"a=1 2; c=3", "a", NULL},
	        {"a=1 2; c=3", "c", "3"},
	        {"a=x,y; b=2", "a", NULL},
	        {"a=x\\y; b=2", "b", "2"},
	        {"a=x\\y", "a", NULL},
	        {"a=\"unterminated; b=2", "b", "2"},
	        {"a=\"unterminated", "a", NULL},
	        {"a=\"; b=2", "a", NULL},
	        {"a=in\"side", "a", NULL},
	        {"a=\xc3\xa9", "a", NULL},
	        {"a=\x7f", "a", NULL},
	        {"(a)=1; a=2", "a", "2"},
	        {"a=1, b=2", "b", NULL}, /* comma is no separator */
	        {"a=\"x y\"", "a", NULL},
	};
	check_lookups(t, KEEL_COUNTOF(t));
}

Test(cookie, hostile_bytes_in_the_header_are_skipped)
{
	/* NUL, CR and LF cannot reach here through the HTTP parser, but the
	 * pure parser must still treat them as invalid bytes. */
	const char raw[] = "a=x\0y; b=\r\n; c=ok";
	keel_str_t h = {raw, sizeof(raw) - 1};
	keel_str_t v;
	cr_expect_eq(keel_cookie_parse(h, S("a"), &v), KEEL_ENOENT);
	cr_expect_eq(keel_cookie_parse(h, S("b"), &v), KEEL_ENOENT);
	cr_assert_eq(keel_cookie_parse(h, S("c"), &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("ok")));
}

Test(cookie, iterates_valid_pairs_in_order)
{
	keel_cookie_iter_t it;
	keel_str_t n, v;
	keel_cookie_iter_init(&it, S("a=1; bad; b=\"2\"; a=3;"));
	cr_assert_eq(keel_cookie_next(&it, &n, &v), KEEL_OK);
	cr_expect(keel_str_eq(n, S("a")) && keel_str_eq(v, S("1")));
	cr_assert_eq(keel_cookie_next(&it, &n, &v), KEEL_OK);
	cr_expect(keel_str_eq(n, S("b")) && keel_str_eq(v, S("2")));
	cr_assert_eq(keel_cookie_next(&it, &n, &v), KEEL_OK);
	cr_expect(keel_str_eq(n, S("a")) && keel_str_eq(v, S("3")));
	cr_expect_eq(keel_cookie_next(&it, &n, &v), KEEL_ENOENT);
	cr_expect_eq(keel_cookie_next(&it, &n, &v), KEEL_ENOENT);
}

/* A header of `pairs` junk pairs then "last=1". */
static char *many_pairs(size_t pairs)
{
	char *h = malloc(pairs * 3 + 16);
	cr_assert(h != NULL);
	size_t w = 0;
	for (size_t i = 0; i < pairs; i++) {
		memcpy(h + w, "x; ", 3);
		w += 3;
	}
	memcpy(h + w, "last=1", 7);
	return h;
}

Test(cookie, work_is_bounded_by_the_pair_limit)
{
	keel_str_t v;
	char *ok = many_pairs(KEEL_COOKIE_MAX_PAIRS - 1);
	cr_expect_eq(keel_cookie_parse(S(ok), S("last"), &v), KEEL_OK);
	free(ok);
	char *over = many_pairs(KEEL_COOKIE_MAX_PAIRS);
	cr_expect_eq(keel_cookie_parse(S(over), S("last"), &v), KEEL_ENOENT);
	keel_cookie_iter_t it;
	keel_str_t n;
	keel_cookie_iter_init(&it, S(over));
	cr_expect_eq(keel_cookie_next(&it, &n, &v), KEEL_ELIMIT);
	free(over);
}

/* --------------------------------------------------- keel_req_cookie */

typedef struct fake {
	keel_req_t req;
	keel_res_t res;
	keel_http_header_t hdrs[8];
} fake_t;

static fake_t *fake_new(void)
{
	fake_t *f = calloc(1, sizeof(*f));
	cr_assert(f != NULL);
	f->req.head.method = KEEL_HTTP_GET;
	f->req.head.headers = f->hdrs;
	keel_arena_init(&f->req.arena, 0, 0);
	keel_buf_init(&f->req.body, 0);
	keel_buf_init(&f->res.headers, 0);
	keel_buf_init(&f->res.body, 0);
	f->res.file_fd = -1;
	f->res.status = 200;
	return f;
}

static void fake_header(fake_t *f, const char *name, const char *value)
{
	cr_assert(f->req.head.header_count < KEEL_COUNTOF(f->hdrs));
	f->hdrs[f->req.head.header_count++] =
	        (keel_http_header_t){S(name), S(value)};
}

static void fake_free(fake_t *f)
{
	keel__res_deinit(&f->res);
	keel_buf_deinit(&f->req.body);
	keel_arena_deinit(&f->req.arena);
	free(f);
}

Test(cookie, request_cookies_across_several_headers)
{
	fake_t *f = fake_new();
	fake_header(f, "Host", "x");
	fake_header(f, "cookie", "a=1; bad");
	fake_header(f, "X-Cookie", "z=9");
	fake_header(f, "COOKIE", "b=2; a=3");
	keel_str_t v;
	cr_assert_eq(keel_req_cookie(&f->req, "a", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("1")));
	cr_assert_eq(keel_req_cookie(&f->req, "b", &v), KEEL_OK);
	cr_expect(keel_str_eq(v, S("2")));
	cr_expect_eq(keel_req_cookie(&f->req, "z", &v), KEEL_ENOENT);
	cr_expect_eq(keel_req_cookie(&f->req, "bad", &v), KEEL_ENOENT);
	fake_free(f);
}

Test(cookie, request_without_cookies)
{
	fake_t *f = fake_new();
	keel_str_t v;
	cr_expect_eq(keel_req_cookie(&f->req, "a", &v), KEEL_ENOENT);
	fake_header(f, "Cookie", "");
	cr_expect_eq(keel_req_cookie(&f->req, "a", &v), KEEL_ENOENT);
	fake_free(f);
}

/* ------------------------------------------------------ Set-Cookie */

/* keel_cookie_format's output as a malloc'd string, or NULL + *rc. */
static char *fmt(const char *name, const char *value,
                 const keel_cookie_opts_t *o, int *rc)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	*rc = keel_cookie_format(&b, S(name), S(value), o);
	if (*rc != KEEL_OK) {
		cr_expect_eq(b.len, 0);
		keel_buf_deinit(&b);
		return NULL;
	}
	return keel_buf_detach(&b, NULL);
}

static void expect_fmt(const char *name, const char *value,
                       const keel_cookie_opts_t *o, const char *want)
{
	int rc;
	char *got = fmt(name, value, o, &rc);
	cr_assert_eq(rc, KEEL_OK, "%s refused: %d", name, rc);
	cr_expect_str_eq(got, want);
	free(got);
}

static void expect_refused(const char *name, const char *value,
                           const keel_cookie_opts_t *o, int want)
{
	int rc;
	char *got = fmt(name, value, o, &rc);
	cr_expect_eq(rc, want, "%s=%s: got %d (%s)", name, value, rc,
	             got ? got : "");
	free(got);
}

Test(cookie, set_cookie_plain_and_every_attribute)
{
	expect_fmt("sid", "abc", NULL, "sid=abc");
	expect_fmt("sid", "", NULL, "sid=");
	keel_cookie_opts_t o = {
	        .path = "/app",
	        .domain = "example.com",
	        .max_age = 3600,
	        .expires = 784111777,
	        .secure = true,
	        .http_only = true,
	        .partitioned = true,
	        .same_site = KEEL_SAMESITE_NONE,
	};
	expect_fmt("sid", "abc", &o,
	           "sid=abc; Path=/app; Domain=example.com; Max-Age=3600; "
	           "Expires=Sun, 06 Nov 1994 08:49:37 GMT; Secure; HttpOnly; "
	           "SameSite=None; Partitioned");
	keel_cookie_opts_t lax = {.same_site = KEEL_SAMESITE_LAX};
	expect_fmt("a", "1", &lax, "a=1; SameSite=Lax");
	keel_cookie_opts_t strict = {.same_site = KEEL_SAMESITE_STRICT,
	                             .http_only = true};
	expect_fmt("a", "1", &strict, "a=1; HttpOnly; SameSite=Strict");
	keel_cookie_opts_t dot = {.domain = ".Sub-1.example.ORG"};
	expect_fmt("a", "1", &dot, "a=1; Domain=.Sub-1.example.ORG");
}

Test(cookie, expires_is_an_imf_fixdate)
{
	keel_cookie_opts_t o = {.expires = 1};
	expect_fmt("a", "b", &o, "a=b; Expires=Thu, 01 Jan 1970 00:00:01 GMT");
	o.expires = 951782400; /* leap day */
	expect_fmt("a", "b", &o, "a=b; Expires=Tue, 29 Feb 2000 00:00:00 GMT");
	o.expires = 253402300799;
	expect_fmt("a", "b", &o, "a=b; Expires=Fri, 31 Dec 9999 23:59:59 GMT");
	o.expires = 253402300800;
	expect_refused("a", "b", &o, KEEL_EINVAL);
	o.expires = -1;
	expect_refused("a", "b", &o, KEEL_EINVAL);
}

Test(cookie, refuses_bad_names_and_values)
{
	static const char *const names[] = {
	        "",      "a b",      "a=b", "a;b", "a,b", "(a)",  "a\"", "a\tb",
	        "a\x01", "\xc3\xa9", "a/b", "a@b", "[a]", "a{b}", "a:b",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(names); i++)
		expect_refused(names[i], "v", NULL, KEEL_EINVAL);
	static const char *const values[] = {
	        "a b",   "a;b",       "a,b",  "\"a\"",    "a\\b",
	        "a\x7f", "a\r\nX: y", "a\tb", "\xc3\xa9", "\x1f",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(values); i++)
		expect_refused("n", values[i], NULL, KEEL_EINVAL);
}

Test(cookie, refuses_bad_attributes)
{
	static const char *const paths[] = {
	        "", "app", "/a;b", "/a b", "/a\x01", "/\xc3\xa9", "/\x7f"};
	for (size_t i = 0; i < KEEL_COUNTOF(paths); i++) {
		keel_cookie_opts_t o = {.path = paths[i]};
		expect_refused("a", "b", &o, KEEL_EINVAL);
	}
	static const char *const domains[] = {
	        "",
	        ".",
	        "..a",
	        "a..b",
	        "a.",
	        "-a.com",
	        "a-.com",
	        "a b.com",
	        "a;b",
	        "a_b.com",
	        "a.com:80",
	        "x\r\ny",
	        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	         "aaa.com"), /* a 64-byte label */
	};
	for (size_t i = 0; i < KEEL_COUNTOF(domains); i++) {
		keel_cookie_opts_t o = {.domain = domains[i]};
		expect_refused("a", "b", &o, KEEL_EINVAL);
	}
	keel_cookie_opts_t o = {.max_age = -5};
	expect_refused("a", "b", &o, KEEL_EINVAL);
	keel_cookie_opts_t bad_enum = {.same_site = (keel_cookie_samesite_t)7};
	expect_refused("a", "b", &bad_enum, KEEL_EINVAL);
}

Test(cookie, samesite_none_and_partitioned_need_secure)
{
	keel_cookie_opts_t o = {.same_site = KEEL_SAMESITE_NONE};
	expect_refused("a", "b", &o, KEEL_EINVAL);
	o.secure = true;
	expect_fmt("a", "b", &o, "a=b; Secure; SameSite=None");
	keel_cookie_opts_t p = {.partitioned = true};
	expect_refused("a", "b", &p, KEEL_EINVAL);
	p.secure = true;
	expect_fmt("a", "b", &p, "a=b; Secure; Partitioned");
}

Test(cookie, secure_and_host_prefixes)
{
	keel_cookie_opts_t none = {0};
	expect_refused("__Secure-id", "1", &none, KEEL_EINVAL);
	expect_refused("__secure-id", "1", NULL, KEEL_EINVAL);
	keel_cookie_opts_t sec = {.secure = true, .domain = "example.com"};
	expect_fmt("__Secure-id", "1", &sec,
	           "__Secure-id=1; Domain=example.com; Secure");

	keel_cookie_opts_t host = {.secure = true, .path = "/"};
	expect_fmt("__Host-id", "1", &host, "__Host-id=1; Path=/; Secure");
	keel_cookie_opts_t no_secure = {.path = "/"};
	expect_refused("__Host-id", "1", &no_secure, KEEL_EINVAL);
	keel_cookie_opts_t no_path = {.secure = true};
	expect_refused("__Host-id", "1", &no_path, KEEL_EINVAL);
	keel_cookie_opts_t sub_path = {.secure = true, .path = "/app"};
	expect_refused("__Host-id", "1", &sub_path, KEEL_EINVAL);
	keel_cookie_opts_t with_domain = {
	        .secure = true, .path = "/", .domain = "example.com"};
	expect_refused("__Host-id", "1", &with_domain, KEEL_EINVAL);
	expect_refused("__HOST-id", "1", &no_secure, KEEL_EINVAL);
	/* not a prefix: ordinary name */
	expect_fmt("_Host-id", "1", NULL, "_Host-id=1");
}

Test(cookie, length_limits_at_and_past_the_bound)
{
	char *v = malloc(KEEL_COOKIE_MAX_PAIR + 2);
	cr_assert(v != NULL);
	memset(v, 'v', KEEL_COOKIE_MAX_PAIR + 1);
	v[KEEL_COOKIE_MAX_PAIR - 1] = '\0'; /* name "n" + 4095 = 4096 */
	int rc;
	char *got = fmt("n", v, NULL, &rc);
	cr_expect_eq(rc, KEEL_OK);
	free(got);
	v[KEEL_COOKIE_MAX_PAIR - 1] = 'v';
	v[KEEL_COOKIE_MAX_PAIR] = '\0';
	expect_refused("n", v, NULL, KEEL_ELIMIT);
	free(v);

	char path[KEEL_COOKIE_MAX_ATTR + 2];
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[KEEL_COOKIE_MAX_ATTR] = '\0';
	keel_cookie_opts_t o = {.path = path};
	got = fmt("a", "b", &o, &rc);
	cr_expect_eq(rc, KEEL_OK);
	free(got);
	path[KEEL_COOKIE_MAX_ATTR] = 'p';
	path[KEEL_COOKIE_MAX_ATTR + 1] = '\0';
	expect_refused("a", "b", &o, KEEL_ELIMIT);
}

Test(cookie, format_appends_and_leaves_buffer_alone_on_failure)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "X", 1), KEEL_OK);
	cr_expect_eq(keel_cookie_format(&b, S("a b"), S("1"), NULL),
	             KEEL_EINVAL);
	cr_expect_str_eq(b.data, "X");
	cr_expect_eq(keel_cookie_format(&b, S("a"), S("1"), NULL), KEEL_OK);
	cr_expect_str_eq(b.data, "Xa=1");
	keel_buf_deinit(&b);

	keel_buf_t small;
	keel_buf_init(&small, 8);
	keel_cookie_opts_t o = {.path = "/a/long/path"};
	cr_expect_eq(keel_cookie_format(&small, S("a"), S("1"), &o),
	             KEEL_ENOMEM);
	cr_expect_eq(small.len, 0);
	keel_buf_deinit(&small);
}

/* Value of the idx-th response header `name`, copied, or NULL. */
static char *res_header(const fake_t *f, const char *name, int idx)
{
	char key[64];
	snprintf(key, sizeof(key), "%s: ", name);
	const char *h = f->res.headers.data;
	for (const char *p = h; (p = strstr(p, key)); p++) {
		if (p != h && p[-1] != '\n')
			continue;
		if (idx-- > 0)
			continue;
		p += strlen(key);
		return strndup(p, strcspn(p, "\r"));
	}
	return NULL;
}

Test(cookie, res_cookie_adds_one_header_per_call)
{
	fake_t *f = fake_new();
	keel_cookie_opts_t o = {.path = "/", .http_only = true};
	cr_expect_eq(keel_res_cookie(&f->res, "a", "1", &o), KEEL_OK);
	cr_expect_eq(keel_res_cookie(&f->res, "b", "2", NULL), KEEL_OK);
	size_t before = f->res.headers.len;
	cr_expect_eq(keel_res_cookie(&f->res, "c", "bad value", NULL),
	             KEEL_EINVAL);
	cr_expect_eq(keel_res_cookie(&f->res, NULL, "x", NULL), KEEL_EINVAL);
	cr_expect_eq(f->res.headers.len, before);
	char *h0 = res_header(f, "Set-Cookie", 0);
	char *h1 = res_header(f, "Set-Cookie", 1);
	char *h2 = res_header(f, "Set-Cookie", 2);
	cr_expect_str_eq(h0, "a=1; Path=/; HttpOnly");
	cr_expect_str_eq(h1, "b=2");
	cr_expect_null(h2);
	free(h0);
	free(h1);
	fake_free(f);
}

Test(cookie, delete_expires_the_cookie_now)
{
	fake_t *f = fake_new();
	cr_expect_eq(keel_res_cookie_delete(&f->res, "a", NULL), KEEL_OK);
	keel_cookie_opts_t o = {.path = "/",
	                        .secure = true,
	                        .max_age = 999,
	                        .expires = 999999,
	                        .same_site = KEEL_SAMESITE_LAX};
	cr_expect_eq(keel_res_cookie_delete(&f->res, "__Host-s", &o), KEEL_OK);
	keel_cookie_opts_t bad = {.path = "/x"};
	cr_expect_eq(keel_res_cookie_delete(&f->res, "__Host-s", &bad),
	             KEEL_EINVAL);
	char *h0 = res_header(f, "Set-Cookie", 0);
	char *h1 = res_header(f, "Set-Cookie", 1);
	cr_expect_str_eq(
	        h0, "a=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
	cr_expect_str_eq(h1, "__Host-s=; Path=/; Max-Age=0; Expires=Thu, 01 "
	                     "Jan 1970 00:00:00 GMT; Secure; SameSite=Lax");
	cr_expect_null(res_header(f, "Set-Cookie", 2));
	free(h0);
	free(h1);
	fake_free(f);
}

Test(cookie, a_written_cookie_reads_back)
{
	static const char *const values[] = {"", "x", "abc-DEF_123",
	                                     "e30.eyJ1IjoxfQ.sig"};
	for (size_t i = 0; i < KEEL_COUNTOF(values); i++) {
		int rc;
		keel_cookie_opts_t o = {.path = "/", .max_age = 60};
		char *line = fmt("tok", values[i], &o, &rc);
		cr_assert_eq(rc, KEEL_OK);
		/* A browser echoes back the part before the first ';'. */
		keel_str_t pair = {line, strcspn(line, ";")};
		keel_str_t v;
		cr_assert_eq(keel_cookie_parse(pair, S("tok"), &v), KEEL_OK);
		cr_expect(keel_str_eq(v, S(values[i])));
		free(line);
	}
}
