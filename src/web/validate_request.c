/*
 * Validation against a live request: the parameter getter that reads path
 * parameters, the query string and headers, and the one-call entry point a
 * handler starts with (parse JSON, validate everything, answer failures).
 */
#include "keel/json.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/res.h"
#include "validate_int.h"

/*
 * The first pair named `name`, decoded into a fresh arena buffer: values
 * found are only read until the next lookup, but a buffer per lookup
 * keeps them valid for the whole walk at the cost of query-sized chunks.
 */
static int query_get(keel_req_t *req, const char *name, keel_str_t *value,
                     keel_arena_t *arena)
{
	keel_str_t query = keel_req_query(req);
	keel_str_t want = keel_str_from_cstr(name);
	if (query.len == 0)
		return KEEL_ENOENT;
	char *buf = keel_arena_alloc(arena, query.len + 1);
	if (!buf)
		return KEEL_ENOMEM;
	keel_http_query_iter_t it;
	keel_str_t key, val;
	int rc;
	keel_http_query_init(&it, query);
	while ((rc = keel_http_query_next(&it, buf, query.len + 1, &key,
	                                  &val)) != KEEL_ENOENT)
		if (rc == 0 && keel_str_eq(key, want)) {
			*value = val;
			return 0;
		}
	return KEEL_ENOENT;
}

/* A router parameter is never empty, so an empty slice means "absent". */
static int req_get(void *ctx, keel_param_in_t in, const char *name,
                   keel_str_t *value, keel_arena_t *arena)
{
	keel_req_t *req = ctx;
	switch (in) {
	case KEEL_IN_PATH:
		*value = keel_req_param(req, name);
		return value->len ? 0 : KEEL_ENOENT;
	case KEEL_IN_QUERY: return query_get(req, name, value, arena);
	case KEEL_IN_HEADER: return keel_req_header(req, name, value);
	}
	return KEEL_ENOENT;
}

int keel_validate_params(const keel_route_spec_t *spec, keel_req_t *req,
                         void *out, keel_verrors_t *errs)
{
	return keel_validate_params_from(spec, req_get, req, out,
	                                 keel_req_arena(req), errs);
}

/* Both halves run even when the first fails, so one 422 lists all. */
int keel_validate_inputs(const keel_route_spec_t *spec, keel_req_t *req,
                         const json_t *root, void *params_out, void *body_out,
                         keel_verrors_t *errs)
{
	int rc = keel_validate_params(spec, req, params_out, errs);
	if (rc != 0 && rc != KEEL_EINVAL)
		return rc;
	if (!spec->body)
		return rc;
	int brc = keel_validate_body(spec->body, root, body_out,
	                             keel_req_arena(req), errs);
	return brc != 0 ? brc : rc;
}

/*
 * Failures answer in the app's one error format (keel_errors_set_format),
 * so a 422 from validation looks like every other error the app sends,
 * unless the app chose a validation-specific format.
 */
static int respond_invalid(keel_req_t *req, keel_res_t *res,
                           const keel_verrors_t *errs)
{
	if (keel__verrors_format_chosen())
		return keel_verrors_respond(res, errs, NULL, NULL);
	size_t n = errs->count;
	keel_error_item_t *items = keel_arena_calloc(keel_req_arena(req),
	                                             n ? n : 1, sizeof(*items));
	if (!items)
		return keel_res_error(res, 500, "Internal Server Error");
	for (size_t i = 0; i < n; i++)
		items[i] = (keel_error_item_t){errs->items[i].path,
		                               errs->items[i].message};
	return keel_errors_write_list(req, res, 422, items, n);
}

int keel_validate_request(keel_req_t *req, keel_res_t *res,
                          const keel_route_spec_t *spec, void *params_out,
                          void *body_out)
{
	json_t *root = NULL;
	keel_json_error_t jerr;
	if (spec->body && keel_req_json(req, &root, &jerr) < 0)
		return keel_errors_write(req, res, jerr.status, "body",
		                         jerr.message);
	keel_verrors_t errs;
	keel_verrors_init(&errs, keel_req_arena(req));
	int rc = keel_validate_inputs(spec, req, root, params_out, body_out,
	                              &errs);
	if (rc == 0)
		return 0;
	if (rc == KEEL_EINVAL)
		return respond_invalid(req, res, &errs);
	KEEL_LOG_ERROR("validation of request %s failed: %s", keel_req_id(req),
	               keel_strerror(rc));
	return keel_res_error(res, 500, "Internal Server Error");
}
