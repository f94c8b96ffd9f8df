/*
 * The application object: route and group registration, middleware lists,
 * registration errors, and freezing.  Registration is the only phase that
 * mutates anything; after keel_app_freeze the app is read-only, which is
 * what lets forked workers (and the test client) share it without locks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "keel/log.h"
#include "web/app_int.h"

keel_app_t *keel_app_new(void)
{
	keel_app_t *app = calloc(1, sizeof(*app));
	if (!app)
		return NULL;
	app->router = keel__router_new();
	app->root.prefix = strdup("");
	if (!app->router || !app->root.prefix) {
		keel__router_free(app->router);
		free(app->root.prefix);
		free(app);
		return NULL;
	}
	app->root.app = app;
	app->routes_tail = &app->routes;
	return app;
}

static void route_free(keel_route_t *r)
{
	free(r->pattern);
	free(r->name);
	free(r->mw.items);
	free(r->chain);
	free(r);
}

struct keel_app_cleanup {
	struct keel_app_cleanup *next;
	void (*fn)(void *arg);
	void *arg;
};

int keel_app_on_free(keel_app_t *app, void (*fn)(void *arg), void *arg)
{
	struct keel_app_cleanup *c = malloc(sizeof(*c));
	if (!c)
		return KEEL_ENOMEM;
	*c = (struct keel_app_cleanup){app->cleanups, fn, arg};
	app->cleanups = c;
	return KEEL_OK;
}

void keel_app_free(keel_app_t *app)
{
	if (!app)
		return;
	while (app->cleanups) {
		struct keel_app_cleanup *c = app->cleanups;
		app->cleanups = c->next;
		c->fn(c->arg);
		free(c);
	}
	for (keel_route_t *r = app->routes, *next; r; r = next) {
		next = r->next;
		route_free(r);
	}
	for (keel_group_t *g = app->groups, *next; g; g = next) {
		next = g->next;
		free(g->prefix);
		free(g->mw.items);
		free(g);
	}
	free(app->root.prefix);
	free(app->root.mw.items);
	free(app->chain);
	keel__router_free(app->router);
	free(app);
}

void keel_app_set_ud(keel_app_t *app, void *ud)
{
	app->ud = ud;
}

/*
 * Registration calls return NULL or a code, and their return values are
 * easy to ignore in a list of KEEL_GET lines; so every failure is also
 * logged, counted, and keeps keel_app_run from serving a half-built app.
 */
static int fail(keel_app_t *app, int code, const char *fmt, ...)
        KEEL_PRINTF(3, 4);
static int fail(keel_app_t *app, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(app->last_error, sizeof(app->last_error), fmt, ap);
	va_end(ap);
	app->last_code = code;
	app->failures++;
	KEEL_LOG_ERROR("app: %s", app->last_error);
	return code;
}

int keel_app_error(const keel_app_t *app, const char **message)
{
	if (message)
		*message = app->last_error;
	return app->last_code;
}

int keel_app_failures(const keel_app_t *app)
{
	return app->failures;
}

static int mw_add(keel_app_t *app, keel__mwlist_t *l,
                  const keel_middleware_t *mw)
{
	if (!mw)
		return fail(app, KEEL_EINVAL, "use: NULL middleware");
	if (app->frozen)
		return fail(app, KEEL_ESTATE, "use %s: app already running",
		            mw->name ? mw->name : "-");
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		keel_middleware_t *p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return fail(app, KEEL_ENOMEM, "use: out of memory");
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n++] = *mw;
	return KEEL_OK;
}

int keel_app_use(keel_app_t *app, const keel_middleware_t *mw)
{
	return mw_add(app, &app->root.mw, mw);
}

int keel_group_use(keel_group_t *group, const keel_middleware_t *mw)
{
	return mw_add(group->app, &group->mw, mw);
}

int keel_route_use(keel_route_t *route, const keel_middleware_t *mw)
{
	return mw_add(route->app, &route->mw, mw);
}

/* prefix + pattern as a new string; NULL when too long or no memory. */
static char *join(const char *prefix, size_t plen, const char *pattern)
{
	size_t n = strlen(pattern);
	if (plen + n > KEEL_ROUTE_MAX_PATTERN)
		return NULL;
	char *s = malloc(plen + n + 1);
	if (s) {
		memcpy(s, prefix, plen);
		memcpy(s + plen, pattern, n + 1);
	}
	return s;
}

/* A prefix is a pattern without a trailing '/' or catch-all. */
static int check_prefix(keel_app_t *app, const char *full)
{
	char err[160];
	keel_route_param_t params[KEEL_ROUTE_MAX_PARAMS];
	size_t n = 0, len = strlen(full);
	if (len < 2 || full[len - 1] == '/')
		return fail(app, KEEL_EINVAL,
		            "group %s: prefix must start with '/' and not "
		            "end with one",
		            full);
	if (keel__router_parse(keel_str_from_cstr(full), params, &n, err,
	                       sizeof(err)) < 0)
		return fail(app, KEEL_EINVAL, "group %s: %s", full, err);
	if (n > 0 && params[n - 1].type == KEEL_PARAM_PATH)
		return fail(app, KEEL_EINVAL, "group %s: catch-all in prefix",
		            full);
	return KEEL_OK;
}

