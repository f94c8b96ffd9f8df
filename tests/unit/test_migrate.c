/*
 * Migrations on real SQLite files: a fresh database, incremental runs,
 * refusals (changed file, missing file, out of order, malformed sets,
 * transaction statements), a failing file leaving the schema as it was,
 * the status listing, dialect-specific files, and two migrators racing on
 * two connections.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/migrate.h"

#define MIG(name, sql)                                                         \
	{                                                                      \
		name, sql, sizeof(sql) - 1, NULL                               \
	}

#define USERS_SQL                                                              \
	"-- people\n"                                                          \
	"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"  \
	"INSERT INTO users (email) VALUES ('a;b@example.com');\n"
#define POSTS_SQL                                                              \
	"CREATE TABLE posts (id INTEGER PRIMARY KEY,\n"                        \
	"  user_id INTEGER NOT NULL REFERENCES users (id), title TEXT);\n"     \
	"CREATE INDEX posts_user_id ON posts (user_id);\n"
#define COUNTS_SQL                                                             \
	"CREATE TABLE counts (user_id INTEGER PRIMARY KEY, n INTEGER);\n"      \
	"INSERT INTO counts VALUES (1, 0);\n"                                  \
	"/* a trigger body holds ';' and CASE ... END */\n"                    \
	"CREATE TRIGGER posts_count AFTER INSERT ON posts BEGIN\n"             \
	"  UPDATE counts SET n = n + CASE WHEN new.title = 'x;y' THEN 10\n"    \
	"    ELSE 1 END WHERE user_id = new.user_id;\n"                        \
	"END;\n"

static const keel_migration_t base[] = {
        MIG("0001_users", USERS_SQL),
        MIG("0002_posts", POSTS_SQL),
        MIG("0003_counts", COUNTS_SQL),
};

static char dir[64];
static char path[96];
static keel_db_t *db;
static keel_db_conn_t *conn;

/* No Criterion asserts here: the racing threads call it too. */
static keel_db_t *open_raw(int64_t busy_retry_ms, keel_db_error_t *err)
{
	char url[128];
	keel_db_opts_t o = {.pool_size = 2, .busy_retry_ms = busy_retry_ms};
	snprintf(url, sizeof(url), "sqlite://%s", path);
	return keel_db_open(url, &o, err);
}

static keel_db_conn_t *borrow(keel_db_t *d)
{
	keel_db_conn_t *c = NULL;
	return d && keel_db_acquire(d, &c) == KEEL_OK ? c : NULL;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/keel-migrate-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.db", dir);
	keel_db_error_t err = {{0}};
	db = open_raw(0, &err);
	cr_assert_not_null(db, "open %s: %s", path, err.msg);
	conn = borrow(db);
	cr_assert_not_null(conn);
}

static void teardown(void)
{
	char f[128];
	keel_db_release(conn);
	keel_db_close(db);
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < KEEL_COUNTOF(sfx); i++) {
		snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
		unlink(f);
	}
	rmdir(dir);
}

static int64_t count(keel_db_conn_t *c, const char *sql)
{
	int64_t n = -1;
	cr_assert_eq(keel_db_query_int(c, sql, KEEL_DB_NOARGS, &n), KEEL_OK,
	             "%s: %s", sql, keel_db_errmsg(c));
	return n;
}

static bool has_table(const char *name)
{
	int64_t n = -1;
	cr_assert_eq(keel_db_query_int(conn,
	                               "SELECT count(*) FROM sqlite_master "
	                               "WHERE name = $1",
	                               KEEL_DB_ARGS(KEEL_DB_CSTR(name)), &n),
	             KEEL_OK);
	return n > 0;
}

static int64_t recorded(void)
{
	return count(conn, "SELECT count(*) FROM schema_migrations");
}

static keel_migrate_report_t apply_ok(const keel_migration_t *set, size_t n)
{
	keel_migrate_report_t r;
	int rc = keel_migrate_apply(conn, set, n, &r);
	cr_assert_eq(rc, KEEL_OK, "apply: %d %s: %s", rc, r.failed, r.msg);
	cr_assert_str_empty(r.failed);
	cr_assert_str_empty(r.msg);
	return r;
}

