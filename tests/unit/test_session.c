/*
 * Server-side sessions (src/security/session.c) through the in-process
 * test client over an in-memory SQLite database: creation and the cookie's
 * attributes, loading and saving, rotation at login (the old id stops
 * working: no fixation), logout, idle and absolute expiry with an
 * injected clock, the sliding last-seen write, that the table never holds
 * an id, purging, value limits and database failures.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/app.h"
#include "keel/db.h"
#include "keel/dbtest.h"
#include "keel/log.h"
#include "keel/migrate.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/session.h"
#include "keel/testclient.h"

static int64_t ss_now = 1000000;
static keel_db_t *ss_db;
static keel_app_t *ss_app;
static keel_test_t *ss_t;
static keel_session_opts_t ss_opts;

static int64_t ss_clock(void)
{
	return ss_now;
}

/* What the /limits handler saw; asserted outside the coroutine. */
static struct {
	int long_key, long_value, bad_utf8, empty_key, too_many, remove_missing;
	int get_missing, ok_max;
} ss_lim;

/* ------------------------------------------------------------ handlers */

static int h_start(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	(void)res;
	return keel_session_start(req) ? 200 : 500;
}

static int h_login(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	(void)res;
	if (keel_session_rotate(req) < 0)
		return 500;
	keel_session_set_str(keel_session_get(req), "user", KEEL_STR("alice"));
	return 200;
}

static int h_whoami(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t v;
	(void)ud;
	keel_session_t *s = keel_session_get(req);
	if (!s || keel_session_get_str(s, "user", &v) < 0)
		v = KEEL_STR("anon");
	keel_res_body(res, v.ptr, v.len);
	return 200;
}

static int h_note(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	(void)res;
	keel_session_t *s = keel_session_start(req);
	keel_str_t q = keel_req_query(req);
	return s && keel_session_set_str(s, "note", q) == 0 ? 200 : 500;
}

static int h_read_note(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t v = KEEL_STR("none");
	(void)ud;
	keel_session_get_str(keel_session_get(req), "note", &v);
	keel_res_body(res, v.ptr, v.len);
	return 200;
}

static int h_logout(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	(void)res;
	return keel_session_destroy(req) == 0 ? 204 : 500;
}

static int h_fail(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_session_set_str(keel_session_start(req), "user", KEEL_STR("x"));
	return keel_res_error(res, 500, "boom");
}

static int h_limits(keel_req_t *req, keel_res_t *res, void *ud)
{
	char key[KEEL_SESSION_MAX_KEY + 2], big[KEEL_SESSION_MAX_VALUE + 1];
	keel_str_t v;
	(void)ud;
	(void)res;
	keel_session_t *s = keel_session_start(req);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memset(big, 'v', sizeof(big));
	ss_lim.long_key = keel_session_set_str(s, key, KEEL_STR("x"));
	ss_lim.long_value =
	        keel_session_set_str(s, "a", (keel_str_t){big, sizeof(big)});
	ss_lim.ok_max = keel_session_set_str(
	        s, "a", (keel_str_t){big, KEEL_SESSION_MAX_VALUE});
	ss_lim.bad_utf8 = keel_session_set_str(s, "b", KEEL_STR("\xff\xfe"));
	ss_lim.empty_key = keel_session_set_str(s, "", KEEL_STR("x"));
	ss_lim.remove_missing = keel_session_remove(s, "nope");
	ss_lim.get_missing = keel_session_get_str(s, "nope", &v);
	for (int i = 0; i < KEEL_SESSION_MAX_KEYS + 1; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		ss_lim.too_many = keel_session_set_str(s, k, KEEL_STR("1"));
	}
	return 200;
}

/* ------------------------------------------------------------- fixture */

static keel_db_conn_t *ss_conn(void)
{
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(ss_db, &c), 0);
	return c;
}

static int64_t ss_count(const char *sql)
{
	int64_t n = -1;
	keel_db_conn_t *c = ss_conn();
	cr_assert_eq(keel_db_query_int(c, sql, KEEL_DB_NOARGS, &n), 0, "%s",
	             keel_db_errmsg(c));
	keel_db_release(c);
	return n;
}

