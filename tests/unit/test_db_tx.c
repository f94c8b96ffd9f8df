/*
 * Unit tests for keel_db_tx: commit, rollback on error, savepoints for
 * nested calls, and reruns of the whole function when the database
 * reports a busy or locked condition.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/db.h"

static keel_db_t *tx_mem(const keel_db_opts_t *o)
{
	keel_db_error_t err;
	keel_db_t *db = keel_db_open("sqlite::memory:", o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

static keel_db_conn_t *tx_get(keel_db_t *db)
{
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(db, &c), 0);
	return c;
}

static void tx_ok(keel_db_conn_t *c, const char *sql)
{
	int rc = keel_db_exec(c, sql, KEEL_DB_NOARGS, NULL);
	cr_assert_eq(rc, 0, "%s: %d %s", sql, rc, keel_db_errmsg(c));
}

static int64_t tx_count(keel_db_conn_t *c)
{
	int64_t n = -1;
	cr_assert_eq(keel_db_query_int(c, "SELECT count(*) FROM t",
	                               KEEL_DB_NOARGS, &n),
	             0);
	return n;
}

static int tx_insert(keel_db_conn_t *c, int64_t v)
{
	return keel_db_exec(c, "INSERT INTO t VALUES($1)",
	                    KEEL_DB_ARGS(KEEL_DB_I64(v)), NULL);
}

/* A function for keel_db_tx that inserts `value` and returns `ret`. */
typedef struct tx_step {
	int64_t value;
	int ret;
	int runs;
	bool saw_tx;
} tx_step_t;

static int tx_insert_fn(keel_db_conn_t *c, void *arg)
{
	tx_step_t *s = arg;
	s->runs++;
	s->saw_tx = keel_db_in_tx(c);
	int rc = tx_insert(c, s->value);
	return rc < 0 ? rc : s->ret;
}

static keel_db_t *tx_setup(keel_db_conn_t **c, const keel_db_opts_t *o)
{
	keel_db_t *db = tx_mem(o);
	*c = tx_get(db);
	tx_ok(*c, "CREATE TABLE t(x INTEGER UNIQUE)");
	return db;
}

Test(db_tx, commits_when_fn_succeeds)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	keel_db_conn_t *other = tx_get(db);
	tx_step_t s = {.value = 1};
	cr_assert_not(keel_db_in_tx(c));
	cr_assert_eq(keel_db_tx(c, tx_insert_fn, &s), 0);
	cr_assert(s.saw_tx);
	cr_assert_not(keel_db_in_tx(c));
	cr_assert_eq(s.runs, 1);
	cr_assert_eq(tx_count(other), 1); /* committed: others see it */
	keel_db_release(other);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db_tx, rolls_back_when_fn_fails)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_step_t s = {.value = 1, .ret = KEEL_EINVAL};
	cr_assert_eq(keel_db_tx(c, tx_insert_fn, &s), KEEL_EINVAL);
	cr_assert_eq(tx_count(c), 0);
	/* Any non-zero return rolls back and comes back unchanged. */
	s = (tx_step_t){.value = 2, .ret = 409};
	cr_assert_eq(keel_db_tx(c, tx_insert_fn, &s), 409);
	cr_assert_eq(s.runs, 1);
	cr_assert_eq(tx_count(c), 0);
	cr_assert_not(keel_db_in_tx(c));
	keel_db_release(c);
	keel_db_close(db);
}

static int tx_two_inserts(keel_db_conn_t *c, void *arg)
{
	(void)arg;
	int rc = tx_insert(c, 5);
	return rc < 0 ? rc : tx_insert(c, 5);
}

Test(db_tx, rolls_back_on_statement_error)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	cr_assert_eq(keel_db_tx(c, tx_two_inserts, NULL), KEEL_EEXIST);
	cr_assert_eq(tx_count(c), 0);
	cr_assert(strstr(keel_db_errmsg(c), "UNIQUE"));
	keel_db_release(c);
	keel_db_close(db);
}

/* outer: insert 1, inner (fails after inserting 2), insert 3. */
typedef struct tx_nest {
	int inner_ret;
	int inner_rc;
	int depth_seen;
} tx_nest_t;

static int tx_inner(keel_db_conn_t *c, void *arg)
{
	tx_nest_t *n = arg;
	int rc = tx_insert(c, 2);
	tx_step_t deeper = {.value = 20};
	if (rc == 0)
		rc = keel_db_tx(c, tx_insert_fn, &deeper);
	n->depth_seen = deeper.saw_tx;
	return rc < 0 ? rc : n->inner_ret;
}

