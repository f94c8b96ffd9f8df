/*
 * The gate in front of the parser.  The parser starts again at byte 0 on
 * every call, so calling it after every read of a head that trickles in a
 * byte at a time would cost time quadratic in the head size.  This scan
 * remembers how far it got and looks at each byte once; it only tells the
 * caller when a parse would reach a verdict.
 */
#include <string.h>

#include "http/internal.h"

static const keel_http_limits_t default_limits = KEEL_HTTP_LIMITS_DEFAULT;

/*
 * Bytes the current line may still take, mirroring the parser's budgets:
 * the request line shares max_line with the empty lines before it, a
 * field line gets max_field but no more than is left of max_head.
 */
static size_t line_budget(const keel_http_scan_t *sc,
                          const keel_http_limits_t *lim)
{
	if (sc->head_start == 0)
		return lim->max_line - sc->line_start;
	size_t left = lim->max_head - (sc->line_start - sc->head_start);
	return left < lim->max_field ? left : lim->max_field;
}

/*
 * A complete line ending at `nl`: returns true when it ends the head or
 * pushes the field count past the limit, the two line-level verdicts.
 */
static bool line_done(keel_http_scan_t *sc, const char *buf, size_t nl,
                      const keel_http_limits_t *lim)
{
	size_t n = nl - sc->line_start;
	bool empty = n == 0 || (n == 1 && buf[sc->line_start] == '\r');
	sc->line_start = nl + 1;
	if (sc->head_start == 0) {
		if (!empty)
			sc->head_start = nl + 1;
		return false;
	}
	return empty || ++sc->fields > lim->max_fields;
}

int keel_http_scan(keel_http_scan_t *sc, const char *buf, size_t len,
                   const keel_http_limits_t *lim)
{
	if (lim == NULL)
		lim = &default_limits;
	for (;;) {
		size_t end = sc->line_start + line_budget(sc, lim);
		size_t stop = len < end ? len : end;
		const char *nl = NULL;
		if (stop > sc->off)
			nl = memchr(buf + sc->off, '\n', stop - sc->off);
		if (nl == NULL) {
			sc->off = stop;
			return len >= end ? KEEL_OK : KEEL_AGAIN;
		}
		sc->off = (size_t)(nl - buf) + 1;
		if (line_done(sc, buf, (size_t)(nl - buf), lim))
			return KEEL_OK;
	}
}