/* ------------------------------------------------------- applying */

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 30);

Test(migrate, fresh_database_gets_every_migration)
{
	keel_migrate_report_t r = apply_ok(base, KEEL_COUNTOF(base));
	cr_expect_eq(r.applied, 3);
	cr_expect_eq(r.skipped, 0);
	cr_expect_eq(recorded(), 3);
	cr_expect_eq(count(conn, "SELECT count(*) FROM users"), 1);
	/* The trigger survived the split whole: both of its branches work. */
	cr_assert_eq(keel_db_exec(conn,
	                          "INSERT INTO posts (user_id, title) VALUES "
	                          "(1, 'x;y'), (1, 'z')",
	                          KEEL_DB_NOARGS, NULL),
	             KEEL_OK, "%s", keel_db_errmsg(conn));
	cr_expect_eq(count(conn, "SELECT n FROM counts WHERE user_id = 1"), 11);
	cr_expect_eq(count(conn, "SELECT count(*) FROM sqlite_master WHERE "
	                         "name = 'posts_user_id'"),
	             1);
}

Test(migrate, records_checksum_and_utc_time)
{
	char want[KEEL_MIGRATE_SUM_LEN + 1];
	keel_db_rows_t *rows = NULL;
	int64_t before = keel_clock_wall_ns() / KEEL_NS_PER_S;
	apply_ok(base, 1);
	cr_assert_eq(keel_migrate_checksum(base[0].sql, base[0].len, want), 0);
	cr_assert_eq(keel_db_query_row(conn,
	                               "SELECT name, checksum, applied_at, "
	                               "CAST(strftime('%s', applied_at) AS "
	                               "INTEGER) FROM schema_migrations",
	                               KEEL_DB_NOARGS, &rows),
	             KEEL_OK);
	keel_str_t at = keel_db_rows_text(rows, 2);
	cr_expect(keel_str_eq(keel_db_rows_text(rows, 0),
	                      KEEL_STR("0001_users")));
	cr_expect(keel_str_eq(keel_db_rows_text(rows, 1),
	                      keel_str_from_cstr(want)));
	cr_expect_eq(at.len, 24, "%.*s", KEEL_STR_FMT(at));
	cr_expect(at.len == 24 && at.ptr[10] == 'T' && at.ptr[19] == '.' &&
	                  at.ptr[23] == 'Z',
	          "%.*s", KEEL_STR_FMT(at));
	int64_t secs = keel_db_rows_int(rows, 3);
	cr_expect(secs >= before && secs <= before + 60, "%lld vs %lld",
	          (long long)secs, (long long)before);
	keel_db_rows_close(rows);
}

Test(migrate, incremental_run_applies_only_the_new_file)
{
	keel_migrate_report_t r = apply_ok(base, 2);
	cr_expect_eq(r.applied, 2);
	cr_expect(!has_table("counts"));
	r = apply_ok(base, 3);
	cr_expect_eq(r.applied, 1);
	cr_expect_eq(r.skipped, 2);
	cr_expect(has_table("counts"));
	/* 0001's INSERT did not run a second time. */
	cr_expect_eq(count(conn, "SELECT count(*) FROM users"), 1);
	r = apply_ok(base, 3);
	cr_expect_eq(r.applied, 0);
	cr_expect_eq(r.skipped, 3);
	cr_expect_eq(recorded(), 3);
}

Test(migrate, empty_set_creates_only_the_table)
{
	keel_migrate_report_t r = apply_ok(NULL, 0);
	cr_expect_eq(r.applied, 0);
	cr_expect(has_table("schema_migrations"));
	cr_expect_eq(recorded(), 0);
	cr_expect_eq(keel_migrate_apply(conn, base, 1, NULL), KEEL_OK);
	cr_expect_eq(recorded(), 1);
}

