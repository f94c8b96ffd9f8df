#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"

/* What decoding one input produced, however it was cut. */
struct outcome {
	int rc;
	int status;
	size_t consumed;
	size_t body_len;
	char body[256];
};

/*
 * Decode s[0..n) fed in pieces that end at cuts[0..ncuts) and then at n,
 * in a heap copy so ASan sees any stray access.  Stops at the first call
 * that does not ask for more.
 */
static struct outcome feed(const char *s, size_t n, const size_t *cuts,
                           size_t ncuts, const keel_http_limits_t *lim)
{
	struct outcome o = {.rc = KEEL_AGAIN};
	keel_http_chunked_t d;
	keel_http_chunked_init(&d, lim);
	char *buf = malloc(n != 0 ? n : 1);
	cr_assert_not_null(buf);
	if (n != 0)
		memcpy(buf, s, n);
	size_t from = 0;
	for (size_t i = 0; i <= ncuts && o.rc == KEEL_AGAIN; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		size_t used = 0, got = 0;
		o.rc = keel_http_chunked_decode(&d, buf + from, to - from,
		                                &used, &got, &o.status);
		cr_assert_leq(used, to - from);
		cr_assert_leq(got, used);
		if (o.rc == KEEL_AGAIN)
			cr_assert_eq(used, to - from, "AGAIN consumes all");
		cr_assert_leq(o.body_len + got, sizeof(o.body));
		memcpy(o.body + o.body_len, buf + from, got);
		o.body_len += got;
		o.consumed += used;
		from = to;
	}
	free(buf);
	return o;
}

static struct outcome whole(const char *s, size_t n,
                            const keel_http_limits_t *lim)
{
	return feed(s, n, NULL, 0, lim);
}

static void same_outcome(const struct outcome *a, const struct outcome *b,
                         const char *what, size_t at)
{
	cr_assert_eq(a->rc, b->rc, "%s %zu: rc %d vs %d", what, at, a->rc,
	             b->rc);
	cr_assert_eq(a->status, b->status, "%s %zu", what, at);
	cr_assert_eq(a->consumed, b->consumed, "%s %zu", what, at);
	cr_assert_eq(a->body_len, b->body_len, "%s %zu", what, at);
	cr_assert(memcmp(a->body, b->body, a->body_len) == 0, "%s %zu", what,
	          at);
}

/*
 * Every single cut, and byte-at-a-time feeding, decode exactly like the
 * whole input; returns the whole outcome for the caller to judge.
 */
static struct outcome check_splits(const char *s, size_t n,
                                   const keel_http_limits_t *lim)
{
	struct outcome w = whole(s, n, lim);
	for (size_t k = 0; k <= n; k++) {
		struct outcome o = feed(s, n, &k, 1, lim);
		same_outcome(&w, &o, "cut", k);
	}
	size_t *every = malloc((n + 1) * sizeof(*every));
	for (size_t k = 0; k <= n; k++)
		every[k] = k;
	struct outcome o = feed(s, n, every, n + 1, lim);
	same_outcome(&w, &o, "bytewise", n);
	free(every);
	return w;
}

#define SPLITS(lit, lim) check_splits(lit, sizeof(lit) - 1, lim)

static void expect_body(const struct outcome *o, const char *body,
                        size_t consumed)
{
	cr_assert_eq(o->rc, KEEL_OK, "rc %d status %d", o->rc, o->status);
	cr_assert_eq(o->status, 0);
	cr_assert_eq(o->body_len, strlen(body));
	cr_assert(memcmp(o->body, body, o->body_len) == 0);
	cr_assert_eq(o->consumed, consumed);
}

Test(http_chunked, single_chunk)
{
	struct outcome o = SPLITS("5\r\nhello\r\n0\r\n\r\n", NULL);
	expect_body(&o, "hello", 15);
}

Test(http_chunked, many_chunks_and_pipelined_rest)
{
	const char s[] =
	        "3\r\nabc\r\nA\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\nGET /";
	struct outcome o = check_splits(s, sizeof(s) - 1, NULL);
	expect_body(&o, "abc0123456789!", sizeof(s) - 1 - 5);
}

Test(http_chunked, empty_body)
{
	struct outcome o = SPLITS("0\r\n\r\n", NULL);
	expect_body(&o, "", 5);
	o = SPLITS("000\r\n\r\n", NULL);
	expect_body(&o, "", 7);
}

