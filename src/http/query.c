/*
 * Iteration over the key=value pairs of a query string
 * (application/x-www-form-urlencoded), decoding each pair only when it is
 * asked for, so a handler that reads one parameter pays for one.
 */
#include "http/internal.h"

void keel_http_query_init(keel_http_query_iter_t *it, keel_str_t query)
{
	it->rest = query;
}

/* The byte of "%XX" at s[i], or -1 for a bad escape or for %00. */
static int unescape(keel_str_t s, size_t i)
{
	if (i + 2 >= s.len)
		return -1;
	int hi = keel__http_hexval((unsigned char)s.ptr[i + 1]);
	int lo = keel__http_hexval((unsigned char)s.ptr[i + 2]);
	if (hi < 0 || lo < 0 || hi + lo == 0)
		return -1;
	return hi * 16 + lo;
}

/*
 * '+' is a space and %XX a byte; a '%' without two hex digits is an error
 * rather than a literal, and so is %00, which C strings cannot carry.
 */
static int decode_part(keel_str_t s, char *buf, size_t *w)
{
	for (size_t i = 0; i < s.len; i++) {
		int c = (unsigned char)s.ptr[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			c = unescape(s, i);
			if (c < 0)
				return KEEL_EINVAL;
			i += 2;
		}
		buf[(*w)++] = (char)c;
	}
	return KEEL_OK;
}

/*
 * Pairs are separated by '&' (empty ones skipped) and split at their first
 * '='.  The pair is taken off the iterator before it is decoded, so a bad
 * pair is reported once and iteration may go on past it.
 */
int keel_http_query_next(keel_http_query_iter_t *it, char *buf, size_t cap,
                         keel_str_t *key, keel_str_t *value)
{
	keel_str_t pair = {it->rest.ptr, 0};
	while (pair.len == 0) {
		if (it->rest.len == 0)
			return KEEL_ENOENT;
		pair = keel_str_cut(&it->rest, '&');
	}
	keel_str_t k = keel_str_cut(&pair, '=');
	if (k.len + pair.len > cap)
		return KEEL_ENOMEM;
	size_t w = 0;
	if (decode_part(k, buf, &w) != KEEL_OK)
		return KEEL_EINVAL;
	*key = (keel_str_t){buf, w};
	size_t v = w;
	if (decode_part(pair, buf, &w) != KEEL_OK)
		return KEEL_EINVAL;
	*value = (keel_str_t){w != 0 ? buf + v : buf, w - v};
	return KEEL_OK;
}
