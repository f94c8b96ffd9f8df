/*
 * keel/middleware.h - middleware: code that runs around handlers, the
 * decorator pattern applied to request handling.  A middleware has a
 * `before` hook, run in registration order before the handler, which may
 * answer the request itself (return an HTTP status: the chain stops, like
 * Flask's before_request) or pass it on (KEEL_NEXT); and an `after` hook,
 * run in reverse order once the response is final (also after a before
 * hook answered), which may inspect or rewrite the response.  Chains exist
 * app-wide, per route group and per route (see keel/app.h); app-wide
 * middleware wraps group middleware, which wraps route middleware.
 */
#ifndef KEEL_MIDDLEWARE_H
#define KEEL_MIDDLEWARE_H

#include "keel/server.h"

/** One middleware; `before` or `after` may be NULL. */
typedef struct keel_middleware {
	const char *name; /* for route listings and logs */
	/** KEEL_NEXT to continue, or an HTTP status to answer with `res`. */
	int (*before)(keel_req_t *req, keel_res_t *res, void *ud);
	/** Sees the final response; runs for every request `before` saw. */
	void (*after)(keel_req_t *req, keel_res_t *res, void *ud);
	void *ud;
} keel_middleware_t;

#endif
