/*
 * The JWT revocation blocklist (src/security/revoke.c) on an in-memory
 * database: add, check, purge with its grace period, idempotent adds,
 * argument checks, the exp index, and a stand-in store proving the
 * interface is all callers depend on.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keel/db.h"
#include "keel/dbtest.h"
#include "keel/log.h"
#include "keel/migrate.h"
#include "keel/revoke.h"

static keel_db_t *rv_db;
static keel_db_conn_t *rv_c;

static void rv_setup(void)
{
	size_t n;
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	rv_db = keel_db_open("sqlite::memory:", NULL, NULL);
	cr_assert_not_null(rv_db);
	cr_assert_eq(keel_db_acquire(rv_db, &rv_c), 0);
	const keel_migration_t *m = keel_revoke_migrations(&n);
	cr_assert_eq(keel_migrate_apply(rv_c, m, n, NULL), 0);
}

static void rv_teardown(void)
{
	keel_db_release(rv_c);
	keel_db_close(rv_db);
}

TestSuite(revoke, .init = rv_setup, .fini = rv_teardown);

Test(revoke, add_then_check)
{
	cr_assert_eq(keel_revoke_check(rv_c, "jti-1"), 0);
	cr_assert_eq(keel_revoke_add(rv_c, "jti-1", 5000), 0);
	cr_assert_eq(keel_revoke_check(rv_c, "jti-1"), 1);
	cr_assert_eq(keel_revoke_check(rv_c, "jti-2"), 0);
	/* Case matters: ids are opaque bytes. */
	cr_assert_eq(keel_revoke_check(rv_c, "JTI-1"), 0);
	/* Adding twice is harmless (two logouts racing). */
	cr_assert_eq(keel_revoke_add(rv_c, "jti-1", 5000), 0);
	int64_t n = 0;
	cr_assert_eq(keel_db_query_int(
	                     rv_c, "SELECT count(*) FROM keel_revoked_tokens",
	                     KEEL_DB_NOARGS, &n),
	             0);
	cr_assert_eq(n, 1);
}

Test(revoke, purge_keeps_the_grace_period)
{
	int64_t removed = -1;
	cr_assert_eq(keel_revoke_add(rv_c, "old", 1000), 0);
	cr_assert_eq(keel_revoke_add(rv_c, "new", 9000), 0);
	/* At exp, a verifier with leeway may still accept "old". */
	cr_assert_eq(keel_revoke_purge(rv_c, 1000, &removed), 0);
	cr_assert_eq(removed, 0);
	cr_assert_eq(
	        keel_revoke_purge(rv_c, 1000 + KEEL_REVOKE_GRACE - 1, &removed),
	        0);
	cr_assert_eq(removed, 0);
	cr_assert_eq(keel_revoke_check(rv_c, "old"), 1);
	cr_assert_eq(
	        keel_revoke_purge(rv_c, 1000 + KEEL_REVOKE_GRACE, &removed), 0);
	cr_assert_eq(removed, 1);
	cr_assert_eq(keel_revoke_check(rv_c, "old"), 0);
	cr_assert_eq(keel_revoke_check(rv_c, "new"), 1);
	cr_assert_eq(keel_revoke_purge(rv_c, 9000 + KEEL_REVOKE_GRACE, NULL),
	             0);
	cr_assert_eq(keel_revoke_check(rv_c, "new"), 0);
}

Test(revoke, bad_arguments_are_refused)
{
	char long_jti[KEEL_REVOKE_JTI_MAX + 2];
	memset(long_jti, 'j', sizeof(long_jti) - 1);
	long_jti[sizeof(long_jti) - 1] = '\0';
	cr_assert_eq(keel_revoke_add(rv_c, "", 10), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_add(rv_c, NULL, 10), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_add(rv_c, long_jti, 10), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_add(rv_c, "j", 0), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_add(rv_c, "j", -1), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_add(NULL, "j", 10), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_check(rv_c, long_jti), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_check(NULL, "j"), KEEL_EINVAL);
	cr_assert_eq(keel_revoke_purge(rv_c, -1, NULL), KEEL_EINVAL);
	long_jti[KEEL_REVOKE_JTI_MAX] = '\0'; /* exactly the maximum */
	cr_assert_eq(keel_revoke_add(rv_c, long_jti, 10), 0);
	cr_assert_eq(keel_revoke_check(rv_c, long_jti), 1);
}

