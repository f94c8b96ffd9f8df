/*
 * fuzz_cookie - the Cookie reader and the Set-Cookie writer.  The input is
 * read as a Cookie header: every pair handed out must be a slice of the
 * input, a token name and a cookie-octet value, the iteration must stop
 * within KEEL_COOKIE_MAX_PAIRS pieces, and a lookup must find the first
 * pair of each name.  The input is also split into a name, a value and a
 * path for the writer: anything it accepts must read back as the same
 * pair and hold no byte that could end the header.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool inside(keel_str_t s, keel_str_t in)
{
	return s.len == 0 ||
	       (s.ptr >= in.ptr && s.ptr + s.len <= in.ptr + in.len);
}

static bool octets_ok(keel_str_t v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' ||
		    c == '\\')
			return false;
	}
	return true;
}

/* Each pair is valid, and the lookup of its name gives the first one. */
static void check_reader(keel_str_t in)
{
	keel_cookie_iter_t it;
	keel_str_t n, v, first;
	keel_cookie_iter_init(&it, in);
	int rc, count = 0;
	while ((rc = keel_cookie_next(&it, &n, &v)) == KEEL_OK) {
		CHECK(inside(n, in) && inside(v, in) && n.len > 0);
		CHECK(octets_ok(v) && keel_str_index(n, '=') < 0);
		CHECK(++count <= KEEL_COOKIE_MAX_PAIRS);
		CHECK(keel_cookie_parse(in, n, &first) == KEEL_OK);
		CHECK(first.ptr <= v.ptr);
	}
	CHECK(rc == KEEL_ENOENT || rc == KEEL_ELIMIT);
}

/* name \0 value \0 path, flags from the first byte. */
static void check_writer(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	keel_str_t rest = {(const char *)data + 1, size - 1};
	keel_str_t name = keel_str_cut(&rest, '\0');
	keel_str_t value = keel_str_cut(&rest, '\0');
	char *path = strndup(rest.ptr, rest.len);
	CHECK(path != NULL);
	keel_cookie_opts_t o = {
	        .path = (data[0] & 1) ? path : NULL,
	        .secure = data[0] & 2,
	        .http_only = data[0] & 4,
	        .partitioned = data[0] & 8,
	        .same_site = (keel_cookie_samesite_t)((data[0] >> 4) & 3),
	        .max_age = (data[0] & 64) ? (int64_t)size : 0,
	        .expires = (data[0] & 128) ? (int64_t)size * 1000003 : 0,
	};
	keel_buf_t b;
	keel_buf_init(&b, 0);
	if (keel_cookie_format(&b, name, value, &o) == KEEL_OK) {
		for (size_t i = 0; i < b.len; i++)
			CHECK(b.data[i] >= 0x20 && b.data[i] < 0x7f);
		keel_str_t pair = {b.data, strcspn(b.data, ";")};
		keel_str_t back;
		CHECK(keel_cookie_parse(pair, name, &back) == KEEL_OK);
		CHECK(keel_str_eq(back, value));
	} else {
		CHECK(b.len == 0);
	}
	keel_buf_deinit(&b);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reader((keel_str_t){(const char *)data, size});
	check_writer(data, size);
	return 0;
}
