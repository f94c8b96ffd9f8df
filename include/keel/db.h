/*
 * keel/db.h - the database API, driver-neutral: SQLite today
 * ("sqlite:///path/to/file.db", "sqlite::memory:"), PostgreSQL later
 * ("postgres://...") without any caller changing.
 *
 * Shape.  A keel_db_t is opened once per worker (after fork) from a URL
 * and owns a small pool of connections.  Work happens on a connection
 * borrowed from the pool (keel_db_acquire / keel_db_release, or
 * keel_req_db, which borrows one for the rest of a request and returns it
 * when the response is sent).  Every statement uses PostgreSQL-style $1,
 * $2 ... placeholders and every value is bound, never formatted into the
 * SQL text.  Prepared statements are cached per connection by SQL text.
 * Rows stream: keel_db_query returns a cursor that steps one row at a time
 * and must be closed (or is closed by keel_db_release).
 *
 * URLs.  "sqlite:///abs/path.db" (absolute), "sqlite://rel/path.db"
 * (relative to the working directory), "sqlite::memory:" (a private
 * in-memory database shared by this keel_db_t's connections through
 * SQLite's shared cache; gone at keel_db_close; for tests).  "postgres://"
 * and "postgresql://" are recognised and refused until that driver exists.
 *
 * Waiting.  Calls may suspend the calling coroutine while the database
 * works (the PostgreSQL driver will yield to the event loop; SQLite's
 * busy waits sleep the coroutine with keel_sleep_ms), so handler code
 * reads top to bottom and never blocks other requests.  Outside a handler
 * the same calls block the caller.
 *
 * Errors.  Functions return 0, KEEL_ENOENT (no row where one was required),
 * KEEL_EEXIST (unique or primary-key constraint), KEEL_EINVAL (bad SQL,
 * wrong argument count, type mismatch, other constraint), KEEL_ETIMEDOUT
 * (busy past the retry budget), KEEL_ELIMIT (pool exhausted past its wait),
 * KEEL_EIO (I/O or driver failure).  The driver's message for the last
 * error is kept on the connection (keel_db_errmsg), never sent to clients.
 *
 * Transactions.  keel_db_tx runs a function inside BEGIN/COMMIT (SQLite:
 * BEGIN IMMEDIATE, so write locks are taken up front), rolls back on any
 * error, and re-runs the whole function when the database reports a
 * serialization failure, deadlock or busy condition, up to a configured
 * number of attempts.  Called inside a transaction it uses a SAVEPOINT.
 * A write is acknowledged only after COMMIT returned.
 */
#ifndef KEEL_DB_H
#define KEEL_DB_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/middleware.h"
#include "keel/str.h"

typedef struct keel_db keel_db_t;
typedef struct keel_db_conn keel_db_conn_t;
typedef struct keel_db_rows keel_db_rows_t;
typedef struct keel_req keel_req_t;

/** Value types of bound arguments and of result columns. */
typedef enum keel_db_type {
	KEEL_DB_NULL = 0,
	KEEL_DB_INT,   /* int64_t */
	KEEL_DB_FLOAT, /* double */
	KEEL_DB_TEXT,  /* UTF-8 text, keel_str_t (not NUL-dependent) */
	KEEL_DB_BLOB,  /* bytes, keel_str_t */
} keel_db_type_t;

/** One bound argument; build it with the KEEL_DB_* macros. */
typedef struct keel_db_value {
	keel_db_type_t type;
	union {
		int64_t i;
		double f;
		keel_str_t s;
	} as;
} keel_db_value_t;

#define KEEL_DB_I64(v)                                                         \
	((keel_db_value_t){.type = KEEL_DB_INT, .as.i = (int64_t)(v)})
#define KEEL_DB_BOOL(v)                                                        \
	((keel_db_value_t){.type = KEEL_DB_INT, .as.i = (v) ? 1 : 0})
#define KEEL_DB_F64(v)                                                         \
	((keel_db_value_t){.type = KEEL_DB_FLOAT, .as.f = (double)(v)})
#define KEEL_DB_STR(v) ((keel_db_value_t){.type = KEEL_DB_TEXT, .as.s = (v)})
/* A function, not a conditional in the macro: passing a char array
 * would otherwise trip -Waddress ("always true"). */
static inline keel_db_value_t keel__db_cstr(const char *s)
{
	keel_db_value_t v = {.type = s ? KEEL_DB_TEXT : KEEL_DB_NULL};
	v.as.s = keel_str_from_cstr(s);
	return v;
}
#define KEEL_DB_CSTR(v) keel__db_cstr(v)
#define KEEL_DB_BLOBV(p, n)                                                    \
	((keel_db_value_t){.type = KEEL_DB_BLOB,                               \
	                   .as.s = (keel_str_t){(const char *)(p), (n)}})
#define KEEL_DB_NULLV ((keel_db_value_t){.type = KEEL_DB_NULL})

