/*
 * src/data/driver.h - internal to the database core: the driver interface
 * that keel/db.h is built on, and the structs the core files share.
 *
 * A driver turns the neutral calls (open, prepare, bind, step, read a
 * column) into one engine's calls and classifies that engine's errors
 * into KEEL_E* codes, so everything above it (pool, statement cache,
 * cursors, transactions, retries) is written once.  SQLite is the only
 * driver today; a PostgreSQL driver fills the same table.  Not installed.
 *
 * Return codes of step and exec: KEEL__DB_ROW (a row is ready),
 * KEEL__DB_DONE, KEEL_AGAIN for a retryable condition (SQLite busy or
 * locked; PostgreSQL serialization failure or deadlock), or a negative
 * KEEL_E* error whose text the driver's errmsg returns.
 */
#ifndef KEEL_DATA_DRIVER_H
#define KEEL_DATA_DRIVER_H

#include <pthread.h>
#include <stdbool.h>

#include "keel/db.h"
#include "keel/loop.h"

#define KEEL__DB_DONE 0
#define KEEL__DB_ROW  1

/* The interface a database engine implements; every function is called
 * by one thread at a time per handle. */
typedef struct keel__db_driver {
	const char *name;      /* what keel_db_driver returns */
	const char *begin_sql; /* starts a write transaction */
	/* Connect to `target` (driver-specific: a path, a URI, a conninfo)
	 * with `opts` applied; the reason goes to err[0..errlen). */
	int (*open)(const char *target, const keel_db_opts_t *opts, void **h,
	            char *err, size_t errlen);
	void (*close)(void *h);
	/* Compile the first statement of sql[0..len); `*tail` points after
	 * it.  `*stmt` is NULL for text holding no statement. */
	int (*prepare)(void *h, const char *sql, size_t len, bool keep,
	               void **stmt, const char **tail);
	void (*finalize)(void *stmt);
	void (*rewind)(void *stmt); /* to before the first row, values kept */
	void (*reset)(void *stmt);  /* rewind and forget bound values */
	int (*param_count)(void *stmt);
	bool (*readonly)(void *stmt); /* it never writes the database */
	/* 0-based argument index bound at 1-based `slot` ($N -> N-1), or -1
	 * when the slot is not a $N placeholder. */
	int (*param_arg)(void *stmt, int slot);
	/* `copy`: the value must outlive the caller's buffer. */
	int (*bind)(void *stmt, int slot, const keel_db_value_t *v, bool copy);
	int (*step)(void *stmt);
	int (*columns)(void *stmt);
	const char *(*column_name)(void *stmt, int col);
	keel_db_type_t (*column_type)(void *stmt, int col);
	int64_t (*column_int)(void *stmt, int col);
	double (*column_double)(void *stmt, int col);
	keel_str_t (*column_text)(void *stmt, int col);
	keel_str_t (*column_blob)(void *stmt, int col);
	/* Several statements, no arguments (BEGIN, COMMIT, scripts). */
	int (*exec)(void *h, const char *sql);
	int64_t (*last_id)(void *h);
	int64_t (*changes)(void *h);
	/* Rows changed by every statement since the handle was opened. */
	int64_t (*total_changes)(void *h);
	const char *(*errmsg)(void *h);
	bool (*in_tx)(void *h); /* the engine has a transaction open */
} keel__db_driver_t;

/** The SQLite driver (src/data/sqlite.c). */
extern const keel__db_driver_t keel__db_sqlite;

/* One prepared statement, cached by its SQL text or used once. */
typedef struct keel__db_stmt {
	struct keel__db_stmt *newer, *older; /* LRU list */
	struct keel__db_stmt *hnext;         /* hash chain */
	uint64_t hash;
	char *sql; /* NUL-terminated copy, the cache key */
	size_t len;
	void *h;    /* the driver's statement */
	int nslots; /* driver parameter slots */
	int nargs;  /* arguments it takes: the highest $N */
	int *map;   /* slot i+1 is bound to argument map[i] */
	bool in_use, cached;
} keel__db_stmt_t;

/* A connection's statement cache: hash table plus recency list. */
typedef struct keel__db_cache {
	keel__db_stmt_t **buckets;
	size_t nbuckets; /* a power of two */
	keel__db_stmt_t *newest, *oldest;
	int count, cap;
} keel__db_cache_t;

struct keel_db_rows {
	keel_db_conn_t *conn;
	keel__db_stmt_t *st;
	keel_db_rows_t *prev, *next; /* the connection's open cursors */
	int first; /* step result held for the first next; -1: none */
	bool has_row, done;
	int64_t ns; /* time spent in the driver */
};

struct keel_db_conn {
	keel_db_t *db;
	void *h;
	keel_db_conn_t *next_free;
	keel__db_cache_t cache;
	keel_db_rows_t *cursors; /* open */
	keel_db_rows_t *spare;   /* closed, kept for reuse */
	int tx_depth;
	bool retryable; /* the last failure may succeed when run again */
	bool borrowed;
	uint64_t rng;         /* backoff jitter */
	int64_t seen_changes; /* total_changes when last settled */
	int64_t last_id;      /* rowid of this connection's last INSERT */
	keel_db_stats_t stats;
	char errmsg[256];
};

typedef struct keel__db_waiter keel__db_waiter_t;
typedef struct keel__db_member keel__db_member_t;

/*
 * Group commit (src/data/group.c), per worker process: handlers queue
 * their transactions; after the loop iteration one task takes the writer
 * lock shared by the workers, runs every queued function on the writer
 * connection (each in its own savepoint of one transaction) and commits
 * them with one fsync before any of them answers.
 */
