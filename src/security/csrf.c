/*
 * CSRF protection: an Origin (or Referer) check plus a synchronizer token
 * bound to the server-side session (keel/csrf.h).
 *
 * Both checks must pass on an unsafe method.  The origin check is cheap
 * and stops forged requests even before a session exists (login CSRF);
 * the token check does not depend on browsers sending Origin at all.
 */
#include <sodium.h>
#include <string.h>

#include "keel/csrf.h"
#include "keel/form.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/session.h"

static const keel_csrf_opts_t default_opts = {
        .origins = NULL,
        .header = "X-CSRF-Token",
        .field = "csrf_token",
};

void keel_csrf_opts_init(keel_csrf_opts_t *opts)
{
	*opts = default_opts;
}

/* Methods that by HTTP's rules do not change state, so a forged one can
 * do no harm (as long as handlers keep that rule). */
static bool safe_method(keel_http_method_t m)
{
	return m == KEEL_HTTP_GET || m == KEEL_HTTP_HEAD ||
	       m == KEEL_HTTP_OPTIONS || m == KEEL_HTTP_TRACE;
}

/* ------------------------------------------------------------ origins */

/* "scheme://authority" of a URL: the slice up to the first '/', '?' or
 * '#' after "://"; empty when there is no "://" or the authority is empty
 * or holds userinfo ('@'), which no browser sends. */
static keel_str_t origin_of_url(keel_str_t url)
{
	const char *sep = memmem(url.ptr, url.len, "://", 3);
	if (!sep)
		return (keel_str_t){"", 0};
	size_t start = (size_t)(sep - url.ptr) + 3, i = start;
	while (i < url.len && !strchr("/?#", url.ptr[i]))
		i++;
	keel_str_t auth = keel_str_sub(url, start, i - start);
	if (start == 3 || auth.len == 0 || keel_str_index(auth, '@') >= 0)
		return (keel_str_t){"", 0};
	return keel_str_sub(url, 0, i);
}

/* With no list, the site is whatever Host the request was sent to; the
 * scheme is not checked because behind a TLS proxy keel cannot always
 * tell, and an attacker who can serve pages on this very host over
 * plain HTTP has already won. */
static bool same_host(const keel_req_t *req, keel_str_t origin)
{
	keel_str_t host, rest = origin;
	if (keel_req_header(req, "Host", &host) < 0 || host.len == 0)
		return false;
	if (keel_str_has_prefix(rest, KEEL_STR("https://")))
		rest = keel_str_sub(rest, 8, rest.len);
	else if (keel_str_has_prefix(rest, KEEL_STR("http://")))
		rest = keel_str_sub(rest, 7, rest.len);
	else
		return false;
	return keel_str_eq_nocase(rest, host);
}

static bool origin_allowed(const keel_req_t *req, const keel_csrf_opts_t *o,
                           keel_str_t origin)
{
	if (origin.len == 0)
		return false;
	if (!o->origins)
		return same_host(req, origin);
	for (const char *const *p = o->origins; *p; p++)
		if (keel_str_eq_nocase(keel_str_from_cstr(*p), origin))
			return true;
	return false;
}

/* Origin first; the Referer only when Origin is absent (older browsers,
 * some same-origin requests).  Neither: nothing to check here. */
static int check_origin(const keel_req_t *req, const keel_csrf_opts_t *o,
                        const char **why)
{
	keel_str_t v;
	if (keel_req_header(req, "Origin", &v) == 0) {
		if (origin_allowed(req, o, keel_str_trim(v)))
			return KEEL_OK;
		*why = "origin not allowed";
		return KEEL_EINVAL;
	}
	if (keel_req_header(req, "Referer", &v) < 0)
		return KEEL_OK;
	if (origin_allowed(req, o, origin_of_url(keel_str_trim(v))))
		return KEEL_OK;
	*why = "referer not allowed";
	return KEEL_EINVAL;
}

/* ------------------------------------------------------------- tokens */

/* The header wins; otherwise the urlencoded form field.  Empty when the
 * request carries neither. */
static keel_str_t sent_token(keel_req_t *req, const keel_csrf_opts_t *o)
{
	keel_str_t v = {"", 0};
	keel_form_t form;
	if (keel_req_header(req, o->header ? o->header : default_opts.header,
	                    &v) == 0)
		return keel_str_trim(v);
	if (keel_req_form(req, &form) != 0 || /* 415 unless urlencoded */
	    keel_form_get(&form, o->field ? o->field : default_opts.field, &v) <
	            0)
		return (keel_str_t){"", 0};
	return v;
}

static int check_token(keel_req_t *req, const keel_csrf_opts_t *o,
                       const char **why)
{
	keel_str_t want, got = sent_token(req, o);
	keel_session_t *s = keel_session_get(req);
	if (got.len == 0) {
		*why = "token missing";
		return KEEL_EINVAL;
	}
	if (!s || keel_session_get_str(s, KEEL_SESSION_CSRF_KEY, &want) < 0) {
		*why = "token stale"; /* no session, or rotated since */
		return KEEL_EINVAL;
	}
	if (got.len != want.len ||
	    sodium_memcmp(got.ptr, want.ptr, want.len) != 0) {
		*why = "token invalid";
		return KEEL_EINVAL;
	}
	return KEEL_OK;
}

int keel_csrf_check(keel_req_t *req, const keel_csrf_opts_t *opts,
                    const char **why)
{
	const char *dummy;
	keel_str_t auth;
	const keel_csrf_opts_t *o = opts ? opts : &default_opts;
	if (!why)
		why = &dummy;
	*why = "";
	if (!req)
		return KEEL_EINVAL;
	if (safe_method(keel_req_method(req)))
		return KEEL_OK;
	if (keel_req_header(req, "Authorization", &auth) == 0)
		return KEEL_OK; /* no ambient credential: see keel/csrf.h */
	int rc = check_origin(req, o, why);
	return rc < 0 ? rc : check_token(req, o, why);
}

/* --------------------------------------------------------- middleware */

static int csrf_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	const char *why;
	if (keel_csrf_check(req, ud, &why) == KEEL_OK)
		return KEEL_NEXT;
	return keel_errors_write(req, res, 403, "csrf", why);
}

keel_middleware_t keel_mw_csrf(const keel_csrf_opts_t *opts)
{
	return (keel_middleware_t){.name = "csrf",
	                           .before = csrf_before,
	                           .ud = (void *)(opts ? opts : &default_opts)};
}

/* Minted once per session (and again after a rotation), so every open
 * tab's forms keep working; a per-request token would break back
 * buttons and parallel tabs for no real gain. */
const char *keel_csrf_token(keel_req_t *req)
{
	unsigned char raw[32];
	char tok[KEEL_CSRF_TOKEN_LEN + 1];
	keel_str_t v;
	keel_session_t *s = keel_session_start(req);
	if (!s)
		return NULL;
	if (keel_session_get_str(s, KEEL_SESSION_CSRF_KEY, &v) == 0)
		return keel_arena_strndup(keel_req_arena(req), v);
	if (sodium_init() < 0)
		return NULL;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(tok, sizeof(tok), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	v = (keel_str_t){tok, KEEL_CSRF_TOKEN_LEN};
	if (keel_session_set_str(s, KEEL_SESSION_CSRF_KEY, v) < 0)
		return NULL;
	return keel_arena_strndup(keel_req_arena(req), v);
}
