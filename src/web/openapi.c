/*
 * The OpenAPI 3.1 document (keel_openapi_build / keel_openapi_write): one
 * path item per route pattern, one operation per method, built with
 * jansson (it is generated once at start-up, so clarity beats speed) and
 * serialised compactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_int.h"

/* The spec's declaration of parameter `name` in `in`, if it has one. */
static const keel_field_t *spec_param(const keel_route_spec_t *spec,
                                      keel_param_in_t in, const char *name,
                                      size_t len)
{
	for (size_t i = 0; spec && i < spec->n_params; i++) {
		const keel_param_t *p = &spec->params[i];
		if (p->in == in && strlen(p->field.name) == len &&
		    !memcmp(p->field.name, name, len))
			return &p->field;
	}
	return NULL;
}

static json_t *param_object(keel__oa_t *g, const char *name, size_t len,
                            const char *in, bool required, json_t *schema)
{
	json_t *o = json_pack("{s:s%,s:s,s:b,s:o}", "name", name, len, "in", in,
	                      "required", required, "schema", schema);
	return o ? o : keel__oa_fail(g, KEEL_ENOMEM);
}

static json_t *path_param(keel__oa_t *g, const keel_route_spec_t *spec,
                          const char *name, size_t len, const char *type)
{
	const keel_field_t *f = spec_param(spec, KEEL_IN_PATH, name, len);
	json_t *schema;
	if (f)
		schema = keel__oa_field(g, f);
	else if (!strcmp(type, "int"))
		schema = json_pack("{s:s,s:s}", "type", "integer", "format",
		                   "int64");
	else
		schema = json_pack("{s:s}", "type", "string");
	json_t *o = param_object(g, name, len, "path", true, schema);
	if (o && f && f->description)
		keel__oa_set(g, o, "description", json_string(f->description));
	return o;
}

/*
 * "/a/{id:int}/{rest:path}" becomes "/a/{id}/{rest}" in `path` (room for
 * strlen(pattern) + 1 bytes) plus one required path parameter per brace,
 * typed from the suffix; a spec's own declaration of a path parameter
 * (description, rules) replaces the one derived here.
 */
static int convert_pattern(keel__oa_t *g, const keel_openapi_route_t *r,
                           char *path, json_t *params)
{
	const char *p = r->pattern;
	size_t o = 0;
	while (*p) {
		if (*p == '}')
			return KEEL_EINVAL;
		if (*p != '{') {
			path[o++] = *p++;
			continue;
		}
		const char *end = strchr(p, '}');
		if (!end || memchr(p + 1, '{', (size_t)(end - p - 1)))
			return KEEL_EINVAL;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t len = (size_t)((colon ? colon : end) - p - 1);
		if (len == 0)
			return KEEL_EINVAL;
		o += (size_t)snprintf(path + o, len + 3, "{%.*s}", (int)len,
		                      p + 1);
		const char *type =
		        colon && !strncmp(colon, ":int}", 5) ? "int" : "str";
		if (json_array_append_new(params, path_param(g, r->spec, p + 1,
		                                             len, type)) < 0)
			return g->err ? g->err : KEEL_ENOMEM;
		p = end + 1;
	}
	path[o] = '\0';
	return 0;
}

/* Query and header parameters of the spec, after the path ones. */
static void other_params(keel__oa_t *g, const keel_route_spec_t *spec,
                         json_t *params)
{
	for (size_t i = 0; spec && i < spec->n_params && !g->err; i++) {
		const keel_param_t *p = &spec->params[i];
		if (p->in == KEEL_IN_PATH)
			continue;
		const keel_field_t *f = &p->field;
		json_t *o = param_object(g, f->name, strlen(f->name),
		                         p->in == KEEL_IN_QUERY ? "query"
		                                                : "header",
		                         f->required, keel__oa_field(g, f));
		if (o && f->description)
			keel__oa_set(g, o, "description",
			             json_string(f->description));
		if (json_array_append_new(params, o) < 0)
			keel__oa_fail(g, KEEL_ENOMEM);
	}
}

static json_t *json_body(keel__oa_t *g, json_t *schema)
{
	json_t *c =
	        json_pack("{s:{s:o}}", "application/json", "schema", schema);
	return c ? c : keel__oa_fail(g, KEEL_ENOMEM);
}

/* The body keel_verrors_write_json produces. */
static json_t *errors_schema(void)
{
	return json_pack("{s:s,s:[s],s:{s:{s:s,s:{s:s,s:{s:s}}}}}", "type",
	                 "object", "required", "errors", "properties", "errors",
	                 "type", "object", "additionalProperties", "type",
	                 "array", "items", "type", "string");
}

