/*
 * What other modules may read of a route: its method, pattern, handler
 * name, parameters, middleware and the validation spec attached to it.
 * The OpenAPI generator and the route listing are built on these.
 */
#include "http/conn.h"
#include "web/app_int.h"

int keel_route_set_ud(keel_route_t *route, void *ud)
{
	if (route->app->frozen)
		return KEEL_ESTATE;
	route->ud = ud;
	route->own_ud = true;
	return KEEL_OK;
}

int keel_route_spec(keel_route_t *route, const struct keel_route_spec *spec)
{
	if (route->app->frozen)
		return KEEL_ESTATE;
	route->spec = spec;
	return KEEL_OK;
}

const struct keel_route_spec *keel_route_get_spec(const keel_route_t *route)
{
	return route->spec;
}

keel_http_method_t keel_route_method(const keel_route_t *route)
{
	return route->method;
}

const char *keel_route_pattern(const keel_route_t *route)
{
	return route->pattern;
}

const char *keel_route_name(const keel_route_t *route)
{
	return route->name;
}

const keel_route_param_t *keel_route_params(const keel_route_t *route,
                                            size_t *n)
{
	*n = route->nparams;
	return route->params;
}

/* Outermost level first: the root group holds the app-wide list. */
static size_t collect_group(const keel_group_t *g,
                            const keel_middleware_t **out, size_t cap,
                            size_t at)
{
	if (g->parent)
		at = collect_group(g->parent, out, cap, at);
	for (size_t i = 0; i < g->mw.n; i++, at++)
		if (out && at < cap)
			out[at] = &g->mw.items[i];
	return at;
}

size_t keel__route_collect(const keel_route_t *route,
                           const keel_middleware_t **out, size_t cap)
{
	size_t at = collect_group(route->group, out, cap, 0);
	for (size_t i = 0; i < route->mw.n; i++, at++)
		if (out && at < cap)
			out[at] = &route->mw.items[i];
	return at;
}

size_t keel_route_middleware_count(const keel_route_t *route)
{
	return keel__route_collect(route, NULL, 0);
}

/* The i-th middleware of `g`'s levels, counting down *i as lists pass. */
static const keel_middleware_t *nth_in_group(const keel_group_t *g, size_t *i)
{
	if (g->parent) {
		const keel_middleware_t *mw = nth_in_group(g->parent, i);
		if (mw)
			return mw;
	}
	if (*i < g->mw.n)
		return &g->mw.items[*i];
	*i -= g->mw.n;
	return NULL;
}

const keel_middleware_t *keel_route_middleware(const keel_route_t *route,
                                               size_t i)
{
	if (route->chain)
		return i < route->nchain ? route->chain[i] : NULL;
	const keel_middleware_t *mw = nth_in_group(route->group, &i);
	if (mw)
		return mw;
	return i < route->mw.n ? &route->mw.items[i] : NULL;
}

const keel_route_t *keel_req_route(const keel_req_t *req)
{
	return req->route;
}
