/*
 * The web-login app tests/integration/test_sessions.py starts: server-side
 * sessions, CSRF, a signed preference cookie, and a JWT API whose logout
 * puts the token on the revocation list.
 *
 * Web, under /web (session cookie, CSRF on every unsafe method):
 *   GET  /login        HTML form with the CSRF token (starts a session)
 *   POST /login        form user, password, csrf_token -> 303 /web/me, a
 *                      rotated session; or 401 (same for an unknown user)
 *   GET  /me           200 user name, or 401
 *   POST /note         form note, csrf_token -> stores it in the session
 *   GET  /note         the stored note
 *   POST /logout       destroys the session -> 204
 *   GET  /pref?<v>     sets the signed cookie "pref"; GET /pref/show reads
 * API (Authorization header, no cookies, no CSRF):
 *   POST /api/login    JSON {"user","password"} -> {"token"}
 *   GET  /api/me       Authorization: Bearer <jwt> -> user, 401 if revoked
 *   POST /api/logout   revokes the token's jti -> 204
 *
 * One user: alice / wonderland.  SESSIONSERVER_DB is the SQLite URL
 * (default sqlite://var/sessionserver.db); each worker opens it after the
 * fork, the master migrates it first.  SESSIONSERVER_IDLE sets the idle
 * timeout in seconds.  The secret is random per run, made before the
 * workers fork so all of them share it.
 */
#include <keel/keel.h>
#include <keel/csrf.h>
#include <keel/jwt.h>
#include <keel/migrate.h>
#include <keel/password.h>
#include <keel/revoke.h>
#include <keel/session.h>
#include <keel/signed.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *db_url;
static keel_db_t *worker_db;
static pid_t worker_pid;
static unsigned char secret[32];
static keel_str_t secret_keys[1];
static keel_signed_keys_t signed_keys = {secret_keys, 1};
static char alice_hash[KEEL_PASSWORD_HASH_MAX];
static keel_session_opts_t session_opts;
static keel_csrf_opts_t csrf_opts;
static int64_t last_purge;

/* One database handle per worker process, opened on first use. */
static keel_db_t *app_db(void *arg)
{
	(void)arg;
	if (worker_pid != getpid()) {
		worker_db = keel_db_open(db_url, NULL, NULL);
		worker_pid = getpid();
	}
	return worker_db;
}

static keel_str_t secret_str(void)
{
	return (keel_str_t){(const char *)secret, sizeof(secret)};
}

/* Expired sessions and blocklist entries go at most once a minute. */
static void purge_now_and_then(keel_req_t *req)
{
	int64_t now = (int64_t)time(NULL);
	keel_db_conn_t *c = keel_req_db(req, app_db(NULL));
	if (!c || now - last_purge < 60)
		return;
	last_purge = now;
	keel_session_purge(c, now, NULL);
	keel_revoke_purge(c, now, NULL);
}

/* The password check: alice's hash, or the dummy for anyone else, so an
 * unknown user costs the same time as a wrong password. */
static int check_password(keel_str_t user, keel_str_t pw)
{
	if (keel_str_eq(user, KEEL_STR("alice")))
		return keel_password_verify(pw, alice_hash);
	return keel_password_dummy_verify(pw);
}

/* ------------------------------------------------------------------ web */

static int login_form(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const char *tok = keel_csrf_token(req);
	if (!tok)
		return keel_res_error(res, 500, "no session");
	keel_res_header(res, "Content-Type", "text/html; charset=utf-8");
	keel_res_printf(res,
	                "<form method=post action=/login>"
	                "<input type=hidden name=csrf_token value=\"%s\">"
	                "<input name=user><input name=password type=password>"
	                "</form>",
	                tok);
	return 200;
}

