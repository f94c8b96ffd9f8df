/*
 * Group commit: many handlers' transactions made durable by one fsync.
 *
 * With synchronous=FULL every COMMIT waits for an fsync of the WAL, a few
 * hundred microseconds on a virtual disk, and SQLite has one writer at a
 * time: one commit per transaction caps a worker near 2,000 writes/s with
 * its loop blocked in fsync most of the time.  PostgreSQL flushes its WAL
 * once for every transaction waiting on it; this is the same idea for
 * keel's single-threaded workers.
 *
 * In a worker, keel_db_tx queues the transaction function and parks the
 * handler.  After the loop iteration - when every handler with a request
 * ready has queued its work - a batch starts: a side thread takes the
 * writer lock and BEGINs on the worker's writer connection; back on the
 * loop, each queued handler is resumed in turn to run its function inside
 * a savepoint of its own (a function that fails rolls back to its
 * savepoint and takes nothing else with it); then the side thread COMMITs
 * once and releases the lock, and on the loop the commit hook runs (the
 * response cache empties) and every member resumes with the result.  No
 * handler answers before its data is on disk: the durability promise of
 * FULL is unchanged, and the batch is serializable in queue order.  While
 * the side thread waits for the lock or the fsync, the loop serves other
 * requests and queues the next batch.
 *
 * The writer lock is an flock() on "<database>-keel.lock" shared by the
 * workers, held from BEGIN to the end of COMMIT and polled from the side
 * thread in steps of 20-500 us: SQLite's own busy handler would sleep
 * whole milliseconds and block the loop while doing it.
 *
 * A function that waits inside (an offload, a sleep) keeps the writer,
 * and the task resumes when it returns.  A member whose function failed
 * waits for the batch too (its failure may rest on rows written before
 * it).  When the engine drops the whole transaction (an I/O error, a full
 * disk) the members already in it get KEEL__DB_RERUN and keel_db_tx runs
 * them again; a failed COMMIT fails every member.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "data/driver.h"
#include "keel/log.h"
#include "net/park.h"

/* Resume value that means "your turn: run the function now". */
#define TURN 1

struct keel__db_member {
	keel__db_member_t *next;
	keel_db_conn_t *conn; /* the request's: stats and errors go there */
	int (*fn)(keel_db_conn_t *conn, void *arg);
	void *arg;
	keel__park_t park;
	int rc; /* the function's result */
};

void keel__db_group_init(keel_db_t *db)
{
	db->group.lock_fd = -1;
	db->group.queue_tail = &db->group.queue;
}

bool keel__db_group_usable(const keel_db_t *db)
{
	return db->opts.commit == KEEL_DB_COMMIT_GROUP && !db->memory &&
	       keel__park_possible();
}

static void group_task(keel_loop_t *loop, keel_task_t *t);

static void queue_task(keel_db_t *db)
{
	keel__defer(&db->group.task, group_task, db);
}

/* The writer connection, the lock file and the side thread, once. */
static int writer_ready(keel_db_t *db)
{
	keel__db_group_t *g = &db->group;
	char err[256];
	if (!g->writer &&
	    keel__db_conn_open(db, &g->writer, err, sizeof(err)) < 0) {
		g->writer = NULL;
		KEEL_LOG_ERROR("db: cannot open the writer connection: %s",
		               err);
		return KEEL_EIO;
	}
	if (g->lock_fd < 0) {
		char path[4096 + 16];
		snprintf(path, sizeof(path), "%s-keel.lock", db->target);
		g->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (g->lock_fd < 0) {
			KEEL_LOG_ERROR("db: cannot open %s: %s", path,
			               strerror(errno));
			return KEEL_EIO;
		}
	}
	if (!g->side && !(g->side = keel__side_new()))
		return KEEL_ENOMEM;
	return KEEL_OK;
}

static int unlock_file(int fd)
{
	while (flock(fd, LOCK_UN) < 0)
		if (errno != EINTR)
			return KEEL_EIO;
	return KEEL_OK;
}

/*
 * The writer lock, polled: another worker's batch holds it for about a
 * millisecond, so short sleeps hand it over quickly, and a holder that
 * never lets go (a stopped process, a second handle on the same file in
 * this process) costs a KEEL_ETIMEDOUT after busy_retry_ms, not a hang.
 */
static int lock_file(int fd, int64_t budget_ms)
{
	int64_t waited_us = 0, step_us = 20;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return KEEL_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return KEEL_EIO;
		if (waited_us >= budget_ms * 1000)
			return KEEL_ETIMEDOUT;
		struct timespec ts = {0, step_us * 1000};
		nanosleep(&ts, NULL);
		waited_us += step_us;
		if (step_us < 500)
			step_us *= 2;
	}
}

/*
 * Resume every member of the detached list `m` with the batch's result
 * `rc`.  A member whose function failed gets its own error only when the
 * batch committed: its failure may rest on rows earlier members wrote (a
 * unique violation), which exist only if that COMMIT did; otherwise it
 * runs again.
 */
