/*
 * The streaming JSON writer: values go straight into a keel_buf_t, with
 * the container structure tracked in a few bits instead of a tree.
 */
#include "keel/json.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "keel/log.h"
#include "keel/res.h"
#include "keel/utf8.h"

/* Byte classes for strings: 0 copies as is, ESC needs an escape, UTF
 * starts (or wrongly continues) a multi-byte sequence. */
enum { PLAIN = 0, ESC = 1, UTF = 2 };

/* Built at compile time: controls and '"' '\\' escape, bytes >= 0x80 are
 * UTF-8, and the HTML-safe table escapes '<' '>' '&' too. */
#define ESC8  ESC, ESC, ESC, ESC, ESC, ESC, ESC, ESC
#define UTF8  UTF, UTF, UTF, UTF, UTF, UTF, UTF, UTF
#define UTF64 UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8, UTF8
#define CTL   ESC8, ESC8, ESC8, ESC8 /* 0x00..0x1f */
#define HIGH  UTF64, UTF64           /* 0x80..0xff */

static const unsigned char class_plain[256] = {
        CTL, ['"'] = ESC, ['\\'] = ESC, [0x80] = HIGH};
static const unsigned char class_html[256] = {
        CTL,         ['"'] = ESC, ['\\'] = ESC, ['<'] = ESC,
        ['>'] = ESC, ['&'] = ESC, [0x80] = HIGH};

static const char hex_digits[16] = "0123456789abcdef";

/*
 * The first failure wins and undoes everything the writer produced, so a
 * caller that checks only keel_json_finish never ships half a document.
 */
static int fail(keel_json_t *w, int rc)
{
	if (w->err == 0) {
		w->err = rc;
		keel_buf_t *b = w->out;
		if (b->len > w->start) {
			b->len = w->start;
			b->data[b->len] = '\0';
		}
	}
	return w->err;
}

/* Bytes are copied without re-terminating; finish_op puts the NUL back
 * once per public call, which keeps the per-run cost at one memcpy. */