static int tx_outer(keel_db_conn_t *c, void *arg)
{
	tx_nest_t *n = arg;
	int rc = tx_insert(c, 1);
	if (rc < 0)
		return rc;
	n->inner_rc = keel_db_tx(c, tx_inner, n);
	return tx_insert(c, 3);
}

Test(db_tx, savepoint_rollback_keeps_outer_work)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_nest_t n = {.inner_ret = KEEL_EINVAL};
	cr_assert_eq(keel_db_tx(c, tx_outer, &n), 0);
	cr_assert_eq(n.inner_rc, KEEL_EINVAL);
	cr_assert(n.depth_seen);
	int64_t sum = 0;
	cr_assert_eq(keel_db_query_int(c, "SELECT sum(x) FROM t",
	                               KEEL_DB_NOARGS, &sum),
	             0);
	cr_assert_eq(sum, 1 + 3, "inner rows must be gone: sum %lld",
	             (long long)sum);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db_tx, nested_success_commits_everything)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_nest_t n = {.inner_ret = 0};
	cr_assert_eq(keel_db_tx(c, tx_outer, &n), 0);
	cr_assert_eq(n.inner_rc, 0);
	cr_assert_eq(tx_count(c), 4); /* 1, 2, 20, 3 */
	keel_db_release(c);
	keel_db_close(db);
}

static int tx_outer_propagates(keel_db_conn_t *c, void *arg)
{
	tx_nest_t *n = arg;
	int rc = tx_insert(c, 1);
	if (rc < 0)
		return rc;
	return keel_db_tx(c, tx_inner, n);
}

Test(db_tx, inner_error_returned_by_outer_undoes_all)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_nest_t n = {.inner_ret = KEEL_ENOENT};
	cr_assert_eq(keel_db_tx(c, tx_outer_propagates, &n), KEEL_ENOENT);
	cr_assert_eq(tx_count(c), 0);
	keel_db_release(c);
	keel_db_close(db);
}

/*
 * Deterministic whole-function retry.  In the shared-cache memory
 * database a reader's open transaction keeps a table lock on t; a writer
 * then gets SQLITE_LOCKED inside its transaction.  The first run of the
 * function hits that, ends the reader's transaction (standing in for
 * "the other side finishes") and fails; keel_db_tx must roll back and run
 * the function again, which now succeeds.
 */
typedef struct tx_race {
	keel_db_conn_t *reader;
	int runs;
	int first_rc;
	int release_after; /* the run after which the reader finishes */
} tx_race_t;

static int tx_race_fn(keel_db_conn_t *c, void *arg)
{
	tx_race_t *r = arg;
	r->runs++;
	int rc = tx_insert(c, 100 + r->runs);
	if (r->runs == 1)
		r->first_rc = rc;
	if (rc < 0 && r->runs == r->release_after)
		keel_db_exec(r->reader, "COMMIT", KEEL_DB_NOARGS, NULL);
	return rc;
}

static void tx_reader_lock(keel_db_conn_t *reader)
{
	tx_ok(reader, "BEGIN");
	int64_t n;
	cr_assert_eq(keel_db_query_int(reader, "SELECT count(*) FROM t",
	                               KEEL_DB_NOARGS, &n),
	             0);
}

Test(db_tx, locked_table_reruns_the_whole_function)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_race_t r = {.reader = tx_get(db), .release_after = 1};
	tx_reader_lock(r.reader);
	cr_assert_eq(keel_db_tx(c, tx_race_fn, &r), 0);
	cr_assert_eq(r.first_rc, KEEL_ETIMEDOUT);
	cr_assert_eq(r.runs, 2);
	int64_t x = 0;
	cr_assert_eq(
	        keel_db_query_int(c, "SELECT x FROM t", KEEL_DB_NOARGS, &x), 0);
	cr_assert_eq(x, 102); /* only the second run's row exists */
	cr_assert_eq(tx_count(c), 1);
	keel_db_release(r.reader);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db_tx, retries_stop_after_tx_attempts)
{
	keel_db_opts_t o = {.tx_attempts = 3};
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, &o);
	tx_race_t r = {.reader = tx_get(db), .release_after = 99};
	tx_reader_lock(r.reader);
	cr_assert_eq(keel_db_tx(c, tx_race_fn, &r), KEEL_ETIMEDOUT);
	cr_assert_eq(r.runs, 3);
	keel_db_release(r.reader); /* rolls the reader back */
	cr_assert_eq(tx_count(c), 0);
	keel_db_release(c);
	keel_db_close(db);
}

