#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"

/* Decode `raw` into a buffer of exactly raw.len bytes (the documented cap). */
static int decode(const char *raw, char *out, size_t *out_len)
{
	size_t n = strlen(raw);
	char *b = malloc(n != 0 ? n : 1);
	char *in = malloc(n != 0 ? n : 1);
	cr_assert(b != NULL && in != NULL);
	memcpy(in, raw, n);
	int rc = keel_http_path_decode((keel_str_t){in, n}, b, n, out_len);
	if (rc == KEEL_OK)
		memcpy(out, b, *out_len);
	free(b);
	free(in);
	return rc;
}

Test(http_path, decode_and_normalise_table)
{
	static const struct {
		const char *raw, *want;
	} t[] = {
	        {"/", "/"},
	        {"/a/b", "/a/b"},
	        {"/a/b/../c/./d", "/a/c/d"},
	        {"/a/b/..", "/a/"},
	        {"/a/b/.", "/a/b/"},
	        {"/a/..", "/"},
	        {"/.", "/"},
	        {"/./", "/"},
	        {"/a/./b/./", "/a/b/"},
	        {"/a//../b", "/a/b"},
	        {"//a", "//a"},
	        {"/a/", "/a/"},
	        {"/...", "/..."},
	        {"/.a/..b/c.", "/.a/..b/c."},
	        {"/x/%2e%2E/y/..", "/"},
	        {"/x/%2e%2e", "/"},
	        {"/x/.%2e/y", "/y"},
	        {"/%41%62c", "/Abc"},
	        {"/a%20b", "/a b"},
	        {"/a+b", "/a+b"},
	        {"/%25", "/%"},
	        {"/%252F", "/%2F"},
	        {"/caf%C3%A9", "/caf\xc3\xa9"},
	        {"/%F0%9F%98%80", "/\xf0\x9f\x98\x80"},
	        {"/a|b/[c]", "/a|b/[c]"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		char out[64];
		size_t n = 0;
		int rc = decode(t[i].raw, out, &n);
		cr_assert_eq(rc, KEEL_OK, "%s: rc %d", t[i].raw, rc);
		cr_assert_eq(n, strlen(t[i].want), "%s: %.*s", t[i].raw, (int)n,
		             out);
		cr_assert(memcmp(out, t[i].want, n) == 0, "%s: %.*s", t[i].raw,
		          (int)n, out);
	}
}

Test(http_path, refused_paths)
{
	static const char *t[] = {
	        "",         "a/b",        "/..",          "/../a",
	        "/a/../..", "/%2e%2e",    "/a/%2E%2e/..", "/%2F",
	        "/a%2fb",   "/a%5Cb",     "/a%5cb",       "/a\\b",
	        "/%00",     "/a%0A",      "/%0d",         "/%7F",
	        "/%",       "/%4",        "/%zz",         "/%g1",
	        "/a?b",     "/a#b",       "/a b",         "/\x01",
	        "/%C0%AE",  "/%E0%80%AF", "/%ED%A0%80",   "/%F4%90%80%80",
	        "/%FF",     "/%C3",       "/%80",         "/\xc3\xa9",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		char out[64];
		size_t n = 0;
		cr_assert_eq(decode(t[i], out, &n), KEEL_EINVAL, "%s", t[i]);
	}
}

Test(http_path, output_buffer_must_hold_the_input)
{
	char out[8];
	size_t n = 99;
	cr_assert_eq(keel_http_path_decode(KEEL_STR("/abc"), out, 3, &n),
	             KEEL_ENOMEM);
	cr_assert_eq(n, 99, "out_len untouched on failure");
	cr_assert_eq(keel_http_path_decode(KEEL_STR("/abc"), out, 4, &n),
	             KEEL_OK);
	cr_assert_eq(n, 4);
}

/* All pairs of `q` as "key=value;" lines, or "!" for an error. */
static void pairs_of(const char *q, size_t cap, char *dump, size_t dcap)
{
	keel_http_query_iter_t it;
	keel_http_query_init(&it, keel_str_from_cstr(q));
	char *buf = malloc(cap != 0 ? cap : 1);
	keel_str_t k, v;
	size_t at = 0;
	int rc;
	dump[0] = '\0';
	while ((rc = keel_http_query_next(&it, buf, cap, &k, &v)) !=
	       KEEL_ENOENT) {
		if (rc != KEEL_OK) {
			at += (size_t)snprintf(dump + at, dcap - at, "!%d;",
			                       rc);
			continue;
		}
		at += (size_t)snprintf(dump + at, dcap - at, "%.*s=%.*s;",
		                       KEEL_STR_FMT(k), KEEL_STR_FMT(v));
	}
	free(buf);
}

Test(http_path, query_iteration_table)
{
	static const struct {
		const char *q, *want;
	} t[] = {
	        {"", ""},
	        {"a=1", "a=1;"},
	        {"a=1&b=2&a=3", "a=1;b=2;a=3;"},
	        {"flag", "flag=;"},
	        {"=v", "=v;"},
	        {"a=", "a=;"},
	        {"a=b=c", "a=b=c;"},
	        {"&&a=1&&", "a=1;"},
	        {"q=hello+world", "q=hello world;"},
	        {"k%20y=v%2Bw", "k y=v+w;"},
	        {"x=%e2%82%ac", "x=\xe2\x82\xac;"},
	        {"p=%2F%26%3D", "p=/&=;"},
	        {"a=%zz&b=2", "!-3;b=2;"},
	        {"a=%&b=2", "!-3;b=2;"},
	        {"a=%4", "!-3;"},
	        {"a=%00&b", "!-3;b=;"},
	        {"%=1", "!-3;"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		char dump[256];
		pairs_of(t[i].q, 64, dump, sizeof(dump));
		cr_assert_str_eq(dump, t[i].want, "query %s", t[i].q);
	}
}

Test(http_path, query_buffer_too_small)
{
	char dump[64];
	pairs_of("abc=def&g=h", 5, dump, sizeof(dump));
	cr_assert_str_eq(dump, "!-2;g=h;", "a too-small buffer skips the pair");
	pairs_of("abc=def", 6, dump, sizeof(dump));
	cr_assert_str_eq(dump, "abc=def;", "decoded key+value need 6 bytes");
}
