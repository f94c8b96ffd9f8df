/*
 * src/web/app_int.h - internal: the app, group and route structs, shared
 * by registration (app.c), route accessors (route.c), the dispatcher
 * (chain.c) and the listing (app_list.c).  Not installed.
 */
#ifndef KEEL_WEB_APP_INT_H
#define KEEL_WEB_APP_INT_H

#include "keel/app.h"
#include "web/router.h"

/* A growable list of middleware copies. */
typedef struct keel__mwlist {
	keel_middleware_t *items;
	size_t n, cap;
} keel__mwlist_t;

struct keel_group {
	keel_app_t *app;
	keel_group_t *parent; /* NULL for the app's root group */
	keel_group_t *next;   /* the app's list of groups, for freeing */
	char *prefix;         /* full prefix, parents' included; "" at root */
	size_t prefix_len;
	keel__mwlist_t mw;
};

struct keel_route {
	keel_app_t *app;
	keel_group_t *group;
	keel_route_t *next; /* the app's routes, in registration order */
	keel_http_method_t method;
	char *pattern;
	char *name;
	keel_handler_fn *fn;
	void *ud;
	bool own_ud;
	keel__mwlist_t mw;
	const keel_middleware_t **chain; /* all levels, built by freeze */
	size_t nchain;
	const void *spec;
	keel_route_param_t params[KEEL_ROUTE_MAX_PARAMS];
	size_t nparams;
};

struct keel_app {
	keel_group_t root; /* app-wide middleware lives here */
	keel__router_t *router;
	keel_route_t *routes, **routes_tail;
	size_t nroutes;
	keel_group_t *groups;
	void *ud;
	bool frozen;
	int failures;
	int last_code;
	char last_error[256];
	const keel_middleware_t **chain; /* app-wide, for automatic answers */
	size_t nchain;
	struct keel_app_cleanup
	        *cleanups; /* run by keel_app_free, newest first */
};

/* Count the middleware of every level around `route` (app first), and
 * store pointers to them in out[0..cap) when out is not NULL. */
size_t keel__route_collect(const keel_route_t *route,
                           const keel_middleware_t **out, size_t cap);

/*
 * Run `fn` inside chain[0..n): before hooks in order (one that does not
 * return KEEL_NEXT answers and stops the chain), then the handler, then
 * the after hooks of every middleware whose before hook ran, in reverse.
 * `who` names the handler in logs.  Returns the final status.
 */
int keel__chain_run(const keel_middleware_t *const *chain, size_t n,
                    keel_req_t *req, keel_res_t *res, keel_handler_fn *fn,
                    void *ud, const char *who);

#endif
