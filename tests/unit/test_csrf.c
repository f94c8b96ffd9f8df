/*
 * CSRF protection (src/security/csrf.c) with real sessions over an
 * in-memory database: safe methods pass, every unsafe method needs the
 * session's token (header or form field), a missing, wrong, stale or
 * other session's token is 403, Authorization-header requests are exempt,
 * and a foreign Origin (or Referer) is 403 even with the right token.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keel/app.h"
#include "keel/csrf.h"
#include "keel/db.h"
#include "keel/log.h"
#include "keel/migrate.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/session.h"
#include "keel/testclient.h"

static keel_db_t *cs_db;
static keel_app_t *cs_app;
static keel_test_t *cs_t;
static keel_session_opts_t cs_sopts;
static keel_csrf_opts_t cs_copts;
static const char *const cs_origins[] = {"https://app.example", NULL};

static int cs_form(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const char *tok = keel_csrf_token(req);
	if (!tok)
		return 500;
	keel_res_body(res, tok, strlen(tok));
	return 200;
}

static int cs_act(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	(void)req;
	keel_res_body(res, "done", 4);
	return 200;
}

static int cs_login(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_res_body(res, "in", 2);
	return keel_session_rotate(req) == 0 ? 200 : 500;
}

static void cs_build(const char *const *origins)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	cs_db = keel_db_open("sqlite::memory:", NULL, NULL);
	cr_assert_not_null(cs_db);
	size_t n;
	const keel_migration_t *m = keel_session_migrations(&n);
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(cs_db, &c), 0);
	cr_assert_eq(keel_migrate_apply(c, m, n, NULL), 0);
	keel_db_release(c);
	keel_session_opts_init(&cs_sopts);
	cs_sopts.db = cs_db;
	keel_csrf_opts_init(&cs_copts);
	cs_copts.origins = origins;
	cs_app = keel_app_new();
	keel_middleware_t s = keel_mw_session(&cs_sopts);
	keel_middleware_t x = keel_mw_csrf(&cs_copts);
	keel_app_use(cs_app, &s);
	keel_app_use(cs_app, &x);
	KEEL_GET(cs_app, "/form", cs_form);
	KEEL_GET(cs_app, "/act", cs_act);
	KEEL_POST(cs_app, "/act", cs_act);
	KEEL_PUT(cs_app, "/act", cs_act);
	KEEL_PATCH(cs_app, "/act", cs_act);
	KEEL_DELETE(cs_app, "/act", cs_act);
	KEEL_POST(cs_app, "/login", cs_login);
	cs_t = keel_test_new(cs_app);
}

static void cs_setup(void)
{
	cs_build(NULL);
}

static void cs_setup_origins(void)
{
	cs_build(cs_origins);
}

static void cs_teardown(void)
{
	keel_test_free(cs_t);
	keel_app_free(cs_app);
	keel_db_close(cs_db);
}

TestSuite(csrf, .init = cs_setup, .fini = cs_teardown);
TestSuite(csrf_origins, .init = cs_setup_origins, .fini = cs_teardown);

/* A session: its "session=..." cookie pair and its token. */
typedef struct cs_sess {
	char cookie[128];
	char token[64];
} cs_sess_t;

static void cs_open(cs_sess_t *s)
{
	keel_test_result_t r;
	keel_str_t sc;
	cr_assert_eq(keel_test_get(cs_t, "/form", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &sc), 0);
	snprintf(s->cookie, sizeof(s->cookie), "%.*s",
	         (int)keel_str_index(sc, ';'), sc.ptr);
	snprintf(s->token, sizeof(s->token), "%s", r.body);
	cr_assert_eq(strlen(s->token), KEEL_CSRF_TOKEN_LEN);
	keel_test_result_free(&r);
}

