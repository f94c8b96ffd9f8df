#include "keel/utf8.h"

size_t keel_utf8_seq(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	/* C0/C1 would be overlong two-byte forms; F5..FF are past U+10FFFF. */
	if (c < 0xc2 || c > 0xf4 || n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	unsigned char c1 = s[1];
	if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) ||
	    (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
		return 0;
	return len;
}

int keel_utf8_count(keel_str_t s, size_t *count)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t n = 0;
	for (size_t i = 0; i < s.len; n++) {
		size_t k = keel_utf8_seq(p + i, s.len - i);
		if (k == 0)
			return KEEL_EINVAL;
		i += k;
	}
	*count = n;
	return KEEL_OK;
}

bool keel_utf8_valid(keel_str_t s)
{
	size_t n;
	return keel_utf8_count(s, &n) == KEEL_OK;
}
