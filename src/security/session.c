/*
 * Server-side sessions: a random id in a cookie, the state in the
 * keel_sessions table under the SHA-256 of that id (keel/session.h).
 *
 * Per request the middleware keeps one keel_session_t in the request's
 * arena, reachable through req->session.  It is loaded once by the before
 * hook and written once by the after hook, so a handler that reads and
 * changes the session many times costs at most one SELECT and one write;
 * destroy and rotate delete the old row immediately, because a stolen or
 * planted id must stop working even if the response later fails.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/conn.h"
#include "keel/cookie.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/session.h"

#define HASH_HEX (crypto_hash_sha256_BYTES * 2)

struct keel_session {
	const keel_session_opts_t *opts;
	keel_req_t *req;
	json_t *data; /* object of strings while live, else NULL */
	unsigned char id[KEEL_SESSION_ID_BYTES];
	char hash[HASH_HEX + 1]; /* the row's key: hex SHA-256 of id */
	int64_t created, seen;   /* Unix seconds, as stored */
	bool live;               /* the request has a session */
	bool fresh;              /* new id: INSERT and Set-Cookie at save */
	bool dirty;              /* data changed since load */
	bool had_cookie;         /* the request named a session */
	bool destroyed;          /* logged out: the cookie goes */
	bool secure;             /* Secure cookie with the __Host- prefix */
};

static const keel_session_opts_t default_opts = {
        .cookie_name = "session",
        .idle_timeout = 2 * 3600,
        .absolute_timeout = 7 * 24 * 3600,
        .touch_interval = 60,
        .secure = KEEL_SESSION_SECURE_AUTO,
};

static const char sql_sessions[] =
        "-- Server-side sessions (src/security/session.c).  id_hash is the "
        "SHA-256\n"
        "-- of the 256-bit session id in lowercase hex: the id itself is "
        "never\n"
        "-- stored.  data is a JSON object of string values.  Times are "
        "Unix\n"
        "-- seconds; expires_at is the earlier of the idle and absolute "
        "deadlines\n"
        "-- as of the last write, indexed so keel_session_purge is a range "
        "delete.\n"
        "CREATE TABLE keel_sessions (\n"
        "    id_hash TEXT PRIMARY KEY,\n"
        "    data TEXT NOT NULL,\n"
        "    created_at BIGINT NOT NULL,\n"
        "    seen_at BIGINT NOT NULL,\n"
        "    expires_at BIGINT NOT NULL\n"
        ");\n"
        "CREATE INDEX keel_sessions_expires_at ON keel_sessions "
        "(expires_at);\n";

/* The bytes of src/security/migrations/0001_keel_sessions.sql; a unit
 * test keeps the two identical. */
static const keel_migration_t migrations[] = {
        {"0001_keel_sessions", sql_sessions, sizeof(sql_sessions) - 1, NULL},
};

const keel_migration_t *keel_session_migrations(size_t *n)
{
	if (n)
		*n = KEEL_COUNTOF(migrations);
	return migrations;
}

void keel_session_opts_init(keel_session_opts_t *opts)
{
	*opts = default_opts;
}

/* --------------------------------------------------------- helpers */

static int64_t pick(int64_t v, int64_t dflt)
{
	return v > 0 ? v : dflt;
}

static int64_t now_of(const keel_session_t *s)
{
	return s->opts->now ? s->opts->now() : (int64_t)time(NULL);
}

static int64_t idle_of(const keel_session_t *s)
{
	return pick(s->opts->idle_timeout, default_opts.idle_timeout);
}

static int64_t absolute_of(const keel_session_t *s)
{
	return pick(s->opts->absolute_timeout, default_opts.absolute_timeout);
}

/* The deadline stored with a row: whichever lifetime ends first. */
static int64_t expires_of(const keel_session_t *s)
{
	int64_t idle = s->seen + idle_of(s);
	int64_t abs = s->created + absolute_of(s);
	return idle < abs ? idle : abs;
}