static void ss_build(keel_session_secure_t secure)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	ss_now = 1000000;
	ss_db = keel_db_open("sqlite::memory:", NULL, NULL);
	cr_assert_not_null(ss_db);
	size_t n;
	const keel_migration_t *m = keel_session_migrations(&n);
	keel_db_conn_t *c = ss_conn();
	cr_assert_eq(keel_migrate_apply(c, m, n, NULL), 0);
	keel_db_release(c);
	keel_session_opts_init(&ss_opts);
	ss_opts.db = ss_db;
	ss_opts.now = ss_clock;
	ss_opts.secure = secure;
	ss_app = keel_app_new();
	keel_middleware_t mw = keel_mw_session(&ss_opts);
	keel_app_use(ss_app, &mw);
	KEEL_GET(ss_app, "/start", h_start);
	KEEL_POST(ss_app, "/login", h_login);
	KEEL_GET(ss_app, "/whoami", h_whoami);
	KEEL_POST(ss_app, "/note", h_note);
	KEEL_GET(ss_app, "/note", h_read_note);
	KEEL_POST(ss_app, "/logout", h_logout);
	KEEL_GET(ss_app, "/fail", h_fail);
	KEEL_GET(ss_app, "/limits", h_limits);
	ss_t = keel_test_new(ss_app);
	cr_assert_not_null(ss_t);
}

static void ss_setup(void)
{
	ss_build(KEEL_SESSION_SECURE_AUTO);
}

static void ss_setup_secure(void)
{
	ss_build(KEEL_SESSION_SECURE_ALWAYS);
}

static void ss_teardown(void)
{
	keel_test_free(ss_t);
	keel_app_free(ss_app);
	keel_db_close(ss_db);
}

/* One request; `cookie` (may be NULL) is sent as "Cookie: <cookie>". */
static keel_test_result_t ss_req(const char *method, const char *target,
                                 const char *cookie)
{
	char hdr[512] = "";
	keel_test_result_t r;
	if (cookie)
		snprintf(hdr, sizeof(hdr), "Cookie: %s", cookie);
	cr_assert_eq(keel_test_request(ss_t, method, target,
	                               cookie ? hdr : NULL, NULL, 0, &r),
	             0);
	return r;
}

/* The Set-Cookie field of `r` into out ("" when none). */
static void ss_set_cookie(const keel_test_result_t *r, char *out, size_t cap)
{
	keel_str_t v;
	out[0] = '\0';
	if (keel_test_header(r, "Set-Cookie", &v) == 0)
		snprintf(out, cap, "%.*s", KEEL_STR_FMT(v));
}

/* "name=value" of the Set-Cookie of `r`, ready to send back. */
static void ss_pair(const keel_test_result_t *r, char *out, size_t cap)
{
	ss_set_cookie(r, out, cap);
	char *semi = strchr(out, ';');
	if (semi)
		*semi = '\0';
}

static void ss_body_is(const char *method, const char *target,
                       const char *cookie, const char *want)
{
	keel_test_result_t r = ss_req(method, target, cookie);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, want);
	keel_test_result_free(&r);
}

/* A logged-in session: the cookie pair. */
static void ss_login(char *pair, size_t cap, const char *cookie)
{
	keel_test_result_t r = ss_req("POST", "/login", cookie);
	cr_assert_eq(r.status, 200);
	ss_pair(&r, pair, cap);
	cr_assert(strlen(pair) > 0, "login set no cookie");
	keel_test_result_free(&r);
}

TestSuite(session, .init = ss_setup, .fini = ss_teardown);

/* --------------------------------------------------------------- tests */

Test(session, start_sets_cookie_with_safe_attributes)
{
	char sc[256];
	keel_str_t cc;
	keel_test_result_t r = ss_req("GET", "/start", NULL);
	cr_assert_eq(r.status, 200);
	ss_set_cookie(&r, sc, sizeof(sc));
	cr_assert(strncmp(sc, "session=", 8) == 0, "%s", sc);
	cr_assert_eq(strcspn(sc + 8, ";"), KEEL_SESSION_ID_B64, "%s", sc);
	cr_assert(strstr(sc, "; Path=/"), "%s", sc);
	cr_assert(strstr(sc, "; HttpOnly"), "%s", sc);
	cr_assert(strstr(sc, "; SameSite=Lax"), "%s", sc);
	cr_assert(strstr(sc, "; Max-Age=604800"), "%s", sc);
	cr_assert_null(strstr(sc, "Secure"), "%s", sc);
	cr_assert_eq(keel_test_header(&r, "Cache-Control", &cc), 0);
	cr_assert(keel_str_eq(cc, KEEL_STR("no-store")));
	keel_test_result_free(&r);
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 1);
}