static int tx_own_timeout(keel_db_conn_t *c, void *arg)
{
	int *runs = arg;
	(*runs)++;
	tx_insert(c, 1);
	return KEEL_ETIMEDOUT; /* e.g. an HTTP call of its own timed out */
}

Test(db_tx, fn_errors_are_not_retried)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	int runs = 0;
	cr_assert_eq(keel_db_tx(c, tx_own_timeout, &runs), KEEL_ETIMEDOUT);
	cr_assert_eq(runs, 1);
	cr_assert_eq(tx_count(c), 0);
	keel_db_release(c);
	keel_db_close(db);
}

static int tx_orphan(keel_db_conn_t *c, void *arg)
{
	(void)arg;
	return keel_db_exec(c, "INSERT INTO ch VALUES(99)", KEEL_DB_NOARGS,
	                    NULL);
}

Test(db_tx, failed_commit_rolls_back)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_ok(c, "CREATE TABLE p(id INTEGER PRIMARY KEY)");
	tx_ok(c, "CREATE TABLE ch(pid INTEGER REFERENCES p(id) "
	         "DEFERRABLE INITIALLY DEFERRED)");
	/* A deferred foreign key is only checked at COMMIT. */
	cr_assert_eq(keel_db_tx(c, tx_orphan, NULL), KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(c), "FOREIGN KEY"), "%s",
	          keel_db_errmsg(c));
	cr_assert_not(keel_db_in_tx(c));
	int64_t n = -1;
	cr_assert_eq(keel_db_query_int(c, "SELECT count(*) FROM ch",
	                               KEEL_DB_NOARGS, &n),
	             0);
	cr_assert_eq(n, 0);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db_tx, refuses_bad_arguments_and_manual_transactions)
{
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, NULL);
	tx_step_t s = {.value = 1};
	cr_assert_eq(keel_db_tx(NULL, tx_insert_fn, &s), KEEL_EINVAL);
	cr_assert_eq(keel_db_tx(c, NULL, &s), KEEL_EINVAL);
	cr_assert_not(keel_db_in_tx(NULL));
	tx_ok(c, "BEGIN");
	cr_assert_eq(keel_db_tx(c, tx_insert_fn, &s), KEEL_ESTATE);
	cr_assert_eq(s.runs, 0);
	tx_ok(c, "ROLLBACK");
	keel_db_release(c);
	keel_db_close(db);
}

static int tx_release_check(keel_db_conn_t *c, void *arg)
{
	(void)arg;
	int rc = tx_insert(c, 7);
	keel_db_release(c); /* a borrower that forgets its transaction */
	return rc;
}

Test(db_tx, release_rolls_back_an_open_transaction)
{
	keel_db_opts_t o = {.pool_size = 1};
	keel_db_conn_t *c;
	keel_db_t *db = tx_setup(&c, &o);
	keel_db_tx(c, tx_release_check, NULL);
	keel_db_conn_t *again = tx_get(db);
	cr_assert_eq(tx_count(again), 0);
	cr_assert_not(keel_db_in_tx(again));
	keel_db_release(again);
	keel_db_close(db);
}

/* Another handle on the same file holds the write lock for hold_ms. */
typedef struct tx_locker {
	keel_db_t *db;
	int hold_ms;
	volatile int locked;
} tx_locker_t;

static void *tx_locker_main(void *p)
{
	tx_locker_t *l = p;
	keel_db_conn_t *c = NULL;
	if (keel_db_acquire(l->db, &c) < 0 ||
	    keel_db_exec(c, "BEGIN IMMEDIATE", KEEL_DB_NOARGS, NULL) < 0)
		return NULL;
	keel_db_exec(c, "INSERT INTO t VALUES(500)", KEEL_DB_NOARGS, NULL);
	l->locked = 1;
	usleep((useconds_t)l->hold_ms * 1000);
	keel_db_exec(c, "COMMIT", KEEL_DB_NOARGS, NULL);
	keel_db_release(c);
	return NULL;
}