static inline int emit(keel_json_t *w, const void *p, size_t n)
{
	keel_buf_t *b = w->out;
	if (KEEL_UNLIKELY(n > b->cap - b->len)) {
		int rc = keel_buf_reserve(b, n);
		if (rc != 0)
			return fail(w, rc);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int emit_char(keel_json_t *w, char c)
{
	return emit(w, &c, 1);
}

static int finish_op(keel_json_t *w, int rc)
{
	keel_buf_t *b = w->out;
	if (b->cap != 0)
		b->data[b->len] = '\0';
	return rc != 0 ? fail(w, rc) : w->err;
}

void keel_json_init(keel_json_t *w, keel_buf_t *out, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->start = out->len;
	w->flags = flags;
	w->first = true;
}

int keel_json_finish(const keel_json_t *w)
{
	if (w->err != 0)
		return w->err;
	return (w->done && w->depth == 0) ? 0 : KEEL_ESTATE;
}

static bool in_object(const keel_json_t *w)
{
	return w->depth > 0 && (w->objects >> (w->depth - 1) & 1u);
}

/*
 * Every value passes here first: it decides whether the value is allowed
 * where the writer stands and writes the comma that separates it from
 * the previous array element.  In an object the comma went out with the
 * key, so only the key-before-value rule is checked.
 */
static int before_value(keel_json_t *w)
{
	if (w->err != 0)
		return w->err;
	if (w->depth == 0)
		return w->done ? fail(w, KEEL_ESTATE) : 0;
	if (in_object(w)) {
		if (!w->key)
			return fail(w, KEEL_ESTATE);
		w->key = false;
		return 0;
	}
	if (!w->first && emit_char(w, ',') != 0)
		return w->err;
	w->first = false;
	return 0;
}

/* A scalar at the top level is the whole document. */
static int after_scalar(keel_json_t *w, int rc)
{
	if (rc == 0 && w->err == 0 && w->depth == 0)
		w->done = true;
	return finish_op(w, rc);
}

static int begin(keel_json_t *w, bool object)
{
	if (before_value(w) != 0)
		return w->err;
	if (w->depth == KEEL_JSON_MAX_DEPTH)
		return fail(w, KEEL_ELIMIT);
	uint64_t bit = (uint64_t)1 << w->depth;
	w->objects = object ? (w->objects | bit) : (w->objects & ~bit);
	w->depth++;
	w->first = true;
	w->key = false;
	return finish_op(w, emit_char(w, object ? '{' : '['));
}

/* After a container closes, its parent has at least one member and, if an
 * object, is back to expecting a key. */
static int end(keel_json_t *w, bool object)
{
	if (w->err != 0)
		return w->err;
	if (w->depth == 0 || in_object(w) != object || w->key)
		return fail(w, KEEL_ESTATE);
	w->depth--;
	w->first = false;
	if (w->depth == 0)
		w->done = true;
	return finish_op(w, emit_char(w, object ? '}' : ']'));
}

int keel_json_begin_object(keel_json_t *w)
{
	return begin(w, true);
}

int keel_json_end_object(keel_json_t *w)
{
	return end(w, true);
}

int keel_json_begin_array(keel_json_t *w)
{
	return begin(w, false);
}

int keel_json_end_array(keel_json_t *w)
{
	return end(w, false);
}

/* The escape for one ASCII byte the class table marked. */
static int emit_escape(keel_json_t *w, unsigned char c)
{
	char e[6] = {'\\', 'u', '0', '0', 0, 0};
	switch (c) {
	case '"': return emit(w, "\\\"", 2);
	case '\\': return emit(w, "\\\\", 2);
	case '\b': return emit(w, "\\b", 2);
	case '\f': return emit(w, "\\f", 2);
	case '\n': return emit(w, "\\n", 2);
	case '\r': return emit(w, "\\r", 2);
	case '\t': return emit(w, "\\t", 2);
	default: break;
	}
	e[4] = hex_digits[c >> 4];
	e[5] = hex_digits[c & 15];
	return emit(w, e, 6);
}

/* U+2028 and U+2029 end a line in pre-2019 JavaScript. */
static bool is_js_newline(const unsigned char *s, size_t k)
{
	return k == 3 && s[0] == 0xE2 && s[1] == 0x80 &&
	       (s[2] == 0xA8 || s[2] == 0xA9);
}

/* Nonzero high bit in each byte of x that equals b. */
static inline uint64_t bytes_equal(uint64_t x, unsigned char b)
{
	const uint64_t ones = 0x0101010101010101u;
	uint64_t y = x ^ (ones * b);
	return (y - ones) & ~y;
}

/*
 * Eight bytes at a time: true when none of them needs a look (a control,
 * '"', '\\', a byte >= 0x80, and in HTML-safe mode '<' '>' '&').  The
 * classic has-less / has-zero-byte bit tricks: exact as a yes/no answer.
 */
static inline bool word_plain(const unsigned char *p, bool html)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x;
	memcpy(&x, p, 8);
	uint64_t hit = ((x - ones * 0x20) & ~x) | x | bytes_equal(x, '"') |
	               bytes_equal(x, '\\');
	if (html)
		hit |= bytes_equal(x, '<') | bytes_equal(x, '>') |
		       bytes_equal(x, '&');
	return (hit & high) == 0;
}

/*
 * Index of the first byte at or after s[i] that may need a look, or a
 * point close before it; whole words at a time.  With SSE2 (every x86-64)
 * 16 bytes per step, where one signed compare below 0x20 catches both the
 * controls and the bytes >= 0x80; elsewhere 8 with the bit tricks above.
 */
static inline size_t skip_plain(const unsigned char *s, size_t i, size_t n,
                                bool html)
{
#if defined(__SSE2__)
	const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\'), lt = _mm_set1_epi8('<');
	const __m128i gt = _mm_set1_epi8('>'), amp = _mm_set1_epi8('&');
	for (; n - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const void *)(s + i));
		__m128i hit =
		        _mm_or_si128(_mm_cmplt_epi8(x, space),
		                     _mm_or_si128(_mm_cmpeq_epi8(x, quote),
		                                  _mm_cmpeq_epi8(x, bslash)));
		if (html)
			hit = _mm_or_si128(
			        hit,
			        _mm_or_si128(
			                _mm_cmpeq_epi8(x, lt),
			                _mm_or_si128(_mm_cmpeq_epi8(x, gt),
			                             _mm_cmpeq_epi8(x, amp))));
		unsigned m = (unsigned)_mm_movemask_epi8(hit);
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (n - i >= 8 && word_plain(s + i, html))
		i += 8;
	return i;
}

/*
 * Length of the run at s[i..n) that can be copied as it is: plain ASCII
 * and well-formed multi-byte sequences.  Stops at a byte to escape, at
 * invalid UTF-8 (*bad set), or at U+2028/9 when HTML-safe.
 */
