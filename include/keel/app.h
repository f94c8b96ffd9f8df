/*
 * keel/app.h - the application: routes, route groups (Flask blueprints),
 * the middleware chain around each route, and the dispatcher that serves
 * them through the HTTP server.
 *
 * Routing.  A pattern is a path split at '/' into segments, each a literal
 * or a parameter: {name} matches any non-empty segment, {name:int} a
 * strict int64 (optional '-', digits, no '+', no overflow; anything else
 * does not match, so the path may end in 404), {name:path} the non-empty
 * rest of the path, slashes included (last segment only).  The router is a
 * trie over segments: at each level a literal beats a parameter, which
 * beats a catch-all, and when the literal branch dead-ends the match backs
 * up and tries the parameter (each trie node is visited at most once, so
 * the cost depends on the path, not on the number of routes).  The first
 * path in that order with a route for the method wins.  One position holds
 * one parameter: {id} and {slug} (or {id} and {id:int}) under the same
 * prefix are a conflict.
 *
 * Automatic answers: HEAD runs the GET route (the server sends no body);
 * OPTIONS without its own route answers 204 with Allow; a path matched
 * only for other methods answers 405 with Allow (its methods, HEAD when
 * GET is there, OPTIONS always); no match at all is 404.  Trailing slash:
 * strict, "/a" and "/a/" are different routes, but a path that would be
 * 404 while its twin with or without the final '/' exists is redirected
 * there with 308 (method and body kept; query kept).  These answers run
 * inside the app-wide middleware, so CORS, request ids and security
 * headers apply to them too.
 *
 * Middleware order: app-wide, then each enclosing group (outermost first),
 * then the route's own, then the handler; `after` hooks run in reverse.  A
 * `before` hook that answers stops the chain; the `after` hooks of every
 * middleware whose `before` ran still run.  A handler or hook answering
 * with a negative value or a status outside 200..599 produces a generic
 * 500 (request id in the body, details only in the log).
 *
 * Lifecycle: register everything, then keel_app_run (or keel_app_freeze
 * for keel_app_dispatch and the test client).  Freezing makes the app
 * read-only and safe to share with workers; later registration is refused
 * with NULL / KEEL_ESTATE.  Registration is not thread-safe.
 */
#ifndef KEEL_APP_H
#define KEEL_APP_H

#include <stdbool.h>
#include <stdio.h>

#include "keel/http.h"
#include "keel/middleware.h"
#include "keel/server.h"

/** An application; opaque. */
typedef struct keel_app keel_app_t;
struct keel_route_spec; /* keel/validate.h */
/** A route group: a path prefix with its own middleware; owned by its app. */
typedef struct keel_group keel_group_t;
/** One registered route (method + pattern + handler); owned by its app. */
typedef struct keel_route keel_route_t;

/** Most parameters in one pattern. */
#define KEEL_ROUTE_MAX_PARAMS   16
/** Most segments in one pattern (the trie's depth bound). */
#define KEEL_ROUTE_MAX_SEGMENTS 64
/** Longest pattern in bytes, group prefixes included. */
#define KEEL_ROUTE_MAX_PATTERN  1024
/** Longest parameter name in bytes. */
#define KEEL_ROUTE_MAX_NAME     32

/** What a path parameter matches. */
typedef enum keel_param_type {
	KEEL_PARAM_STR = 0, /* {name} or {name:str}: a non-empty segment */
	KEEL_PARAM_INT,     /* {name:int}: a strict int64 */
	KEEL_PARAM_PATH,    /* {name:path}: the non-empty rest of the path */
} keel_param_type_t;

/** A parameter of a route's pattern, in pattern order. */
typedef struct keel_route_param {
	const char *name; /* NUL-terminated, owned by the app */
	keel_param_type_t type;
} keel_route_param_t;

/** A new, empty app; NULL when out of memory. */
KEEL_API keel_app_t *keel_app_new(void);
/** Free the app, its groups and routes (not the specs or middleware ud). */
KEEL_API void keel_app_free(keel_app_t *app);
/**
 * Run fn(arg) when the app is freed (newest registration first): for
 * state that extensions hang on the app.  0 or KEEL_ENOMEM.
 */
KEEL_API int keel_app_on_free(keel_app_t *app, void (*fn)(void *arg),
                              void *arg);
/** The `ud` handlers receive unless their route sets its own (NULL). */
KEEL_API void keel_app_set_ud(keel_app_t *app, void *ud);

/**
 * Register `fn` for `method` (GET, HEAD, POST, PUT, PATCH, DELETE or
 * OPTIONS) at `pattern`; `name` (copied; NULL: "-") is shown in listings
 * and used as the OpenAPI operationId.  NULL on failure, with the reason
 * in keel_app_error: KEEL_EINVAL (bad pattern or method), KEEL_EEXIST
 * (conflict), KEEL_ESTATE (app frozen), KEEL_ENOMEM.
 */
KEEL_API keel_route_t *keel_app_route(keel_app_t *app,
                                      keel_http_method_t method,
                                      const char *pattern, keel_handler_fn *fn,
                                      const char *name);
/**
 * A group whose routes get `prefix` ("/api"; starts with '/', no trailing
 * '/', parameters allowed) in front of their pattern.  NULL as for
 * keel_app_route.
 */
KEEL_API keel_group_t *keel_app_group(keel_app_t *app, const char *prefix);
/** A group nested in `parent`: prefixes and middleware add up. */
KEEL_API keel_group_t *keel_group_nest(keel_group_t *parent,
                                       const char *prefix);