/** Arguments as a compound literal: KEEL_DB_ARGS(KEEL_DB_I64(id), ...). */
#define KEEL_DB_ARGS(...)                                                      \
	(const keel_db_value_t[]){__VA_ARGS__},                                \
	        KEEL_COUNTOF(((const keel_db_value_t[]){__VA_ARGS__}))
/** No arguments. */
#define KEEL_DB_NOARGS NULL, 0

/** SQLite's durability setting; FULL is the default (see docs/data.md). */
typedef enum keel_db_sync {
	KEEL_DB_SYNC_FULL = 0, /* fsync at every commit: no lost commits */
	KEEL_DB_SYNC_NORMAL,   /* WAL: a power cut may lose the last commits */
} keel_db_sync_t;

/** How a worker commits keel_db_tx transactions (see docs/data.md). */
typedef enum keel_db_commit {
	KEEL_DB_COMMIT_GROUP = 0, /* one commit (one fsync) per batch */
	KEEL_DB_COMMIT_EACH,      /* one commit per transaction */
} keel_db_commit_t;

/** Options for keel_db_open; zero (or NULL) means the defaults. */
typedef struct keel_db_opts {
	int pool_size;           /* connections per worker; 0: 16 */
	int64_t pool_wait_ms;    /* wait for a free connection; 0: 5000 */
	int64_t busy_timeout_ms; /* SQLite busy_timeout per statement; 0: 50 */
	int tx_attempts;         /* runs of a transaction function; 0: 5 */
	int stmt_cache; /* prepared statements cached per conn; 0: 64 */
	keel_db_sync_t sync;
	int64_t slow_ms;         /* log statements slower than this; 0: 200,
	                            < 0: never */
	int64_t busy_retry_ms;   /* backoff budget of one busy statement
	                            outside a transaction; 0: 2000 */
	keel_db_commit_t commit; /* GROUP: in a worker, transactions and
	                            writes outside one share commits */
} keel_db_opts_t;

/** Why opening failed, for the operator (never for clients). */
typedef struct keel_db_error {
	char msg[256];
} keel_db_error_t;

/**
 * Open the database at `url` with `opts` (NULL: defaults).  SQLite files
 * are opened with WAL, foreign keys on and the configured synchronous
 * level.  NULL on failure with the reason in `err` (may be NULL).
 */
KEEL_API keel_db_t *keel_db_open(const char *url, const keel_db_opts_t *opts,
                                 keel_db_error_t *err);
/** Close every pooled connection and free `db`; NULL is ignored. */
KEEL_API void keel_db_close(keel_db_t *db);
/** This process's group commits on a database (docs/data.md). */
typedef struct keel_db_commit_stats {
	uint64_t batches; /* COMMITs (each one fsync) */
	uint64_t joined;  /* transactions queued into them */
} keel_db_commit_stats_t;
/** The group-commit counters of `db` in this process; zeros for NULL. */
KEEL_API keel_db_commit_stats_t keel_db_commit_stats(const keel_db_t *db);
/** "sqlite" or "postgres": the driver behind `db`. */
KEEL_API const char *keel_db_driver(const keel_db_t *db);
/**
 * Call fn(ud) each time a connection of `db` leaves a transaction (or an
 * autocommit statement ends) having changed rows: after the commit, before
 * the calling code sees its result, so a response cache can drop what it
 * holds before the writer answers.  A rolled-back attempt that changed
 * rows also calls it.  One hook per database (NULL removes it); set it
 * before connections are used.  Writes by other processes are not seen.
 */
KEEL_API void keel_db_on_commit(keel_db_t *db, void (*fn)(void *ud), void *ud);

/**
 * Borrow a connection, waiting (without blocking the worker) up to the
 * pool wait for one to come back; KEEL_ELIMIT when none did.
 */
KEEL_API int keel_db_acquire(keel_db_t *db, keel_db_conn_t **out);
/** Give a connection back; open cursors on it are closed; any open
 * transaction is rolled back. */
KEEL_API void keel_db_release(keel_db_conn_t *conn);
/**
 * The connection this request uses: borrowed on first call, returned when
 * the response has been sent.  NULL when the pool stays exhausted.
 */
KEEL_API keel_db_conn_t *keel_req_db(keel_req_t *req, keel_db_t *db);
/**
 * Give back now every connection `req` borrowed with keel_req_db and add
 * a "db" Server-Timing entry ("N queries") when it ran any.  Stats stay
 * readable; a later keel_req_db borrows again.  keel_mw_db calls it.
 */
KEEL_API void keel_req_db_release(keel_req_t *req);
/**
 * Middleware whose after hook calls keel_req_db_release.  Register it
 * after keel_mw_timing (after hooks run in reverse), so Server-Timing
 * shows the database time; without it connections go back at the end.
 */
KEEL_API keel_middleware_t keel_mw_db(void);

