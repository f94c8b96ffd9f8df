/*
 * Schema migrations (keel/migrate.h): check the set, compare it with what
 * schema_migrations records, then run each pending file in its own
 * transaction, statement by statement, so a failure names its line.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/driver.h"
#include "data/sqlsplit.h"
#include "keel/clock.h"
#include "keel/migrate.h"

#define CREATE_SQL                                                             \
	"CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY "     \
	"KEY, "                                                                \
	"checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
#define EXISTS_SQLITE                                                          \
	"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "         \
	"name = 'schema_migrations'"
#define EXISTS_PG                                                              \
	"SELECT count(*) FROM information_schema.tables WHERE "                \
	"table_schema = current_schema() AND table_name = 'schema_migrations'"
#define LIST_SQL                                                               \
	"SELECT name, checksum, applied_at FROM schema_migrations ORDER BY "   \
	"name"
#define SUM_SQL "SELECT checksum FROM schema_migrations WHERE name = $1"
#define RECORD_SQL                                                             \
	"INSERT INTO schema_migrations (name, checksum, applied_at) "          \
	"VALUES ($1, $2, $3)"
/* PostgreSQL's BEGIN takes no lock; this one conflicts with itself. */
#define LOCK_PG "LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE"

/* One row of schema_migrations. */
typedef struct applied {
	char name[KEEL_MIGRATE_NAME_MAX];
	char sum[KEEL_MIGRATE_SUM_LEN + 1];
	char at[40];
	bool overlong; /* a name no valid migration can have */
	bool matched;  /* a migration of the set has this name */
} applied_t;

/* The set as this database sees it, next to what the database records. */
typedef struct plan {
	bool postgres;
	const keel_migration_t **m; /* entries for this driver, in order */
	applied_t **row_of;         /* per entry: its row, or NULL if pending */
	size_t n;
	applied_t *rows;
	size_t nrows, cap;
} plan_t;

/* Fill the report's failure and pass `rc` through, so callers can
 * `return fail(...)`. */