Test(session, no_session_without_start)
{
	keel_test_result_t r = ss_req("GET", "/whoami", NULL);
	keel_str_t v;
	cr_assert_str_eq(r.body, "anon");
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &v), KEEL_ENOENT);
	keel_test_result_free(&r);
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 0);
}

TestSuite(session_secure, .init = ss_setup_secure, .fini = ss_teardown);

Test(session_secure, requests_get_host_prefix_and_secure)
{
	char sc[256], pair[128];
	keel_test_result_t r = ss_req("GET", "/start", NULL);
	ss_set_cookie(&r, sc, sizeof(sc));
	ss_pair(&r, pair, sizeof(pair));
	keel_test_result_free(&r);
	cr_assert(strncmp(sc, "__Host-session=", 15) == 0, "%s", sc);
	cr_assert(strstr(sc, "; Secure"), "%s", sc);
	cr_assert(strstr(sc, "; Path=/"), "%s", sc);
	cr_assert_null(strstr(sc, "Domain"), "%s", sc);
	/* The same id under the unprefixed name is not looked at: only the
	 * __Host- cookie cannot be planted by a subdomain or over HTTP. */
	r = ss_req("POST", "/note?x", pair);
	keel_test_result_free(&r);
	ss_body_is("GET", "/note", pair, "x");
	ss_body_is("GET", "/note", pair + 7, "none");
}

Test(session, is_secure_follows_the_option)
{
	keel_session_opts_t o;
	keel_session_opts_init(&o);
	/* AUTO: the test client has no proxy peer, so never secure. */
	cr_assert_not(keel_session_is_secure(NULL, &o));
	o.secure = KEEL_SESSION_SECURE_ALWAYS;
	cr_assert(keel_session_is_secure(NULL, &o));
	o.secure = KEEL_SESSION_SECURE_NEVER;
	cr_assert_not(keel_session_is_secure(NULL, &o));
}

Test(session, data_round_trips_between_requests)
{
	char pair[128];
	ss_login(pair, sizeof(pair), NULL);
	ss_body_is("GET", "/whoami", pair, "alice");
	keel_test_result_t r = ss_req("POST", "/note?hello%20there", pair);
	keel_str_t v;
	cr_assert_eq(r.status, 200);
	/* An existing session keeps its cookie: none is sent again. */
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &v), KEEL_ENOENT);
	keel_test_result_free(&r);
	ss_body_is("GET", "/note", pair, "hello%20there");
	ss_body_is("GET", "/whoami", pair, "alice");
}

Test(session, table_never_holds_the_id)
{
	char pair[128], hex[65];
	unsigned char id[32], h[32];
	size_t n;
	ss_login(pair, sizeof(pair), NULL);
	const char *b64 = pair + strlen("session=");
	cr_assert_eq(sodium_base642bin(
	                     id, sizeof(id), b64, strlen(b64), NULL, &n, NULL,
	                     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	             0);
	cr_assert_eq(n, 32);
	crypto_hash_sha256(h, id, sizeof(id));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	keel_db_conn_t *c = ss_conn();
	keel_db_rows_t *rows;
	cr_assert_eq(keel_db_query_row(c,
	                               "SELECT id_hash, data FROM "
	                               "keel_sessions",
	                               KEEL_DB_NOARGS, &rows),
	             0);
	keel_str_t key = keel_db_rows_text(rows, 0);
	keel_str_t data = keel_db_rows_text(rows, 1);
	cr_assert(keel_str_eq(key, keel_str_from_cstr(hex)));
	cr_assert(keel_str_eq(data, KEEL_STR("{\"user\":\"alice\"}")));
	cr_assert_null(memmem(key.ptr, key.len, b64, strlen(b64)));
	cr_assert_null(memmem(data.ptr, data.len, b64, strlen(b64)));
	keel_db_rows_close(rows);
	keel_db_release(c);
}

Test(session, rotate_at_login_kills_the_old_id)
{
	char before[128], after[128];
	keel_test_result_t r = ss_req("POST", "/note?planted", NULL);
	ss_pair(&r, before, sizeof(before));
	keel_test_result_free(&r);
	/* The victim logs in carrying the planted cookie. */
	ss_login(after, sizeof(after), before);
	cr_assert_str_neq(before, after);
	ss_body_is("GET", "/whoami", after, "alice");
	ss_body_is("GET", "/note", after, "planted"); /* data kept */
	/* The attacker's copy of the old id is worthless now. */
	r = ss_req("GET", "/whoami", before);
	cr_assert_str_eq(r.body, "anon");
	char sc[256];
	ss_set_cookie(&r, sc, sizeof(sc));
	cr_assert(strstr(sc, "Max-Age=0"), "stale cookie not deleted: %s", sc);
	keel_test_result_free(&r);
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 1);
}