Test(http_chunked, hex_sizes_any_case_and_leading_zeros)
{
	const char s[] = "000a\r\n0123456789\r\nB\r\nabcdefghijk\r\n"
	                 "0000000000000001\r\nz\r\n0\r\n\r\n";
	struct outcome o = check_splits(s, sizeof(s) - 1, NULL);
	expect_body(&o, "0123456789abcdefghijkz", sizeof(s) - 1);
}

Test(http_chunked, extensions_parsed_and_ignored)
{
	struct outcome o = SPLITS("2;a\r\nab\r\n"
	                          "2;name=value\r\n12\r\n"
	                          "2 ; x = y ;z\r\nxy\r\n"
	                          "1;q=\"a b\\\"c;\"\r\n.\r\n"
	                          "0;last=1\r\n\r\n",
	                          NULL);
	cr_assert_eq(o.rc, KEEL_OK, "status %d", o.status);
	cr_assert_eq(o.body_len, 7);
	cr_assert(memcmp(o.body, "ab12xy.", 7) == 0);
}

Test(http_chunked, trailers_checked_then_dropped)
{
	const char s[] = "1\r\nx\r\n0\r\nX-Sum: abc\r\nY:\t\xff z \r\n\r\nNEXT";
	struct outcome o = check_splits(s, sizeof(s) - 1, NULL);
	cr_assert_eq(o.rc, KEEL_OK);
	cr_assert_eq(o.body_len, 1, "trailer bytes never reach the body");
	cr_assert_eq(o.consumed, sizeof(s) - 1 - 4);
}

struct bad_chunk {
	const char *name;
	const char *in;
	size_t len;
	int status;
};

#define BADC(name, lit, st)                                                    \
	{                                                                      \
		name, lit, sizeof(lit) - 1, st                                 \
	}