static size_t plain_run(const unsigned char *s, size_t i, size_t n,
                        const unsigned char *cls, bool html, bool *bad)
{
	size_t start = i;
	for (;;) {
		i = skip_plain(s, i, n, html);
		while (i < n && cls[s[i]] == PLAIN)
			i++;
		if (i == n || cls[s[i]] == ESC)
			return i - start;
		size_t k = keel_utf8_seq(s + i, n - i);
		if (k == 0)
			*bad = true;
		if (k == 0 || (html && is_js_newline(s + i, k)))
			return i - start;
		i += k;
	}
}

/*
 * A quoted, escaped string.  Escape-free runs, multi-byte characters
 * included, are found first and copied with one memcpy each; room for
 * the whole unescaped string is reserved once, so the common string costs
 * a scan and a copy.
 */
static int emit_string(keel_json_t *w, keel_str_t str)
{
	const unsigned char *s = (const unsigned char *)str.ptr;
	bool html = !(w->flags & KEEL_JSON_NO_HTML_ESCAPE);
	const unsigned char *cls = html ? class_html : class_plain;
	size_t i = 0, n = str.len;
	if (n + 2 > w->out->cap - w->out->len) {
		int rc = keel_buf_reserve(w->out, n + 2);
		if (rc != 0)
			return fail(w, rc);
	}
	if (emit_char(w, '"') != 0)
		return w->err;
	while (i < n) {
		bool bad = false;
		size_t run = plain_run(s, i, n, cls, html, &bad);
		if (run > 0 && emit(w, s + i, run) != 0)
			return w->err;
		i += run;
		if (bad)
			return fail(w, KEEL_EINVAL);
		if (i == n)
			break;
		if (s[i] >= 0x80) { /* U+2028 or U+2029 */
			if (emit(w, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029",
			         6) != 0)
				return w->err;
			i += 3;
		} else if (emit_escape(w, s[i++]) != 0) {
			return w->err;
		}
	}
	return emit_char(w, '"');
}

int keel_json_key_str(keel_json_t *w, keel_str_t key)
{
	if (w->err != 0)
		return w->err;
	if (!in_object(w) || w->key)
		return fail(w, KEEL_ESTATE);
	if (!w->first && emit_char(w, ',') != 0)
		return w->err;
	w->first = false;
	w->key = true;
	if (emit_string(w, key) != 0)
		return w->err;
	return finish_op(w, emit_char(w, ':'));
}

int keel_json_key(keel_json_t *w, const char *key)
{
	if (key == NULL)
		return fail(w, KEEL_EINVAL);
	return keel_json_key_str(w, keel_str_from_cstr(key));
}

int keel_json_write_str(keel_json_t *w, keel_str_t s)
{
	if (before_value(w) != 0)
		return w->err;
	return after_scalar(w, emit_string(w, s));
}

int keel_json_write_cstr(keel_json_t *w, const char *s)
{
	if (s == NULL)
		return keel_json_write_null(w);
	return keel_json_write_str(w, keel_str_from_cstr(s));
}

/* Digits of v, written backwards from `end`; returns the first digit.
 * Two digits per division halves the slow divides. */
static char *format_u64(char *end, uint64_t v)
{
	static const char pairs[201] = "00010203040506070809"
	                               "10111213141516171819"
	                               "20212223242526272829"
	                               "30313233343536373839"
	                               "40414243444546474849"
	                               "50515253545556575859"
	                               "60616263646566676869"
	                               "70717273747576777879"
	                               "80818283848586878889"
	                               "90919293949596979899";
	char *p = end;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

int keel_json_write_uint(keel_json_t *w, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp);
	if (before_value(w) != 0)
		return w->err;
	char *p = format_u64(end, v);
	return after_scalar(w, emit(w, p, (size_t)(end - p)));
}

/* INT64_MIN has no positive counterpart, so the magnitude is taken in
 * unsigned arithmetic. */
int keel_json_write_int(keel_json_t *w, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp);
	if (before_value(w) != 0)
		return w->err;
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = format_u64(end, mag);
	if (v < 0)
		*--p = '-';
	return after_scalar(w, emit(w, p, (size_t)(end - p)));
}

/*
 * printf and strtod follow LC_NUMERIC; a program that switched to a locale
 * with a decimal comma would otherwise emit "0,5".  Rewrites the locale's
 * decimal point (possibly several bytes) to '.'; returns the new length.
 */
static size_t c_decimal_point(char *s, size_t n)
{
	const char *dp = localeconv()->decimal_point;
	size_t m = strlen(dp);
	if (m == 0 || (m == 1 && dp[0] == '.'))
		return n;
	char *at = memmem(s, n, dp, m);
	if (at == NULL)
		return n;
	*at = '.';
	memmove(at + 1, at + m, n - (size_t)(at - s) - m);
	return n - (m - 1);
}

