/*
 * The chunked transfer coding (RFC 9112 7.1) as a state machine that is
 * fed whatever bytes have arrived.  Framing bytes go through one at a time
 * so that any split of the input decodes the same; data bytes are moved
 * in bulk.  All state fits in the caller's keel_http_chunked_t.
 *
 * Strict where parsers have disagreed in the past ("funky chunks"): only
 * CRLF ends a line, sizes are bare hex digits, whitespace is allowed only
 * where the grammar has BWS, and extensions must parse even though their
 * meaning is ignored.
 */
#include <string.h>

#include "http/internal.h"

enum {
	ST_SIZE0,     /* first hex digit of a chunk size */
	ST_SIZE,      /* more digits, or what may follow them */
	ST_X_WS,      /* BWS, which must lead to ';' */
	ST_X_NAME0,   /* after ';': BWS, then an extension name */
	ST_X_NAME,    /* in a name */
	ST_X_NAME_WS, /* BWS after a name: '=' or ';' must follow */
	ST_X_VAL0,    /* after '=': BWS, then a token or a quoted string */
	ST_X_VAL,     /* in a token value */
	ST_X_QS,      /* in a quoted string */
	ST_X_QP,      /* after a backslash in a quoted string */
	ST_X_QEND,    /* after the closing quote */
	ST_SIZE_LF,   /* CR of the size line seen */
	ST_DATA,      /* chunk data */
	ST_DATA_CR,   /* CRLF after the data */
	ST_DATA_LF,
	ST_TR_START, /* start of a trailer line, or of the final CRLF */
	ST_TR_NAME,
	ST_TR_VALUE,
	ST_TR_LF,
	ST_END_LF, /* LF of the final CRLF */
	ST_DONE,
	ST_FAIL,
};

static const keel_http_limits_t default_limits = KEEL_HTTP_LIMITS_DEFAULT;

