/*
 * http/internal.h - what the files of src/http share and nobody else may
 * use: the byte classes of the HTTP and URI grammars, and the pieces of the
 * request parser that live in their own files.
 */
#ifndef KEEL_HTTP_INTERNAL_H
#define KEEL_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/http.h"

/* Byte classes, one bit each, looked up in keel__http_class. */
#define KEEL__HTTP_TCHAR 0x01 /* token (RFC 9110 5.6.2) */
#define KEEL__HTTP_PATH  0x02 /* raw byte allowed in a target's path */
#define KEEL__HTTP_QUERY 0x04 /* raw byte allowed in a target's query */
#define KEEL__HTTP_VALUE 0x08 /* field value: VCHAR, SP, HTAB, obs-text */
#define KEEL__HTTP_HEX   0x10 /* hex digit */
#define KEEL__HTTP_HOST  0x20 /* reg-name: unreserved, sub-delims, '%' */

extern const uint8_t keel__http_ascii[128];

/* Classes of byte `c`; bytes 0x80-0xff are obs-text, valid in values only. */
static inline unsigned keel__http_class(unsigned char c)
{
	return c < 128 ? keel__http_ascii[c] : KEEL__HTTP_VALUE;
}

static inline bool keel__http_is(unsigned char c, unsigned cls)
{
	return (keel__http_class(c) & cls) != 0;
}

/* True for a non-empty slice of token bytes. */
static inline bool keel__http_is_token(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!keel__http_is((unsigned char)s.ptr[i], KEEL__HTTP_TCHAR))
			return false;
	return s.len != 0;
}

/* Value of a hex digit, or -1. */
static inline int keel__http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Check the request-target `t` of a request whose method and version are
 * already in `req`, and fill form, path, query and (absolute-form)
 * authority.  Returns 0 or the HTTP status to refuse with.
 */
int keel__http_target_parse(keel_http_request_t *req, keel_str_t t);

/* Syntax of host[:port] (RFC 3986 authority without userinfo). */
bool keel__http_host_valid(keel_str_t hp, bool port_required);

/* What the header fields seen so far have established. */
typedef struct keel__http_fields {
	unsigned seen;  /* KEEL__HTTP_SEEN_* bits */
	bool close;     /* Connection: close */
	bool keepalive; /* Connection: keep-alive */
} keel__http_fields_t;

/*
 * Apply the meaning of one header field to `req` (framing, Host, Expect,
 * Connection).  Returns 0 or the HTTP status to refuse with.
 */
int keel__http_field_apply(keel__http_fields_t *f, keel_http_request_t *req,
                           const keel_http_limits_t *lim,
                           const keel_http_header_t *h);

/* Checks that need the whole head; returns 0 or the status to refuse with. */
int keel__http_fields_finish(keel__http_fields_t *f, keel_http_request_t *req);

#endif
