/*
 * The app as a server handler: route the request, then run the matched
 * route's chain; or, when no route serves it, answer automatically (404,
 * 405 with Allow, OPTIONS, a 308 to the trailing-slash twin) inside the
 * app-wide middleware, so those answers get the same headers and logging
 * as any other.
 */
#include <string.h>

#include "http/conn.h"
#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "web/app_int.h"

typedef struct auto_ctx {
	const keel_app_t *app;
	const keel__match_t *m;
} auto_ctx_t;

/* "GET, HEAD, POST, OPTIONS": the methods of a path, HEAD wherever GET
 * is, OPTIONS always (it is answered automatically). */
static void add_allow(keel_res_t *res, unsigned mask)
{
	char buf[96];
	size_t len = 0;
	mask |= 1u << KEEL_HTTP_OPTIONS;
	if (mask & (1u << KEEL_HTTP_GET))
		mask |= 1u << KEEL_HTTP_HEAD;
	for (int m = KEEL_HTTP_GET; m <= KEEL_HTTP_OPTIONS; m++) {
		if (!(mask & (1u << m)))
			continue;
		const char *name = keel_http_method_name((keel_http_method_t)m);
		size_t n = strlen(name);
		if (len) {
			buf[len++] = ',';
			buf[len++] = ' ';
		}
		memcpy(buf + len, name, n);
		len += n;
	}
	buf[len] = '\0';
	keel_res_header(res, "Allow", buf);
}

/*
 * Automatic answers keep the headers middleware already added (CORS,
 * request id), unlike keel_res_error, and use its {"error": ...} body.
 */
static int answer(keel_res_t *res, int status, const char *json)
{
	keel_res_header_remove(res, "Content-Type");
	keel_res_body(res, json, strlen(json));
	if (json[0])
		keel_res_header(res, "Content-Type", "application/json");
	return status;
}

static int answer_options(keel_res_t *res, unsigned mask)
{
	add_allow(res, mask);
	return answer(res, 204, "");
}

static int answer_405(keel_res_t *res, unsigned mask)
{
	add_allow(res, mask);
	return answer(res, 405, "{\"error\":\"method not allowed\"}\n");
}

static bool location_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-._~!$&'()*+,;=:@/", c));
}

/* Percent-encode a decoded path back into a URI path plus the raw query,
 * so decoding the Location gives exactly `path` again. */
static char *make_location(keel_arena_t *a, keel_str_t path, keel_str_t query)
{
	static const char hex[] = "0123456789ABCDEF";
	char *loc = keel_arena_alloc(a, path.len * 3 + query.len + 2);
	size_t n = 0;
	if (!loc)
		return NULL;
	for (size_t i = 0; i < path.len; i++) {
		unsigned char c = (unsigned char)path.ptr[i];
		if (location_safe(c)) {
			loc[n++] = (char)c;
			continue;
		}
		loc[n++] = '%';
		loc[n++] = hex[c >> 4];
		loc[n++] = hex[c & 15];
	}
	if (query.len) {
		loc[n++] = '?';
		memcpy(loc + n, query.ptr, query.len);
		n += query.len;
	}
	loc[n] = '\0';
	return loc;
}

/*
 * Strict trailing slashes, with a way back: a path that matches nothing
 * while its twin (one '/' more or less at the end) names a route is sent
 * there with 308, which keeps the method and body.  0 when there is no
 * twin.
 */
static int redirect_twin(keel_req_t *req, keel_res_t *res,
                         const keel_app_t *app)
{
	keel_str_t p = keel_req_path(req);
	keel_str_t twin = p;
	if (p.len > 1 && p.ptr[p.len - 1] == '/') {
		twin.len--;
	} else {
		char *s = keel_arena_alloc(keel_req_arena(req), p.len + 1);
		if (!s)
			return 0;
		memcpy(s, p.ptr, p.len);
		s[p.len] = '/';
		twin = (keel_str_t){s, p.len + 1};
	}
	keel__match_t m;
	if (keel__router_match(app->router, keel_req_method(req), twin, &m) <
	            0 &&
	    m.allow == 0)
		return 0;
	char *loc =
	        make_location(keel_req_arena(req), twin, keel_req_query(req));
	if (!loc)
		return 0;
	keel_res_header(res, "Location", loc);
	return answer(res, 308, "");
}

/* The handler that stands in when no route serves the request. */
static int automatic(keel_req_t *req, keel_res_t *res, void *ud)
{
	const auto_ctx_t *a = ud;
	keel_http_method_t method = keel_req_method(req);
	if (method == KEEL_HTTP_OPTIONS &&
	    keel_str_eq(keel_req_path(req), KEEL_STR("*")))
		return answer_options(res,
		                      keel__router_methods(a->app->router));
	if (a->m->allow)
		return method == KEEL_HTTP_OPTIONS
		               ? answer_options(res, a->m->allow)
		               : answer_405(res, a->m->allow);
	int status = redirect_twin(req, res, a->app);
	return status ? status
	              : answer(res, 404, "{\"error\":\"not found\"}\n");
}

int keel_app_dispatch(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_app_t *app = ud;
	keel__match_t m;
	int status;
	req->route = NULL;
	req->params = NULL;
	req->nparams = 0;
	if (!app || !app->frozen) {
		KEEL_LOG_ERROR("app: dispatch before keel_app_freeze");
		return keel_res_error(res, 500, "internal server error");
	}
	if (keel__router_match(app->router, keel_req_method(req),
	                       keel_req_path(req), &m) == KEEL_OK) {
		const keel_route_t *r = m.value;
		req->route = r;
		req->params = m.params; /* on this frame: cleared below */
		req->nparams = m.nparams;
		status = keel__chain_run(r->chain, r->nchain, req, res, r->fn,
		                         r->own_ud ? r->ud : app->ud, r->name);
	} else {
		auto_ctx_t a = {app, &m};
		status = keel__chain_run(app->chain, app->nchain, req, res,
		                         automatic, &a, "router");
	}
	req->route = NULL;
	req->params = NULL;
	req->nparams = 0;
	return status;
}