static void add_response(keel__oa_t *g, json_t *responses, int status,
                         const char *text, json_t *schema)
{
	char key[16];
	const char *known = keel_http_status_text(status);
	snprintf(key, sizeof(key), "%d", status);
	json_t *r = json_pack("{s:s}", "description",
	                      text    ? text
	                      : known ? known
	                              : "Response");
	if (r && schema)
		keel__oa_set(g, r, "content", json_body(g, schema));
	else if (schema)
		json_decref(schema);
	keel__oa_set(g, responses, key, r);
}

static json_t *responses(keel__oa_t *g, const keel_route_spec_t *spec)
{
	json_t *rs = json_object();
	bool has422 = false;
	for (size_t i = 0; rs && spec && i < spec->n_responses; i++) {
		const keel_response_spec_t *r = &spec->responses[i];
		has422 |= r->status == 422;
		add_response(g, rs, r->status, r->description,
		             r->schema ? keel__oa_body(g, r->schema) : NULL);
	}
	if (rs && spec && !has422 && (spec->n_params || spec->body))
		add_response(g, rs, 422, "Validation failed", errors_schema());
	if (rs && json_object_size(rs) == 0)
		keel__oa_set(g, rs, "default",
		             json_pack("{s:s}", "description", "Response"));
	return rs ? rs : keel__oa_fail(g, KEEL_ENOMEM);
}

static json_t *security(keel__oa_t *g, const keel_openapi_info_t *info,
                        keel_security_t sec)
{
	const char *scheme =
	        info && info->auth_scheme ? info->auth_scheme : "Token";
	json_t *s = sec == KEEL_SEC_OPTIONAL ? json_pack("[{},{s:[]}]", scheme)
	                                     : json_pack("[{s:[]}]", scheme);
	return s ? s : keel__oa_fail(g, KEEL_ENOMEM);
}

/* operationIds must be unique; a handler serving two routes gets "_2"... */
static void operation_id(keel__oa_t *g, json_t *op, json_t *ids,
                         const char *handler)
{
	if (!handler || !strcmp(handler, "-"))
		return;
	size_t cap = strlen(handler) + 24;
	char *id = malloc(cap);
	if (!id) {
		keel__oa_fail(g, KEEL_ENOMEM);
		return;
	}
	snprintf(id, cap, "%s", handler);
	for (int n = 2; json_object_get(ids, id); n++)
		snprintf(id, cap, "%s_%d", handler, n);
	keel__oa_set(g, ids, id, json_true());
	keel__oa_set(g, op, "operationId", json_string(id));
	free(id);
}

static void describe(keel__oa_t *g, json_t *op, const keel_route_spec_t *spec)
{
	if (spec->summary)
		keel__oa_set(g, op, "summary", json_string(spec->summary));
	if (spec->description)
		keel__oa_set(g, op, "description",
		             json_string(spec->description));
	json_t *tags = json_array();
	for (size_t i = 0; tags && spec->tags && spec->tags[i]; i++)
		if (json_array_append_new(tags, json_string(spec->tags[i])) < 0)
			keel__oa_fail(g, KEEL_ENOMEM);
	if (tags && json_array_size(tags))
		keel__oa_set(g, op, "tags", tags);
	else
		json_decref(tags);
	if (spec->deprecated)
		keel__oa_set(g, op, "deprecated", json_true());
}

static json_t *operation(keel__oa_t *g, const keel_openapi_info_t *info,
                         const keel_openapi_route_t *r, json_t *params,
                         json_t *ids)
{
	const keel_route_spec_t *spec = r->spec;
	json_t *op = json_object();
	if (!op)
		return keel__oa_fail(g, KEEL_ENOMEM);
	operation_id(g, op, ids, r->handler);
	if (spec)
		describe(g, op, spec);
	other_params(g, spec, params);
	if (json_array_size(params))
		keel__oa_set(g, op, "parameters", json_incref(params));
	if (spec && spec->body)
		keel__oa_set(
		        g, op, "requestBody",
		        json_pack("{s:b,s:o}", "required", 1, "content",
		                  json_body(g, keel__oa_body(g, spec->body))));
	keel__oa_set(g, op, "responses", responses(g, spec));
	if (spec && spec->security != KEEL_SEC_NONE)
		keel__oa_set(g, op, "security",
		             security(g, info, spec->security));
	return op;
}

static const char *method_key(keel_http_method_t m)
{
	switch (m) {
	case KEEL_HTTP_GET: return "get";
	case KEEL_HTTP_HEAD: return "head";
	case KEEL_HTTP_POST: return "post";
	case KEEL_HTTP_PUT: return "put";
	case KEEL_HTTP_PATCH: return "patch";
	case KEEL_HTTP_DELETE: return "delete";
	case KEEL_HTTP_OPTIONS: return "options";
	default: return NULL;
	}
}