Test(session, rotate_restarts_absolute_lifetime)
{
	char a[128], b[128];
	int64_t t0 = ss_now;
	ss_login(a, sizeof(a), NULL);
	for (ss_now = t0 + 3600; ss_now < t0 + 6 * 86400; ss_now += 3600)
		ss_body_is("GET", "/whoami", a, "alice");
	ss_login(b, sizeof(b), a); /* privilege change: a new id */
	int64_t t1 = ss_now;
	cr_assert_str_neq(a, b);
	/* Past a's seven days, b lives on: it was created at t1. */
	for (; ss_now < t1 + 604800; ss_now += 3600)
		ss_body_is("GET", "/whoami", b, "alice");
	ss_now = t1 + 604800;
	ss_body_is("GET", "/whoami", b, "anon");
}

Test(session, logout_deletes_row_and_cookie)
{
	char pair[128], sc[256];
	ss_login(pair, sizeof(pair), NULL);
	keel_test_result_t r = ss_req("POST", "/logout", pair);
	cr_assert_eq(r.status, 204);
	ss_set_cookie(&r, sc, sizeof(sc));
	cr_assert(strncmp(sc, "session=;", 9) == 0, "%s", sc);
	cr_assert(strstr(sc, "Max-Age=0"), "%s", sc);
	keel_test_result_free(&r);
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 0);
	ss_body_is("GET", "/whoami", pair, "anon");
}

Test(session, idle_expiry_slides_with_activity)
{
	char pair[128];
	ss_login(pair, sizeof(pair), NULL);
	ss_now += 7000;
	ss_body_is("GET", "/whoami", pair, "alice"); /* touches seen_at */
	ss_now += 7000;                              /* 14000 since login */
	ss_body_is("GET", "/whoami", pair, "alice");
	ss_now += 7200; /* a full idle period without a request */
	ss_body_is("GET", "/whoami", pair, "anon");
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 0,
	             "expired row not deleted on read");
}

Test(session, last_seen_written_at_most_once_a_minute)
{
	char pair[128];
	ss_login(pair, sizeof(pair), NULL);
	int64_t t0 = ss_now;
	ss_now += 30;
	ss_body_is("GET", "/whoami", pair, "alice");
	cr_assert_eq(ss_count("SELECT seen_at FROM keel_sessions"), t0);
	ss_now += 31;
	ss_body_is("GET", "/whoami", pair, "alice");
	cr_assert_eq(ss_count("SELECT seen_at FROM keel_sessions"), t0 + 61);
	cr_assert_eq(ss_count("SELECT expires_at FROM keel_sessions"),
	             t0 + 61 + 7200);
}

Test(session, absolute_expiry_ends_even_an_active_session)
{
	char pair[128];
	ss_login(pair, sizeof(pair), NULL);
	int64_t t0 = ss_now;
	for (ss_now = t0 + 3600; ss_now < t0 + 604800; ss_now += 3600)
		ss_body_is("GET", "/whoami", pair, "alice");
	ss_now = t0 + 604800;
	ss_body_is("GET", "/whoami", pair, "anon");
}

Test(session, malformed_or_unknown_cookie_is_no_session)
{
	const char *bad[] = {
	        "session=short",
	        "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	        "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
	        "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	        "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char sc[256];
		keel_test_result_t r = ss_req("GET", "/whoami", bad[i]);
		cr_assert_eq(r.status, 200, "%s", bad[i]);
		cr_assert_str_eq(r.body, "anon", "%s", bad[i]);
		ss_set_cookie(&r, sc, sizeof(sc));
		cr_assert(strstr(sc, "Max-Age=0"), "%s: %s", bad[i], sc);
		keel_test_result_free(&r);
	}
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 0);
}

Test(session, nothing_saved_when_the_response_is_5xx)
{
	keel_test_result_t r = ss_req("GET", "/fail", NULL);
	keel_str_t v;
	cr_assert_eq(r.status, 500);
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &v), KEEL_ENOENT);
	keel_test_result_free(&r);
	cr_assert_eq(ss_count("SELECT count(*) FROM keel_sessions"), 0);
}

