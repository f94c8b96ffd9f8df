/*
 * The SQLite driver: keel's embedded default.  Each connection is opened
 * in multi-thread mode (SQLITE_OPEN_NOMUTEX: a connection is only ever
 * used by the worker that borrowed it, so SQLite's own mutexes would be
 * pure cost) with extended result codes, then set up for durable,
 * concurrent use: WAL, the configured synchronous level, foreign keys on,
 * and a short busy timeout - short because the core's retry loop does the
 * real waiting, sleeping the coroutine instead of the worker.
 *
 * $1..$N placeholders need no rewriting: SQLite reads "$1" as a named
 * parameter called "$1", gives each distinct name a slot in order of
 * first appearance ("SELECT $2, $1" puts $2 in slot 1) and lets a repeated
 * name share its slot.  param_arg reads the slot's name back, which is
 * how the core binds by number whatever order the SQL uses.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "data/driver.h"
#include "keel/log.h"
#include "keel/server.h"

/* Above SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32766). */
#define MAX_PARAM 65535

/*
 * One table from SQLite's result codes to keel's: what a caller can act
 * on.  A duplicate key is KEEL_EEXIST (409 for a handler), any other
 * constraint or SQL mistake is KEEL_EINVAL, busy and locked are retryable
 * (KEEL_AGAIN), and the rest (disk, corruption, permissions) is KEEL_EIO.
 */
static int classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return KEEL_AGAIN;
	case SQLITE_CONSTRAINT:
		return rc == SQLITE_CONSTRAINT_UNIQUE ||
		                       rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		                       rc == SQLITE_CONSTRAINT_ROWID
		               ? KEEL_EEXIST
		               : KEEL_EINVAL;
	case SQLITE_NOMEM: return KEEL_ENOMEM;
	case SQLITE_ERROR:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
	case SQLITE_MISUSE:
	case SQLITE_SCHEMA:
	case SQLITE_AUTH: return KEEL_EINVAL;
	default: return KEEL_EIO;
	}
}

/* A PRAGMA's single result, to check what SQLite actually applied. */
static int pragma_text(void *arg, int n, char **vals, char **names)
{
	char *out = arg;
	(void)names;
	if (n > 0 && vals[0])
		snprintf(out, 16, "%s", vals[0]);
	return 0;
}

/*
 * Switching a new file to WAL takes an exclusive lock for a moment, so
 * workers opening a fresh database together can find it busy beyond
 * busy_timeout: wait and try again, within busy_retry_ms.
 */
static int set_wal(sqlite3 *db, const keel_db_opts_t *o, char mode[16])
{
	int64_t waited = 0;
	for (int64_t step = 1;; step = step < 64 ? step * 2 : step) {
		int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL",
		                      pragma_text, mode, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= o->busy_retry_ms)
			return rc;
		keel_sleep_ms(step);
		waited += step;
	}
}

/*
 * Per-connection settings.  WAL lets readers run beside the writer;
 * synchronous=FULL fsyncs the WAL at every commit so an acknowledged write
 * survives a power cut (NORMAL may lose the last commits, never corrupts).
 * journal_mode is read back: an in-memory database stays "memory", a file
 * that cannot use WAL (no shared memory) is worth a warning.
 */
static int setup(sqlite3 *db, const char *target, const keel_db_opts_t *o)
{
	char mode[16] = "";
	sqlite3_extended_result_codes(db, 1);
	int rc = sqlite3_busy_timeout(db, (int)o->busy_timeout_ms);
	if (rc == SQLITE_OK)
		rc = set_wal(db, o, mode);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db,
		                  o->sync == KEEL_DB_SYNC_NORMAL
		                          ? "PRAGMA synchronous=NORMAL"
		                          : "PRAGMA synchronous=FULL",
		                  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL,
		                  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA temp_store=MEMORY", NULL, NULL,
		                  NULL);
	if (rc == SQLITE_OK && strcmp(mode, "wal") != 0 &&
	    strcmp(mode, "memory") != 0)
		KEEL_LOG_WARN("sqlite: %s runs in journal mode %s, not WAL",
		              target, mode);
	return rc;
}

static int sq_open(const char *target, const keel_db_opts_t *opts, void **h,
                   char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_NOMUTEX;
	/* The core hands over "file:" URIs only for memory databases; paths
	 * always start with '/' or "./" so they are never read as URIs. */
	if (strncmp(target, "file:", 5) == 0)
		flags |= SQLITE_OPEN_URI | SQLITE_OPEN_SHAREDCACHE;
	else
		flags |= SQLITE_OPEN_PRIVATECACHE;
	int rc = sqlite3_open_v2(target, &db, flags, NULL);
	if (rc == SQLITE_OK)
		rc = setup(db, target, opts);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: %s: %s", target,
		         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return classify(rc) == KEEL_AGAIN ? KEEL_ETIMEDOUT
		                                  : classify(rc);
	}
	*h = db;
	return KEEL_OK;
}

static void sq_close(void *h)
{
	sqlite3_close_v2(h);
}

static int sq_prepare(void *h, const char *sql, size_t len, bool keep,
                      void **stmt, const char **tail)
{
	if (len > INT_MAX)
		return KEEL_EINVAL;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v3(h, sql, (int)len,
	                            keep ? SQLITE_PREPARE_PERSISTENT : 0, &s,
	                            tail);
	*stmt = s;
	return rc == SQLITE_OK ? KEEL_OK : classify(rc);
}

static void sq_finalize(void *stmt)
{
	sqlite3_finalize(stmt);
}