/* One route: its path item (shared by the methods of one pattern), then
 * the operation under the method's key. */
static int add_route(keel__oa_t *g, const keel_openapi_info_t *info,
                     json_t *paths, json_t *ids, const keel_openapi_route_t *r)
{
	const char *method = method_key(r->method);
	if (!method || !r->pattern)
		return KEEL_EINVAL;
	char *path = malloc(strlen(r->pattern) + 1);
	json_t *params = json_array();
	int rc = path && params ? convert_pattern(g, r, path, params)
	                        : KEEL_ENOMEM;
	json_t *item = rc == 0 ? json_object_get(paths, path) : NULL;
	if (rc == 0 && !item) {
		item = json_object();
		keel__oa_set(g, paths, path, item);
	}
	if (rc == 0 && item && json_object_get(item, method))
		rc = KEEL_EEXIST;
	if (rc == 0 && item)
		keel__oa_set(g, item, method,
		             operation(g, info, r, params, ids));
	free(path);
	json_decref(params);
	return rc ? rc : g->err;
}

static json_t *info_object(const keel_openapi_info_t *info)
{
	json_t *o = json_pack(
	        "{s:s,s:s}", "title", info && info->title ? info->title : "API",
	        "version", info && info->version ? info->version : "0.0.0");
	if (o && info && info->description &&
	    json_object_set_new(o, "description",
	                        json_string(info->description)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *scheme_object(keel__oa_t *g, const keel_openapi_info_t *info)
{
	const keel_openapi_info_t none = {0};
	if (!info)
		info = &none;
	json_t *s = json_pack(
	        "{s:s,s:s,s:s}", "type", "apiKey", "in", "header", "name",
	        info->auth_header ? info->auth_header : "Authorization");
	if (s && info->auth_description)
		keel__oa_set(g, s, "description",
		             json_string(info->auth_description));
	return json_pack("{s:o}",
	                 info->auth_scheme ? info->auth_scheme : "Token", s);
}

/* components holds what was met on the way: named schemas, and the token
 * scheme when some operation uses it. */
static void components(keel__oa_t *g, json_t *doc,
                       const keel_openapi_info_t *info, bool secured)
{
	json_t *c = json_object();
	if (c && json_object_size(g->schemas))
		keel__oa_set(g, c, "schemas", json_incref(g->schemas));
	if (c && secured)
		keel__oa_set(g, c, "securitySchemes", scheme_object(g, info));
	if (c && json_object_size(c) == 0)
		json_decref(c);
	else
		keel__oa_set(g, doc, "components", c);
}

static json_t *document(keel__oa_t *g, const keel_openapi_info_t *info,
                        const keel_openapi_route_t *routes, size_t n)
{
	json_t *doc = json_pack("{s:s,s:o,s:{}}", "openapi", "3.1.0", "info",
	                        info_object(info), "paths");
	json_t *ids = json_object();
	bool secured = false;
	if (!doc || !ids || !g->schemas)
		keel__oa_fail(g, KEEL_ENOMEM);
	if (doc && info && info->server_url)
		keel__oa_set(g, doc, "servers",
		             json_pack("[{s:s}]", "url", info->server_url));
	for (size_t i = 0; i < n && !g->err; i++) {
		int rc = add_route(g, info, json_object_get(doc, "paths"), ids,
		                   &routes[i]);
		if (rc < 0)
			keel__oa_fail(g, rc);
		secured |= routes[i].spec &&
		           routes[i].spec->security != KEEL_SEC_NONE;
	}
	if (!g->err)
		components(g, doc, info, secured);
	json_decref(ids);
	return doc;
}

json_t *keel_openapi_build(const keel_openapi_info_t *info,
                           const keel_openapi_route_t *routes, size_t n,
                           int *err)
{
	keel__oa_t g = {.schemas = json_object()};
	json_t *doc = document(&g, info, routes, n);
	json_decref(g.schemas);
	free(g.named);
	if (err)
		*err = g.err;
	if (g.err) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int keel_openapi_write(keel_buf_t *out, const keel_openapi_info_t *info,
                       const keel_openapi_route_t *routes, size_t n)
{
	int rc;
	json_t *doc = keel_openapi_build(info, routes, n, &rc);
	if (!doc)
		return rc;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	rc = text ? keel_buf_append(out, text, strlen(text)) : KEEL_ENOMEM;
	free(text);
	return rc;
}
