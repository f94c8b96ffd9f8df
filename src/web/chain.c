/*
 * The middleware chain: the decorator pattern applied to handlers.  Each
 * middleware wraps everything inside it; its before hook may answer
 * instead of the inner layers, and its after hook sees (and may rewrite)
 * whatever the inner layers answered.  Running the chain is a loop over
 * the route's flattened list, so a request pays no allocation for it.
 */
#include <stdio.h>

#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/validate.h"
#include "http/conn.h"
#include "web/app_int.h"

static bool final_status(int status)
{
	return status >= 200 && status <= 599;
}

/*
 * A handler or hook that fails must not leak why to the client: the body
 * it may have started is replaced by a generic 500 carrying only the
 * request id, which is also in the log next to the real reason.
 */
static void internal_error(keel_req_t *req, keel_res_t *res, int status,
                           const char *who)
{
	char body[128];
	const char *id = keel_req_id(req);
	KEEL_LOG_ERROR(
	        "request %s: %s answered %d (%s); sending 500", id, who, status,
	        status < 0 ? keel_strerror(status) : "not a final status");
	/* Whatever the failing code set may hold internals: drop it all. */
	keel_buf_reset(&res->headers);
	keel_res_error(res, 500, "internal server error");
	int n = snprintf(body, sizeof(body),
	                 "{\"error\":\"internal server error\","
	                 "\"request_id\":\"%s\"}\n",
	                 id);
	if (n > 0 && (size_t)n < sizeof(body))
		keel_res_body(res, body, (size_t)n);
}

/*
 * FastAPI's step: a route that declares its inputs gets them checked
 * before its handler runs, after the middleware (authentication may
 * decide first).  The filled structs live in the request's arena and are
 * handed over with keel_req_valid_params / keel_req_valid_body.
 */
static int validate_inputs(keel_req_t *req, keel_res_t *res)
{
	const keel_route_t *route = keel_req_route(req);
	const keel_route_spec_t *spec =
	        route ? keel_route_get_spec(route) : NULL;
	req->valid_params = req->valid_body = NULL;
	if (!spec)
		return KEEL_NEXT;
	keel_arena_t *a = keel_req_arena(req);
	size_t psize = spec->params_size ? spec->params_size : 1;
	size_t bsize = spec->body && spec->body->struct_size
	                       ? spec->body->struct_size
	                       : 1;
	void *params = keel_arena_calloc(a, 1, psize);
	void *body = keel_arena_calloc(a, 1, bsize);
	if (!params || !body)
		return keel_res_error(res, 500, "out of memory");
	int status = keel_validate_request(req, res, spec,
	                                   spec->params_size ? params : NULL,
	                                   spec->body ? body : NULL);
	if (status)
		return status;
	req->valid_params = params;
	req->valid_body = body;
	return KEEL_NEXT;
}

void *keel_req_valid_params(const keel_req_t *req)
{
	return req->valid_params;
}

void *keel_req_valid_body(const keel_req_t *req)
{
	return req->valid_body;
}

int keel__chain_run(const keel_middleware_t *const *chain, size_t n,
                    keel_req_t *req, keel_res_t *res, keel_handler_fn *fn,
                    void *ud, const char *who)
{
	size_t ran = 0;
	int status = KEEL_NEXT;
	while (ran < n && status == KEEL_NEXT) {
		const keel_middleware_t *mw = chain[ran++];
		if (mw->before) {
			status = mw->before(req, res, mw->ud);
			if (status != KEEL_NEXT && !final_status(status))
				who = mw->name ? mw->name : "middleware";
		}
	}
	if (status == KEEL_NEXT)
		status = validate_inputs(req, res);
	if (status == KEEL_NEXT)
		status = fn(req, res, ud);
	if (final_status(status))
		keel_res_status(res, status);
	else
		internal_error(req, res, status, who);
	while (ran > 0) {
		const keel_middleware_t *mw = chain[--ran];
		if (mw->after)
			mw->after(req, res, mw->ud);
	}
	return keel_res_get_status(res);
}