/* Status of `method` /act with the given extra header lines and body. */
static int cs_send(const char *method, const char *target, const char *hdrs,
                   const char *body)
{
	keel_test_result_t r;
	cr_assert_eq(keel_test_request(cs_t, method, target, hdrs, body,
	                               body ? strlen(body) : 0, &r),
	             0);
	int st = r.status;
	if (st == 403)
		cr_assert(strstr(r.body, "csrf"), "%s", r.body);
	keel_test_result_free(&r);
	return st;
}

static int cs_with(const char *method, const cs_sess_t *s, const char *token,
                   const char *extra)
{
	char h[512];
	snprintf(h, sizeof(h), "Cookie: %s%s%s%s%s", s->cookie,
	         token ? "\nX-CSRF-Token: " : "", token ? token : "",
	         extra ? "\n" : "", extra ? extra : "");
	return cs_send(method, "/act", h, NULL);
}

Test(csrf, safe_methods_pass_without_token_or_origin)
{
	cr_assert_eq(cs_send("GET", "/act", NULL, NULL), 200);
	cr_assert_eq(
	        cs_send("GET", "/act", "Origin: https://evil.example", NULL),
	        200);
	cr_assert_eq(cs_send("HEAD", "/act", NULL, NULL), 200);
	cr_assert_eq(cs_send("OPTIONS", "/act", NULL, NULL), 204);
}

Test(csrf, unsafe_methods_need_the_token)
{
	cs_sess_t s;
	cs_open(&s);
	const char *methods[] = {"POST", "PUT", "PATCH", "DELETE"};
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(cs_with(methods[i], &s, NULL, NULL), 403, "%s",
		             methods[i]);
		cr_assert_eq(cs_with(methods[i], &s, s.token, NULL), 200, "%s",
		             methods[i]);
	}
	/* No cookie at all: nothing to compare with. */
	char h[128];
	snprintf(h, sizeof(h), "X-CSRF-Token: %s", s.token);
	cr_assert_eq(cs_send("POST", "/act", h, NULL), 403);
	cr_assert_eq(cs_send("POST", "/act", NULL, NULL), 403);
}

Test(csrf, token_in_the_form_field_passes)
{
	cs_sess_t s;
	char h[256], body[128];
	cs_open(&s);
	snprintf(h, sizeof(h),
	         "Cookie: %s\nContent-Type: application/x-www-form-urlencoded",
	         s.cookie);
	snprintf(body, sizeof(body), "title=hi&csrf_token=%s", s.token);
	cr_assert_eq(cs_send("POST", "/act", h, body), 200);
	cr_assert_eq(cs_send("POST", "/act", h, "title=hi"), 403);
	cr_assert_eq(cs_send("POST", "/act", h, "csrf_token=x"), 403);
	/* The right field in a JSON body does not count. */
	snprintf(h, sizeof(h), "Cookie: %s\nContent-Type: application/json",
	         s.cookie);
	snprintf(body, sizeof(body), "{\"csrf_token\":\"%s\"}", s.token);
	cr_assert_eq(cs_send("POST", "/act", h, body), 403);
}

Test(csrf, wrong_or_truncated_token_is_403)
{
	cs_sess_t s;
	char bad[80];
	cs_open(&s);
	snprintf(bad, sizeof(bad), "%s", s.token);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	cr_assert_eq(cs_with("POST", &s, bad, NULL), 403);
	bad[5] = s.token[5];
	bad[KEEL_CSRF_TOKEN_LEN - 1] = '\0';
	cr_assert_eq(cs_with("POST", &s, bad, NULL), 403);
	cr_assert_eq(cs_with("POST", &s, "", NULL), 403);
	snprintf(bad, sizeof(bad), "%sA", s.token);
	cr_assert_eq(cs_with("POST", &s, bad, NULL), 403);
}

Test(csrf, another_sessions_token_is_403)
{
	cs_sess_t a, b;
	cs_open(&a);
	cs_open(&b);
	cr_assert_str_neq(a.token, b.token);
	cr_assert_eq(cs_with("POST", &a, b.token, NULL), 403);
	cr_assert_eq(cs_with("POST", &b, a.token, NULL), 403);
	cr_assert_eq(cs_with("POST", &a, a.token, NULL), 200);
}