typedef enum keel__db_group_state {
	KEEL__GROUP_IDLE,       /* no batch */
	KEEL__GROUP_LOCKING,    /* side thread: writer lock, BEGIN */
	KEEL__GROUP_RUNNING,    /* loop: members run their functions */
	KEEL__GROUP_COMMITTING, /* side thread: COMMIT, unlock */
} keel__db_group_state_t;

typedef struct keel__db_group {
	keel_db_conn_t *writer;  /* opened on first use, outside the pool */
	int lock_fd;             /* flock()ed by the worker that writes; -1 */
	struct keel__side *side; /* where locking and fsync wait */
	keel__db_group_state_t state;
	int side_rc; /* what the side thread's step returned */
	keel__db_member_t *queue, **queue_tail; /* waiting for their turn */
	keel__db_member_t *done;    /* ran, waiting for the COMMIT */
	keel__db_member_t *running; /* has the turn (NULL between turns) */
	bool resuming; /* the task is inside the running member's resume */
	bool lost;     /* the engine rolled the batch back */
	keel_task_t task;
	uint64_t batches, joined; /* counters, for tests and benchmarks */
} keel__db_group_t;

struct keel_db {
	const keel__db_driver_t *drv;
	keel_db_opts_t opts; /* defaults filled in */
	char *target;
	pthread_mutex_t mu; /* guards the pool fields below */
	keel_db_conn_t **conns;
	int nconns; /* slots taken: open or being opened */
	keel_db_conn_t *free;
	keel__db_waiter_t *wait_head, *wait_tail;
	void (*on_commit)(void *ud); /* keel_db_on_commit */
	void *on_commit_ud;
	bool memory; /* an in-memory database: commits cost no fsync */
	keel__db_group_t group;
};

/** Open a connection to `db`'s target with its settings applied. */
int keel__db_conn_open(keel_db_t *db, keel_db_conn_t **out, char *err,
                       size_t errlen);
/** Close a connection opened by keel__db_conn_open. */
void keel__db_conn_free(keel_db_conn_t *c);

/** A control statement (BEGIN, COMMIT, SAVEPOINT...), timed, not counted. */
int keel__db_control(keel_db_conn_t *c, const char *sql);
/** Start a write transaction, waiting out a busy database with backoff. */
int keel__db_begin(keel_db_conn_t *c);

/* A group member's transaction was undone with its batch by no fault of
 * its own: keel_db_tx runs the function again. */
#define KEEL__DB_RERUN (-1000)
/** True when keel_db_tx on `db` may join a group commit here and now. */
bool keel__db_group_usable(const keel_db_t *db);
/**
 * Run fn in the worker's current batch and wait for the batch's COMMIT:
 * 0, fn's error, a database error, or KEEL__DB_RERUN.  The statements
 * are counted in `conn`'s stats.
 */
int keel__db_group_tx(keel_db_conn_t *conn,
                      int (*fn)(keel_db_conn_t *conn, void *arg), void *arg);
/** Add the counters of `s` to `to`. */
void keel__db_stats_add(keel_db_stats_t *to, const keel_db_stats_t *s);
/**
 * True (and the error recorded on `c`) when `c` is not the writer and the
 * running handler is inside its own group-commit function: a write there
 * would wait for the batch that waits for it.
 */
bool keel__db_group_self_write(keel_db_conn_t *c);
/** Set up the group of a new database handle (nothing is opened). */
void keel__db_group_init(keel_db_t *db);
/** Close the writer and the lock file (an open batch is rolled back). */
void keel__db_group_close(keel_db_t *db);

/** Record `msg` (or the driver's message when NULL) as the last error. */
void keel__db_set_error(keel_db_conn_t *c, const char *msg);
/** Map a driver code: KEEL_AGAIN becomes KEEL_ETIMEDOUT and marks the
 * connection retryable; the driver's message is recorded on errors. */
int keel__db_fail(keel_db_conn_t *c, int rc);
/** Sleep a jittered, exponentially growing while for retry `attempt`
 * (0-based) between `base_ms` and `cap_ms`; yields a coroutine. */
void keel__db_backoff(keel_db_conn_t *c, int attempt, int64_t base_ms,
                      int64_t cap_ms);

/**
 * Call after anything that may have ended a transaction: when `c` is
 * outside one and rows changed since the last call, run the database's
 * commit hook.
 */
void keel__db_settled(keel_db_conn_t *c);

/** Set up an empty cache of `cap` statements (0: nothing is kept). */
int keel__db_cache_init(keel__db_cache_t *cache, int cap);
/** Finalize every cached statement and free the table. */
void keel__db_cache_deinit(keel__db_cache_t *cache,
                           const keel__db_driver_t *drv);
/**
 * A statement for `sql` ready to bind, marked in use: from the cache
 * (a hit) or freshly prepared and checked (a miss); counts either in the
 * connection's stats.  KEEL_EINVAL (message recorded) for bad SQL, more
 * than one statement, or placeholders other than $1..$N.
 */
int keel__db_stmt_get(keel_db_conn_t *c, const char *sql,
                      keel__db_stmt_t **out);
/** Hand a statement back after use: reset, or finalized if not cached. */
void keel__db_stmt_put(keel_db_conn_t *c, keel__db_stmt_t *st);

/** Close every open cursor of `c` (on release). */
void keel__db_rows_close_all(keel_db_conn_t *c);
/** Free the spare cursors of `c` (when the connection closes). */
void keel__db_rows_free_spare(keel_db_conn_t *c);

#endif
