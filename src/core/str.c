#include "keel/str.h"

#include <string.h>

/*
 * Slices built as {NULL, 0} are legal, but memcmp/memchr on NULL and
 * NULL + 0 are undefined in C, so every helper below tests the length
 * before it touches the pointer.
 */
static const char *skip(const char *p, size_t n)
{
	return n != 0 ? p + n : p;
}

/* ASCII only: HTTP tokens are ASCII and the C locale must not matter. */
static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

keel_str_t keel_str_from_cstr(const char *s)
{
	if (s == NULL)
		return (keel_str_t){"", 0};
	return (keel_str_t){s, strlen(s)};
}

bool keel_str_eq(keel_str_t a, keel_str_t b)
{
	return a.len == b.len &&
	       (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool keel_str_eq_nocase(keel_str_t a, keel_str_t b)
{
	return a.len == b.len && keel_str_cmp_nocase(a, b) == 0;
}

int keel_str_cmp(keel_str_t a, keel_str_t b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n != 0 ? memcmp(a.ptr, b.ptr, n) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return 0;
}

int keel_str_cmp_nocase(keel_str_t a, keel_str_t b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = lower((unsigned char)a.ptr[i]);
		unsigned char y = lower((unsigned char)b.ptr[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return 0;
}

bool keel_str_has_prefix(keel_str_t s, keel_str_t prefix)
{
	return s.len >= prefix.len &&
	       keel_str_eq((keel_str_t){s.ptr, prefix.len}, prefix);
}

bool keel_str_has_suffix(keel_str_t s, keel_str_t suffix)
{
	if (s.len < suffix.len)
		return false;
	keel_str_t tail = {skip(s.ptr, s.len - suffix.len), suffix.len};
	return keel_str_eq(tail, suffix);
}

ptrdiff_t keel_str_index(keel_str_t s, char c)
{
	if (s.len == 0)
		return -1;
	const char *p = memchr(s.ptr, c, s.len);
	return p != NULL ? p - s.ptr : -1;
}

keel_str_t keel_str_trim(keel_str_t s)
{
	while (s.len != 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len != 0 &&
	       (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

keel_str_t keel_str_sub(keel_str_t s, size_t from, size_t n)
{
	if (from > s.len)
		from = s.len;
	if (n > s.len - from)
		n = s.len - from;
	return (keel_str_t){skip(s.ptr, from), n};
}

keel_str_t keel_str_cut(keel_str_t *s, char sep)
{
	keel_str_t head = *s;
	ptrdiff_t i = keel_str_index(*s, sep);
	if (i < 0) {
		*s = (keel_str_t){skip(s->ptr, s->len), 0};
		return head;
	}
	head.len = (size_t)i;
	*s = (keel_str_t){s->ptr + i + 1, s->len - (size_t)i - 1};
	return head;
}

/* Value of a digit in `base` (10 or 16), or -1 for any other byte. */
static int digit_value(unsigned char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The one digit loop behind the three parsers.  Every byte is checked
 * before overflow is reported, so "99999999999999999999x" is malformed
 * (KEEL_EINVAL), not out of range.  Overflow is caught before the multiply:
 * v * base + d fits exactly when v < limit / base, or v equals it and d is
 * at most limit % base; the two divisions happen once, not per digit.
 * Leading zeros are accepted: HTTP allows them in Content-Length and chunk
 * sizes, and they do not change the value.
 */
static int parse_digits(keel_str_t s, unsigned base, uint64_t limit,
                        uint64_t *out)
{
	const uint64_t cut = limit / base, cut_digit = limit % base;
	uint64_t v = 0;
	bool over = false;
	if (s.len == 0)
		return KEEL_EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		int d = digit_value((unsigned char)s.ptr[i], base);
		if (d < 0)
			return KEEL_EINVAL;
		if (v > cut || (v == cut && (uint64_t)d > cut_digit))
			over = true;
		v = v * base + (uint64_t)d;
	}
	if (over)
		return KEEL_ERANGE;
	*out = v;
	return KEEL_OK;
}

/*
 * Parses the magnitude as unsigned against a sign-dependent limit:
 * INT64_MAX for positive values and INT64_MAX + 1 for negative ones, the
 * only way to accept INT64_MIN without a signed overflow.
 */
int keel_str_to_i64(keel_str_t s, int64_t *out)
{
	bool neg = s.len != 0 && s.ptr[0] == '-';
	uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1u : 0u);
	uint64_t mag;
	keel_str_t digits = neg ? (keel_str_t){s.ptr + 1, s.len - 1} : s;
	int rc = parse_digits(digits, 10, limit, &mag);
	if (rc != KEEL_OK)
		return rc;
	if (!neg)
		*out = (int64_t)mag;
	else if (mag == (uint64_t)INT64_MAX + 1u)
		*out = INT64_MIN;
	else
		*out = -(int64_t)mag;
	return KEEL_OK;
}

int keel_str_to_u64(keel_str_t s, uint64_t *out)
{
	return parse_digits(s, 10, UINT64_MAX, out);
}

int keel_str_hex_to_u64(keel_str_t s, uint64_t *out)
{
	return parse_digits(s, 16, UINT64_MAX, out);
}