Test(csrf, token_is_stable_per_session_and_stale_after_login)
{
	cs_sess_t s;
	char h[256];
	keel_test_result_t r;
	cs_open(&s);
	snprintf(h, sizeof(h), "Cookie: %s", s.cookie);
	keel_test_request(cs_t, "GET", "/form", h, NULL, 0, &r);
	cr_assert_str_eq(r.body, s.token, "token changed within a session");
	keel_test_result_free(&r);
	/* Login rotates the session; the pre-login token dies with it. */
	snprintf(h, sizeof(h), "Cookie: %s\nX-CSRF-Token: %s", s.cookie,
	         s.token);
	keel_test_request(cs_t, "POST", "/login", h, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	keel_str_t sc;
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &sc), 0);
	cs_sess_t after;
	snprintf(after.cookie, sizeof(after.cookie), "%.*s",
	         (int)keel_str_index(sc, ';'), sc.ptr);
	keel_test_result_free(&r);
	cr_assert_eq(cs_with("POST", &after, s.token, NULL), 403);
	snprintf(h, sizeof(h), "Cookie: %s", after.cookie);
	keel_test_request(cs_t, "GET", "/form", h, NULL, 0, &r);
	snprintf(after.token, sizeof(after.token), "%s", r.body);
	keel_test_result_free(&r);
	cr_assert_str_neq(after.token, s.token);
	cr_assert_eq(cs_with("POST", &after, after.token, NULL), 200);
}

Test(csrf, authorization_header_requests_are_exempt)
{
	cr_assert_eq(cs_send("POST", "/act", "Authorization: Token abc", NULL),
	             200);
	cr_assert_eq(cs_send("DELETE", "/act",
	                     "Authorization: Bearer x.y.z\nOrigin: "
	                     "https://spa.example",
	                     NULL),
	             200);
}

Test(csrf, origin_must_match_the_host)
{
	cs_sess_t s;
	cs_open(&s);
	cr_assert_eq(
	        cs_with("POST", &s, s.token, "Origin: https://evil.example"),
	        403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: null"), 403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: "), 403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: https://test.evil"),
	             403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: ftp://test"), 403);
	/* The test client's Host is "test". */
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: http://test"), 200);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: https://TEST"), 200);
	/* No Origin: the Referer's origin decides. */
	cr_assert_eq(cs_with("POST", &s, s.token,
	                     "Referer: https://evil.example/test"),
	             403);
	cr_assert_eq(cs_with("POST", &s, s.token,
	                     "Referer: https://test@evil.example/"),
	             403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Referer: /relative"), 403);
	cr_assert_eq(
	        cs_with("POST", &s, s.token, "Referer: http://test/page?x=1"),
	        200);
	cr_assert_eq(cs_with("POST", &s, s.token, "Referer: http://test"), 200);
}

Test(csrf, same_origin_request_without_session_is_403)
{
	cr_assert_eq(cs_send("POST", "/act", "Origin: http://test", NULL), 403);
}

Test(csrf_origins, configured_origins_replace_the_host_rule)
{
	cs_sess_t s;
	cs_open(&s);
	cr_assert_eq(
	        cs_with("POST", &s, s.token, "Origin: https://app.example"),
	        200);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: http://app.example"),
	             403);
	cr_assert_eq(cs_with("POST", &s, s.token, "Origin: http://test"), 403);
	cr_assert_eq(
	        cs_with("POST", &s, s.token, "Referer: https://app.example/x"),
	        200);
}

Test(csrf, check_reports_reasons)
{
	const char *why = NULL;
	cr_assert_eq(keel_csrf_check(NULL, NULL, &why), KEEL_EINVAL);
	cr_assert_null(keel_csrf_token(NULL));
}
