/*
 * The JWT middleware through the whole stack (test client): required and
 * optional routes, bad and expired tokens, revoked token ids, and tokens
 * offered anywhere but the Authorization header.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keel/keel.h"

static const char key_bytes[] = "0123456789abcdef0123456789abcdef-test";
static keel_auth_opts_t required, optional;
static keel_middleware_t mw_required, mw_optional;
static keel_db_t *db;
static keel_app_t *app;
static keel_test_t *client;

static int whoami(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const keel_jwt_claims_t *c = keel_req_auth(req);
	keel_res_printf(res, "%s", c ? c->sub : "anonymous");
	return 200;
}

static void setup(void)
{
	keel_db_error_t err;
	db = keel_db_open("sqlite::memory:", NULL, &err);
	cr_assert_not_null(db, "%s", err.msg);
	keel_db_conn_t *conn;
	cr_assert_eq(keel_db_acquire(db, &conn), 0);
	size_t n;
	const keel_migration_t *set = keel_revoke_migrations(&n);
	keel_migrate_report_t report;
	cr_assert_eq(keel_migrate_apply(conn, set, n, &report), 0);
	keel_db_release(conn);
	keel_str_t key = {key_bytes, sizeof(key_bytes) - 1};
	required = (keel_auth_opts_t){.key = key, .required = true, .db = db};
	optional = (keel_auth_opts_t){.key = key, .db = db};
	mw_required = keel_mw_auth(&required);
	mw_optional = keel_mw_auth(&optional);
	app = keel_app_new();
	keel_route_use(KEEL_GET(app, "/me", whoami), &mw_required);
	keel_route_use(KEEL_GET(app, "/maybe", whoami), &mw_optional);
	client = keel_test_new(app);
}

static void teardown(void)
{
	keel_test_free(client);
	keel_app_free(app);
	keel_db_close(db);
}

TestSuite(auth, .init = setup, .fini = teardown);

static void token_for(const char *sub, int64_t ttl, char *out, size_t cap,
                      keel_jwt_claims_t *c)
{
	keel_str_t key = {key_bytes, sizeof(key_bytes) - 1};
	cr_assert_eq(keel_jwt_claims_init(c, keel_str_from_cstr(sub),
	                                  (int64_t)time(NULL), ttl),
	             0);
	cr_assert_eq(keel_jwt_sign(key, c, NULL, out, cap), 0);
}

static int get(const char *target, const char *headers, char *body, size_t cap)
{
	keel_test_result_t r;
	cr_assert_eq(
	        keel_test_request(client, "GET", target, headers, NULL, 0, &r),
	        0);
	snprintf(body, cap, "%.*s", (int)r.body_len, r.body);
	if (r.status == 401) {
		keel_str_t v;
		cr_assert_eq(keel_test_header(&r, "WWW-Authenticate", &v), 0);
	}
	int status = r.status;
	keel_test_result_free(&r);
	return status;
}

Test(auth, required_route_refuses_anonymous_and_accepts_a_token)
{
	char tok[1024], hdr[1200], body[256];
	keel_jwt_claims_t c;
	cr_assert_eq(get("/me", NULL, body, sizeof(body)), 401);
	token_for("ann", 3600, tok, sizeof(tok), &c);
	snprintf(hdr, sizeof(hdr), "Authorization: Token %s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 200);
	cr_assert_str_eq(body, "ann");
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 200);
}

Test(auth, the_next_request_does_not_inherit_the_identity)
{
	char tok[1024], hdr[1200], body[256];
	keel_jwt_claims_t c;
	token_for("ann", 3600, tok, sizeof(tok), &c);
	snprintf(hdr, sizeof(hdr), "Authorization: Token %s\n", tok);
	cr_assert_eq(get("/maybe", hdr, body, sizeof(body)), 200);
	cr_assert_str_eq(body, "ann");
	cr_assert_eq(get("/maybe", NULL, body, sizeof(body)), 200);
	cr_assert_str_eq(body, "anonymous");
}

Test(auth, bad_expired_and_misplaced_tokens_are_refused)
{
	char tok[1024], hdr[1200], body[256], target[1200];
	keel_jwt_claims_t c;
	cr_assert_eq(get("/maybe", "Authorization: Token abc.def.ghi\n", body,
	                 sizeof(body)),
	             401);
	cr_assert_eq(get("/me", "Authorization: Basic dXNlcjpwdw==\n", body,
	                 sizeof(body)),
	             401);
	/* Signed with another key. */
	keel_str_t other = KEEL_STR("ffffffffffffffffffffffffffffffffffff");
	cr_assert_eq(keel_jwt_claims_init(&c, KEEL_STR("ann"),
	                                  (int64_t)time(NULL), 3600),
	             0);
	cr_assert_eq(keel_jwt_sign(other, &c, NULL, tok, sizeof(tok)), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Token %s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 401);
	/* Expired an hour ago. */
	keel_str_t key = {key_bytes, sizeof(key_bytes) - 1};
	cr_assert_eq(keel_jwt_claims_init(&c, KEEL_STR("ann"),
	                                  (int64_t)time(NULL) - 7200, 3600),
	             0);
	cr_assert_eq(keel_jwt_sign(key, &c, NULL, tok, sizeof(tok)), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Token %s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 401);
	/* A valid token in the query string or a cookie does not count. */
	token_for("ann", 3600, tok, sizeof(tok), &c);
	snprintf(target, sizeof(target), "/me?token=%s", tok);
	cr_assert_eq(get(target, NULL, body, sizeof(body)), 401);
	snprintf(hdr, sizeof(hdr), "Cookie: token=%s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 401);
}

Test(auth, revoked_token_id_is_refused)
{
	char tok[1024], hdr[1200], body[256];
	keel_jwt_claims_t c;
	token_for("ann", 3600, tok, sizeof(tok), &c);
	snprintf(hdr, sizeof(hdr), "Authorization: Token %s\n", tok);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 200);
	keel_db_conn_t *conn;
	cr_assert_eq(keel_db_acquire(db, &conn), 0);
	cr_assert_eq(keel_revoke_add(conn, c.jti, c.exp), 0);
	keel_db_release(conn);
	cr_assert_eq(get("/me", hdr, body, sizeof(body)), 401);
}