Test(migrate, comment_only_file_is_recorded)
{
	static const keel_migration_t set[] = {
	        MIG("0001_users", USERS_SQL),
	        MIG("0002_nothing", "-- intentionally empty\n;\n/* none */"),
	        {"0003_empty", "", 0, NULL},
	        /* The longest name allowed: 63 bytes. */
	        MIG("0004_"
	            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	            "x",
	            "CREATE TABLE t (x);"),
	};
	keel_migrate_report_t r = apply_ok(set, 4);
	cr_expect_eq(r.applied, 4);
	cr_expect_eq(recorded(), 4);
}

/* ------------------------------------------------------ refusals */

Test(migrate, changed_file_is_refused)
{
	apply_ok(base, 2);
	keel_migration_t set[4];
	memcpy(set, base, sizeof(base));
	set[1].sql = POSTS_SQL " ";
	set[1].len = sizeof(POSTS_SQL " ") - 1;
	set[3] = (keel_migration_t)MIG("0004_more", "CREATE TABLE more (x);");
	keel_migrate_report_t r;
	cr_assert_eq(keel_migrate_apply(conn, set, 4, &r), KEEL_ESTATE);
	cr_expect_str_eq(r.failed, "0002_posts");
	cr_expect(strstr(r.msg, "changed since it was applied"), "%s", r.msg);
	cr_expect_eq(r.applied, 0);
	/* Nothing pending ran. */
	cr_expect(!has_table("counts"));
	cr_expect(!has_table("more"));
	cr_expect_eq(recorded(), 2);
}

Test(migrate, missing_applied_file_is_refused)
{
	apply_ok(base, 3);
	const keel_migration_t set[] = {base[0], base[2]};
	keel_migrate_report_t r;
	cr_assert_eq(keel_migrate_apply(conn, set, 2, &r), KEEL_ESTATE);
	cr_expect_str_eq(r.failed, "0002_posts");
	cr_expect(strstr(r.msg, "missing from this build"), "%s", r.msg);
	cr_expect_eq(recorded(), 3);
}

Test(migrate, pending_file_below_an_applied_one_is_refused)
{
	const keel_migration_t later = MIG("0003_other", "CREATE TABLE o (x);");
	const keel_migration_t first[] = {base[0], later};
	apply_ok(first, 2);
	const keel_migration_t all[] = {base[0], base[1], later};
	keel_migrate_report_t r;
	cr_assert_eq(keel_migrate_apply(conn, all, 3, &r), KEEL_ESTATE);
	cr_expect_str_eq(r.failed, "0002_posts");
	cr_expect(strstr(r.msg, "0003_other is already applied"), "%s", r.msg);
	cr_expect(!has_table("posts"));
}

