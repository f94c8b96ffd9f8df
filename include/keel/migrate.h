/*
 * keel/migrate.h - schema migrations: numbered SQL files per app, embedded
 * in the program at build time (tools/embed_sql.py), applied in order,
 * each in its own transaction, and recorded with a checksum so a file that
 * changed after it ran is noticed instead of silently diverging.
 *
 * Files.  apps/<app>/migrations/NNNN_words.sql, NNNN four digits, words
 * lowercase letters, digits and underscores; numbers may have gaps but
 * never repeat.  A file is one or more statements separated by ';' and is
 * written once for SQLite and PostgreSQL alike; where a dialect cannot be
 * avoided, the number gets a pair NNNN_words.sqlite.sql and
 * NNNN_words.postgres.sql instead (both are required; the migration is
 * recorded as NNNN_words on either database).  A file must not BEGIN,
 * COMMIT or ROLLBACK: each one runs inside its own transaction.
 *
 * Bookkeeping.  The table schema_migrations (name TEXT PRIMARY KEY,
 * checksum TEXT NOT NULL, applied_at TEXT NOT NULL) holds one row per
 * applied migration: the SHA-256 of the file's bytes in hex and the UTC
 * time as "YYYY-MM-DDTHH:MM:SS.mmmZ".
 *
 * Safety.  keel_migrate_apply refuses to start (KEEL_ESTATE) when an
 * applied migration's file changed or is gone, or when a pending one is
 * numbered below an applied one; it stops at the first failing migration,
 * whose transaction is rolled back, so the schema is exactly as after the
 * previous file.  Several processes may migrate at once: each migration's
 * transaction takes the write lock first (SQLite BEGIN IMMEDIATE) and
 * checks again that nobody applied it meanwhile.
 */
#ifndef KEEL_MIGRATE_H
#define KEEL_MIGRATE_H

#include <stddef.h>

#include "keel/common.h"
#include "keel/db.h"

/** Longest migration name, "0001_init" without ".sql", plus its NUL. */
#define KEEL_MIGRATE_NAME_MAX 64
/** Length of a checksum: SHA-256 as lowercase hex, without the NUL. */
#define KEEL_MIGRATE_SUM_LEN  64

/** One migration file, as tools/embed_sql.py generates it. */
typedef struct keel_migration {
	const char *name;    /* "0001_init": the file name without .sql */
	const char *sql;     /* the file's bytes (NUL-terminated) */
	size_t len;          /* bytes of sql, without the NUL */
	const char *dialect; /* NULL: every database; "sqlite", "postgres" */
} keel_migration_t;

/**
 * Declare the set embed_sql.py generated for `sym` (its --symbol): the
 * array `sym` and its length `sym##_count`.
 */
#define KEEL_MIGRATIONS_DECLARE(sym)                                           \
	extern const keel_migration_t sym[];                                   \
	extern const size_t sym##_count

/** What keel_migrate_apply did, and why it stopped. */
typedef struct keel_migrate_report {
	int applied; /* migrations this call ran and committed */
	int skipped; /* found applied (earlier, or by a concurrent process) */
	char failed[KEEL_MIGRATE_NAME_MAX]; /* migration at fault, or "" */
	char msg[512]; /* the reason, for the operator; "" on success */
} keel_migrate_report_t;

/** Where a migration stands, as keel_migrate_status reports it. */
typedef enum keel_migrate_state {
	KEEL_MIGRATE_PENDING = 0, /* in the set, not applied yet */
	KEEL_MIGRATE_APPLIED,     /* applied, file unchanged */
	KEEL_MIGRATE_CHANGED,     /* applied, but the file changed since */
	KEEL_MIGRATE_MISSING,     /* applied, but no longer in the set */
} keel_migrate_state_t;

/** One line of the status listing; valid during the callback only. */
typedef struct keel_migrate_info {
	const char *name;
	keel_migrate_state_t state;
	const char *applied_at; /* NULL when pending */
	const char *checksum;   /* the recorded one; NULL when pending */
} keel_migrate_info_t;

/** Status callback: return 0 to go on, anything else stops the listing. */
typedef int (*keel_migrate_status_fn)(const keel_migrate_info_t *info,
                                      void *arg);

/**
 * Apply the pending migrations of `set` (`n` entries, sorted by number)
 * on `conn`, creating schema_migrations when absent.  Returns 0,
 * KEEL_EINVAL (malformed set or file), KEEL_ESTATE (refused: see above,
 * or `conn` is inside a transaction) or the database's error for the
 * failing file; `report` (may be NULL) says which file and why.
 */
KEEL_API int keel_migrate_apply(keel_db_conn_t *conn,
                                const keel_migration_t *set, size_t n,
                                keel_migrate_report_t *report);

/**
 * Call `cb` once per migration of `set` in order, then once per applied
 * migration missing from it; reads only (a fresh database lists all as
 * pending).  Returns 0, KEEL_EINVAL for a malformed set, a database
 * error, or the first nonzero value of `cb`.
 */
KEEL_API int keel_migrate_status(keel_db_conn_t *conn,
                                 const keel_migration_t *set, size_t n,
                                 keel_migrate_status_fn cb, void *arg);

/** SHA-256 of `len` bytes at `sql` as lowercase hex into `out`; 0. */
KEEL_API int keel_migrate_checksum(const char *sql, size_t len,
                                   char out[KEEL_MIGRATE_SUM_LEN + 1]);

/** "pending", "applied", "changed" or "missing"; "?" for other values. */
KEEL_API const char *keel_migrate_state_name(keel_migrate_state_t state);

#endif
