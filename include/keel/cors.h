/*
 * keel/cors.h - Cross-Origin Resource Sharing as app-wide middleware.
 *
 * A browser lets a page from one origin (scheme, host, port) read a
 * response from another only when the response says so with
 * Access-Control-Allow-Origin; before a request that a plain HTML form
 * could not send (PUT, DELETE, a JSON body, an Authorization header) it
 * first asks with a preflight: OPTIONS plus Origin and
 * Access-Control-Request-Method (and -Headers).  CORS loosens the
 * browser's same-origin policy for named sites; it is not access control on
 * the server (curl ignores it) and does not stop simple cross-site POSTs
 * (that is CSRF protection's job).
 *
 * This middleware answers preflights itself in its before hook (204 with
 * the allowed methods, headers and max-age), so they never reach the
 * router or cost a rate-limit token; a preflight whose origin, method or
 * headers are not allowed gets 403 with the app's error body and no CORS
 * headers - a browser only sees that the permission is missing, a
 * developer with curl sees why.  Other requests are served as usual and an
 * allowed origin gets Access-Control-Allow-Origin (plus -Credentials and
 * -Expose-Headers); a refused one gets no CORS headers, so the browser
 * keeps the response from the page.
 *
 * Rules that are not options: "*" is never sent together with
 * Access-Control-Allow-Credentials (with credentials the allowed Origin is
 * echoed), and whenever the answer depends on the Origin the response
 * says Vary: Origin, so a shared cache does not hand one site's answer to
 * another.  A wildcard answers "*" to everyone, with or without Origin,
 * and needs no Vary.
 */
#ifndef KEEL_CORS_H
#define KEEL_CORS_H

#include <stdbool.h>

#include "keel/middleware.h"
#include "keel/str.h"

/** The CORS policy; fill with keel_cors_opts_init.  Must outlive the app. */
typedef struct keel_cors_opts {
	/* Allowed origins, NULL-terminated: exact "https://app.example.com"
	 * (scheme://host[:port], no path), or {"*", NULL} for any origin
	 * without credentials.  NULL or empty: no cross-origin access. */
	const char *const *origins;
	const char *methods; /* "GET, HEAD, POST, PUT, PATCH, DELETE" */
	const char *headers; /* request headers: "Content-Type, Authorization";
	                        "*" allows (and echoes) any */
	const char *expose;  /* Access-Control-Expose-Headers; NULL: none */
	int64_t max_age;     /* preflight cache, seconds: 600; < 0 omits */
	bool credentials;    /* allow cookies / HTTP auth: false */
} keel_cors_opts_t;

/** Defaults as commented above, with no allowed origin. */
KEEL_API void keel_cors_opts_init(keel_cors_opts_t *opts);

/**
 * Check a policy at start-up: 0, or KEEL_EINVAL for "*" together with
 * credentials (the middleware would then send "*" without credentials), an
 * origin that is not scheme://host[:port] (a trailing '/' never matches),
 * the origin "null" (sandboxed frames and files share it: allowing it
 * allows them all), or methods/headers that are not comma-separated tokens.
 */
KEEL_API int keel_cors_opts_check(const keel_cors_opts_t *opts);

/**
 * True when the policy allows the Origin value `origin`: a wildcard allows
 * any non-empty value (without credentials it gives nothing away), a list
 * an exact match (ASCII case-insensitive) but never "null".
 */
KEEL_API bool keel_cors_origin_allowed(const keel_cors_opts_t *opts,
                                       keel_str_t origin);

/**
 * The CORS middleware for `opts` (NULL: the defaults, which allow no
 * origin).  Register it before keel_mw_ratelimit and authentication, so
 * preflights are answered first and refusals still carry CORS headers.
 */
KEEL_API keel_middleware_t keel_mw_cors(const keel_cors_opts_t *opts);

#endif
