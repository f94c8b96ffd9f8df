/*
 * Security headers: cheap, declarative defences the browser enforces.
 * nosniff stops a JSON or text body from being run as a script or page,
 * Referrer-Policy keeps full URLs (tokens in query strings) from leaking
 * to other sites, frame-ancestors / X-Frame-Options stop clickjacking, a
 * Content-Security-Policy on HTML limits where scripts may come from, and
 * HSTS tells a browser to use HTTPS only.  A handler that sets one of these
 * headers itself knows better, so its value is kept.
 */
#include <stdio.h>
#include <string.h>

#include "keel/mw.h"
#include "keel/res.h"

static const keel_mw_security_opts_t default_opts = {
        .referrer_policy = "strict-origin-when-cross-origin",
        .frame_options = "DENY",
        .frame_ancestors = "'none'",
        .csp_html = "default-src 'self'",
        .hsts_max_age = 0,
        .hsts_subdomains = false,
};

void keel_mw_security_opts_init(keel_mw_security_opts_t *opts)
{
	*opts = default_opts;
}

static void add_if_absent(keel_res_t *res, const char *name, const char *value)
{
	keel_str_t v;
	if (value && *value && keel_res_header_get(res, name, &v) < 0)
		keel_res_header(res, name, value);
}

static bool is_html(const keel_res_t *res)
{
	keel_str_t v;
	if (keel_res_header_get(res, "Content-Type", &v) < 0)
		return false;
	keel_str_t t = keel_str_trim(keel_str_cut(&v, ';'));
	return keel_str_eq_nocase(t, KEEL_STR("text/html")) ||
	       keel_str_eq_nocase(t, KEEL_STR("application/xhtml+xml"));
}

/* Only documents need a full policy (a JSON body runs nothing); framing
 * protection applies to everything a browser could put in a frame. */
static void add_csp(keel_res_t *res, const keel_mw_security_opts_t *o)
{
	keel_str_t v;
	if (keel_res_header_get(res, "Content-Security-Policy", &v) == 0)
		return;
	keel_buf_t b;
	keel_buf_init(&b, 8192);
	if (o->csp_html && *o->csp_html && is_html(res))
		keel_buf_append_str(&b, keel_str_from_cstr(o->csp_html));
	if (o->frame_ancestors && *o->frame_ancestors &&
	    !strstr(b.data, "frame-ancestors"))
		keel_buf_appendf(&b, "%sframe-ancestors %s", b.len ? "; " : "",
		                 o->frame_ancestors);
	if (b.len > 0)
		keel_res_header_str(res, KEEL_STR("Content-Security-Policy"),
		                    (keel_str_t){b.data, b.len});
	keel_buf_deinit(&b);
}

/* keel speaks plain HTTP behind a TLS-terminating proxy, which says in
 * X-Forwarded-Proto how the client reached it (the first hop's scheme
 * comes first).  Browsers ignore HSTS over plain HTTP anyway, so a forged
 * header gains nothing. */
static bool came_over_tls(const keel_req_t *req)
{
	keel_str_t v;
	if (keel_req_header(req, "X-Forwarded-Proto", &v) < 0)
		return false;
	keel_str_t first = keel_str_trim(keel_str_cut(&v, ','));
	return keel_str_eq_nocase(first, KEEL_STR("https"));
}

static void add_hsts(keel_req_t *req, keel_res_t *res,
                     const keel_mw_security_opts_t *o)
{
	if (o->hsts_max_age <= 0 || !came_over_tls(req))
		return;
	char v[96];
	snprintf(v, sizeof(v), "max-age=%lld%s", (long long)o->hsts_max_age,
	         o->hsts_subdomains ? "; includeSubDomains" : "");
	add_if_absent(res, "Strict-Transport-Security", v);
}

static void security_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	/* A streamed response's head is already out: nothing to add. */
	if (keel_res_committed(res))
		return;
	const keel_mw_security_opts_t *o = ud ? ud : &default_opts;
	add_if_absent(res, "X-Content-Type-Options", "nosniff");
	add_if_absent(res, "Referrer-Policy", o->referrer_policy);
	add_if_absent(res, "X-Frame-Options", o->frame_options);
	add_csp(res, o);
	add_hsts(req, res, o);
}

keel_middleware_t keel_mw_security(const keel_mw_security_opts_t *opts)
{
	return (keel_middleware_t){
	        .name = "security",
	        .after = security_after,
	        .ud = (void *)opts,
	};
}