static int login(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_form_t f;
	keel_str_t user, pw;
	(void)ud;
	int st = keel_req_form(req, &f);
	if (st)
		return keel_res_error(res, st, "bad form");
	if (keel_form_get(&f, "user", &user) < 0 ||
	    keel_form_get(&f, "password", &pw) < 0)
		return keel_res_error(res, 422, "user and password required");
	if (check_password(user, pw) < 0)
		return keel_res_error(res, 401, "invalid credentials");
	/* New id at the privilege change: a planted cookie stays anonymous. */
	if (keel_session_rotate(req) < 0 ||
	    keel_session_set_str(keel_session_get(req), "user", user) < 0)
		return keel_res_error(res, 500, "session");
	purge_now_and_then(req);
	return keel_res_redirect_local(res, 303, "/web/me");
}

static int me(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t user;
	(void)ud;
	if (keel_session_get_str(keel_session_get(req), "user", &user) < 0)
		return keel_res_error(res, 401, "login required");
	keel_res_body(res, user.ptr, user.len);
	return 200;
}

static int note_set(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_form_t f;
	keel_str_t note;
	(void)ud;
	int st = keel_req_form(req, &f);
	if (st)
		return keel_res_error(res, st, "bad form");
	if (keel_form_get(&f, "note", &note) < 0)
		return keel_res_error(res, 422, "note required");
	keel_session_t *s = keel_session_start(req);
	if (!s || keel_session_set_str(s, "note", note) < 0)
		return keel_res_error(res, 422, "note refused");
	return 200;
}

static int note_get(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t note = KEEL_STR("");
	(void)ud;
	keel_session_get_str(keel_session_get(req), "note", &note);
	keel_res_body(res, note.ptr, note.len);
	return 200;
}

static int logout(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	if (keel_session_destroy(req) < 0)
		return keel_res_error(res, 500, "logout failed");
	return 204;
}

static int pref_set(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_cookie_opts_t o = {
	        .path = "/", .http_only = true, .same_site = KEEL_SAMESITE_LAX};
	(void)ud;
	if (keel_signed_set(res, &signed_keys, "pref", keel_req_query(req),
	                    &o) < 0)
		return keel_res_error(res, 422, "bad value");
	return 204;
}

static int pref_show(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t v;
	(void)ud;
	if (keel_signed_get(req, &signed_keys, "pref", 3600, &v) < 0)
		return keel_res_error(res, 404, "no preference");
	keel_res_body(res, v.ptr, v.len);
	return 200;
}

/* ------------------------------------------------------------------ api */

static keel_str_t json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return (keel_str_t){NULL, 0};
	return (keel_str_t){json_string_value(v), json_string_length(v)};
}

static int api_login(keel_req_t *req, keel_res_t *res, void *ud)
{
	json_t *body;
	keel_json_error_t err;
	keel_jwt_claims_t c;
	char tok[KEEL_JWT_MAX_TOKEN + 1];
	(void)ud;
	if (keel_req_json(req, &body, &err) < 0)
		return keel_res_error(res, err.status, err.message);
	keel_str_t user = json_str(body, "user"),
	           pw = json_str(body, "password");
	if (!user.ptr || !pw.ptr || check_password(user, pw) < 0)
		return keel_res_error(res, 401, "invalid credentials");
	if (keel_jwt_claims_init(&c, user, (int64_t)time(NULL), 3600) < 0 ||
	    keel_jwt_sign(secret_str(), &c, NULL, tok, sizeof(tok)) < 0)
		return keel_res_error(res, 500, "token");
	keel_res_header(res, "Content-Type", "application/json");
	keel_res_printf(res, "{\"token\":\"%s\"}", tok);
	return 200;
}

/* A valid signature is not enough: the jti must not be on the list. */
static int api_auth(keel_req_t *req, keel_res_t *res, keel_jwt_claims_t *c)
{
	keel_db_conn_t *conn = keel_req_db(req, app_db(NULL));
	if (keel_jwt_from_request(req, secret_str(), c) < 0)
		return keel_res_error(res, 401, "invalid token");
	if (!conn)
		return keel_res_error(res, 503, "database busy");
	int rc = keel_revoke_check(conn, c->jti);
	if (rc != 0) /* revoked, or cannot tell: refuse either way */
		return keel_res_error(res, 401, "invalid token");
	return 0;
}

