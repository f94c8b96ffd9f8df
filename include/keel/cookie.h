/*
 * keel/cookie.h - HTTP cookies (RFC 6265, with the SameSite, Partitioned
 * and prefix rules of its successor draft): reading the Cookie header a
 * browser sends, and writing Set-Cookie header fields.
 *
 * Reading is lenient where the RFC tells servers to be: the header is a
 * list of name=value pairs separated by ';' (browsers add one space), a
 * value may be wrapped in double quotes (they are removed), and a pair that
 * does not parse - no '=', a name that is not a token, a value holding a
 * byte outside cookie-octet - is skipped, never fatal.  The first pair of a
 * name wins (browsers send the most specific path first).  Work is bounded:
 * at most KEEL_COOKIE_MAX_PAIRS pairs of one header are looked at.
 *
 * Writing is strict: a name must be a token and a value cookie-octets
 * only, so no ';', ',', '"', '\', space, control, DEL or non-ASCII byte;
 * such values are refused (KEEL_EINVAL), not silently encoded: encode them
 * yourself (base64url fits) and decode after reading.  Name and value
 * together may not pass 4096 bytes, Path and Domain 1024 each (browsers
 * drop longer ones).  SameSite=None and Partitioned require Secure; a name
 * starting with "__Secure-" requires Secure, one starting with "__Host-"
 * requires Secure, Path=/ and no Domain.  Every refusal leaves the
 * response unchanged.
 */
#ifndef KEEL_COOKIE_H
#define KEEL_COOKIE_H

#include <stdbool.h>

#include "keel/buf.h"
#include "keel/common.h"
#include "keel/server.h"
#include "keel/str.h"

/** Pairs of one Cookie header looked at before the rest is ignored. */
#define KEEL_COOKIE_MAX_PAIRS 256
/** Longest name plus value keel_res_cookie accepts. */
#define KEEL_COOKIE_MAX_PAIR  4096
/** Longest Path or Domain attribute value accepted. */
#define KEEL_COOKIE_MAX_ATTR  1024

/** Iterator over the pairs of one Cookie header value; fields private. */
typedef struct keel_cookie_iter {
	keel_str_t rest; /* not yet visited */
	size_t pairs;    /* pairs looked at so far */
} keel_cookie_iter_t;

/** Start iterating the Cookie header value `header` (not copied). */
KEEL_API void keel_cookie_iter_init(keel_cookie_iter_t *it, keel_str_t header);

/**
 * Next valid pair in header order: *name and *value are slices of the
 * header (value without its quotes).  Returns 0, KEEL_ENOENT at the end,
 * or KEEL_ELIMIT once KEEL_COOKIE_MAX_PAIRS pairs were looked at.
 */
KEEL_API int keel_cookie_next(keel_cookie_iter_t *it, keel_str_t *name,
                              keel_str_t *value);

/**
 * Value of the first valid pair called `name` (case-sensitive) in the
 * Cookie header value `header`; 0 or KEEL_ENOENT.
 */
KEEL_API int keel_cookie_parse(keel_str_t header, keel_str_t name,
                               keel_str_t *value);

/**
 * Value of the cookie `name` sent with the request, looking through every
 * Cookie header field in order; *value is a slice of the request head,
 * valid until the response is sent.  0 or KEEL_ENOENT.
 */
KEEL_API int keel_req_cookie(const keel_req_t *req, const char *name,
                             keel_str_t *value);

/** The SameSite attribute; DEFAULT writes none and lets the browser pick. */
typedef enum keel_cookie_samesite {
	KEEL_SAMESITE_DEFAULT = 0,
	KEEL_SAMESITE_LAX,
	KEEL_SAMESITE_STRICT,
	KEEL_SAMESITE_NONE, /* needs secure */
} keel_cookie_samesite_t;

/**
 * Attributes of a Set-Cookie field; zero-initialise and set what you need
 * (all zero: a session cookie for the request's path, no flags).
 */
typedef struct keel_cookie_opts {
	const char *path;   /* "/..." or NULL to omit */
	const char *domain; /* host name ("example.com") or NULL to omit */
	int64_t max_age;    /* seconds, > 0; 0 omits (session cookie) */
	int64_t expires;    /* Unix time, 1..253402300799; 0 omits */
	bool secure;        /* only sent over HTTPS */
	bool http_only;     /* hidden from JavaScript */
	bool partitioned; /* CHIPS: keyed to the top-level site; needs secure */
	keel_cookie_samesite_t same_site;
} keel_cookie_opts_t;

/**
 * Append the Set-Cookie field value for name=value with `opts` (NULL: no
 * attributes) to `out`.  KEEL_EINVAL for a bad name, value, attribute or
 * rule, KEEL_ELIMIT for a length limit, KEEL_ENOMEM when `out` cannot take
 * the bytes; `out` is unchanged on failure.
 */
KEEL_API int keel_cookie_format(keel_buf_t *out, keel_str_t name,
                                keel_str_t value,
                                const keel_cookie_opts_t *opts);

/**
 * Add a Set-Cookie header to `res` (one per call, names may repeat).
 * Errors as keel_cookie_format, plus KEEL_ENOMEM; `res` unchanged then.
 */
KEEL_API int keel_res_cookie(keel_res_t *res, const char *name,
                             const char *value, const keel_cookie_opts_t *opts);

/**
 * Tell the browser to drop cookie `name`: an empty value with Max-Age=0
 * and an Expires in 1970.  Path and Domain must be those the cookie was
 * set with (they identify it); `opts` NULL means neither.  Its max_age and
 * expires are ignored.  Errors as keel_res_cookie.
 */
KEEL_API int keel_res_cookie_delete(keel_res_t *res, const char *name,
                                    const keel_cookie_opts_t *opts);

#endif