static void sq_rewind(void *stmt)
{
	sqlite3_reset(stmt);
}

/* Bound values are dropped too: a copied secret should not linger in a
 * cached statement until its next use. */
static void sq_reset(void *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

static int sq_param_count(void *stmt)
{
	return sqlite3_bind_parameter_count(stmt);
}

/* "$N" with N a decimal without leading zeros; anything else ("?", "?3",
 * ":name", "$x", "$01") is refused, so one placeholder style is used
 * everywhere and the SQL stays portable to PostgreSQL. */
static int sq_param_arg(void *stmt, int slot)
{
	const char *name = sqlite3_bind_parameter_name(stmt, slot);
	if (!name || name[0] != '$' || name[1] == '0')
		return -1;
	uint64_t n;
	if (keel_str_to_u64(keel_str_from_cstr(name + 1), &n) < 0 || n == 0 ||
	    n > MAX_PARAM)
		return -1;
	return (int)n - 1;
}

static int sq_bind(void *stmt, int slot, const keel_db_value_t *v, bool copy)
{
	sqlite3_destructor_type keep = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
	int rc;
	switch (v->type) {
	case KEEL_DB_NULL: rc = sqlite3_bind_null(stmt, slot); break;
	case KEEL_DB_INT: rc = sqlite3_bind_int64(stmt, slot, v->as.i); break;
	case KEEL_DB_FLOAT:
		rc = sqlite3_bind_double(stmt, slot, v->as.f);
		break;
	case KEEL_DB_TEXT:
	case KEEL_DB_BLOB:
		if (!v->as.s.ptr && v->as.s.len)
			return KEEL_EINVAL;
		/* A NULL pointer would bind SQL NULL: empty stays empty. */
		if (v->type == KEEL_DB_BLOB && v->as.s.len == 0)
			rc = sqlite3_bind_zeroblob(stmt, slot, 0);
		else if (v->type == KEEL_DB_BLOB)
			rc = sqlite3_bind_blob64(stmt, slot, v->as.s.ptr,
			                         v->as.s.len, keep);
		else
			rc = sqlite3_bind_text64(
			        stmt, slot, v->as.s.ptr ? v->as.s.ptr : "",
			        v->as.s.len, keep, SQLITE_UTF8);
		break;
	default: return KEEL_EINVAL;
	}
	return rc == SQLITE_OK ? KEEL_OK : classify(rc);
}

static int sq_step(void *stmt)
{
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return KEEL__DB_ROW;
	if (rc == SQLITE_DONE)
		return KEEL__DB_DONE;
	return classify(rc);
}

static int sq_columns(void *stmt)
{
	return sqlite3_column_count(stmt);
}

static const char *sq_column_name(void *stmt, int col)
{
	const char *n = sqlite3_column_name(stmt, col);
	return n ? n : "";
}

static keel_db_type_t sq_column_type(void *stmt, int col)
{
	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_INTEGER: return KEEL_DB_INT;
	case SQLITE_FLOAT: return KEEL_DB_FLOAT;
	case SQLITE_TEXT: return KEEL_DB_TEXT;
	case SQLITE_BLOB: return KEEL_DB_BLOB;
	default: return KEEL_DB_NULL;
	}
}

static int64_t sq_column_int(void *stmt, int col)
{
	return sqlite3_column_int64(stmt, col);
}

static double sq_column_double(void *stmt, int col)
{
	return sqlite3_column_double(stmt, col);
}

/* Pointer first, then length: SQLite's documented order, since asking
 * for the bytes may convert the value. */
static keel_str_t sq_column_text(void *stmt, int col)
{
	const unsigned char *p = sqlite3_column_text(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	return p ? (keel_str_t){(const char *)p, (size_t)n}
	         : (keel_str_t){"", 0};
}

static keel_str_t sq_column_blob(void *stmt, int col)
{
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	return p ? (keel_str_t){p, (size_t)n} : (keel_str_t){"", 0};
}

static int sq_exec(void *h, const char *sql)
{
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? KEEL_OK : classify(rc);
}

static int64_t sq_last_id(void *h)
{
	return sqlite3_last_insert_rowid(h);
}

static int64_t sq_changes(void *h)
{
	return sqlite3_changes64(h);
}

static bool sq_readonly(void *stmt)
{
	return sqlite3_stmt_readonly(stmt) != 0;
}

static int64_t sq_total_changes(void *h)
{
	return sqlite3_total_changes64(h);
}

static const char *sq_errmsg(void *h)
{
	return sqlite3_errmsg(h);
}

static bool sq_in_tx(void *h)
{
	return sqlite3_get_autocommit(h) == 0;
}

const keel__db_driver_t keel__db_sqlite = {
        .name = "sqlite",
        .begin_sql = "BEGIN IMMEDIATE",
        .open = sq_open,
        .close = sq_close,
        .prepare = sq_prepare,
        .finalize = sq_finalize,
        .rewind = sq_rewind,
        .reset = sq_reset,
        .param_count = sq_param_count,
        .readonly = sq_readonly,
        .param_arg = sq_param_arg,
        .bind = sq_bind,
        .step = sq_step,
        .columns = sq_columns,
        .column_name = sq_column_name,
        .column_type = sq_column_type,
        .column_int = sq_column_int,
        .column_double = sq_column_double,
        .column_text = sq_column_text,
        .column_blob = sq_column_blob,
        .exec = sq_exec,
        .last_id = sq_last_id,
        .changes = sq_changes,
        .total_changes = sq_total_changes,
        .errmsg = sq_errmsg,
        .in_tx = sq_in_tx,
};