static keel_db_conn_t *db_of(keel_session_t *s)
{
	const keel_session_opts_t *o = s->opts;
	keel_db_t *db = o->db ? o->db : o->db_fn ? o->db_fn(o->db_arg) : NULL;
	keel_db_conn_t *c = db ? keel_req_db(s->req, db) : NULL;
	if (!c)
		KEEL_LOG_ERROR("session: no database connection (request %s)",
		               keel_req_id(s->req));
	return c;
}

/* The row key is derived from the id, so the table alone never yields a
 * usable cookie; plain SHA-256 suffices because the id has 256 bits of
 * entropy (nothing to brute-force) and keeps sessions valid across a
 * change of the app secret. */
static void set_id(keel_session_t *s, const unsigned char *id)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	memcpy(s->id, id, KEEL_SESSION_ID_BYTES);
	crypto_hash_sha256(h, s->id, sizeof(s->id));
	sodium_bin2hex(s->hash, sizeof(s->hash), h, sizeof(h));
}

static void new_id(keel_session_t *s)
{
	unsigned char id[KEEL_SESSION_ID_BYTES];
	randombytes_buf(id, sizeof(id));
	set_id(s, id);
	sodium_memzero(id, sizeof(id));
}

static bool b64url_only(keel_str_t v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Strict: exactly 43 unpadded base64url characters with canonical
 * trailing bits, so one id has exactly one cookie spelling (the alphabet
 * is checked first: libsodium 1.0.18 takes some bytes >= 0x80 for
 * letters). */
static int decode_id(keel_str_t v, unsigned char out[KEEL_SESSION_ID_BYTES])
{
	size_t n = 0;
	const char *end = NULL;
	if (v.len != KEEL_SESSION_ID_B64 || !b64url_only(v) ||
	    sodium_base642bin(out, KEEL_SESSION_ID_BYTES, v.ptr, v.len, NULL,
	                      &n, &end,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != KEEL_SESSION_ID_BYTES || end != v.ptr + v.len)
		return KEEL_EINVAL;
	return KEEL_OK;
}

static void drop_data(keel_session_t *s)
{
	json_decref(s->data);
	s->data = NULL;
	s->live = false;
}

/* ------------------------------------------------------------ secure */

static bool peer_trusted(const keel_conn_t *c)
{
	for (size_t i = 0; c->w && i < c->w->ntrusted; i++)
		if (keel_cidr_match(&c->w->trusted[i], &c->peer))
			return true;
	return false;
}

/* Only a proxy we trust may tell us the client used HTTPS: anyone else
 * could send the header, and Secure must reflect the real transport. */
static bool forwarded_https(const keel_req_t *req)
{
	const keel_conn_t *c = req->conn;
	keel_str_t v;
	if (!c || !peer_trusted(c) ||
	    keel_req_header(req, "X-Forwarded-Proto", &v) < 0)
		return false;
	keel_str_t first = keel_str_trim(keel_str_cut(&v, ','));
	return keel_str_eq_nocase(first, KEEL_STR("https"));
}

bool keel_session_is_secure(const keel_req_t *req,
                            const keel_session_opts_t *opts)
{
	const keel_session_opts_t *o = opts ? opts : &default_opts;
	if (o->secure == KEEL_SESSION_SECURE_ALWAYS)
		return true;
	if (o->secure == KEEL_SESSION_SECURE_NEVER)
		return false;
	return req && forwarded_https(req);
}

/* "__Host-" pins the cookie to this host, Secure and Path=/: a sibling
 * subdomain or a plain-HTTP response cannot overwrite it. */
static void cookie_name(const keel_session_t *s, char *out, size_t cap)
{
	const char *base = s->opts->cookie_name ? s->opts->cookie_name
	                                        : default_opts.cookie_name;
	snprintf(out, cap, "%s%s", s->secure ? "__Host-" : "", base);
}

static keel_cookie_opts_t cookie_opts(const keel_session_t *s)
{
	return (keel_cookie_opts_t){.path = "/",
	                            .secure = s->secure,
	                            .http_only = true,
	                            .same_site = KEEL_SAMESITE_LAX};
}

/* ------------------------------------------------------------ loading */

static bool expired(const keel_session_t *s, int64_t now)
{
	return now - s->seen >= idle_of(s) ||
	       now - s->created >= absolute_of(s);
}

static int delete_row(keel_session_t *s, const char *hash)
{
	keel_db_conn_t *c = db_of(s);
	if (!c)
		return KEEL_ELIMIT;
	return keel_db_exec(c, "DELETE FROM keel_sessions WHERE id_hash = $1",
	                    KEEL_DB_ARGS(KEEL_DB_CSTR(hash)), NULL);
}

/* Copy the row into the session; a row whose data is not a JSON object
 * (edited by hand, truncated) is treated as no session at all. */
static int read_row(keel_session_t *s, keel_db_rows_t *rows)
{
	keel_str_t text = keel_db_rows_text(rows, 0);
	s->created = keel_db_rows_int(rows, 1);
	s->seen = keel_db_rows_int(rows, 2);
	s->data = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(s->data))
		return KEEL_OK;
	KEEL_LOG_WARN("session: row with malformed data ignored");
	drop_data(s);
	return KEEL_ENOENT;
}

/* 0 with the session live, KEEL_ENOENT when there is none (any more), or
 * a database error. */
static int load(keel_session_t *s)
{
	keel_db_rows_t *rows = NULL;
	keel_db_conn_t *c = db_of(s);
	if (!c)
		return KEEL_ELIMIT;
	int rc = keel_db_query_row(
	        c,
	        "SELECT data, created_at, seen_at FROM keel_sessions "
	        "WHERE id_hash = $1",
	        KEEL_DB_ARGS(KEEL_DB_CSTR(s->hash)), &rows);
	if (rc < 0)
		return rc;
	rc = read_row(s, rows);
	keel_db_rows_close(rows);
	if (rc < 0)
		return rc;
	if (expired(s, now_of(s))) {
		drop_data(s);
		rc = delete_row(s, s->hash);
		return rc < 0 ? rc : KEEL_ENOENT;
	}
	s->live = true;
	return KEEL_OK;
}

/* ------------------------------------------------------------- saving */

static int save_fresh(keel_session_t *s, keel_db_conn_t *c, const char *data)
{
	return keel_db_exec(
	        c,
	        "INSERT INTO keel_sessions (id_hash, data, "
	        "created_at, seen_at, expires_at) "
	        "VALUES ($1, $2, $3, $4, $5)",
	        KEEL_DB_ARGS(KEEL_DB_CSTR(s->hash), KEEL_DB_CSTR(data),
	                     KEEL_DB_I64(s->created), KEEL_DB_I64(s->seen),
	                     KEEL_DB_I64(expires_of(s))),
	        NULL);
}

/* An UPDATE that finds no row means another request logged this session
 * out meanwhile: it stays out (the row is not recreated). */
static int save_data(keel_session_t *s, keel_db_conn_t *c, const char *data)
{
	return keel_db_exec(
	        c,
	        "UPDATE keel_sessions SET data = $2, seen_at = $3, "
	        "expires_at = $4 WHERE id_hash = $1",
	        KEEL_DB_ARGS(KEEL_DB_CSTR(s->hash), KEEL_DB_CSTR(data),
	                     KEEL_DB_I64(s->seen), KEEL_DB_I64(expires_of(s))),
	        NULL);
}

static int save_touch(keel_session_t *s, keel_db_conn_t *c)
{
	return keel_db_exec(c,
	                    "UPDATE keel_sessions SET seen_at = $2, "
	                    "expires_at = $3 WHERE id_hash = $1",
	                    KEEL_DB_ARGS(KEEL_DB_CSTR(s->hash),
	                                 KEEL_DB_I64(s->seen),
	                                 KEEL_DB_I64(expires_of(s))),
	                    NULL);
}

/* One write at most: INSERT for a new id, UPDATE when the data changed,
 * and otherwise only a last-seen bump once touch_interval has passed. */
static int save(keel_session_t *s)
{
	int64_t now = now_of(s);
	int64_t touch =
	        pick(s->opts->touch_interval, default_opts.touch_interval);
	if (!s->fresh && !s->dirty && now - s->seen < touch)
		return KEEL_OK;
	keel_db_conn_t *c = db_of(s);
	if (!c)
		return KEEL_ELIMIT;
	s->seen = now;
	if (!s->fresh && !s->dirty)
		return save_touch(s, c);
	char *data = json_dumps(s->data, JSON_COMPACT);
	if (!data)
		return KEEL_ENOMEM;
	int rc = s->fresh ? save_fresh(s, c, data) : save_data(s, c, data);
	free(data);
	if (rc == KEEL_OK)
		s->fresh = s->dirty = false;
	return rc;
}

static void set_cookie(keel_session_t *s, keel_res_t *res)
{
	char name[160], value[KEEL_SESSION_ID_B64 + 1];
	keel_cookie_opts_t o = cookie_opts(s);
	o.max_age = absolute_of(s);
	cookie_name(s, name, sizeof(name));
	sodium_bin2base64(value, sizeof(value), s->id, sizeof(s->id),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (keel_res_cookie(res, name, value, &o) < 0)
		KEEL_LOG_ERROR("session: cannot set cookie '%s'", name);
	/* A shared cache must never hand this response (and the id in it)
	 * to another client. */
	keel_str_t cc;
	if (keel_res_header_get(res, "Cache-Control", &cc) < 0)
		keel_res_header(res, "Cache-Control", "no-store");
	sodium_memzero(value, sizeof(value));
}

static void delete_cookie(keel_session_t *s, keel_res_t *res)
{
	char name[160];
	keel_cookie_opts_t o = cookie_opts(s);
	cookie_name(s, name, sizeof(name));
	keel_res_cookie_delete(res, name, &o);
}

/* --------------------------------------------------------- middleware */

/* Arena cleanup: the request is over; nothing of it may be reached from
 * the (reused) request struct afterwards. */
static void session_end(void *arg)
{
	keel_session_t *s = arg;
	json_decref(s->data);
	s->data = NULL;
	if (s->req->session == s)
		s->req->session = NULL;
}

static keel_session_t *session_new(keel_req_t *req,
                                   const keel_session_opts_t *o)
{
	keel_arena_t *a = keel_req_arena(req);
	keel_session_t *s = keel_arena_calloc(a, 1, sizeof(*s));
	if (!s || keel_arena_defer(a, session_end, s) < 0)
		return NULL;
	s->opts = o;
	s->req = req;
	s->secure = keel_session_is_secure(req, o);
	req->session = s;
	return s;
}

static int session_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	char name[160];
	keel_str_t v;
	unsigned char id[KEEL_SESSION_ID_BYTES];
	if (req->session) /* registered twice: the outer one owns it */
		return KEEL_NEXT;
	keel_session_t *s = session_new(req, ud);
	if (!s)
		return keel_errors_write(req, res, 500, "server", "no memory");
	cookie_name(s, name, sizeof(name));
	if (keel_req_cookie(req, name, &v) < 0)
		return KEEL_NEXT;
	s->had_cookie = true;
	if (decode_id(v, id) < 0)
		return KEEL_NEXT; /* garbage: no session; the cookie goes */
	set_id(s, id);
	sodium_memzero(id, sizeof(id));
	int rc = load(s);
	if (rc < 0 && rc != KEEL_ENOENT) {
		KEEL_LOG_ERROR("session: load failed: %s", keel_strerror(rc));
		return keel_errors_write(req, res, 500, "server",
		                         "session store unavailable");
	}
	return KEEL_NEXT;
}

static void session_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_session_t *s = req->session;
	(void)ud;
	if (!s || keel_res_get_status(res) >= 500)
		return;
	bool committed = keel_res_committed(res);
	if (!s->live) {
		if ((s->had_cookie || s->destroyed) && !committed)
			delete_cookie(s, res);
		return;
	}
	if (s->fresh && committed)
		return; /* the client could never learn the new id */
	bool send = s->fresh;
	int rc = save(s);
	if (rc < 0)
		KEEL_LOG_ERROR("session: save failed: %s", keel_strerror(rc));
	else if (send)
		set_cookie(s, res);
}

