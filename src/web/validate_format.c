/*
 * Shape checks for strings: strict UTF-8 with a code point count (lengths
 * in a spec are characters, as a user counts them, not bytes), and the
 * `format` hints a spec can name: email, URI, RFC 3339 date-time.
 */
#include <string.h>

#include "keel/email.h"
#include "validate_int.h"

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* RFC 3986 absolute URI, loosely: a scheme, ':', then something visible.
 * Enough to refuse "javascript alert" typos and spaces, not a parser. */
static bool uri_ok(const char *s, size_t len)
{
	size_t i = 0;
	if (len == 0 || !is_alpha(s[0]))
		return false;
	while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
	                   s[i] == '-' || s[i] == '.'))
		i++;
	if (i == len || s[i] != ':' || i + 1 == len)
		return false;
	for (i++; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
			return false;
	return true;
}

/* `n` digits at s[*i] as a number in [lo, hi]; advances *i. */
static bool digits(const char *s, size_t len, size_t *i, int n, int lo, int hi,
                   int *out)
{
	int v = 0;
	if (len - *i < (size_t)n)
		return false;
	for (int k = 0; k < n; k++, (*i)++) {
		if (!is_digit(s[*i]))
			return false;
		v = v * 10 + (s[*i] - '0');
	}
	*out = v;
	return v >= lo && v <= hi;
}

static bool lit(const char *s, size_t len, size_t *i, const char *set)
{
	if (*i >= len || !strchr(set, s[*i]) || s[*i] == '\0')
		return false;
	(*i)++;
	return true;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* full-date "T" partial-time time-offset, with real calendar days. */
static bool date_time_ok(const char *s, size_t len)
{
	size_t i = 0;
	int y, mo, d, h, mi, se, oh, om;
	if (!digits(s, len, &i, 4, 0, 9999, &y) || !lit(s, len, &i, "-") ||
	    !digits(s, len, &i, 2, 1, 12, &mo) || !lit(s, len, &i, "-") ||
	    !digits(s, len, &i, 2, 1, month_days(y, mo), &d) ||
	    !lit(s, len, &i, "Tt") || !digits(s, len, &i, 2, 0, 23, &h) ||
	    !lit(s, len, &i, ":") || !digits(s, len, &i, 2, 0, 59, &mi) ||
	    !lit(s, len, &i, ":") || !digits(s, len, &i, 2, 0, 60, &se))
		return false;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		while (i < len && is_digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		return i + 1 == len;
	return lit(s, len, &i, "+-") && digits(s, len, &i, 2, 0, 23, &oh) &&
	       lit(s, len, &i, ":") && digits(s, len, &i, 2, 0, 59, &om) &&
	       i == len;
}

bool keel__format_ok(keel_format_t fmt, const char *s, size_t len)
{
	switch (fmt) {
	case KEEL_FMT_NONE: return true;
	case KEEL_FMT_EMAIL: return keel_email_check((keel_str_t){s, len}) == 0;
	case KEEL_FMT_URI: return uri_ok(s, len);
	case KEEL_FMT_DATE_TIME: return date_time_ok(s, len);
	}
	return false;
}