KEEL_PRINTF(4, 5)
static int fail(keel_migrate_report_t *r, const char *name, int rc,
                const char *fmt, ...)
{
	va_list ap;
	snprintf(r->failed, sizeof(r->failed), "%s", name ? name : "");
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static const char *db_reason(const keel_db_conn_t *conn, int rc)
{
	const char *m = keel_db_errmsg(conn);
	return m && m[0] ? m : keel_strerror(rc);
}

int keel_migrate_checksum(const char *sql, size_t len,
                          char out[KEEL_MIGRATE_SUM_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	if (sodium_init() < 0)
		return KEEL_ENOMEM;
	crypto_hash_sha256(h, (const unsigned char *)(sql ? sql : ""), len);
	sodium_bin2hex(out, KEEL_MIGRATE_SUM_LEN + 1, h, sizeof(h));
	return KEEL_OK;
}

const char *keel_migrate_state_name(keel_migrate_state_t state)
{
	switch (state) {
	case KEEL_MIGRATE_PENDING: return "pending";
	case KEEL_MIGRATE_APPLIED: return "applied";
	case KEEL_MIGRATE_CHANGED: return "changed";
	case KEEL_MIGRATE_MISSING: return "missing";
	}
	return "?";
}

/* ---------------------------------------------------------------- the set */

/* NNNN_words: four digits, '_', then lowercase letters, digits, '_'. */
static bool valid_name(const char *s)
{
	size_t len = s ? strnlen(s, KEEL_MIGRATE_NAME_MAX) : 0;
	if (len < 6 || len >= KEEL_MIGRATE_NAME_MAX || s[4] != '_')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';
		if (i < 4 ? !digit
		          : !(digit || (c >= 'a' && c <= 'z') || c == '_'))
			return false;
	}
	return true;
}

static int number_of(const char *name)
{
	return (name[0] - '0') * 1000 + (name[1] - '0') * 100 +
	       (name[2] - '0') * 10 + (name[3] - '0');
}

/*
 * Entries come from generated code, but a hand-written set (tests, apps
 * that build theirs) gets the same rules embed_sql.py enforces, checked
 * before anything touches the database.
 */
static int check_entry(const keel_migration_t *m, keel_migrate_report_t *r)
{
	if (!valid_name(m->name))
		return fail(r, m->name, KEEL_EINVAL,
		            "bad migration name: want NNNN_words (four digits, "
		            "then lowercase letters, digits, '_'; at most %d "
		            "bytes)",
		            KEEL_MIGRATE_NAME_MAX - 1);
	if (m->dialect && strcmp(m->dialect, "sqlite") != 0 &&
	    strcmp(m->dialect, "postgres") != 0)
		return fail(r, m->name, KEEL_EINVAL,
		            "unknown dialect \"%s\" (sqlite or postgres)",
		            m->dialect);
	if (!m->sql && m->len > 0)
		return fail(r, m->name, KEEL_EINVAL, "no SQL text");
	if (m->len > 0 && memchr(m->sql, '\0', m->len))
		return fail(r, m->name, KEEL_EINVAL, "holds a NUL byte");
	return KEEL_OK;
}

static bool for_this_db(const keel_migration_t *m, bool postgres)
{
	return !m->dialect ||
	       strcmp(m->dialect, postgres ? "postgres" : "sqlite") == 0;
}

/* Keep the entries this driver runs; their numbers must strictly grow. */
static int plan_select(plan_t *p, const keel_migration_t *set, size_t n,
                       keel_migrate_report_t *r)
{
	if (n > 0 && !set)
		return fail(r, NULL, KEEL_EINVAL, "no migration set");
	p->m = calloc(n ? n : 1, sizeof(*p->m));
	p->row_of = calloc(n ? n : 1, sizeof(*p->row_of));
	if (!p->m || !p->row_of)
		return fail(r, NULL, KEEL_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = check_entry(&set[i], r);
		if (rc < 0)
			return rc;
		if (!for_this_db(&set[i], p->postgres))
			continue;
		if (p->n > 0 &&
		    number_of(set[i].name) <= number_of(p->m[p->n - 1]->name))
			return fail(r, set[i].name, KEEL_EINVAL,
			            "out of order after %s: numbers must "
			            "increase and never repeat",
			            p->m[p->n - 1]->name);
		p->m[p->n++] = &set[i];
	}
	return KEEL_OK;
}

static void plan_free(plan_t *p)
{
	free(p->m);
	free(p->row_of);
	free(p->rows);
}

/* ------------------------------------------------------ what is recorded */

/* Copy a column into a fixed field; false when it did not fit. */
static bool copy_text(char *dst, size_t cap, keel_str_t s)
{
	size_t n = s.len < cap ? s.len : cap - 1;
	memcpy(dst, s.ptr, n);
	dst[n] = '\0';
	return n == s.len;
}

static int push_row(plan_t *p, keel_db_rows_t *rows)
{
	if (p->nrows == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		applied_t *v = realloc(p->rows, cap * sizeof(*v));
		if (!v)
			return KEEL_ENOMEM;
		p->rows = v;
		p->cap = cap;
	}
	applied_t *a = &p->rows[p->nrows++];
	*a = (applied_t){0};
	a->overlong = !copy_text(a->name, sizeof(a->name),
	                         keel_db_rows_text(rows, 0));
	copy_text(a->sum, sizeof(a->sum), keel_db_rows_text(rows, 1));
	copy_text(a->at, sizeof(a->at), keel_db_rows_text(rows, 2));
	return KEEL_OK;
}

static int table_exists(keel_db_conn_t *conn, bool postgres, bool *out)
{
	int64_t count = 0;
	int rc = keel_db_query_int(conn, postgres ? EXISTS_PG : EXISTS_SQLITE,
	                           KEEL_DB_NOARGS, &count);
	*out = rc == KEEL_OK && count > 0;
	return rc == KEEL_ENOENT ? KEEL_OK : rc;
}

static int create_tx(keel_db_conn_t *conn, void *arg)
{
	(void)arg;
	return keel_db_exec_script(conn, CREATE_SQL);
}

/* Pair every recorded row with the entry of the same name, if any. */
static void plan_match(plan_t *p)
{
	for (size_t k = 0; k < p->nrows; k++) {
		applied_t *a = &p->rows[k];
		for (size_t i = 0; i < p->n && !a->overlong; i++) {
			if (strcmp(p->m[i]->name, a->name) == 0) {
				p->row_of[i] = a;
				a->matched = true;
				break;
			}
		}
	}
}

/*
 * Read schema_migrations.  Only apply creates it (`create`), so status on
 * a fresh database writes nothing, and a worker that finds it present
 * takes no write lock at all when nothing is pending.
 */
static int plan_load(plan_t *p, keel_db_conn_t *conn, bool create,
                     keel_migrate_report_t *r)
{
	bool exists = false;
	keel_db_rows_t *rows = NULL;
	int rc = table_exists(conn, p->postgres, &exists);
	if (rc == KEEL_OK && !exists && create)
		rc = keel_db_tx(conn, create_tx, NULL);
	if (rc == KEEL_OK && (exists || create))
		rc = keel_db_query(conn, LIST_SQL, KEEL_DB_NOARGS, &rows);
	while (rc == KEEL_OK && rows && (rc = keel_db_rows_next(rows)) == 1)
		rc = push_row(p, rows);
	keel_db_rows_close(rows);
	if (rc < 0)
		return fail(r, NULL, rc, "schema_migrations: %s",
		            db_reason(conn, rc));
	plan_match(p);
	return KEEL_OK;
}

/* The driver decides which dialect-specific files apply. */
static int plan_open(plan_t *p, keel_db_conn_t *conn,
                     const keel_migration_t *set, size_t n, bool create,
                     keel_migrate_report_t *r)
{
	if (!conn)
		return fail(r, NULL, KEEL_EINVAL, "no database connection");
	p->postgres = strcmp(keel_db_driver(conn->db), "postgres") == 0;
	int rc = plan_select(p, set, n, r);
	return rc < 0 ? rc : plan_load(p, conn, create, r);
}

/* ------------------------------------------------------------ refusals */

/*
 * What ran must still be what the build holds: an applied file that
 * changed or vanished means this database and the code disagree about
 * the schema, and guessing which is right would be worse than stopping.
 */
static int verify_applied(const plan_t *p, keel_migrate_report_t *r)
{
	char sum[KEEL_MIGRATE_SUM_LEN + 1];
	for (size_t k = 0; k < p->nrows; k++)
		if (!p->rows[k].matched)
			return fail(r, p->rows[k].name, KEEL_ESTATE,
			            "applied on %s but missing from this "
			            "build: never delete or rename an applied "
			            "migration",
			            p->rows[k].at);
	for (size_t i = 0; i < p->n; i++) {
		const applied_t *a = p->row_of[i];
		if (!a)
			continue;
		int rc = keel_migrate_checksum(p->m[i]->sql, p->m[i]->len, sum);
		if (rc < 0)
			return fail(r, a->name, rc,
			            "checksum: libsodium failed");
		if (strcmp(sum, a->sum) != 0)
			return fail(r, a->name, KEEL_ESTATE,
			            "changed since it was applied on %s "
			            "(checksum %.12s..., file now %.12s...): "
			            "restore it and put the change in a new "
			            "migration",
			            a->at, a->sum, sum);
	}
	return KEEL_OK;
}

/* A pending file numbered below an applied one would run out of order. */
static int verify_order(const plan_t *p, keel_migrate_report_t *r)
{
	const char *last = NULL;
	for (size_t i = 0; i < p->n; i++)
		if (p->row_of[i])
			last = p->m[i]->name;
	for (size_t i = 0; last && i < p->n; i++)
		if (!p->row_of[i] && number_of(p->m[i]->name) < number_of(last))
			return fail(r, p->m[i]->name, KEEL_ESTATE,
			            "pending, but %s is already applied: "
			            "renumber it above %.4s",
			            last, last);
	return KEEL_OK;
}

/* ------------------------------------------------------------- running */

static size_t line_of(const keel_migration_t *m, keel_str_t at)
{
	size_t line = 1;
	for (const char *c = m->sql; c < at.ptr; c++)
		line += *c == '\n';
	return line;
}

/* BEGIN/COMMIT/ROLLBACK in a file would end the transaction around it
 * early and leave a half-applied migration behind. */
static bool is_tx_control(keel_str_t stmt)
{
	static const char *const words[] = {"begin",    "commit",    "end",
	                                    "rollback", "savepoint", "release",
	                                    "start",    "abort"};
	size_t len = 0;
	while (len < stmt.len &&
	       ((stmt.ptr[len] | 0x20) >= 'a' && (stmt.ptr[len] | 0x20) <= 'z'))
		len++;
	keel_str_t w = {stmt.ptr, len};
	for (size_t i = 0; i < KEEL_COUNTOF(words); i++)
		if (keel_str_eq_nocase(w, keel_str_from_cstr(words[i])))
			return true;
	return false;
}

/* The API takes NUL-terminated SQL; statements are slices of the file. */
static int exec_stmt(keel_db_conn_t *conn, keel_str_t stmt)
{
	char *sql = malloc(stmt.len + 1);
	if (!sql)
		return KEEL_ENOMEM;
	memcpy(sql, stmt.ptr, stmt.len);
	sql[stmt.len] = '\0';
	int rc = keel_db_exec_script(conn, sql);
	free(sql);
	return rc;
}

/*
 * Split the file and run each statement; with conn NULL only check that
 * it splits and manages no transaction, which runs for every pending file
 * before the first one starts.
 */
static int run_file(keel_db_conn_t *conn, const keel_migration_t *m,
                    keel_migrate_report_t *r)
{
	keel_str_t rest = {m->sql ? m->sql : "", m->len}, stmt = rest;
	const char *why = "";
	int rc, k = 0;
	while ((rc = keel__sqlsplit_next(&rest, &stmt, &why)) == 1) {
		k++;
		if (is_tx_control(stmt))
			return fail(r, m->name, KEEL_EINVAL,
			            "statement %d (line %zu): a migration must "
			            "not BEGIN, COMMIT or ROLLBACK; each file "
			            "runs in its own transaction",
			            k, line_of(m, stmt));
		if (conn && (rc = exec_stmt(conn, stmt)) < 0)
			return fail(r, m->name, rc,
			            "statement %d (line %zu): %s", k,
			            line_of(m, stmt),
			            rc == KEEL_ENOMEM ? keel_strerror(rc)
			                              : db_reason(conn, rc));
	}
	if (rc < 0)
		return fail(r, m->name, rc, "line %zu: %s", line_of(m, stmt),
		            why);
	return KEEL_OK;
}

static void now_iso(char *out, size_t cap)
{
	int64_t ns = keel_clock_wall_ns();
	time_t s = (time_t)(ns / KEEL_NS_PER_S);
	struct tm tm;
	char day[32] = "1970-01-01T00:00:00";
	if (gmtime_r(&s, &tm))
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%.19s.%03dZ", day,
	         (int)(ns % KEEL_NS_PER_S / KEEL_NS_PER_MS));
}