Test(session, database_failure_is_500)
{
	char pair[128];
	ss_login(pair, sizeof(pair), NULL);
	keel_db_conn_t *c = ss_conn();
	cr_assert_eq(keel_db_exec(c, "DROP TABLE keel_sessions", KEEL_DB_NOARGS,
	                          NULL),
	             0);
	keel_db_release(c);
	keel_test_result_t r = ss_req("GET", "/whoami", pair);
	cr_assert_eq(r.status, 500);
	cr_assert_null(strstr(r.body, "alice"));
	keel_test_result_free(&r);
}

Test(session, value_limits_and_missing_keys)
{
	keel_test_result_t r = ss_req("GET", "/limits", NULL);
	cr_assert_eq(r.status, 200);
	keel_test_result_free(&r);
	cr_assert_eq(ss_lim.long_key, KEEL_ELIMIT);
	cr_assert_eq(ss_lim.long_value, KEEL_ELIMIT);
	cr_assert_eq(ss_lim.ok_max, 0);
	cr_assert_eq(ss_lim.bad_utf8, KEEL_EINVAL);
	cr_assert_eq(ss_lim.empty_key, KEEL_EINVAL);
	cr_assert_eq(ss_lim.remove_missing, KEEL_ENOENT);
	cr_assert_eq(ss_lim.get_missing, KEEL_ENOENT);
	cr_assert_eq(ss_lim.too_many, KEEL_ELIMIT);
}

Test(session, purge_removes_only_ended_sessions)
{
	char a[128], b[128];
	ss_login(a, sizeof(a), NULL);
	ss_now += 3600;
	ss_login(b, sizeof(b), NULL);
	int64_t removed = -1;
	keel_db_conn_t *c = ss_conn();
	/* a's idle deadline is login + 7200; b's one hour later. */
	cr_assert_eq(keel_session_purge(c, 1000000 + 7199, &removed), 0);
	cr_assert_eq(removed, 0);
	cr_assert_eq(keel_session_purge(c, 1000000 + 7200, &removed), 0);
	cr_assert_eq(removed, 1);
	cr_assert_eq(keel_session_purge(c, 1000000 + 3600 + 7200, &removed), 0);
	cr_assert_eq(removed, 1);
	cr_assert_eq(keel_session_purge(NULL, 0, NULL), KEEL_EINVAL);
	keel_db_release(c);
	ss_now = 1000000 + 3600 + 10;
	ss_body_is("GET", "/whoami", b, "anon");
}

Test(session, lookups_and_purge_use_indexes)
{
	keel_dbtest_report_t r;
	keel_db_conn_t *c = ss_conn();
	cr_assert_eq(keel_dbtest_explain(c,
	                                 "DELETE FROM keel_sessions "
	                                 "WHERE expires_at <= $1",
	                                 KEEL_DB_ARGS(KEEL_DB_I64(5)), &r),
	             0);
	cr_assert(r.ok, "%s\n%s", r.plan, r.problems);
	cr_assert_eq(keel_dbtest_explain(c,
	                                 "SELECT data FROM keel_sessions "
	                                 "WHERE id_hash = $1",
	                                 KEEL_DB_ARGS(KEEL_DB_CSTR("x")), &r),
	             0);
	cr_assert(r.ok, "%s\n%s", r.plan, r.problems);
	keel_db_release(c);
}

Test(session, api_without_middleware_is_inert)
{
	cr_assert_null(keel_session_get(NULL));
	cr_assert_null(keel_session_start(NULL));
	cr_assert_eq(keel_session_rotate(NULL), KEEL_ESTATE);
	cr_assert_eq(keel_session_destroy(NULL), 0);
	keel_str_t v;
	cr_assert_eq(keel_session_get_str(NULL, "k", &v), KEEL_ENOENT);
	cr_assert_eq(keel_session_set_str(NULL, "k", v), KEEL_EINVAL);
}

Test(session, migration_matches_its_sql_file)
{
	size_t n;
	const keel_migration_t *m = keel_session_migrations(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(m[0].name, "0001_keel_sessions");
	FILE *f = fopen("src/security/migrations/0001_keel_sessions.sql", "rb");
	cr_assert_not_null(f, "run from the repository root");
	static char buf[8192];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(len, m[0].len);
	cr_assert_eq(memcmp(buf, m[0].sql, len), 0);
}