keel_middleware_t keel_mw_session(const keel_session_opts_t *opts)
{
	if (sodium_init() < 0) /* idempotent; fails only without entropy */
		KEEL_LOG_ERROR("session: libsodium cannot start");
	return (keel_middleware_t){.name = "session",
	                           .before = session_before,
	                           .after = session_after,
	                           .ud = (void *)(opts ? opts : &default_opts)};
}

/* ---------------------------------------------------------------- API */

keel_session_t *keel_session_get(keel_req_t *req)
{
	keel_session_t *s = req ? req->session : NULL;
	return s && s->live ? s : NULL;
}

/* A new, empty session under a fresh id; the old row, if any, must be
 * gone already. */
static int begin(keel_session_t *s)
{
	if (!s->data && !(s->data = json_object()))
		return KEEL_ENOMEM;
	new_id(s);
	s->created = s->seen = now_of(s);
	s->live = s->fresh = true;
	s->destroyed = false;
	return KEEL_OK;
}

keel_session_t *keel_session_start(keel_req_t *req)
{
	keel_session_t *s = req ? req->session : NULL;
	if (!s)
		return NULL;
	if (s->live)
		return s;
	return begin(s) == KEEL_OK ? s : NULL;
}

int keel_session_get_str(const keel_session_t *s, const char *key,
                         keel_str_t *value)
{
	json_t *v = s && key ? json_object_get(s->data, key) : NULL;
	if (!json_is_string(v))
		return KEEL_ENOENT;
	*value = (keel_str_t){json_string_value(v), json_string_length(v)};
	return KEEL_OK;
}

