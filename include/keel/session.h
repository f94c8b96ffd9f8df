/*
 * keel/session.h - server-side sessions, the web UI's login state.
 *
 * The browser holds only a session id: 256 random bits, base64url in an
 * HttpOnly, SameSite=Lax, Path=/ cookie (Secure and named "__Host-<name>"
 * when the request came over HTTPS).  Everything else - who is logged in,
 * the CSRF token, flash messages - stays in the database as a small JSON
 * object of string values.  The table keeps only the SHA-256 of the id, so
 * someone who reads the table (a backup, an SQL injection elsewhere)
 * cannot present any of its rows as a cookie.  Because the state lives on
 * the server, deleting the row ends the session at once: logout, "log out
 * everywhere" and an admin's ban take effect on the next request, which a
 * self-contained token (JWT) cannot offer before it expires.
 *
 * Lifetime.  A session ends after `idle_timeout` seconds without a request
 * (sliding; the last-seen time is written at most every `touch_interval`
 * seconds, so a busy user does not cost a write per request) and, in any
 * case, `absolute_timeout` seconds after it was created or rotated.
 * Expiry is checked on every load (an expired row is deleted and the
 * request sees no session); keel_session_purge removes the rows nobody
 * came back for and should run periodically.
 *
 * Fixation.  Call keel_session_rotate at login (and on any privilege
 * change): the data moves to a fresh id, the old row is deleted at once,
 * and the CSRF token is dropped so a token from before login is stale.  A
 * cookie planted before login is therefore worthless after it.
 *
 * Use.  Register keel_mw_session(&opts) app-wide; its before hook loads
 * the session named by the request's cookie (answering 500 when the
 * database fails), its after hook writes what changed and sets or deletes
 * the cookie.  Changes are not saved when the response is a 5xx (a failed
 * request leaves the session as it was; destroy and rotate have already
 * deleted the old row, though).  Two concurrent requests of one session
 * that both change it: the last to finish wins.
 *
 * Tables: keel_session_migrations() creates keel_sessions; apply it with
 * keel_migrate_apply.  Keys starting with '_' are reserved for keel
 * (KEEL_SESSION_CSRF_KEY).
 */
#ifndef KEEL_SESSION_H
#define KEEL_SESSION_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/db.h"
#include "keel/middleware.h"
#include "keel/migrate.h"
#include "keel/str.h"

/** A request's session; opaque, owned by the request. */
typedef struct keel_session keel_session_t;

/** Bytes of a session id (256 bits). */
#define KEEL_SESSION_ID_BYTES  32
/** Length of the id in the cookie: unpadded base64url of 32 bytes. */
#define KEEL_SESSION_ID_B64    43
/** Longest key of a session value. */
#define KEEL_SESSION_MAX_KEY   64
/** Longest session value, in bytes. */
#define KEEL_SESSION_MAX_VALUE 4096
/** Most keys one session holds. */
#define KEEL_SESSION_MAX_KEYS  64
/** The session key under which keel/csrf.h keeps the CSRF token. */
#define KEEL_SESSION_CSRF_KEY  "_csrf"

/** Whether the cookie gets Secure and the __Host- prefix. */
typedef enum keel_session_secure {
	/* Only when the peer is one of the server's trusted proxies and says
	 * X-Forwarded-Proto: https (keel itself speaks plain HTTP). */
	KEEL_SESSION_SECURE_AUTO = 0,
	KEEL_SESSION_SECURE_ALWAYS, /* the site is HTTPS-only behind a proxy */
	KEEL_SESSION_SECURE_NEVER,  /* plain-HTTP development only */
} keel_session_secure_t;

/** Session policy; fill with keel_session_opts_init.  Must outlive the app. */
typedef struct keel_session_opts {
	keel_db_t *db; /* the database holding keel_sessions */
	/* Or, when db is NULL: called per request to find it (a database
	 * opened lazily in each worker after fork). */
	keel_db_t *(*db_fn)(void *arg);
	void *db_arg;
	const char *cookie_name;  /* "session"; "__Host-session" when secure */
	int64_t idle_timeout;     /* seconds without a request: 7200 */
	int64_t absolute_timeout; /* seconds after login: 604800 */
	int64_t touch_interval; /* least seconds between last-seen writes: 60 */
	keel_session_secure_t secure; /* AUTO */
	int64_t (*now)(void);         /* clock in seconds; NULL: time(2) */
} keel_session_opts_t;

/**
 * The migration set creating keel_sessions (portable SQL, static storage):
 * pass it and *n to keel_migrate_apply.
 */
KEEL_API const keel_migration_t *keel_session_migrations(size_t *n);

/** Defaults as commented above; db NULL (set it, or db_fn). */
KEEL_API void keel_session_opts_init(keel_session_opts_t *opts);

/**
 * The session middleware for `opts` (kept by pointer).  Before: load the
 * session of the request's cookie, 500 when the database fails.  After:
 * save changes, set or delete the cookie.  Register before keel_mw_csrf.
 */
KEEL_API keel_middleware_t keel_mw_session(const keel_session_opts_t *opts);

/** The request's live session, or NULL (none, expired, destroyed). */
KEEL_API keel_session_t *keel_session_get(keel_req_t *req);

/**
 * The request's session, creating an empty one (fresh id, cookie set by
 * the after hook) when there is none.  NULL without keel_mw_session or
 * when out of memory.
 */
KEEL_API keel_session_t *keel_session_start(keel_req_t *req);

/**
 * Value of `key` in *value (a slice owned by the session, valid until the
 * key changes or the request ends); 0 or KEEL_ENOENT.
 */
KEEL_API int keel_session_get_str(const keel_session_t *s, const char *key,
                                  keel_str_t *value);

/**
 * Set `key` (1..KEEL_SESSION_MAX_KEY bytes) to a copy of `value` (UTF-8,
 * at most KEEL_SESSION_MAX_VALUE bytes).  0, KEEL_EINVAL (bad key, value
 * not UTF-8), KEEL_ELIMIT (too long, too many keys), KEEL_ENOMEM.
 */
KEEL_API int keel_session_set_str(keel_session_t *s, const char *key,
                                  keel_str_t value);

/** Remove `key`; 0, or KEEL_ENOENT when it was not set. */
KEEL_API int keel_session_remove(keel_session_t *s, const char *key);

/**
 * Logout: delete the session's row now and have the after hook delete the
 * cookie.  0 (also without a session), or the database's error.
 */
KEEL_API int keel_session_destroy(keel_req_t *req);

/**
 * Login: move the data to a new id (the old row is deleted now, the new
 * one written by the after hook), restart the absolute lifetime and drop
 * the CSRF token.  Starts a session when there is none.  0, KEEL_ESTATE
 * without keel_mw_session, KEEL_ENOMEM, or the database's error.
 */
KEEL_API int keel_session_rotate(keel_req_t *req);

/**
 * True when the request's cookie must be Secure under `opts`: see
 * keel_session_secure_t (AUTO consults the server's trusted proxies).
 */
KEEL_API bool keel_session_is_secure(const keel_req_t *req,
                                     const keel_session_opts_t *opts);

/**
 * Delete every session whose idle or absolute lifetime ended at `now`
 * (seconds since 1970); `removed` (may be NULL) gets how many.  0 or the
 * database's error.
 */
KEEL_API int keel_session_purge(keel_db_conn_t *conn, int64_t now,
                                int64_t *removed);

#endif
