/*
 * CORS: the server's side of the browser's cross-origin checks.  The
 * before hook answers preflights (or refuses them) and puts the
 * Allow-Origin headers on other requests early, so a streamed response
 * has them too; the after hook adds whatever a handler's keel_res_error
 * dropped.  Every decision is a pure function of the request's Origin,
 * Access-Control-Request-* headers and the policy, so the same request
 * always gets the same answer and Vary can say exactly what it depends on.
 */
#include <stdio.h>
#include <string.h>

#include "http/conn.h"
#include "keel/cors.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/res.h"

#define DEFAULT_METHODS "GET, HEAD, POST, PUT, PATCH, DELETE"
#define DEFAULT_HEADERS "Content-Type, Authorization"

static const keel_cors_opts_t default_opts = {
        .origins = NULL,
        .methods = DEFAULT_METHODS,
        .headers = DEFAULT_HEADERS,
        .expose = NULL,
        .max_age = 600,
        .credentials = false,
};

void keel_cors_opts_init(keel_cors_opts_t *opts)
{
	*opts = default_opts;
}

static const char *methods_of(const keel_cors_opts_t *o)
{
	return o->methods ? o->methods : DEFAULT_METHODS;
}

static const char *headers_of(const keel_cors_opts_t *o)
{
	return o->headers ? o->headers : DEFAULT_HEADERS;
}

/* ----------------------------------------------------------- lists */

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(keel_str_t s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!tchar((unsigned char)s.ptr[i]))
			return false;
	return true;
}

/* Every element of a comma-separated list is a token; empty elements
 * (",,", a trailing comma) are tolerated as RFC 9110 asks of recipients. */
static bool token_list_valid(keel_str_t list)
{
	while (list.len) {
		keel_str_t item = keel_str_trim(keel_str_cut(&list, ','));
		if (item.len && !is_token(item))
			return false;
	}
	return true;
}

static bool list_has(keel_str_t list, keel_str_t tok, bool nocase)
{
	while (list.len) {
		keel_str_t item = keel_str_trim(keel_str_cut(&list, ','));
		if (nocase ? keel_str_eq_nocase(item, tok)
		           : keel_str_eq(item, tok))
			return true;
	}
	return false;
}

/* -------------------------------------------------------- origins */

static bool is_wildcard(const keel_cors_opts_t *o)
{
	for (const char *const *p = o->origins; p && *p; p++)
		if (strcmp(*p, "*") == 0)
			return true;
	return false;
}

bool keel_cors_origin_allowed(const keel_cors_opts_t *opts, keel_str_t origin)
{
	const keel_cors_opts_t *o = opts ? opts : &default_opts;
	if (origin.len == 0)
		return false;
	if (is_wildcard(o))
		return true;
	if (keel_str_eq_nocase(origin, KEEL_STR("null")))
		return false;
	for (const char *const *p = o->origins; p && *p; p++)
		if (keel_str_eq_nocase(keel_str_from_cstr(*p), origin))
			return true;
	return false;
}

/* scheme "://" host [":" port]: what a browser serialises; a path or a
 * trailing '/' is the usual typo and would never match. */
static bool origin_well_formed(keel_str_t s)
{
	ptrdiff_t colon = keel_str_index(s, ':');
	if (colon <= 0 ||
	    !keel_str_has_prefix(keel_str_sub(s, (size_t)colon, s.len),
	                         KEEL_STR("://")))
		return false;
	keel_str_t rest = keel_str_sub(s, (size_t)colon + 3, s.len);
	if (rest.len == 0)
		return false;
	for (size_t i = 0; i < rest.len; i++) {
		unsigned char c = (unsigned char)rest.ptr[i];
		if (c <= ' ' || c >= 0x7f || strchr("/?#@\\", c))
			return false;
	}
	return true;
}

int keel_cors_opts_check(const keel_cors_opts_t *opts)
{
	const keel_cors_opts_t *o = opts ? opts : &default_opts;
	if (o->credentials && is_wildcard(o))
		return KEEL_EINVAL;
	for (const char *const *p = o->origins; p && *p; p++) {
		keel_str_t s = keel_str_from_cstr(*p);
		if (!keel_str_eq(s, KEEL_STR("*")) && !origin_well_formed(s))
			return KEEL_EINVAL;
	}
	if (!token_list_valid(keel_str_from_cstr(methods_of(o))) ||
	    !token_list_valid(keel_str_from_cstr(headers_of(o))) ||
	    (o->expose && !token_list_valid(keel_str_from_cstr(o->expose))))
		return KEEL_EINVAL;
	return 0;
}

/* -------------------------------------------------------- headers */

/* Vary may come as several fields; any of them naming the token (or
 * "*") already says it. */
static bool vary_has(const keel_res_t *res, keel_str_t tok)
{
	keel_str_t all = {res->headers.data, res->headers.len};
	while (all.len) {
		keel_str_t line = keel_str_cut(&all, '\n');
		keel_str_t name = keel_str_cut(&line, ':');
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (keel_str_eq_nocase(keel_str_trim(name), KEEL_STR("Vary")) &&
		    (list_has(line, tok, true) ||
		     list_has(line, KEEL_STR("*"), false)))
			return true;
	}
	return false;
}