static keel_db_t *tx_file(const char *dir, const keel_db_opts_t *o)
{
	char url[128];
	snprintf(url, sizeof(url), "sqlite://%s/tx.db", dir);
	keel_db_error_t err;
	keel_db_t *db = keel_db_open(url, o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

static void tx_busy_run(int hold_ms, int64_t retry_ms, int want_rc,
                        int want_runs)
{
	char dir[] = "/tmp/keel-txtest-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	keel_db_opts_t o = {.busy_timeout_ms = 5, .busy_retry_ms = retry_ms};
	keel_db_t *other = tx_file(dir, &o), *db = tx_file(dir, &o);
	keel_db_conn_t *c = tx_get(db);
	tx_ok(c, "CREATE TABLE t(x INTEGER UNIQUE)");
	tx_locker_t l = {.db = other, .hold_ms = hold_ms};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, tx_locker_main, &l), 0);
	while (!l.locked)
		usleep(1000);
	tx_step_t s = {.value = 1};
	int64_t t0 = keel_clock_now_ns();
	cr_assert_eq(keel_db_tx(c, tx_insert_fn, &s), want_rc);
	int64_t ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	pthread_join(th, NULL);
	cr_assert_eq(s.runs, want_runs);
	if (want_rc == 0) {
		cr_assert_geq(ms, hold_ms / 2, "no wait: %lld ms",
		              (long long)ms);
		cr_assert_eq(tx_count(c), 2);
	} else {
		cr_assert_lt(ms, hold_ms, "waited past the budget");
		cr_assert(strstr(keel_db_errmsg(c), "locked"));
	}
	keel_db_release(c);
	keel_db_close(db);
	keel_db_close(other);
}

Test(db_tx, busy_writer_waits_for_the_other_and_succeeds)
{
	tx_busy_run(200, 0, 0, 1);
}

Test(db_tx, busy_past_the_budget_times_out)
{
	tx_busy_run(700, 60, KEEL_ETIMEDOUT, 0);
}

/* The commit hook: counts its calls and how many rows were visible to a
 * second connection when it ran (the commit must already be done). */
typedef struct commit_seen {
	int calls;
	int64_t visible;
	keel_db_conn_t *other;
} commit_seen_t;

static void on_commit(void *ud)
{
	commit_seen_t *s = ud;
	s->calls++;
	if (s->other)
		s->visible = tx_count(s->other);
}

static int hook_two_inserts(keel_db_conn_t *c, void *arg)
{
	(void)arg;
	int rc = tx_insert(c, 10);
	return rc < 0 ? rc : tx_insert(c, 11);
}

Test(db_tx, commit_hook_runs_once_per_changing_commit_after_it)
{
	char dir[] = "/tmp/keel-hook-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char url[96];
	snprintf(url, sizeof(url), "sqlite:///%s/h.db", dir);
	keel_db_error_t err;
	keel_db_t *db = keel_db_open(url, NULL, &err);
	cr_assert_not_null(db, "%s", err.msg);
	keel_db_conn_t *c = tx_get(db);
	commit_seen_t seen = {0};
	tx_ok(c, "CREATE TABLE t(x INTEGER UNIQUE)");
	seen.other = tx_get(db);
	keel_db_on_commit(db, on_commit, &seen);

	/* Reads and statements that change nothing never call it. */
	cr_assert_eq(tx_count(c), 0);
	tx_ok(c, "DELETE FROM t WHERE x = 99");
	cr_assert_eq(seen.calls, 0);
	/* An autocommit write: once, with the row already visible. */
	cr_assert_eq(tx_insert(c, 1), 0);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.visible, 1);
	/* A transaction: once at its commit, not per statement. */
	cr_assert_eq(keel_db_tx(c, hook_two_inserts, NULL), 0);
	cr_assert_eq(seen.calls, 2);
	cr_assert_eq(seen.visible, 3);
	/* INSERT ... RETURNING through a cursor: at the cursor's close. */
	keel_db_rows_t *rows;
	cr_assert_eq(keel_db_query(c, "INSERT INTO t VALUES (20) RETURNING x",
	                           KEEL_DB_NOARGS, &rows),
	             0);
	cr_assert_eq(keel_db_rows_next(rows), 1);
	keel_db_rows_close(rows);
	cr_assert_eq(seen.calls, 3);
	cr_assert_eq(seen.visible, 4);
	/* A failed constraint changes nothing: no call. */
	cr_assert_lt(tx_insert(c, 1), 0);
	cr_assert_eq(seen.calls, 3);

	keel_db_on_commit(db, NULL, NULL);
	cr_assert_eq(tx_insert(c, 30), 0);
	cr_assert_eq(seen.calls, 3);
	keel_db_release(seen.other);
	keel_db_release(c);
	keel_db_close(db);
	char path[128];
	const char *const sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/h.db%s", dir, sfx[i]);
		unlink(path);
	}
	rmdir(dir);
}