/**
 * As keel_app_route inside `group`: the pattern is appended to the prefix
 * and must start with '/' or be "" (the prefix itself).
 */
KEEL_API keel_route_t *keel_group_route(keel_group_t *group,
                                        keel_http_method_t method,
                                        const char *pattern,
                                        keel_handler_fn *fn, const char *name);

/** Register a route on an app or a group, named after the function. */
#define KEEL_ROUTE(x, method, pattern, fn)                                     \
	_Generic((x), keel_app_t *                                             \
	         : keel_app_route, keel_group_t *                              \
	         : keel_group_route)((x), (method), (pattern), (fn), #fn)
#define KEEL_GET(x, pattern, fn)    KEEL_ROUTE(x, KEEL_HTTP_GET, pattern, fn)
#define KEEL_POST(x, pattern, fn)   KEEL_ROUTE(x, KEEL_HTTP_POST, pattern, fn)
#define KEEL_PUT(x, pattern, fn)    KEEL_ROUTE(x, KEEL_HTTP_PUT, pattern, fn)
#define KEEL_PATCH(x, pattern, fn)  KEEL_ROUTE(x, KEEL_HTTP_PATCH, pattern, fn)
#define KEEL_DELETE(x, pattern, fn) KEEL_ROUTE(x, KEEL_HTTP_DELETE, pattern, fn)

/**
 * Add app-wide middleware (copied; its name and ud must outlive the app).
 * 0, KEEL_EINVAL (NULL), KEEL_ESTATE (frozen), KEEL_ENOMEM.
 */
KEEL_API int keel_app_use(keel_app_t *app, const keel_middleware_t *mw);
/** Add middleware to every route of `group` and its nested groups. */
KEEL_API int keel_group_use(keel_group_t *group, const keel_middleware_t *mw);
/** Add middleware to one route, innermost. */
KEEL_API int keel_route_use(keel_route_t *route, const keel_middleware_t *mw);
/** Give this route's handler its own `ud`; KEEL_ESTATE once frozen. */
KEEL_API int keel_route_set_ud(keel_route_t *route, void *ud);
/**
 * Attach the validation layer's spec (not copied; static storage) to the
 * route, for the validator and the OpenAPI generator; KEEL_ESTATE once
 * frozen.
 */
KEEL_API int keel_route_spec(keel_route_t *route,
                             const struct keel_route_spec *spec);
/** The spec attached with keel_route_spec, or NULL. */
KEEL_API const struct keel_route_spec *
keel_route_get_spec(const keel_route_t *route);

/** The route's method. */
KEEL_API keel_http_method_t keel_route_method(const keel_route_t *route);
/** The full pattern, group prefixes included ("/api/users/{id:int}"). */
KEEL_API const char *keel_route_pattern(const keel_route_t *route);
/** The handler name given at registration ("-" when none). */
KEEL_API const char *keel_route_name(const keel_route_t *route);
/** The pattern's parameters in order; *n gets their count. */
KEEL_API const keel_route_param_t *keel_route_params(const keel_route_t *route,
                                                     size_t *n);
/** Number of middleware that run around this route (all levels). */
KEEL_API size_t keel_route_middleware_count(const keel_route_t *route);
/** The i-th of them in run order (app-wide first), or NULL past the end. */
KEEL_API const keel_middleware_t *
keel_route_middleware(const keel_route_t *route, size_t i);

/** The route that matched this request, or NULL (404, 405, OPTIONS). */
KEEL_API const keel_route_t *keel_req_route(const keel_req_t *req);

/**
 * Code of the last failed registration (0 when none failed) and, when
 * `message` is not NULL, its reason (owned by the app, overwritten by the
 * next failure; "" when none).
 */
KEEL_API int keel_app_error(const keel_app_t *app, const char **message);
/** How many registrations have failed so far. */
KEEL_API int keel_app_failures(const keel_app_t *app);

/**
 * Make the app read-only and ready to dispatch: 0; KEEL_EINVAL when some
 * registration failed (the app is frozen anyway); KEEL_ENOMEM (not
 * frozen).  Repeating it is harmless.
 */
KEEL_API int keel_app_freeze(keel_app_t *app);
/** True once frozen. */
KEEL_API bool keel_app_frozen(const keel_app_t *app);

/**
 * The server handler (keel_handler_fn) that routes a request through `app`
 * (a frozen keel_app_t *): for programs that call keel_server_run
 * themselves.  Returns the response status.
 */
KEEL_API int keel_app_dispatch(keel_req_t *req, keel_res_t *res, void *app);

/**
 * main() for an app: `prog routes` prints the route table to stdout;
 * `prog [serve] [flags]` freezes the app and serves it with keel_serve
 * (flags as there).  Returns main's exit status: 1 without serving (but
 * after listing) when a registration failed.
 */
KEEL_API int keel_app_run(keel_app_t *app, int argc, char **argv);

/**
 * Print METHOD, PATTERN, HANDLER and MIDDLEWARE columns, one route a line,
 * sorted by pattern then method.  0, KEEL_ENOMEM or KEEL_EIO.
 */
KEEL_API int keel_app_routes_print(const keel_app_t *app, FILE *out);

/** Callback of keel_app_routes_each: nonzero stops the walk. */
typedef int keel_route_each_fn(const keel_route_t *route, void *ctx);

/**
 * Call fn for every route in the order keel_app_routes_print uses; returns
 * the first nonzero value fn returned, 0, or KEEL_ENOMEM.
 */
KEEL_API int keel_app_routes_each(const keel_app_t *app, keel_route_each_fn *fn,
                                  void *ctx);

#endif