/* One migration's transaction, with what it learned. */
typedef struct apply_ctx {
	const keel_migration_t *m;
	char sum[KEEL_MIGRATE_SUM_LEN + 1];
	bool postgres;
	bool found; /* someone else applied it first */
	keel_migrate_report_t *r;
} apply_ctx_t;

/* 1 with the recorded checksum in `sum`, 0 when `name` is not recorded. */
static int recorded_sum(keel_db_conn_t *conn, const char *name, char *sum)
{
	keel_db_rows_t *rows = NULL;
	int rc = keel_db_query_row(conn, SUM_SQL,
	                           KEEL_DB_ARGS(KEEL_DB_CSTR(name)), &rows);
	if (rc == KEEL_ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	copy_text(sum, KEEL_MIGRATE_SUM_LEN + 1, keel_db_rows_text(rows, 0));
	keel_db_rows_close(rows);
	return 1;
}

static int record(keel_db_conn_t *conn, const apply_ctx_t *c)
{
	char at[40];
	now_iso(at, sizeof(at));
	int rc = keel_db_exec(
	        conn, RECORD_SQL,
	        KEEL_DB_ARGS(KEEL_DB_CSTR(c->m->name),
	                     KEEL_DB_STR(keel_str_from_cstr(c->sum)),
	                     KEEL_DB_STR(keel_str_from_cstr(at))),
	        NULL);
	return rc < 0 ? fail(c->r, c->m->name, rc, "recording it: %s",
	                     db_reason(conn, rc))
	              : KEEL_OK;
}

/*
 * Runs under the write lock (SQLite BEGIN IMMEDIATE, PostgreSQL LOCK
 * TABLE), so the check that nobody applied the file meanwhile cannot race
 * with another process applying it.  May run more than once (keel_db_tx
 * retries when busy), hence the report is cleared first.
 */
static int apply_tx(keel_db_conn_t *conn, void *arg)
{
	apply_ctx_t *c = arg;
	char sum[KEEL_MIGRATE_SUM_LEN + 1] = "";
	c->r->failed[0] = c->r->msg[0] = '\0';
	c->found = false;
	int rc = c->postgres ? keel_db_exec_script(conn, LOCK_PG) : KEEL_OK;
	if (rc == KEEL_OK)
		rc = recorded_sum(conn, c->m->name, sum);
	if (rc < 0)
		return fail(c->r, c->m->name, rc, "schema_migrations: %s",
		            db_reason(conn, rc));
	if (rc == 1) {
		c->found = true;
		return strcmp(sum, c->sum) == 0
		               ? KEEL_OK
		               : fail(c->r, c->m->name, KEEL_ESTATE,
		                      "applied meanwhile from a different file "
		                      "(checksum %.12s...)",
		                      sum);
	}
	rc = run_file(conn, c->m, c->r);
	return rc < 0 ? rc : record(conn, c);
}

static int apply_one(keel_db_conn_t *conn, const plan_t *p,
                     const keel_migration_t *m, keel_migrate_report_t *r)
{
	apply_ctx_t c = {.m = m, .postgres = p->postgres, .r = r};
	int rc = keel_migrate_checksum(m->sql, m->len, c.sum);
	if (rc == KEEL_OK)
		rc = keel_db_tx(conn, apply_tx, &c);
	if (rc < 0) {
		if (!r->msg[0])
			fail(r, m->name, rc, "transaction failed: %s",
			     db_reason(conn, rc));
		return rc;
	}
	if (c.found)
		r->skipped++;
	else
		r->applied++;
	return KEEL_OK;
}

/*
 * Refusals first, then every pending file is split and checked before the
 * first one runs, so a typo in the last file does not leave the database
 * half-way through a deploy.
 */
static int apply_plan(keel_db_conn_t *conn, const plan_t *p,
                      keel_migrate_report_t *r)
{
	int rc = verify_applied(p, r);
	if (rc == KEEL_OK)
		rc = verify_order(p, r);
	for (size_t i = 0; rc == KEEL_OK && i < p->n; i++)
		if (!p->row_of[i])
			rc = run_file(NULL, p->m[i], r);
	for (size_t i = 0; rc == KEEL_OK && i < p->n; i++) {
		if (p->row_of[i])
			r->skipped++;
		else
			rc = apply_one(conn, p, p->m[i], r);
	}
	return rc;
}

int keel_migrate_apply(keel_db_conn_t *conn, const keel_migration_t *set,
                       size_t n, keel_migrate_report_t *report)
{
	keel_migrate_report_t local;
	keel_migrate_report_t *r = report ? report : &local;
	plan_t p = {0};
	*r = (keel_migrate_report_t){0};
	if (conn && keel_db_in_tx(conn))
		return fail(r, NULL, KEEL_ESTATE,
		            "called inside a transaction: each migration needs "
		            "its own");
	int rc = plan_open(&p, conn, set, n, true, r);
	if (rc == KEEL_OK)
		rc = apply_plan(conn, &p, r);
	plan_free(&p);
	return rc;
}

/* ------------------------------------------------------------- status */

static int status_entry(const plan_t *p, size_t i, keel_migrate_status_fn cb,
                        void *arg)
{
	const applied_t *a = p->row_of[i];
	keel_migrate_info_t info = {.name = p->m[i]->name};
	char sum[KEEL_MIGRATE_SUM_LEN + 1];
	if (a) {
		int rc = keel_migrate_checksum(p->m[i]->sql, p->m[i]->len, sum);
		if (rc < 0)
			return rc;
		info.state = strcmp(sum, a->sum) == 0 ? KEEL_MIGRATE_APPLIED
		                                      : KEEL_MIGRATE_CHANGED;
		info.applied_at = a->at;
		info.checksum = a->sum;
	}
	return cb(&info, arg);
}

int keel_migrate_status(keel_db_conn_t *conn, const keel_migration_t *set,
                        size_t n, keel_migrate_status_fn cb, void *arg)
{
	keel_migrate_report_t r;
	plan_t p = {0};
	int rc = cb ? plan_open(&p, conn, set, n, false, &r) : KEEL_EINVAL;
	for (size_t i = 0; rc == KEEL_OK && i < p.n; i++)
		rc = status_entry(&p, i, cb, arg);
	for (size_t k = 0; rc == KEEL_OK && k < p.nrows; k++) {
		const applied_t *a = &p.rows[k];
		if (a->matched)
			continue;
		keel_migrate_info_t info = {.name = a->name,
		                            .state = KEEL_MIGRATE_MISSING,
		                            .applied_at = a->at,
		                            .checksum = a->sum};
		rc = cb(&info, arg);
	}
	plan_free(&p);
	return rc;
}
