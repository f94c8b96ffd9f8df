/*
 * src/web/router.h - internal: the route trie shared by the app, the
 * dispatcher, the benchmark and the fuzz target.  Not installed.
 *
 * Patterns are split at '/' into segments; each segment is a literal, a
 * parameter ({name}, {name:int}) or a trailing catch-all ({name:path}).
 * A node holds one value per method; the app stores its routes there.
 */
#ifndef KEEL_WEB_ROUTER_H
#define KEEL_WEB_ROUTER_H

#include "keel/app.h"
#include "keel/http.h"

/* Slots per node: one per keel_http_method_t value, UNKNOWN included. */
#define KEEL__METHODS (KEEL_HTTP_CONNECT + 1)

typedef struct keel__router keel__router_t;

/** What a match found; filled by keel__router_match. */
typedef struct keel__match {
	void *value;               /* stored for the method, NULL if none */
	keel_http_method_t method; /* slot used: GET when HEAD fell back */
	unsigned allow;            /* 1u << method of each matching path */
	size_t nparams;
	keel_http_header_t params[KEEL_ROUTE_MAX_PARAMS]; /* name, value */
} keel__match_t;

/** An empty router; NULL when malloc fails. */
keel__router_t *keel__router_new(void);
/** Free the router and every node; NULL is ignored. */
void keel__router_free(keel__router_t *r);

/**
 * Check `pattern` without adding it: 0, or KEEL_EINVAL with the reason in
 * err[0..cap).  `params` (may be NULL) receives up to KEEL_ROUTE_MAX_PARAMS
 * entries whose names point into `pattern`; *nparams their count.
 */
int keel__router_parse(keel_str_t pattern, keel_route_param_t *params,
                       size_t *nparams, char *err, size_t cap);

/**
 * Store `value` (not NULL) for `method` at `pattern`.  0; KEEL_EINVAL (bad
 * pattern); KEEL_EEXIST (method and pattern taken, or a parameter named or
 * typed differently at the same position); KEEL_ENOMEM.  The reason goes
 * to err[0..cap).  On success `params` (may be NULL) gets the parameters
 * with names owned by the router.
 */
int keel__router_add(keel__router_t *r, keel_http_method_t method,
                     keel_str_t pattern, void *value,
                     keel_route_param_t *params, size_t *nparams, char *err,
                     size_t cap);

/**
 * Match a decoded path: 0 with m->value set, or KEEL_ENOENT when no route
 * serves `method` there; m->allow is then nonzero when routes for other
 * methods match the path (405), zero for 404.  HEAD falls back to GET.
 * Parameter values are slices of `path`.
 */
int keel__router_match(const keel__router_t *r, keel_http_method_t method,
                       keel_str_t path, keel__match_t *m);

/** Bits (1u << method) of every method registered anywhere. */
unsigned keel__router_methods(const keel__router_t *r);

#endif
