#include <stdio.h>
#include <time.h>

#include "keel/clock.h"
#include "conn.h"

/*
 * Formatting a date costs a gmtime and a printf; at 100k responses a second
 * that is measurable, and the value changes once a second.  The cache is
 * per process (one worker = one thread serving requests).
 */
const char *keel__http_date(void)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
	                                "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
	                                   "May", "Jun", "Jul", "Aug",
	                                   "Sep", "Oct", "Nov", "Dec"};
	static char text[80];
	static time_t cached = -1;
	time_t now = (time_t)(keel_clock_cached_wall_ns() / KEEL_NS_PER_S);
	if (now == cached)
		return text;
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	cached = now;
	return text;
}