static void resume_all(keel__db_member_t *m, int rc)
{
	keel__db_member_t *next;
	for (; m; m = next) {
		next = m->next; /* read first: it may be gone once resumed */
		int v = rc;
		if (m->rc != KEEL_OK)
			v = rc == KEEL_OK ? m->rc : KEEL__DB_RERUN;
		keel__unpark_now(&m->park, v);
	}
}

/* Every queued member gets `rc` without running. */
static void fail_queue(keel__db_group_t *g, int rc)
{
	keel__db_member_t *m = g->queue;
	g->queue = NULL;
	g->queue_tail = &g->queue;
	resume_all(m, rc);
}

static keel__db_member_t *dequeue(keel__db_group_t *g)
{
	keel__db_member_t *m = g->queue;
	if (m && !(g->queue = m->next))
		g->queue_tail = &g->queue;
	return m;
}

/* Side thread: wait for the writer lock (another worker's batch), then
 * BEGIN; on failure nothing is held. */
static void lock_work(void *arg)
{
	keel_db_t *db = arg;
	keel__db_group_t *g = &db->group;
	int rc = lock_file(g->lock_fd, db->opts.busy_retry_ms);
	if (rc == KEEL_OK) {
		rc = keel__db_begin(g->writer);
		if (rc < 0)
			unlock_file(g->lock_fd);
	}
	g->side_rc = rc;
}

static void lock_done(void *arg, bool cancelled)
{
	keel_db_t *db = arg;
	keel__db_group_t *g = &db->group;
	if (!keel__park_worker_alive())
		return; /* torn down: its handlers are gone */
	int rc = cancelled ? KEEL_ECLOSED : g->side_rc;
	if (rc < 0) {
		g->state = KEEL__GROUP_IDLE;
		fail_queue(g, rc);
		return;
	}
	g->state = KEEL__GROUP_RUNNING;
	g->lost = false;
	g->batches++;
	queue_task(db); /* after this iteration: more members can queue */
}

/* Side thread: COMMIT (a lost batch has nothing to commit), unlock. */
static void commit_work(void *arg)
{
	keel_db_t *db = arg;
	keel__db_group_t *g = &db->group;
	keel_db_conn_t *w = g->writer;
	int rc = KEEL__DB_RERUN;
	if (!g->lost) {
		w->retryable = false;
		rc = keel__db_control(w, "COMMIT");
		if (rc < 0 && w->retryable)
			rc = KEEL__DB_RERUN;
	}
	if (db->drv->in_tx(w->h))
		db->drv->exec(w->h, "ROLLBACK");
	unlock_file(g->lock_fd);
	g->side_rc = rc;
}

/* The batch is over: the commit hook runs, then every member resumes
 * with the result. */
static void commit_done(void *arg, bool cancelled)
{
	keel_db_t *db = arg;
	keel__db_group_t *g = &db->group;
	if (!keel__park_worker_alive())
		return; /* torn down: its handlers are gone */
	int rc = cancelled ? KEEL_ECLOSED : g->side_rc;
	if (rc < 0 && rc != KEEL__DB_RERUN)
		KEEL_LOG_ERROR("db: group commit on %s failed: %s", db->target,
		               g->writer->errmsg);
	g->state = KEEL__GROUP_IDLE;
	keel__db_settled(g->writer);
	keel__db_member_t *m = g->done;
	g->done = NULL;
	resume_all(m, rc);
	if (g->queue)
		queue_task(db);
}

/* Start a step on the side thread; when that fails, run it here. */
static void side_step(keel_db_t *db, void (*work)(void *),
                      void (*done)(void *, bool))
{
	if (keel__side_submit(db->group.side, work, done, db) < 0) {
		work(db);
		done(db, false);
	}
}

/*
 * Hand the writer to each queued member in turn.  A member runs its
 * function inside the resume and either parks again (in the batch) or
 * returns its error; the task never touches a member after resuming it,
 * since one that returned may already be gone.  One whose function waits
 * inside keeps the turn and queues the task again when it is done.
 */
static void run_turns(keel_db_t *db)
{
	keel__db_group_t *g = &db->group;
	keel__db_member_t *m;
	while (!g->lost && (m = dequeue(g))) {
		g->running = m;
		g->resuming = true;
		keel__unpark_now(&m->park, TURN);
		g->resuming = false;
		if (g->running)
			return; /* its function waits inside */
	}
	g->state = KEEL__GROUP_COMMITTING;
	side_step(db, commit_work, commit_done);
}

static void group_task(keel_loop_t *loop, keel_task_t *t)
{
	keel_db_t *db = t->data;
	keel__db_group_t *g = &db->group;
	(void)loop;
	if (g->running)
		return;
	if (g->state == KEEL__GROUP_RUNNING) {
		run_turns(db);
	} else if (g->state == KEEL__GROUP_IDLE && g->queue) {
		int rc = writer_ready(db);
		if (rc < 0) {
			fail_queue(g, rc);
			return;
		}
		g->state = KEEL__GROUP_LOCKING;
		side_step(db, lock_work, lock_done);
	}
	/* LOCKING, COMMITTING: their done step queues the task again. */
}