Test(http_chunked, malformed_bodies)
{
	static const struct bad_chunk t[] = {
	        BADC("no size", "\r\n", 400),
	        BADC("not hex", "g\r\n", 400),
	        BADC("leading space", " 5\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("trailing space", "5 \r\nhello\r\n0\r\n\r\n", 400),
	        BADC("tab no ext", "5\t\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("plus", "+5\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("minus", "-5\r\n", 400),
	        BADC("0x", "0x5\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("17 digits", "00000000000000001\r\nx\r\n0\r\n\r\n", 400),
	        BADC("bare LF size", "5\nhello\r\n0\r\n\r\n", 400),
	        BADC("CR CR", "5\r\rhello\r\n0\r\n\r\n", 400),
	        BADC("data too long", "5\r\nhelloX\r\n0\r\n\r\n", 400),
	        BADC("bare LF data", "5\r\nhello\n0\r\n\r\n", 400),
	        BADC("CR only data", "5\r\nhello\r0\r\n\r\n", 400),
	        BADC("empty ext", "5;\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext no name", "5;=x\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext no value", "5;a=\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext two words", "5;a b\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext space end", "5;a=b \r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext open quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext control", "5;a=\x01\r\nhello\r\n0\r\n\r\n", 400),
	        BADC("ext bare LF", "5;a=b\nhello\r\n0\r\n\r\n", 400),
	        BADC("trailer fold", "0\r\nX: 1\r\n folded\r\n\r\n", 400),
	        BADC("trailer space colon", "0\r\nX : 1\r\n\r\n", 400),
	        BADC("trailer no colon", "0\r\nX\r\n\r\n", 400),
	        BADC("trailer empty name", "0\r\n: v\r\n\r\n", 400),
	        BADC("trailer NUL", "0\r\nX: a\0b\r\n\r\n", 400),
	        BADC("trailer bare CR", "0\r\nX: a\rb\r\n\r\n", 400),
	        BADC("trailer bare LF", "0\r\nX: 1\n\r\n", 400),
	        BADC("final bare LF", "0\r\n\n", 400),
	        BADC("final CR CR", "0\r\n\r\r", 400),
	        BADC("huge size", "ffffffffffffffff\r\n", 413),
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		struct outcome o = check_splits(t[i].in, t[i].len, NULL);
		cr_assert_eq(o.rc, KEEL_EINVAL, "%s: rc %d", t[i].name, o.rc);
		cr_assert_eq(o.status, t[i].status, "%s: status %d", t[i].name,
		             o.status);
	}
}

Test(http_chunked, body_limit_at_and_past)
{
	keel_http_limits_t lim = KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_body = 10;
	struct outcome o =
	        SPLITS("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", &lim);
	expect_body(&o, "helloworld", 25);
	o = SPLITS("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", &lim);
	cr_assert_eq(o.rc, KEEL_EINVAL);
	cr_assert_eq(o.status, 413);
	cr_assert_eq(o.consumed, 11, "refused at the size, before the data");
	o = SPLITS("b\r\n", &lim);
	cr_assert_eq(o.status, 413);
}

/* "1;" + name of n-1 bytes: exactly n extension bytes. */
static struct outcome ext_of(size_t n, const keel_http_limits_t *lim)
{
	char *s = malloc(n + 16);
	s[0] = '1';
	s[1] = ';';
	memset(s + 2, 'e', n - 1);
	memcpy(s + 1 + n, "\r\nx\r\n0\r\n\r\n", 10);
	struct outcome o = whole(s, n + 11, lim);
	free(s);
	return o;
}

Test(http_chunked, extension_limit_at_and_past)
{
	struct outcome o = ext_of(4096, NULL);
	cr_assert_eq(o.rc, KEEL_OK, "status %d", o.status);
	o = ext_of(4097, NULL);
	cr_assert_eq(o.rc, KEEL_EINVAL);
	cr_assert_eq(o.status, 400);
	keel_http_limits_t lim = KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_chunk_ext = 4;
	o = SPLITS("1;ab\r\nx\r\n1;c\r\ny\r\n0\r\n\r\n", &lim);
	cr_assert_eq(o.status, 400, "the budget is for the whole body");
}

Test(http_chunked, trailer_limits_at_and_past)
{
	keel_http_limits_t lim = KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_field = 8;
	struct outcome o = SPLITS("0\r\nX: 123\r\n\r\n", &lim);
	cr_assert_eq(o.rc, KEEL_OK, "an 8-byte trailer line fits");
	o = SPLITS("0\r\nX: 1234\r\n\r\n", &lim);
	cr_assert_eq(o.status, 431);
	lim = (keel_http_limits_t)KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_head = 12;
	o = SPLITS("0\r\nA: 1\r\nB:\r\n\r\n", &lim);
	cr_assert_eq(o.rc, KEEL_OK, "12 bytes of trailer section fit");
	o = SPLITS("0\r\nA: 1\r\nB: \r\n\r\n", &lim);
	cr_assert_eq(o.status, 431);
	lim = (keel_http_limits_t)KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_fields = 2;
	o = SPLITS("0\r\nA:\r\nB:\r\n\r\n", &lim);
	cr_assert_eq(o.rc, KEEL_OK);
	o = SPLITS("0\r\nA:\r\nB:\r\nC:\r\n\r\n", &lim);
	cr_assert_eq(o.status, 431);
}

Test(http_chunked, decodes_in_place_at_buffer_start)
{
	char buf[] = "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n";
	keel_http_chunked_t d;
	keel_http_chunked_init(&d, NULL);
	size_t used, got;
	int st;
	int rc = keel_http_chunked_decode(&d, buf, sizeof(buf) - 1, &used, &got,
	                                  &st);
	cr_assert_eq(rc, KEEL_OK);
	cr_assert_eq(got, 5);
	cr_assert(memcmp(buf, "abcde", 5) == 0);
}

Test(http_chunked, verdicts_are_sticky)
{
	char ok[] = "0\r\n\r\n";
	keel_http_chunked_t d;
	keel_http_chunked_init(&d, NULL);
	size_t used, got;
	int st;
	cr_assert_eq(keel_http_chunked_decode(&d, ok, 5, &used, &got, &st),
	             KEEL_OK);
	cr_assert_eq(keel_http_chunked_decode(&d, ok, 5, &used, &got, &st),
	             KEEL_OK);
	cr_assert_eq(used, 0, "nothing more is taken after the end");
	char bad[] = "z\r\n0\r\n\r\n";
	keel_http_chunked_init(&d, NULL);
	cr_assert_eq(keel_http_chunked_decode(&d, bad, 8, &used, &got, &st),
	             KEEL_EINVAL);
	cr_assert_eq(used, 1);
	st = 0;
	cr_assert_eq(keel_http_chunked_decode(&d, ok, 5, &used, &got, &st),
	             KEEL_EINVAL);
	cr_assert_eq(st, 400);
	cr_assert_eq(used, 0);
}