Test(migrate, malformed_sets_are_refused_before_any_write)
{
	static const struct {
		keel_migration_t m[2];
		const char *why;
	} t[] = {
	        {{MIG("0001_users", "x"), MIG("0001_again", "y")},
	         "out of order"},
	        {{MIG("0002_b", "x"), MIG("0001_a", "y")}, "out of order"},
	        {{MIG("001_a", "x"), MIG("0002_b", "y")}, "bad migration name"},
	        {{MIG("0001-a", "x"), MIG("0002_b", "y")},
	         "bad migration name"},
	        {{MIG("0001_A", "x"), MIG("0002_b", "y")},
	         "bad migration name"},
	        {{MIG("0001_", "x"), MIG("0002_b", "y")}, "bad migration name"},
	        {{MIG("0001_a.sql", "x"), MIG("0002_b", "y")},
	         "bad migration name"},
	        {{{NULL, "x", 1, NULL}, MIG("0002_b", "y")},
	         "bad migration name"},
	        {{{"0001_a", NULL, 3, NULL}, MIG("0002_b", "y")},
	         "no SQL text"},
	        {{{"0001_a", "a\0b", 3, NULL}, MIG("0002_b", "y")},
	         "holds a NUL byte"},
	        {{{"0001_a", "x", 1, "mysql"}, MIG("0002_b", "y")},
	         "unknown dialect"},
	        {{MIG("0001_a", "x"), {"0001_a", "y", 1, "sqlite"}},
	         "out of order"},
	        {{MIG("0001_a", "x"), MIG("0002_"
	                                  "a_name_that_is_far_too_long_to_fit_"
	                                  "in_the_report_field_of_keel",
	                                  "y")},
	         "bad migration name"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		keel_migrate_report_t r;
		int rc = keel_migrate_apply(conn, t[i].m, 2, &r);
		cr_expect_eq(rc, KEEL_EINVAL, "case %zu: %d", i, rc);
		cr_expect(strstr(r.msg, t[i].why), "case %zu: %s", i, r.msg);
		cr_expect(!has_table("schema_migrations"), "case %zu", i);
	}
	cr_expect_eq(keel_migrate_apply(conn, NULL, 2, NULL), KEEL_EINVAL);
	cr_expect_eq(keel_migrate_apply(NULL, base, 1, NULL), KEEL_EINVAL);
}

Test(migrate, files_managing_transactions_are_refused_up_front)
{
	static const char *const bad[] = {
	        "BEGIN; CREATE TABLE t (x);",
	        "CREATE TABLE t (x); COMMIT;",
	        "CREATE TABLE t (x);\nrollback",
	        "END TRANSACTION",
	        "SAVEPOINT a",
	        "release a",
	        "START TRANSACTION",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		keel_migration_t set[2] = {
		        base[0], {"0002_tx", bad[i], strlen(bad[i]), NULL}};
		keel_migrate_report_t r;
		cr_expect_eq(keel_migrate_apply(conn, set, 2, &r), KEEL_EINVAL,
		             "[%s]", bad[i]);
		cr_expect_str_eq(r.failed, "0002_tx");
		cr_expect(strstr(r.msg, "must not BEGIN, COMMIT or ROLLBACK"),
		          "%s", r.msg);
		/* Checked before the first file ran. */
		cr_expect(!has_table("users"), "[%s]", bad[i]);
		cr_expect_eq(r.applied, 0);
	}
}

Test(migrate, unterminated_string_is_refused_up_front)
{
	const keel_migration_t set[] = {
	        base[0],
	        MIG("0002_broken", "CREATE TABLE t (x);\n\nINSERT INTO t "
	                           "VALUES ('oops);\n"),
	};
	keel_migrate_report_t r;
	cr_assert_eq(keel_migrate_apply(conn, set, 2, &r), KEEL_EINVAL);
	cr_expect_str_eq(r.failed, "0002_broken");
	cr_expect_str_eq(r.msg, "line 3: unterminated string");
	cr_expect(!has_table("users"));
}

static int apply_inside(keel_db_conn_t *c, void *arg)
{
	*(int *)arg = keel_migrate_apply(c, base, 1, NULL);
	return 0;
}

Test(migrate, refuses_to_run_inside_a_transaction)
{
	int rc = 0;
	cr_assert_eq(keel_db_tx(conn, apply_inside, &rc), KEEL_OK);
	cr_expect_eq(rc, KEEL_ESTATE);
	cr_expect(!has_table("users"));
}

/* ------------------------------------------------------ failures */

Test(migrate, failing_file_leaves_schema_and_records_unchanged)
{
	const keel_migration_t set[] = {
	        base[0],
	        MIG("0002_posts",
	            "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n"
	            "INSERT INTO users (email) VALUES ('b');\n"
	            "INSERT INTO nosuch VALUES (1);\n"
	            "CREATE TABLE after (x);\n"),
	        base[2],
	};
	keel_migrate_report_t r;
	int rc = keel_migrate_apply(conn, set, 3, &r);
	cr_assert_eq(rc, KEEL_EINVAL, "%d %s", rc, r.msg);
	cr_expect_eq(r.applied, 1);
	cr_expect_str_eq(r.failed, "0002_posts");
	cr_expect(strstr(r.msg, "statement 3 (line 3)"), "%s", r.msg);
	cr_expect(strstr(r.msg, "nosuch"), "%s", r.msg);
	/* The first statements of the file were rolled back with it. */
	cr_expect(!has_table("posts"));
	cr_expect(!has_table("after"));
	cr_expect_eq(count(conn, "SELECT count(*) FROM users"), 1);
	/* It stopped: the next file did not run, only 0001 is recorded. */
	cr_expect(!has_table("counts"));
	cr_expect_eq(recorded(), 1);
	cr_expect_eq(count(conn, "SELECT count(*) FROM schema_migrations "
	                         "WHERE name = '0001_users'"),
	             1);
	/* A fixed file applies on the next run. */
	keel_migrate_report_t ok = apply_ok(base, 3);
	cr_expect_eq(ok.applied, 2);
	cr_expect_eq(ok.skipped, 1);
}

Test(migrate, constraint_failure_names_the_file)
{
	const keel_migration_t set[] = {
	        base[0],
	        MIG("0002_dup", "CREATE TABLE d (x UNIQUE);\n"
	                        "INSERT INTO d VALUES (1), (1);"),
	};
	keel_migrate_report_t r;
	int rc = keel_migrate_apply(conn, set, 2, &r);
	cr_expect_lt(rc, 0);
	cr_expect_str_eq(r.failed, "0002_dup");
	cr_expect(strstr(r.msg, "statement 2 (line 2)"), "%s", r.msg);
	cr_expect(!has_table("d"));
}

/* ------------------------------------------------------ dialects */

Test(migrate, picks_the_file_written_for_this_database)
{
	static const keel_migration_t set[] = {
	        MIG("0001_users", USERS_SQL),
	        {"0002_fts", "CREATE EXTENSION pg_trgm;", 25, "postgres"},
	        {"0002_fts", "CREATE TABLE fts (body TEXT);", 29, "sqlite"},
	        MIG("0003_after", "CREATE TABLE after (x);"),
	};
	char want[KEEL_MIGRATE_SUM_LEN + 1];
	keel_migrate_report_t r = apply_ok(set, 4);
	cr_expect_eq(r.applied, 3);
	cr_expect(has_table("fts"));
	cr_expect_eq(recorded(), 3);
	keel_migrate_checksum(set[2].sql, set[2].len, want);
	int64_t same = 0;
	cr_assert_eq(keel_db_query_int(conn,
	                               "SELECT count(*) FROM schema_migrations "
	                               "WHERE name = '0002_fts' AND "
	                               "checksum = $1",
	                               KEEL_DB_ARGS(KEEL_DB_STR(
	                                       keel_str_from_cstr(want))),
	                               &same),
	             KEEL_OK);
	cr_expect_eq(same, 1);
	cr_expect_eq(count(conn, "SELECT count(*) FROM schema_migrations "
	                         "WHERE name = '0002_fts'"),
	             1);
	/* Editing the other dialect's file does not touch this database. */
	keel_migration_t edited[4];
	memcpy(edited, set, sizeof(set));
	edited[1].sql = "CREATE EXTENSION citext;";
	edited[1].len = strlen(edited[1].sql);
	r = apply_ok(edited, 4);
	cr_expect_eq(r.skipped, 3);
}

/* ------------------------------------------------------ status */

typedef struct seen {
	int n;
	char names[8][KEEL_MIGRATE_NAME_MAX];
	keel_migrate_state_t states[8];
	bool has_time[8];
	int stop_at; /* return nonzero at this call (1-based); 0: never */
} seen_t;

static int collect(const keel_migrate_info_t *info, void *arg)
{
	seen_t *s = arg;
	cr_assert_lt(s->n, 8);
	snprintf(s->names[s->n], KEEL_MIGRATE_NAME_MAX, "%s", info->name);
	s->states[s->n] = info->state;
	s->has_time[s->n] = info->applied_at && strlen(info->applied_at) == 24;
	cr_expect_eq(info->checksum != NULL, info->applied_at != NULL);
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void expect_line(const seen_t *s, int i, const char *name,
                        keel_migrate_state_t st)
{
	cr_expect_str_eq(s->names[i], name);
	cr_expect_eq(s->states[i], st, "%s is %s", name,
	             keel_migrate_state_name(s->states[i]));
	cr_expect_eq(s->has_time[i], st != KEEL_MIGRATE_PENDING, "%s", name);
}

Test(migrate, status_on_a_fresh_database_lists_all_pending_and_writes_nothing)
{
	seen_t s = {0};
	cr_assert_eq(keel_migrate_status(conn, base, 3, collect, &s), KEEL_OK);
	cr_assert_eq(s.n, 3);
	for (int i = 0; i < 3; i++)
		expect_line(&s, i, base[i].name, KEEL_MIGRATE_PENDING);
	cr_expect(!has_table("schema_migrations"));
}

Test(migrate, status_lists_applied_pending_changed_and_missing)
{
	apply_ok(base, 2);
	seen_t s = {0};
	cr_assert_eq(keel_migrate_status(conn, base, 3, collect, &s), KEEL_OK);
	cr_assert_eq(s.n, 3);
	expect_line(&s, 0, "0001_users", KEEL_MIGRATE_APPLIED);
	expect_line(&s, 1, "0002_posts", KEEL_MIGRATE_APPLIED);
	expect_line(&s, 2, "0003_counts", KEEL_MIGRATE_PENDING);

	keel_migration_t set[2] = {base[0], base[2]};
	set[0].sql = "CREATE TABLE users (changed);";
	set[0].len = strlen(set[0].sql);
	seen_t t = {0};
	cr_assert_eq(keel_migrate_status(conn, set, 2, collect, &t), KEEL_OK);
	cr_assert_eq(t.n, 3);
	expect_line(&t, 0, "0001_users", KEEL_MIGRATE_CHANGED);
	expect_line(&t, 1, "0003_counts", KEEL_MIGRATE_PENDING);
	expect_line(&t, 2, "0002_posts", KEEL_MIGRATE_MISSING);
}

Test(migrate, status_callback_can_stop_the_listing)
{
	seen_t s = {.stop_at = 2};
	cr_expect_eq(keel_migrate_status(conn, base, 3, collect, &s), 42);
	cr_expect_eq(s.n, 2);
	cr_expect_eq(keel_migrate_status(conn, base, 3, NULL, NULL),
	             KEEL_EINVAL);
	const keel_migration_t bad[] = {MIG("1_x", "")};
	cr_expect_eq(keel_migrate_status(conn, bad, 1, collect, &s),
	             KEEL_EINVAL);
}

/* ------------------------------------------------------ concurrency */

typedef struct racer {
	pthread_barrier_t *go;
	int rc;
	keel_migrate_report_t r;
} racer_t;

static void *race(void *arg)
{
	racer_t *me = arg;
	keel_db_t *d = open_raw(5000, NULL);
	keel_db_conn_t *c = borrow(d);
	pthread_barrier_wait(me->go);
	me->rc = c ? keel_migrate_apply(c, base, 3, &me->r) : KEEL_EIO;
	if (c)
		keel_db_release(c);
	keel_db_close(d);
	return NULL;
}

/*
 * Two workers booting at once: whatever the interleaving, each file runs
 * exactly once (0001's CREATE TABLE would fail the second time) and both
 * report success.
 */
Test(migrate, two_connections_racing_apply_each_file_once)
{
	for (int round = 0; round < 4; round++) {
		keel_db_exec_script(conn,
		                    "DROP TABLE IF EXISTS schema_migrations;"
		                    "DROP TABLE IF EXISTS counts;"
		                    "DROP TABLE IF EXISTS posts;"
		                    "DROP TABLE IF EXISTS users;");
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, 2);
		racer_t a = {.go = &go}, b = {.go = &go};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&go);
		cr_assert_eq(a.rc, KEEL_OK, "%s: %s", a.r.failed, a.r.msg);
		cr_assert_eq(b.rc, KEEL_OK, "%s: %s", b.r.failed, b.r.msg);
		cr_expect_eq(a.r.applied + b.r.applied, 3);
		cr_expect_eq(a.r.applied + a.r.skipped, 3);
		cr_expect_eq(b.r.applied + b.r.skipped, 3);
		cr_expect_eq(recorded(), 3);
		cr_expect_eq(count(conn, "SELECT count(*) FROM users"), 1);
	}
}