static keel_group_t *group_new(keel_group_t *parent, const char *prefix)
{
	keel_app_t *app = parent->app;
	const char *shown = prefix ? prefix : "(null)";
	if (app->frozen) {
		fail(app, KEEL_ESTATE, "group %s: app already running", shown);
		return NULL;
	}
	if (!prefix || prefix[0] != '/') {
		fail(app, KEEL_EINVAL, "group %s: prefix must start with '/'",
		     shown);
		return NULL;
	}
	char *full = join(parent->prefix, parent->prefix_len, prefix);
	if (!full) {
		fail(app, KEEL_EINVAL, "group %s: prefix too long or no memory",
		     shown);
		return NULL;
	}
	keel_group_t *g = NULL;
	if (check_prefix(app, full) == KEEL_OK) {
		g = calloc(1, sizeof(*g));
		if (!g)
			fail(app, KEEL_ENOMEM, "group %s: out of memory", full);
	}
	if (!g) {
		free(full);
		return NULL;
	}
	g->app = app;
	g->parent = parent;
	g->prefix = full;
	g->prefix_len = strlen(full);
	g->next = app->groups;
	app->groups = g;
	return g;
}

keel_group_t *keel_app_group(keel_app_t *app, const char *prefix)
{
	return group_new(&app->root, prefix);
}

keel_group_t *keel_group_nest(keel_group_t *parent, const char *prefix)
{
	return group_new(parent, prefix);
}

static bool method_ok(keel_http_method_t m)
{
	return m >= KEEL_HTTP_GET && m <= KEEL_HTTP_OPTIONS;
}

static keel_route_t *route_new(keel_group_t *g, keel_http_method_t method,
                               const char *pattern, keel_handler_fn *fn,
                               const char *name)
{
	keel_route_t *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->pattern = join(g->prefix, g->prefix_len, pattern);
	r->name = strdup(name ? name : "-");
	if (!r->pattern || !r->name) {
		route_free(r);
		return NULL;
	}
	r->app = g->app;
	r->group = g;
	r->method = method;
	r->fn = fn;
	return r;
}

/* Everything a route needs before it goes into the trie. */
static int route_check(keel_group_t *g, keel_http_method_t method,
                       const char *pattern, keel_handler_fn *fn)
{
	keel_app_t *app = g->app;
	const char *mname = keel_http_method_name(method);
	if (!pattern || (pattern[0] != '/' && (pattern[0] || !g->parent)))
		return fail(app, KEEL_EINVAL,
		            "%s %s%s: pattern must start "
		            "with '/'",
		            mname ? mname : "?", g->prefix,
		            pattern ? pattern : "(null)");
	if (app->frozen)
		return fail(app, KEEL_ESTATE, "%s %s%s: app already running",
		            mname ? mname : "?", g->prefix, pattern);
	if (!method_ok(method) || !fn)
		return fail(app, KEEL_EINVAL,
		            "%s %s%s: bad method or no "
		            "handler",
		            mname ? mname : "?", g->prefix, pattern);
	return KEEL_OK;
}

keel_route_t *keel_group_route(keel_group_t *g, keel_http_method_t method,
                               const char *pattern, keel_handler_fn *fn,
                               const char *name)
{
	keel_app_t *app = g->app;
	if (route_check(g, method, pattern, fn) < 0)
		return NULL;
	keel_route_t *r = route_new(g, method, pattern, fn, name);
	if (!r) {
		fail(app, KEEL_ENOMEM, "%s %s%s: out of memory or too long",
		     keel_http_method_name(method), g->prefix, pattern);
		return NULL;
	}
	char err[160];
	int rc = keel__router_add(app->router, method,
	                          keel_str_from_cstr(r->pattern), r, r->params,
	                          &r->nparams, err, sizeof(err));
	if (rc < 0) {
		fail(app, rc, "%s %s: %s", keel_http_method_name(method),
		     r->pattern, err);
		route_free(r);
		return NULL;
	}
	*app->routes_tail = r;
	app->routes_tail = &r->next;
	app->nroutes++;
	return r;
}

keel_route_t *keel_app_route(keel_app_t *app, keel_http_method_t method,
                             const char *pattern, keel_handler_fn *fn,
                             const char *name)
{
	return keel_group_route(&app->root, method, pattern, fn, name);
}

/* Flatten each route's levels into one array, so dispatch is a loop. */
static int build_chain(keel_route_t *r)
{
	size_t n = keel__route_collect(r, NULL, 0);
	if (n == 0)
		return KEEL_OK;
	r->chain = malloc(n * sizeof(*r->chain));
	if (!r->chain)
		return KEEL_ENOMEM;
	r->nchain = keel__route_collect(r, r->chain, n);
	return KEEL_OK;
}

static int build_app_chain(keel_app_t *app)
{
	keel__mwlist_t *l = &app->root.mw;
	if (l->n == 0)
		return KEEL_OK;
	app->chain = malloc(l->n * sizeof(*app->chain));
	if (!app->chain)
		return KEEL_ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		app->chain[i] = &l->items[i];
	app->nchain = l->n;
	return KEEL_OK;
}

int keel_app_freeze(keel_app_t *app)
{
	if (!app->frozen) {
		int rc = build_app_chain(app);
		for (keel_route_t *r = app->routes; r && rc == 0; r = r->next)
			rc = build_chain(r);
		if (rc < 0) {
			free(app->chain);
			app->chain = NULL;
			app->nchain = 0;
			for (keel_route_t *r = app->routes; r; r = r->next) {
				free(r->chain);
				r->chain = NULL;
				r->nchain = 0;
			}
			return rc;
		}
		app->frozen = true;
	}
	return app->failures ? KEEL_EINVAL : KEEL_OK;
}

bool keel_app_frozen(const keel_app_t *app)
{
	return app->frozen;
}