/**
 * Run a statement that returns no rows.  `changes` (may be NULL) gets the
 * number of rows inserted, updated or deleted.
 */
KEEL_API int keel_db_exec(keel_db_conn_t *conn, const char *sql,
                          const keel_db_value_t *args, size_t nargs,
                          int64_t *changes);
/**
 * Run `sql`, one or more statements separated by ';' without arguments
 * (schema scripts, migrations).  Not cached; stops at the first error.
 */
KEEL_API int keel_db_exec_script(keel_db_conn_t *conn, const char *sql);
/** The rowid / serial id of the last row this connection inserted. */
KEEL_API int64_t keel_db_last_id(const keel_db_conn_t *conn);
/**
 * Run a statement that returns rows: `*rows` is a cursor positioned before
 * the first row.  Close it with keel_db_rows_close.
 */
KEEL_API int keel_db_query(keel_db_conn_t *conn, const char *sql,
                           const keel_db_value_t *args, size_t nargs,
                           keel_db_rows_t **rows);
/**
 * keel_db_query positioned on the first row: 0 with `*rows` ready to read,
 * KEEL_ENOENT (no cursor left open) when the result is empty.
 */
KEEL_API int keel_db_query_row(keel_db_conn_t *conn, const char *sql,
                               const keel_db_value_t *args, size_t nargs,
                               keel_db_rows_t **rows);
/**
 * The first column of the first row as an integer ("SELECT count(*)"):
 * 0, KEEL_ENOENT when there is no row.
 */
KEEL_API int keel_db_query_int(keel_db_conn_t *conn, const char *sql,
                               const keel_db_value_t *args, size_t nargs,
                               int64_t *out);
/**
 * Step to the next row: 1 when there is one, 0 at the end, a negative
 * KEEL_E* on error.  Column values of the previous row become invalid.
 */
KEEL_API int keel_db_rows_next(keel_db_rows_t *rows);
/** Close a cursor (NULL is ignored); the statement goes back to the cache. */
KEEL_API void keel_db_rows_close(keel_db_rows_t *rows);
/** Number of result columns. */
KEEL_API int keel_db_rows_columns(const keel_db_rows_t *rows);
/** Name of column `col` (0-based). */
KEEL_API const char *keel_db_rows_name(const keel_db_rows_t *rows, int col);
/** Type of column `col` in the current row (KEEL_DB_NULL for NULL). */
KEEL_API keel_db_type_t keel_db_rows_type(const keel_db_rows_t *rows, int col);
/** True when column `col` of the current row is NULL. */
KEEL_API bool keel_db_rows_is_null(const keel_db_rows_t *rows, int col);
/** Integer value of column `col` (0 for NULL). */
KEEL_API int64_t keel_db_rows_int(const keel_db_rows_t *rows, int col);
/** Floating value of column `col` (0.0 for NULL). */
KEEL_API double keel_db_rows_double(const keel_db_rows_t *rows, int col);
/**
 * Text of column `col`, valid until the next step or close (copy it into
 * the request arena to keep it); the empty slice for NULL.
 */
KEEL_API keel_str_t keel_db_rows_text(const keel_db_rows_t *rows, int col);
/** Bytes of a BLOB column, with the same lifetime as keel_db_rows_text. */
KEEL_API keel_str_t keel_db_rows_blob(const keel_db_rows_t *rows, int col);

/**
 * Run `fn(conn, arg)` in a transaction: BEGIN (SQLite: IMMEDIATE), then
 * COMMIT when fn returns 0, ROLLBACK when it returns anything else (which
 * is returned).  A serialization failure, deadlock or busy database makes
 * the whole function run again, up to the configured attempts, with a
 * short jittered backoff; fn must therefore have no effects outside the
 * database.  Nested calls use SAVEPOINTs and are not retried on their own.
 */
KEEL_API int keel_db_tx(keel_db_conn_t *conn,
                        int (*fn)(keel_db_conn_t *conn, void *arg), void *arg);
/** True while `conn` is inside keel_db_tx. */
KEEL_API bool keel_db_in_tx(const keel_db_conn_t *conn);

/** The driver's message for the connection's last error ("" if none). */
KEEL_API const char *keel_db_errmsg(const keel_db_conn_t *conn);

/** Statements run and time spent, for tests, logs and Server-Timing. */
typedef struct keel_db_stats {
	uint64_t queries;
	int64_t total_ns;
	uint64_t cache_hits, cache_misses;
} keel_db_stats_t;

/** Counters of one connection since it was borrowed (reset on acquire). */
KEEL_API keel_db_stats_t keel_db_conn_stats(const keel_db_conn_t *conn);
/**
 * Counters of the statements a request ran through keel_req_db (Django's
 * assertNumQueries reads this); zero when it used none.
 */
KEEL_API keel_db_stats_t keel_req_db_stats(const keel_req_t *req);

#endif
