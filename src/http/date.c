#include <stdio.h>
#include <time.h>

#include "keel/clock.h"
#include "conn.h"

/*
 * Formatting a date costs a gmtime and a printf; at 100k responses a second
 * that is measurable, and the value changes once a second.  The cache is
 * per process (one worker = one thread serving requests).  The response
 * head copies the whole "Server" + "Date" lines in one go.
 */
static char date_text[32];
static char date_lines[96];
static size_t date_lines_len;
static time_t date_cached = -1;

static void date_refresh(void)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
	                                "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
	                                   "May", "Jun", "Jul", "Aug",
	                                   "Sep", "Oct", "Nov", "Dec"};
	time_t now = (time_t)(keel_clock_cached_wall_ns() / KEEL_NS_PER_S);
	if (now == date_cached)
		return;
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(date_text, sizeof(date_text),
	         "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	         tm.tm_mday % 100, months[tm.tm_mon % 12],
	         (tm.tm_year + 1900) % 10000, tm.tm_hour % 100, tm.tm_min % 100,
	         tm.tm_sec % 100);
	date_lines_len =
	        (size_t)snprintf(date_lines, sizeof(date_lines),
	                         "Server: keel\r\nDate: %s\r\n", date_text);
	date_cached = now;
}

const char *keel__http_date(void)
{
	date_refresh();
	return date_text;
}

keel_str_t keel__http_date_lines(void)
{
	date_refresh();
	return (keel_str_t){date_lines, date_lines_len};
}