static int api_me(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_jwt_claims_t c;
	(void)ud;
	int st = api_auth(req, res, &c);
	if (st)
		return st;
	keel_res_printf(res, "%s", c.sub);
	return 200;
}

static int api_logout(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_jwt_claims_t c;
	(void)ud;
	int st = api_auth(req, res, &c);
	if (st)
		return st;
	if (keel_revoke_add(keel_req_db(req, app_db(NULL)), c.jti, c.exp) < 0)
		return keel_res_error(res, 500, "revoke failed");
	return 204;
}

/* ---------------------------------------------------------------- setup */

/* Both tables in one set: keel_migrate_apply wants the whole history of
 * a database in one list. */
static int migrate(void)
{
	size_t ns, nr;
	const keel_migration_t *s = keel_session_migrations(&ns);
	const keel_migration_t *r = keel_revoke_migrations(&nr);
	keel_migration_t all[8];
	keel_migrate_report_t rep;
	keel_db_conn_t *c = NULL;
	if (ns + nr > 8)
		return -1;
	memcpy(all, s, ns * sizeof(*s));
	memcpy(all + ns, r, nr * sizeof(*r));
	keel_db_error_t err;
	keel_db_t *db = keel_db_open(db_url, NULL, &err);
	if (!db) {
		fprintf(stderr, "sessionserver: %s\n", err.msg);
		return -1;
	}
	int rc = keel_db_acquire(db, &c);
	if (rc == 0)
		rc = keel_migrate_apply(c, all, ns + nr, &rep);
	if (rc < 0)
		fprintf(stderr, "sessionserver: migrate: %s\n", rep.msg);
	keel_db_release(c);
	keel_db_close(db);
	return rc;
}

static int setup(void)
{
	const char *idle = getenv("SESSIONSERVER_IDLE");
	db_url = getenv("SESSIONSERVER_DB");
	if (!db_url)
		db_url = "sqlite://var/sessionserver.db";
	if (sodium_init() < 0 || migrate() < 0)
		return -1;
	randombytes_buf(secret, sizeof(secret));
	secret_keys[0] = secret_str();
	keel_session_opts_init(&session_opts);
	session_opts.db_fn = app_db;
	if (idle)
		session_opts.idle_timeout = strtoll(idle, NULL, 10);
	keel_csrf_opts_init(&csrf_opts);
	if (keel_password_setup(NULL) < 0 ||
	    keel_password_hash(KEEL_STR("wonderland"), alice_hash) < 0)
		return -1;
	return 0;
}

static void routes(keel_app_t *app)
{
	keel_group_t *web = keel_app_group(app, "/web");
	keel_group_t *api = keel_app_group(app, "/api");
	keel_middleware_t s = keel_mw_session(&session_opts);
	keel_middleware_t x = keel_mw_csrf(&csrf_opts);
	keel_group_use(web, &s);
	keel_group_use(web, &x);
	KEEL_GET(web, "/login", login_form);
	KEEL_POST(web, "/login", login);
	KEEL_GET(web, "/me", me);
	KEEL_POST(web, "/note", note_set);
	KEEL_GET(web, "/note", note_get);
	KEEL_POST(web, "/logout", logout);
	KEEL_GET(web, "/pref", pref_set);
	KEEL_GET(web, "/pref/show", pref_show);
	KEEL_POST(api, "/login", api_login);
	KEEL_GET(api, "/me", api_me);
	KEEL_POST(api, "/logout", api_logout);
}

int main(int argc, char **argv)
{
	if (setup() < 0)
		return 1;
	keel_app_t *app = keel_app_new();
	if (!app)
		return 1;
	keel_middleware_t db = keel_mw_db();
	keel_app_use(app, &db);
	routes(app);
	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	sodium_memzero(secret, sizeof(secret));
	return rc;
}