typedef struct holder {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool locked;
	int rc;
} holder_t;

/* Another worker, mid-transaction: 0001 applied but not yet committed. */
static int hold_tx(keel_db_conn_t *c, void *arg)
{
	holder_t *h = arg;
	char sum[KEEL_MIGRATE_SUM_LEN + 1];
	keel_migrate_checksum(base[0].sql, base[0].len, sum);
	int rc = keel_db_exec_script(c, base[0].sql);
	if (rc == 0)
		rc = keel_db_exec(
		        c,
		        "INSERT INTO schema_migrations VALUES ($1, $2, "
		        "'2000-01-01T00:00:00.000Z')",
		        KEEL_DB_ARGS(KEEL_DB_CSTR(base[0].name),
		                     KEEL_DB_STR(keel_str_from_cstr(sum))),
		        NULL);
	pthread_mutex_lock(&h->mu);
	h->locked = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	nanosleep(&(struct timespec){.tv_nsec = 500 * 1000 * 1000}, NULL);
	return rc;
}

static void *hold(void *arg)
{
	holder_t *h = arg;
	keel_db_t *d = open_raw(0, NULL);
	keel_db_conn_t *c = borrow(d);
	h->rc = c ? keel_db_tx(c, hold_tx, h) : KEEL_EIO;
	if (c) {
		keel_db_release(c);
	} else {
		/* Never leave the main thread waiting. */
		pthread_mutex_lock(&h->mu);
		h->locked = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	keel_db_close(d);
	return NULL;
}

/*
 * The interleaving the lock exists for: this migrator reads the records
 * while the other's transaction is still open (so 0001 looks pending),
 * then waits for the write lock; once it has it, it must see 0001 applied
 * and skip it instead of running it a second time.
 */
Test(migrate, second_migrator_rechecks_under_the_lock)
{
	apply_ok(NULL, 0);
	holder_t h = {.mu = PTHREAD_MUTEX_INITIALIZER,
	              .cv = PTHREAD_COND_INITIALIZER};
	pthread_t t;
	pthread_create(&t, NULL, hold, &h);
	pthread_mutex_lock(&h.mu);
	while (!h.locked)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	int64_t t0 = keel_clock_now_ns();
	keel_migrate_report_t r;
	int rc = keel_migrate_apply(conn, base, 1, &r);
	int64_t waited_ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	pthread_join(t, NULL);
	cr_assert_eq(h.rc, KEEL_OK);
	cr_assert_eq(rc, KEEL_OK, "%s: %s", r.failed, r.msg);
	cr_expect_eq(r.applied, 0);
	cr_expect_eq(r.skipped, 1);
	cr_expect_geq(waited_ms, 150, "did not wait for the lock (%lld ms)",
	              (long long)waited_ms);
	cr_expect_eq(recorded(), 1);
}

/* ------------------------------------------------------ helpers */

Test(migrate, checksum_is_sha256_hex)
{
	char out[KEEL_MIGRATE_SUM_LEN + 1];
	cr_assert_eq(keel_migrate_checksum("abc", 3, out), KEEL_OK);
	cr_expect_str_eq(out, "ba7816bf8f01cfea414140de5dae2223"
	                      "b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(keel_migrate_checksum(NULL, 0, out), KEEL_OK);
	cr_expect_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb924"
	                      "27ae41e4649b934ca495991b7852b855");
}

Test(migrate, state_names)
{
	cr_expect_str_eq(keel_migrate_state_name(KEEL_MIGRATE_PENDING),
	                 "pending");
	cr_expect_str_eq(keel_migrate_state_name(KEEL_MIGRATE_APPLIED),
	                 "applied");
	cr_expect_str_eq(keel_migrate_state_name(KEEL_MIGRATE_CHANGED),
	                 "changed");
	cr_expect_str_eq(keel_migrate_state_name(KEEL_MIGRATE_MISSING),
	                 "missing");
	cr_expect_str_eq(keel_migrate_state_name((keel_migrate_state_t)99),
	                 "?");
}
