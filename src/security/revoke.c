/*
 * The JWT revocation blocklist (keel/revoke.h): argument checks and the
 * grace period in front of a replaceable store, and the database store.
 */
#include <string.h>

#include "keel/revoke.h"

static const char sql_revoked[] =
        "-- The JWT revocation blocklist (src/security/revoke.c): the jti of "
        "every\n"
        "-- token logged out before it expired, and that expiry (Unix "
        "seconds).  An\n"
        "-- entry is useless once exp has passed (the token is refused as "
        "expired\n"
        "-- anyway), so keel_revoke_purge deletes by the exp index.\n"
        "CREATE TABLE keel_revoked_tokens (\n"
        "    jti TEXT PRIMARY KEY,\n"
        "    exp BIGINT NOT NULL\n"
        ");\n"
        "CREATE INDEX keel_revoked_tokens_exp ON keel_revoked_tokens "
        "(exp);\n";

/* The bytes of src/security/migrations/0002_keel_revoked_tokens.sql; a
 * unit test keeps the two identical. */
static const keel_migration_t migrations[] = {
        {"0002_keel_revoked_tokens", sql_revoked, sizeof(sql_revoked) - 1,
         NULL},
};

const keel_migration_t *keel_revoke_migrations(size_t *n)
{
	if (n)
		*n = KEEL_COUNTOF(migrations);
	return migrations;
}

/* ----------------------------------------------------------- database */

/* Re-adding keeps the first entry: one jti names one token, whose exp
 * never changes. */
static int db_add(void *ctx, keel_str_t jti, int64_t exp)
{
	return keel_db_exec(ctx,
	                    "INSERT INTO keel_revoked_tokens (jti, exp) "
	                    "VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
	                    KEEL_DB_ARGS(KEEL_DB_STR(jti), KEEL_DB_I64(exp)),
	                    NULL);
}

static int db_check(void *ctx, keel_str_t jti)
{
	int64_t one = 0;
	int rc = keel_db_query_int(
	        ctx, "SELECT 1 FROM keel_revoked_tokens WHERE jti = $1",
	        KEEL_DB_ARGS(KEEL_DB_STR(jti)), &one);
	if (rc == KEEL_ENOENT)
		return 0;
	return rc < 0 ? rc : 1;
}

static int db_purge(void *ctx, int64_t before, int64_t *removed)
{
	return keel_db_exec(ctx,
	                    "DELETE FROM keel_revoked_tokens WHERE exp <= $1",
	                    KEEL_DB_ARGS(KEEL_DB_I64(before)), removed);
}

keel_revoke_store_t keel_revoke_store_db(keel_db_conn_t *conn)
{
	return (keel_revoke_store_t){.name = "db",
	                             .add = db_add,
	                             .check = db_check,
	                             .purge = db_purge,
	                             .ctx = conn};
}

/* ------------------------------------------------------------ generic */

/* The same rules for every store, so a Redis store sees only sane ids. */
static bool jti_ok(const char *jti, keel_str_t *out)
{
	size_t n = jti ? strnlen(jti, KEEL_REVOKE_JTI_MAX + 1) : 0;
	if (n == 0 || n > KEEL_REVOKE_JTI_MAX)
		return false;
	*out = (keel_str_t){jti, n};
	return true;
}

static bool store_ok(const keel_revoke_store_t *s)
{
	return s && s->ctx && s->add && s->check && s->purge;
}

int keel_revoke_store_add(const keel_revoke_store_t *store, const char *jti,
                          int64_t exp)
{
	keel_str_t id;
	if (!store_ok(store) || !jti_ok(jti, &id) || exp <= 0)
		return KEEL_EINVAL;
	return store->add(store->ctx, id, exp);
}

int keel_revoke_store_check(const keel_revoke_store_t *store, const char *jti)
{
	keel_str_t id;
	if (!store_ok(store) || !jti_ok(jti, &id))
		return KEEL_EINVAL;
	return store->check(store->ctx, id);
}

/* Entries stay KEEL_REVOKE_GRACE seconds past exp: a verifier allowing
 * clock skew still accepts a token a little after exp, and it must find
 * the entry then. */
int keel_revoke_store_purge(const keel_revoke_store_t *store, int64_t now,
                            int64_t *removed)
{
	if (!store_ok(store) || now < 0)
		return KEEL_EINVAL;
	return store->purge(store->ctx, now - KEEL_REVOKE_GRACE, removed);
}

int keel_revoke_add(keel_db_conn_t *conn, const char *jti, int64_t exp)
{
	keel_revoke_store_t s = keel_revoke_store_db(conn);
	return keel_revoke_store_add(&s, jti, exp);
}

int keel_revoke_check(keel_db_conn_t *conn, const char *jti)
{
	keel_revoke_store_t s = keel_revoke_store_db(conn);
	return keel_revoke_store_check(&s, jti);
}

int keel_revoke_purge(keel_db_conn_t *conn, int64_t now, int64_t *removed)
{
	keel_revoke_store_t s = keel_revoke_store_db(conn);
	return keel_revoke_store_purge(&s, now, removed);
}