void keel_http_chunked_init(keel_http_chunked_t *d,
                            const keel_http_limits_t *lim)
{
	if (lim == NULL)
		lim = &default_limits;
	*d = (keel_http_chunked_t){
	        .max_body = lim->max_body,
	        .max_ext = lim->max_chunk_ext,
	        .max_field = lim->max_field,
	        .max_trailer = lim->max_head,
	        .max_fields = lim->max_fields,
	        .state = ST_SIZE0,
	};
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* What may follow a size or a complete extension. */
static int after_element(unsigned char c)
{
	if (is_ws(c))
		return ST_X_WS;
	if (c == ';')
		return ST_X_NAME0;
	return c == '\r' ? ST_SIZE_LF : -1;
}

/*
 * chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 * one byte at a time: the state after `c`, or -1 when `c` cannot be there.
 */
static int ext_next(int state, unsigned char c)
{
	bool tok = keel__http_is(c, KEEL__HTTP_TCHAR);
	switch (state) {
	case ST_X_WS: return is_ws(c) ? ST_X_WS : c == ';' ? ST_X_NAME0 : -1;
	case ST_X_NAME0: return is_ws(c) ? ST_X_NAME0 : tok ? ST_X_NAME : -1;
	case ST_X_NAME:
		if (tok)
			return ST_X_NAME;
		if (c == '=')
			return ST_X_VAL0;
		return is_ws(c) ? ST_X_NAME_WS : after_element(c);
	case ST_X_NAME_WS:
		if (is_ws(c))
			return ST_X_NAME_WS;
		return c == '=' ? ST_X_VAL0 : c == ';' ? ST_X_NAME0 : -1;
	case ST_X_VAL0:
		if (is_ws(c))
			return ST_X_VAL0;
		return tok ? ST_X_VAL : c == '"' ? ST_X_QS : -1;
	case ST_X_VAL: return tok ? ST_X_VAL : after_element(c);
	case ST_X_QS:
		if (c == '"' || c == '\\')
			return c == '"' ? ST_X_QEND : ST_X_QP;
		return keel__http_is(c, KEEL__HTTP_VALUE) ? ST_X_QS : -1;
	case ST_X_QP: return keel__http_is(c, KEEL__HTTP_VALUE) ? ST_X_QS : -1;
	default: return after_element(c); /* ST_X_QEND */
	}
}

/* Enter `next`; extension bytes count against their budget. */
static int ext_move(keel_http_chunked_t *d, int next)
{
	if (next < 0)
		return 400;
	if (next != ST_SIZE_LF && ++d->ext > d->max_ext)
		return 400;
	d->state = next;
	return 0;
}

/*
 * 1 to 16 hex digits (so the value cannot overflow), no sign, no "0x", no
 * leading space.  The body limit is checked digit by digit: a size that
 * will not fit is refused before its data arrives.
 */
static int size_byte(keel_http_chunked_t *d, unsigned char c)
{
	int h = keel__http_hexval(c);
	if (h < 0)
		return d->state == ST_SIZE0 ? 400
		                            : ext_move(d, after_element(c));
	if (++d->digits > 16)
		return 400;
	d->remaining = d->remaining * 16 + (unsigned)h;
	if (d->remaining > d->max_body - d->body)
		return 413;
	d->state = ST_SIZE;
	return 0;
}

/*
 * The trailer section: field lines checked like header fields (token name,
 * colon, field-value bytes, no folding), bounded like them, then dropped,
 * so a trailer can never pose as a header.  Ends with an empty line.
 */
static int trailer_byte(keel_http_chunked_t *d, unsigned char c)
{
	bool tok = keel__http_is(c, KEEL__HTTP_TCHAR);
	if (++d->line > d->max_field || ++d->trailer > d->max_trailer)
		return 431;
	switch (d->state) {
	case ST_TR_START:
		if (c == '\r') {
			d->state = ST_END_LF;
			return 0;
		}
		if (!tok)
			return 400;
		d->state = ST_TR_NAME;
		return ++d->fields > d->max_fields ? 431 : 0;
	case ST_TR_NAME:
		if (c == ':')
			d->state = ST_TR_VALUE;
		return tok || c == ':' ? 0 : 400;
	case ST_TR_VALUE:
		if (c == '\r')
			d->state = ST_TR_LF;
		return c == '\r' || keel__http_is(c, KEEL__HTTP_VALUE) ? 0
		                                                       : 400;
	case ST_TR_LF:
		d->line = 0;
		d->state = ST_TR_START;
		return c == '\n' ? 0 : 400;
	default: d->state = ST_DONE; return c == '\n' ? 0 : 400; /* END_LF */
	}
}

/* A byte that must be `want`, leading to state `next`. */
static int expect(keel_http_chunked_t *d, unsigned char c, char want, int next)
{
	d->state = next;
	return c == (unsigned char)want ? 0 : 400;
}

/* One framing byte; returns 0 or the status to fail with. */
static int step(keel_http_chunked_t *d, unsigned char c)
{
	switch (d->state) {
	case ST_SIZE0:
	case ST_SIZE: return size_byte(d, c);
	case ST_SIZE_LF:
		return expect(d, c, '\n',
		              d->remaining != 0 ? ST_DATA : ST_TR_START);
	case ST_DATA_CR: return expect(d, c, '\r', ST_DATA_LF);
	case ST_DATA_LF: d->digits = 0; return expect(d, c, '\n', ST_SIZE0);
	case ST_TR_START:
	case ST_TR_NAME:
	case ST_TR_VALUE:
	case ST_TR_LF:
	case ST_END_LF: return trailer_byte(d, c);
	default: return ext_move(d, ext_next(d->state, c));
	}
}

/* Move as much of the current chunk's data as has arrived. */
static size_t copy_data(keel_http_chunked_t *d, char *buf, size_t in,
                        size_t len, size_t *out)
{
	size_t n = len - in;
	if (n > d->remaining)
		n = (size_t)d->remaining;
	if (*out != in)
		memmove(buf + *out, buf + in, n);
	*out += n;
	d->remaining -= n;
	d->body += n;
	if (d->remaining == 0)
		d->state = ST_DATA_CR;
	return n;
}

int keel_http_chunked_decode(keel_http_chunked_t *d, char *buf, size_t len,
                             size_t *consumed, size_t *decoded, int *status)
{
	size_t in = 0, out = 0;
	while (in < len && d->state != ST_DONE && d->state != ST_FAIL) {
		if (d->state == ST_DATA) {
			in += copy_data(d, buf, in, len, &out);
			continue;
		}
		int st = step(d, (unsigned char)buf[in++]);
		if (st != 0) {
			d->status = st;
			d->state = ST_FAIL;
		}
	}
	*consumed = in;
	*decoded = out;
	*status = d->status;
	if (d->state == ST_FAIL)
		return KEEL_EINVAL;
	return d->state == ST_DONE ? KEEL_OK : KEEL_AGAIN;
}
