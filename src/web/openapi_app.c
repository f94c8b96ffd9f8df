/*
 * The OpenAPI document of a whole app (keel_openapi_write_app): the
 * route table, read through keel_app_routes_each, turned into the route
 * list keel_openapi_write documents.
 */
#include <stdlib.h>

#include "keel/openapi.h"
#include "keel/res.h"

typedef struct collect {
	keel_openapi_route_t *routes;
	size_t n, cap;
} collect_t;

static int collect_one(const keel_route_t *route, void *ctx)
{
	collect_t *c = ctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		keel_openapi_route_t *grown =
		        realloc(c->routes, cap * sizeof(*grown));
		if (!grown)
			return KEEL_ENOMEM;
		c->routes = grown;
		c->cap = cap;
	}
	c->routes[c->n++] = (keel_openapi_route_t){
	        .method = keel_route_method(route),
	        .pattern = keel_route_pattern(route),
	        .handler = keel_route_name(route),
	        .spec = keel_route_get_spec(route),
	};
	return 0;
}

int keel_openapi_write_app(keel_buf_t *out, const keel_openapi_info_t *info,
                           const keel_app_t *app)
{
	collect_t c = {0};
	int rc = keel_app_routes_each(app, collect_one, &c);
	if (rc == 0)
		rc = keel_openapi_write(out, info, c.routes, c.n);
	free(c.routes);
	return rc;
}

/* The served document: built on first request in each worker, when every
 * route is registered, then reused. */
typedef struct served {
	const keel_app_t *app;
	const keel_openapi_info_t *info;
	keel_buf_t doc;
	bool built;
} served_t;

static void served_free(void *arg)
{
	served_t *s = arg;
	keel_buf_deinit(&s->doc);
	free(s);
}

static int serve_doc(keel_req_t *req, keel_res_t *res, void *ud)
{
	served_t *s = ud;
	(void)req;
	if (!s->built) {
		keel_buf_reset(&s->doc);
		if (keel_openapi_write_app(&s->doc, s->info, s->app) < 0)
			return keel_res_error(res, 500,
			                      "cannot build the document");
		s->built = true;
	}
	keel_res_header(res, "Content-Type", "application/json");
	keel_res_body(res, s->doc.data, s->doc.len);
	return 200;
}

keel_route_t *keel_app_openapi(keel_app_t *app, const char *path,
                               const keel_openapi_info_t *info)
{
	served_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->app = app;
	s->info = info;
	keel_buf_init(&s->doc, 0);
	keel_route_t *r =
	        keel_app_route(app, KEEL_HTTP_GET, path, serve_doc, "openapi");
	if (!r || keel_app_on_free(app, served_free, s) < 0) {
		served_free(s);
		return NULL;
	}
	keel_route_set_ud(r, s);
	return r;
}
