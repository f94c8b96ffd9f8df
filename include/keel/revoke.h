/*
 * keel/revoke.h - the JWT revocation blocklist.  A JWT is valid until it
 * expires, whatever happens on the server; logging out therefore records
 * the token's id (its jti claim) until that expiry, and every
 * authenticated API request asks whether its jti is on the list.  Entries
 * are useless once the token has expired, so the list only ever holds
 * the tokens revoked within one token lifetime, and keel_revoke_purge
 * (run periodically) deletes the rest through an index on exp.
 *
 * Storage sits behind a small interface (keel_revoke_store_t: add, check,
 * purge) so a shared Redis set with per-key expiry can replace the
 * database later without touching callers; keel_revoke_store_db is the
 * database implementation (table keel_revoked_tokens, created by
 * keel_revoke_migrations()) and the keel_revoke_add/check/purge shortcuts
 * use it on a connection.
 *
 * Purging keeps KEEL_REVOKE_GRACE seconds past exp, the largest clock
 * leeway keel_jwt_verify allows, so a revoked token is never accepted
 * again in the moments after its nominal expiry.
 */
#ifndef KEEL_REVOKE_H
#define KEEL_REVOKE_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/db.h"
#include "keel/migrate.h"
#include "keel/str.h"

/** Longest token id stored, in bytes (as KEEL_JWT_JTI_MAX). */
#define KEEL_REVOKE_JTI_MAX 64
/** Seconds an entry outlives its token's exp (KEEL_JWT_MAX_LEEWAY). */
#define KEEL_REVOKE_GRACE   3600

/** A blocklist backend: operations plus their context.  Caller storage. */
typedef struct keel_revoke_store {
	const char *name; /* "db", "redis" ... for logs */
	/** Record `jti` until `exp`; 0 or a negative KEEL_E*. */
	int (*add)(void *ctx, keel_str_t jti, int64_t exp);
	/** 1 when `jti` is listed, 0 when not, or a negative KEEL_E*. */
	int (*check)(void *ctx, keel_str_t jti);
	/** Drop entries with exp <= before; *removed (may be NULL) counts. */
	int (*purge)(void *ctx, int64_t before, int64_t *removed);
	void *ctx;
} keel_revoke_store_t;

/**
 * The migration set creating keel_revoked_tokens (portable SQL, static
 * storage): pass it and *n to keel_migrate_apply.
 */
KEEL_API const keel_migration_t *keel_revoke_migrations(size_t *n);

/** The database backend on `conn` (borrowed, not owned). */
KEEL_API keel_revoke_store_t keel_revoke_store_db(keel_db_conn_t *conn);

/**
 * Put `jti` (1..KEEL_REVOKE_JTI_MAX bytes) on the list until `exp` (the
 * token's exp, > 0); adding it again is harmless.  0, KEEL_EINVAL (bad
 * arguments), or the backend's error.
 */
KEEL_API int keel_revoke_store_add(const keel_revoke_store_t *store,
                                   const char *jti, int64_t exp);

/**
 * 1 when `jti` is revoked, 0 when not, or a negative KEEL_E* (KEEL_EINVAL
 * for a bad jti): callers must refuse the token (401) on 1 and on errors.
 */
KEEL_API int keel_revoke_store_check(const keel_revoke_store_t *store,
                                     const char *jti);

/**
 * Delete the entries whose token expired more than KEEL_REVOKE_GRACE
 * seconds before `now`; `removed` (may be NULL) gets how many.  0 or the
 * backend's error.
 */
KEEL_API int keel_revoke_store_purge(const keel_revoke_store_t *store,
                                     int64_t now, int64_t *removed);

/** keel_revoke_store_add on the database backend of `conn`. */
KEEL_API int keel_revoke_add(keel_db_conn_t *conn, const char *jti,
                             int64_t exp);
/** keel_revoke_store_check on the database backend of `conn`. */
KEEL_API int keel_revoke_check(keel_db_conn_t *conn, const char *jti);
/** keel_revoke_store_purge on the database backend of `conn`. */
KEEL_API int keel_revoke_purge(keel_db_conn_t *conn, int64_t now,
                               int64_t *removed);

#endif
