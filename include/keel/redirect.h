/*
 * keel/redirect.h - 3xx answers with a Location header, checked so that a
 * redirect target taken from user input ("?next=/account") cannot send the
 * browser to another site (an open redirect) or split the response.
 *
 * Two doors, chosen by the caller: keel_res_redirect_local accepts only a
 * path on this site ("/a/b?c#d"); keel_res_redirect also accepts an
 * absolute http or https URL, for targets the application itself chose.
 * Both refuse protocol-relative "//host" and "/\host" (browsers treat them
 * as another site), other schemes (javascript:, data:), user info in the
 * authority ("https://good@evil"), and any byte outside RFC 3986 (spaces,
 * controls, CR, LF, quotes, '\', non-ASCII: percent-encode them first) or
 * a '%' not followed by two hex digits.  Statuses: 301, 302, 303 (after a
 * POST: the browser follows with GET), 307 and 308 (method and body kept).
 */
#ifndef KEEL_REDIRECT_H
#define KEEL_REDIRECT_H

#include "keel/common.h"
#include "keel/server.h"

/**
 * Answer `status` with Location: `path`, a same-site path starting with a
 * single '/'; the body is emptied, other headers (Set-Cookie) are kept.
 * Returns `status`, KEEL_EINVAL with `res` untouched for a bad status or
 * path (a handler returning that answers 500), or KEEL_ENOMEM.
 */
KEEL_API int keel_res_redirect_local(keel_res_t *res, int status,
                                     const char *path);

/**
 * As keel_res_redirect_local, also accepting an absolute http(s) URL
 * "scheme://host[:port][/path][?query][#fragment]"; for targets chosen by
 * the application, never for raw user input.
 */
KEEL_API int keel_res_redirect(keel_res_t *res, int status,
                               const char *location);

#endif