/* Integers below 10^15 print the same digits through %.15g; -0 does not
 * (it must stay "-0" to round-trip). */
static bool small_integer(double v)
{
	if (!(v > -1e15 && v < 1e15))
		return false;
	return (double)(int64_t)v == v && !(v == 0 && signbit(v));
}

/* Writes "-"? int "." frac (k digits, from m = |v| * 10^k) backwards from
 * `end`; returns the first byte. */
static char *format_fixed(char *end, uint64_t m, int k, bool neg)
{
	uint64_t div = 1;
	for (int i = 0; i < k; i++)
		div *= 10;
	char *p = end;
	uint64_t frac = m % div;
	for (int i = 0; i < k; i++, frac /= 10)
		*--p = (char)('0' + frac % 10);
	*--p = '.';
	p = format_u64(p, m / div);
	if (neg)
		*--p = '-';
	return p;
}

/*
 * Most doubles in API responses are short decimals (prices, ratings,
 * coordinates): 4.75 is the m / 10^k with the smallest k whose division
 * gives v back.  m and 10^k are exact doubles and the division is
 * correctly rounded, so it yields what strtod yields for the decimal
 * text: the round trip is proven without printf.  Limited to the range
 * where %g prints fixed notation (1e-4 <= |v| < 1e15), so the output is
 * the same the slow path would give.
 */
static char *format_short_decimal(char *end, double v)
{
	static const double pow10[] = {1,   10,  100, 1e3, 1e4,
	                               1e5, 1e6, 1e7, 1e8, 1e9};
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return NULL;
	for (int k = 1; k < (int)KEEL_COUNTOF(pow10); k++) {
		double m = nearbyint(a * pow10[k]);
		if (m >= 0x1p50)
			return NULL;
		if (m / pow10[k] == a)
			return format_fixed(end, (uint64_t)m, k, v < 0);
	}
	return NULL;
}

/*
 * Shortest round trip by search: a normal double has 15 to 17 significant
 * digits, and %.Ng with the smallest N whose output reads back as the same
 * value is the shortest exact form (%g drops trailing zeros, so 0.1 prints
 * as "0.1" at N = 15).  Subnormals carry fewer bits, so their search
 * starts at one digit (5e-324).  Integers and short decimals skip printf.
 */
static size_t format_double(char *buf, size_t cap, double v)
{
	char *end = buf + cap, *p = NULL;
	if (small_integer(v)) {
		int64_t i = (int64_t)v;
		p = format_u64(end, i < 0 ? 0 - (uint64_t)i : (uint64_t)i);
		if (i < 0)
			*--p = '-';
	} else {
		p = format_short_decimal(end, v);
	}
	if (p != NULL) {
		memmove(buf, p, (size_t)(end - p));
		return (size_t)(end - p);
	}
	int n = 0;
	for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		n = snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return c_decimal_point(buf, (size_t)n);
}

int keel_json_write_double(keel_json_t *w, double v)
{
	char tmp[40];
	if (before_value(w) != 0)
		return w->err;
	if (!isfinite(v))
		return fail(w, KEEL_EINVAL);
	size_t n = format_double(tmp, sizeof(tmp), v);
	return after_scalar(w, emit(w, tmp, n));
}

int keel_json_write_bool(keel_json_t *w, bool v)
{
	if (before_value(w) != 0)
		return w->err;
	return after_scalar(w, v ? emit(w, "true", 4) : emit(w, "false", 5));
}

int keel_json_write_null(keel_json_t *w)
{
	if (before_value(w) != 0)
		return w->err;
	return after_scalar(w, emit(w, "null", 4));
}

int keel_json_write_raw(keel_json_t *w, keel_str_t json)
{
	if (json.len == 0)
		return fail(w, KEEL_EINVAL);
	if (before_value(w) != 0)
		return w->err;
	return after_scalar(w, emit(w, json.ptr, json.len));
}

/*
 * The usual end of a JSON handler.  A writer error is the server's fault
 * (a string that was not UTF-8, a NaN), so the client gets a plain 500
 * and the reason goes to the log.
 */
int keel_json_respond(const keel_json_t *w, keel_res_t *res, int status)
{
	int rc = keel_json_finish(w);
	if (rc != 0) {
		KEEL_LOG_ERROR("json: response not encoded: %s",
		               keel_strerror(rc));
		return keel_res_error(res, 500, "internal server error");
	}
	keel_str_t ct;
	if (keel_res_header_get(res, "Content-Type", &ct) != 0 &&
	    keel_res_header(res, "Content-Type", "application/json") != 0)
		return keel_res_error(res, 500, "internal server error");
	return status;
}
