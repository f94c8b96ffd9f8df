/*
 * keel/openapi.h - the OpenAPI 3.1 document of an API, generated from the
 * same route specs the validator enforces (keel/validate.h), so the docs
 * say exactly what the server accepts.  Built once at start-up and served
 * as a static body (the app serves it at /openapi.json).
 *
 * What comes from where: each route's method and pattern give a path item
 * and its path parameters ({id:int} becomes an int64 integer even without
 * a spec; the ":type" suffix is dropped from the OpenAPI path); the spec
 * adds summary, description, tags, query and header parameters, the JSON
 * request body schema (types, required list, nullable as a type list with
 * "null", minLength/maxLength, minimum/maximum, pattern, enum, format,
 * nested objects and arrays, additionalProperties false when unknown keys
 * are rejected), the documented responses, and security.  Specs with a
 * `name` are published once under components/schemas and referenced with
 * $ref.  A route with parameters or a body also documents the 422 it can
 * answer, in the default error format, unless its spec lists 422 itself.
 * Security is an apiKey scheme in a header (RealWorld's
 * "Authorization: Token <jwt>"); optional security is written as the
 * alternatives "no credentials" or the token.
 */
#ifndef KEEL_OPENAPI_H
#define KEEL_OPENAPI_H

#include "keel/app.h"
#include "keel/buf.h"
#include "keel/http.h"
#include "keel/validate.h"

/** The document's info object and its security scheme; NULLs omitted. */
typedef struct keel_openapi_info {
	const char *title;   /* required by OpenAPI; NULL: "API" */
	const char *version; /* of the API, not of OpenAPI; NULL: "0.0.0" */
	const char *description;
	const char *server_url;  /* servers[0].url, e.g. "/api"; NULL: none */
	const char *auth_scheme; /* securitySchemes key; NULL: "Token" */
	const char *auth_header; /* header carrying it; NULL: "Authorization" */
	const char *auth_description;
} keel_openapi_info_t;

/** One route to document: method, router pattern, handler name, spec. */
typedef struct keel_openapi_route {
	keel_http_method_t method;
	const char *pattern;           /* "/api/articles/{slug}" */
	const char *handler;           /* operationId; NULL or "-": none */
	const keel_route_spec_t *spec; /* NULL: path and parameters only */
} keel_openapi_route_t;

/**
 * Build the document as a jansson value (the caller owns the reference).
 * NULL on failure, with the reason code in *err when err is not NULL:
 * KEEL_EINVAL (a pattern with an unclosed brace, TRACE/CONNECT, an example
 * or default that does not parse), KEEL_EEXIST (the same method and path
 * twice, two specs sharing a name), KEEL_ELIMIT (an unnamed spec that
 * contains itself), KEEL_ENOMEM.
 */
KEEL_API json_t *keel_openapi_build(const keel_openapi_info_t *info,
                                    const keel_openapi_route_t *routes,
                                    size_t n, int *err);

/**
 * Append the document for `routes[0..n)` as compact JSON to `out`.
 * Returns 0, an error of keel_openapi_build, or KEEL_ELIMIT when `out`
 * is capped below its size; `out` is unchanged on failure.
 */
KEEL_API int keel_openapi_write(keel_buf_t *out,
                                const keel_openapi_info_t *info,
                                const keel_openapi_route_t *routes, size_t n);

/**
 * keel_openapi_write for every route of `app` (keel_app_routes_each
 * order); each route's spec must be a keel_route_spec_t or NULL.
 */
KEEL_API int keel_openapi_write_app(keel_buf_t *out,
                                    const keel_openapi_info_t *info,
                                    const keel_app_t *app);

/**
 * Serve the app's OpenAPI document at `path` (e.g. "/openapi.json"):
 * registers a GET route whose answer is generated from the route table
 * and specs on first request and cached.  `info` must outlive the app.
 * Returns the route, or NULL (registration refused, or no memory).
 */
KEEL_API keel_route_t *keel_app_openapi(keel_app_t *app, const char *path,
                                        const keel_openapi_info_t *info);

#endif