int keel_session_set_str(keel_session_t *s, const char *key, keel_str_t value)
{
	size_t klen = key ? strlen(key) : 0;
	if (!s || !s->live || klen == 0)
		return KEEL_EINVAL;
	if (klen > KEEL_SESSION_MAX_KEY || value.len > KEEL_SESSION_MAX_VALUE)
		return KEEL_ELIMIT;
	if (!json_object_get(s->data, key) &&
	    json_object_size(s->data) >= KEEL_SESSION_MAX_KEYS)
		return KEEL_ELIMIT;
	json_t *v = json_stringn(value.ptr ? value.ptr : "", value.len);
	if (!v) /* not UTF-8 (or out of memory) */
		return KEEL_EINVAL;
	if (json_object_set_new(s->data, key, v) < 0)
		return KEEL_EINVAL; /* key not UTF-8 */
	s->dirty = true;
	return KEEL_OK;
}

int keel_session_remove(keel_session_t *s, const char *key)
{
	if (!s || !s->live || !key || json_object_del(s->data, key) < 0)
		return KEEL_ENOENT;
	s->dirty = true;
	return KEEL_OK;
}

int keel_session_destroy(keel_req_t *req)
{
	keel_session_t *s = req ? req->session : NULL;
	if (!s || !s->live)
		return KEEL_OK;
	bool stored = !s->fresh;
	drop_data(s);
	s->fresh = s->dirty = false;
	s->destroyed = true;
	return stored ? delete_row(s, s->hash) : KEEL_OK;
}

int keel_session_rotate(keel_req_t *req)
{
	keel_session_t *s = req ? req->session : NULL;
	if (!s)
		return KEEL_ESTATE;
	if (s->live && !s->fresh) {
		char old[HASH_HEX + 1];
		memcpy(old, s->hash, sizeof(old));
		int rc = delete_row(s, old);
		if (rc < 0)
			return rc;
	}
	if (s->data) /* a token minted before login must not outlive it */
		json_object_del(s->data, KEEL_SESSION_CSRF_KEY);
	return begin(s);
}

int keel_session_purge(keel_db_conn_t *conn, int64_t now, int64_t *removed)
{
	if (!conn)
		return KEEL_EINVAL;
	return keel_db_exec(conn,
	                    "DELETE FROM keel_sessions WHERE expires_at <= $1",
	                    KEEL_DB_ARGS(KEEL_DB_I64(now)), removed);
}