/* fn in a savepoint of the open batch, on the writer. */
static int run_member(keel_db_t *db, keel__db_member_t *m)
{
	keel_db_conn_t *w = db->group.writer;
	w->retryable = false;
	int rc = keel__db_control(w, "SAVEPOINT keel_member");
	if (rc == KEEL_OK) {
		w->tx_depth = 1;
		rc = m->fn(w, m->arg);
		w->tx_depth = 0;
		/* A cursor left open would pin an old snapshot on the writer,
		 * and every later BEGIN would find the database busy. */
		if (w->cursors) {
			KEEL_LOG_WARN("db: a transaction function left a "
			              "cursor open; closed");
			keel__db_rows_close_all(w);
		}
		if (rc == KEEL_OK)
			rc = keel__db_control(w, "RELEASE keel_member");
	}
	if (rc == KEEL_OK)
		return KEEL_OK;
	bool again = rc == KEEL_ETIMEDOUT && w->retryable;
	if (db->drv->in_tx(w->h)) {
		db->drv->exec(w->h, "ROLLBACK TO keel_member");
		db->drv->exec(w->h, "RELEASE keel_member");
	} else {
		/* The engine dropped the whole transaction: the members
		 * already in it run again in a new batch. */
		KEEL_LOG_WARN("db: a batch on %s was rolled back: %s",
		              db->target, w->errmsg);
		db->group.lost = true;
	}
	return again ? KEEL__DB_RERUN : rc;
}

/* The function's counters and error, on the request's connection. */
static void report(keel_db_conn_t *conn, const keel_db_conn_t *w,
                   const keel_db_stats_t *before, int rc)
{
	keel_db_stats_t spent = {
	        .queries = w->stats.queries - before->queries,
	        .total_ns = w->stats.total_ns - before->total_ns,
	        .cache_hits = w->stats.cache_hits - before->cache_hits,
	        .cache_misses = w->stats.cache_misses - before->cache_misses};
	keel__db_stats_add(&conn->stats, &spent);
	/* As on any connection: the rowid of its latest INSERT, whenever. */
	conn->last_id = w->last_id;
	if (rc < 0 && rc != KEEL__DB_RERUN) {
		snprintf(conn->errmsg, sizeof(conn->errmsg), "%s", w->errmsg);
		conn->retryable = w->retryable;
	}
}

bool keel__db_group_self_write(keel_db_conn_t *c)
{
	keel__db_group_t *g = &c->db->group;
	if (!g->running || c == g->writer ||
	    !keel__park_is_mine(&g->running->park))
		return false;
	keel__db_set_error(c, "a write on another connection inside a "
	                      "transaction: use the connection the function "
	                      "is given");
	return true;
}

int keel__db_group_tx(keel_db_conn_t *conn,
                      int (*fn)(keel_db_conn_t *conn, void *arg), void *arg)
{
	keel_db_t *db = conn->db;
	keel__db_group_t *g = &db->group;
	/* Inside its own function, on another connection, it would wait for
	 * a batch that waits for it. */
	if (keel__db_group_self_write(conn))
		return KEEL_ESTATE;
	keel__db_member_t me = {.conn = conn, .fn = fn, .arg = arg};
	*g->queue_tail = &me;
	g->queue_tail = &me.next;
	g->joined++;
	queue_task(db);
	intptr_t v = keel__park(&me.park);
	if (v != TURN) { /* the batch could not start */
		snprintf(conn->errmsg, sizeof(conn->errmsg),
		         "group commit: no batch could start: %s",
		         keel_strerror((int)v));
		return (int)v;
	}
	keel_db_conn_t *w = g->writer;
	keel_db_stats_t before = w->stats;
	me.rc = run_member(db, &me);
	report(conn, w, &before, me.rc);
	/* Failed or not, it answers once the batch is over (resume_all). */
	bool keep = me.rc != KEEL__DB_RERUN && !g->lost;
	if (keep) {
		me.next = g->done;
		g->done = &me;
	}
	/* The turn ends; a task that is not waiting in our resume (the
	 * function waited inside) has to be asked to go on. */
	g->running = NULL;
	if (!g->resuming)
		queue_task(db);
	if (!keep)
		return me.rc != KEEL_OK ? me.rc : KEEL__DB_RERUN;
	int rc = (int)keel__park(&me.park);
	if (rc < 0 && rc != KEEL__DB_RERUN && rc != me.rc)
		report(conn, w, &w->stats, rc);
	return rc;
}

keel_db_commit_stats_t keel_db_commit_stats(const keel_db_t *db)
{
	if (!db)
		return (keel_db_commit_stats_t){0};
	return (keel_db_commit_stats_t){.batches = db->group.batches,
	                                .joined = db->group.joined};
}

void keel__db_group_close(keel_db_t *db)
{
	keel__db_group_t *g = &db->group;
	keel__side_free(g->side); /* joins a step still running */
	g->side = NULL;
	if (g->writer)
		keel__db_conn_free(g->writer);
	g->writer = NULL;
	if (g->lock_fd >= 0)
		close(g->lock_fd);
	g->lock_fd = -1;
}