static void add_vary(keel_res_t *res, const char *tok)
{
	if (!vary_has(res, keel_str_from_cstr(tok)))
		keel_res_header(res, "Vary", tok);
}

/* The one place Allow-Origin is written: "*" alone for a wildcard (even
 * if credentials were asked for), the request's own Origin otherwise. */
static void allow_origin(keel_res_t *res, const keel_cors_opts_t *o,
                         keel_str_t origin)
{
	if (is_wildcard(o)) {
		keel_res_header(res, "Access-Control-Allow-Origin", "*");
		return;
	}
	keel_res_header_str(res, KEEL_STR("Access-Control-Allow-Origin"),
	                    origin);
	if (o->credentials)
		keel_res_header(res, "Access-Control-Allow-Credentials",
		                "true");
}

/* ------------------------------------------------------ preflight */

static bool is_preflight(const keel_req_t *req)
{
	keel_str_t v;
	return keel_req_method(req) == KEEL_HTTP_OPTIONS &&
	       keel_req_header(req, "Origin", &v) == 0 &&
	       keel_req_header(req, "Access-Control-Request-Method", &v) == 0;
}

static bool headers_allowed(const keel_cors_opts_t *o, keel_str_t asked)
{
	keel_str_t allowed = keel_str_from_cstr(headers_of(o));
	if (!token_list_valid(asked))
		return false;
	if (keel_str_eq(keel_str_trim(allowed), KEEL_STR("*")))
		return true;
	while (asked.len) {
		keel_str_t item = keel_str_trim(keel_str_cut(&asked, ','));
		if (item.len && !list_has(allowed, item, true))
			return false;
	}
	return true;
}

/* Why refused, or NULL: the reason goes into the 403 body for whoever
 * debugs it; browsers only see the missing Allow-Origin. */
static const char *preflight_refusal(const keel_req_t *req,
                                     const keel_cors_opts_t *o)
{
	keel_str_t origin, method, asked = {"", 0};
	keel_req_header(req, "Origin", &origin);
	keel_req_header(req, "Access-Control-Request-Method", &method);
	keel_req_header(req, "Access-Control-Request-Headers", &asked);
	if (!keel_cors_origin_allowed(o, origin))
		return "origin not allowed";
	method = keel_str_trim(method);
	if (!is_token(method) ||
	    !list_has(keel_str_from_cstr(methods_of(o)), method, false))
		return "method not allowed";
	if (!headers_allowed(o, asked))
		return "request header not allowed";
	return NULL;
}

static int preflight(keel_req_t *req, keel_res_t *res,
                     const keel_cors_opts_t *o)
{
	keel_str_t origin, asked = {"", 0};
	if (!is_wildcard(o))
		add_vary(res, "Origin");
	add_vary(res, "Access-Control-Request-Method");
	add_vary(res, "Access-Control-Request-Headers");
	const char *why = preflight_refusal(req, o);
	if (why)
		return keel_errors_write(req, res, 403, "cors", why);
	keel_req_header(req, "Origin", &origin);
	keel_req_header(req, "Access-Control-Request-Headers", &asked);
	allow_origin(res, o, origin);
	keel_res_header(res, "Access-Control-Allow-Methods", methods_of(o));
	asked = keel_str_trim(asked);
	if (strcmp(headers_of(o), "*") != 0)
		keel_res_header(res, "Access-Control-Allow-Headers",
		                headers_of(o));
	else if (asked.len)
		keel_res_header_str(
		        res, KEEL_STR("Access-Control-Allow-Headers"), asked);
	if (o->max_age >= 0) {
		char v[24];
		snprintf(v, sizeof(v), "%lld", (long long)o->max_age);
		keel_res_header(res, "Access-Control-Max-Age", v);
	}
	keel_res_body(res, "", 0);
	return 204;
}

/* ---------------------------------------------------------- hooks */

/* Idempotent, so both hooks can call it: the before hook for streamed
 * responses, the after hook for handlers that reset their headers. */
static void actual_headers(keel_req_t *req, keel_res_t *res,
                           const keel_cors_opts_t *o)
{
	keel_str_t origin = {"", 0}, v;
	bool wild = is_wildcard(o);
	if (!wild)
		add_vary(res, "Origin");
	if (!wild && (keel_req_header(req, "Origin", &origin) < 0 ||
	              !keel_cors_origin_allowed(o, origin)))
		return;
	if (keel_res_header_get(res, "Access-Control-Allow-Origin", &v) == 0)
		return;
	allow_origin(res, o, origin);
	if (o->expose && *o->expose)
		keel_res_header(res, "Access-Control-Expose-Headers",
		                o->expose);
}

static int cors_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	const keel_cors_opts_t *o = ud ? ud : &default_opts;
	if (is_preflight(req))
		return preflight(req, res, o);
	actual_headers(req, res, o);
	return KEEL_NEXT;
}

static void cors_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	const keel_cors_opts_t *o = ud ? ud : &default_opts;
	if (keel_res_committed(res) || is_preflight(req))
		return;
	actual_headers(req, res, o);
}

keel_middleware_t keel_mw_cors(const keel_cors_opts_t *opts)
{
	return (keel_middleware_t){
	        .name = "cors",
	        .before = cors_before,
	        .after = cors_after,
	        .ud = (void *)opts,
	};
}
