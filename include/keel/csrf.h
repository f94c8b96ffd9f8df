/*
 * keel/csrf.h - protection against cross-site request forgery.
 *
 * The attack: a page on another site makes the victim's browser send a
 * POST to this one (an auto-submitting form), and the browser attaches
 * the victim's cookies on its own, so the request arrives logged in.
 * Two independent checks stop it on every unsafe method (anything but
 * GET, HEAD, OPTIONS and TRACE, which must never change state):
 *
 *   - Origin: browsers say which site sent the request.  It must be one of
 *     the allowed origins, or, with none configured, this request's own
 *     Host (over http or https).  Without Origin, the Referer's origin is
 *     checked instead; with neither (non-browser clients, privacy
 *     proxies) the token alone decides.  Origin "null" never passes.
 *   - Synchronizer token: a random 256-bit token kept in the server-side
 *     session (keel/session.h) and put in each form (keel_csrf_token) or
 *     sent by scripts in the X-CSRF-Token header.  The other site cannot
 *     read it (same-origin policy), so it cannot send it.  It is compared
 *     in constant time; missing, stale (the session was rotated at login)
 *     or another session's token is refused.  The form field is read from
 *     application/x-www-form-urlencoded bodies; multipart forms must send
 *     the header.
 *
 * A refusal is 403 with the app's error body under the field "csrf".
 *
 * Requests carrying an Authorization header (the JWT API) are exempt: CSRF
 * abuses credentials the browser adds by itself (cookies, HTTP auth), and
 * no browser adds an Authorization header to a cross-site request on its
 * own - a script can only set it after a CORS preflight the server
 * refuses, and it needs the token, which the other site does not have.
 * Keep the API's CORS policy free of credentials so that stays true.
 * Session cookies are SameSite=Lax as well, a third barrier in browsers
 * that honour it.
 */
#ifndef KEEL_CSRF_H
#define KEEL_CSRF_H

#include "keel/common.h"
#include "keel/middleware.h"
#include "keel/server.h"

/** Length of a token: unpadded base64url of 32 random bytes. */
#define KEEL_CSRF_TOKEN_LEN 43

/** CSRF policy; fill with keel_csrf_opts_init.  Must outlive the app. */
typedef struct keel_csrf_opts {
	/* Allowed origins, NULL-terminated, exact "https://example.com"
	 * (scheme://host[:port]).  NULL: the request's Host, http or https. */
	const char *const *origins;
	const char *header; /* token header: "X-CSRF-Token" */
	const char *field;  /* token form field: "csrf_token" */
} keel_csrf_opts_t;

/** Defaults as commented above. */
KEEL_API void keel_csrf_opts_init(keel_csrf_opts_t *opts);

/**
 * Decide whether `req` may proceed: 0 when it is safe, exempt or carries
 * a matching origin and token; KEEL_EINVAL otherwise with a short reason
 * in *why (static text; `why` may be NULL).  Needs keel_mw_session.
 */
KEEL_API int keel_csrf_check(keel_req_t *req, const keel_csrf_opts_t *opts,
                             const char **why);

/**
 * Middleware running keel_csrf_check before the handler: 403 on refusal.
 * Register after keel_mw_session.  `opts` NULL: the defaults.
 */
KEEL_API keel_middleware_t keel_mw_csrf(const keel_csrf_opts_t *opts);

/**
 * The session's CSRF token (NUL-terminated, KEEL_CSRF_TOKEN_LEN bytes, in
 * the request's arena) for a form's hidden csrf_token field or a meta tag;
 * starts a session and mints the token when needed.  NULL without
 * keel_mw_session or when out of memory.
 */
KEEL_API const char *keel_csrf_token(keel_req_t *req);

#endif