Test(revoke, database_errors_are_not_a_pass)
{
	cr_assert_eq(keel_db_exec(rv_c, "DROP TABLE keel_revoked_tokens",
	                          KEEL_DB_NOARGS, NULL),
	             0);
	/* A check that cannot answer must not say "not revoked". */
	int rc = keel_revoke_check(rv_c, "jti");
	cr_assert_lt(rc, 0);
	cr_assert_neq(rc, 0);
	cr_assert_lt(keel_revoke_add(rv_c, "jti", 10), 0);
}

Test(revoke, purge_and_check_use_indexes)
{
	keel_dbtest_report_t r;
	cr_assert_eq(keel_dbtest_explain(rv_c,
	                                 "DELETE FROM keel_revoked_tokens "
	                                 "WHERE exp <= $1",
	                                 KEEL_DB_ARGS(KEEL_DB_I64(5)), &r),
	             0);
	cr_assert(r.ok, "%s\n%s", r.plan, r.problems);
	cr_assert_eq(keel_dbtest_explain(rv_c,
	                                 "SELECT 1 FROM keel_revoked_tokens "
	                                 "WHERE jti = $1",
	                                 KEEL_DB_ARGS(KEEL_DB_CSTR("x")), &r),
	             0);
	cr_assert(r.ok, "%s\n%s", r.plan, r.problems);
}

/* --------------------------------------------- the backend interface */

typedef struct rv_mem {
	char ids[8][KEEL_REVOKE_JTI_MAX + 1];
	int64_t exps[8];
	int n, adds, checks;
} rv_mem_t;

static int rv_mem_add(void *ctx, keel_str_t jti, int64_t exp)
{
	rv_mem_t *m = ctx;
	m->adds++;
	snprintf(m->ids[m->n], sizeof(m->ids[0]), "%.*s", KEEL_STR_FMT(jti));
	m->exps[m->n++] = exp;
	return 0;
}

static int rv_mem_check(void *ctx, keel_str_t jti)
{
	rv_mem_t *m = ctx;
	m->checks++;
	for (int i = 0; i < m->n; i++)
		if (keel_str_eq(keel_str_from_cstr(m->ids[i]), jti))
			return 1;
	return 0;
}

static int rv_mem_purge(void *ctx, int64_t before, int64_t *removed)
{
	rv_mem_t *m = ctx;
	int64_t k = 0;
	for (int i = 0; i < m->n; i++)
		k += m->exps[i] <= before;
	if (removed)
		*removed = k;
	return 0;
}

Test(revoke, any_store_behind_the_interface)
{
	rv_mem_t mem = {0};
	keel_revoke_store_t s = {.name = "mem",
	                         .add = rv_mem_add,
	                         .check = rv_mem_check,
	                         .purge = rv_mem_purge,
	                         .ctx = &mem};
	int64_t removed = -1;
	cr_assert_eq(keel_revoke_store_add(&s, "a", 100), 0);
	cr_assert_eq(keel_revoke_store_check(&s, "a"), 1);
	cr_assert_eq(keel_revoke_store_check(&s, "b"), 0);
	/* Bad input never reaches the store. */
	cr_assert_eq(keel_revoke_store_add(&s, "", 100), KEEL_EINVAL);
	cr_assert_eq(mem.adds, 1);
	/* The generic layer applies the grace period for every store. */
	cr_assert_eq(keel_revoke_store_purge(&s, 100 + KEEL_REVOKE_GRACE - 1,
	                                     &removed),
	             0);
	cr_assert_eq(removed, 0);
	cr_assert_eq(
	        keel_revoke_store_purge(&s, 100 + KEEL_REVOKE_GRACE, &removed),
	        0);
	cr_assert_eq(removed, 1);
	s.check = NULL;
	cr_assert_eq(keel_revoke_store_check(&s, "a"), KEEL_EINVAL);
	keel_revoke_store_t db = keel_revoke_store_db(rv_c);
	cr_assert_str_eq(db.name, "db");
}

Test(revoke, migration_matches_its_sql_file)
{
	size_t n;
	const keel_migration_t *m = keel_revoke_migrations(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(m[0].name, "0002_keel_revoked_tokens");
	FILE *f = fopen("src/security/migrations/0002_keel_revoked_tokens.sql",
	                "rb");
	cr_assert_not_null(f, "run from the repository root");
	static char buf[8192];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(len, m[0].len);
	cr_assert_eq(memcmp(buf, m[0].sql, len), 0);
}
