/*
 * HTTP dates (RFC 9110 5.6.7): the IMF-fixdate servers send, and the two
 * obsolete forms (RFC 850, asctime) recipients must still accept, because
 * If-Modified-Since and If-Range echo whatever some cache once stored.
 * Weekday names are checked for spelling only: the date decides.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keel/static.h"

static const char wkday[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};
static const char month[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wkday_long[7] = {"Sunday",    "Monday",   "Tuesday",
                                          "Wednesday", "Thursday", "Friday",
                                          "Saturday"};

/* Where a parse has got to in the input. */
typedef struct cur {
	const char *p, *end;
} cur_t;

static bool take(cur_t *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* Exactly `n` decimal digits. */
static bool take_num(cur_t *c, int n, int *out)
{
	int v = 0;
	if (c->end - c->p < n)
		return false;
	for (int i = 0; i < n; i++) {
		char ch = c->p[i];
		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (ch - '0');
	}
	c->p += n;
	*out = v;
	return true;
}

static int take_month(cur_t *c)
{
	for (int i = 0; i < 12; i++)
		if (take(c, month[i]))
			return i + 1;
	return 0;
}

/* A long weekday name for RFC 850 dates, a short one otherwise. */
static bool take_wkday(cur_t *c, bool long_name)
{
	for (int i = 0; i < 7; i++)
		if (take(c, long_name ? wkday_long[i] : wkday[i]))
			return true;
	return false;
}

/* "HH:MM:SS"; 60 seconds allowed for a leap second. */
static bool take_time(cur_t *c, int hms[3])
{
	return take_num(c, 2, &hms[0]) && take(c, ":") &&
	       take_num(c, 2, &hms[1]) && take(c, ":") &&
	       take_num(c, 2, &hms[2]) && hms[0] < 24 && hms[1] < 60 &&
	       hms[2] <= 60;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar,
 * counting in 400-year eras of 146097 days from a year starting in March
 * (so the leap day is the last day of a year); no table, no timegm.
 */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int finish(int y, int mon, int d, const int hms[3], int64_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30,
	                              31, 31, 30, 31, 30, 31};
	if (mon < 1 || d < 1 || d > mdays[mon - 1] + (mon == 2 && leap(y)))
		return KEEL_EINVAL;
	*out = days_from_civil(y, mon, d) * 86400 + hms[0] * 3600 +
	       hms[1] * 60 + hms[2];
	return KEEL_OK;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", the part after "Sun, ". */
static int parse_imf(cur_t *c, int64_t *out)
{
	int d, y, hms[3];
	if (!take_num(c, 2, &d) || !take(c, " "))
		return KEEL_EINVAL;
	int mon = take_month(c);
	if (!take(c, " ") || !take_num(c, 4, &y) || !take(c, " ") ||
	    !take_time(c, hms) || !take(c, " GMT") || c->p != c->end)
		return KEEL_EINVAL;
	return finish(y, mon, d, hms, out);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" after "Sunday, "; a two-digit year
 * below 70 is taken as 20xx (the epoch cannot precede 1970 anyway). */
static int parse_rfc850(cur_t *c, int64_t *out)
{
	int d, y, hms[3];
	if (!take_num(c, 2, &d) || !take(c, "-"))
		return KEEL_EINVAL;
	int mon = take_month(c);
	if (!take(c, "-") || !take_num(c, 2, &y) || !take(c, " ") ||
	    !take_time(c, hms) || !take(c, " GMT") || c->p != c->end)
		return KEEL_EINVAL;
	return finish(y < 70 ? 2000 + y : 1900 + y, mon, d, hms, out);
}

/* "Sun Nov  6 08:49:37 1994" after "Sun ". */
static int parse_asctime(cur_t *c, int64_t *out)
{
	int d, y, hms[3];
	int mon = take_month(c);
	if (!take(c, " "))
		return KEEL_EINVAL;
	bool pad = take(c, " "); /* day of month padded with a space */
	if (!take_num(c, pad ? 1 : 2, &d))
		return KEEL_EINVAL;
	if (!take(c, " ") || !take_time(c, hms) || !take(c, " ") ||
	    !take_num(c, 4, &y) || c->p != c->end)
		return KEEL_EINVAL;
	return finish(y, mon, d, hms, out);
}

int keel_static_date_parse(keel_str_t value, int64_t *unix_time)
{
	cur_t c = {value.ptr, value.ptr + value.len};
	cur_t l = c;
	if (value.len == 0)
		return KEEL_EINVAL;
	if (take_wkday(&l, true) && take(&l, ", "))
		return parse_rfc850(&l, unix_time);
	if (!take_wkday(&c, false))
		return KEEL_EINVAL;
	if (take(&c, ", "))
		return parse_imf(&c, unix_time);
	if (take(&c, " "))
		return parse_asctime(&c, unix_time);
	return KEEL_EINVAL;
}

int keel_static_date_format(int64_t unix_time, char *out, size_t cap)
{
	if (cap <= KEEL_STATIC_DATE_LEN)
		return KEEL_ENOMEM;
	if (unix_time < 0 || unix_time > INT64_C(253402300799))
		return KEEL_ERANGE; /* 9999-12-31 23:59:59 */
	time_t t = (time_t)unix_time;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return KEEL_ERANGE;
	snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	         wkday[tm.tm_wday], tm.tm_mday, month[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return KEEL_OK;
}
