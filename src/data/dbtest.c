/*
 * Test helpers: a query-plan checker and a query counter.
 *
 * The plan checker works in three steps.  First the statement's text is
 * tokenized and walked once to learn which tables it reads under which
 * aliases and which columns it filters on, joins on and sorts by (the
 * "shape").  Then SQLite's EXPLAIN QUERY PLAN rows are read.  Finally each
 * full scan of a real table is held against the shape and the table's
 * indexes (read from the schema with pragma table functions): a scanned
 * table whose filtered column has an index means the index went unused,
 * one without means it is missing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/buf.h"
#include "keel/dbtest.h"
#include "sqlshape.h"

#define MAX_PLAN  128
#define NAME_MAX_ 64
#define MAX_COLS  128
#define MAX_LEADS 64

/* ------------------------------------------------------------ the plan */

struct plan_row {
	int id, parent;
	char detail[200];
};

struct plan {
	struct plan_row v[MAX_PLAN];
	size_t n;
};

/* Run EXPLAIN QUERY PLAN and keep its rows (id, parent, -, detail). */
static int read_plan(keel_db_conn_t *conn, const char *sql,
                     const keel_db_value_t *args, size_t nargs,
                     struct plan *plan)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	int rc = keel_buf_append_str(&b, KEEL_STR("EXPLAIN QUERY PLAN "));
	rc = rc ? rc : keel_buf_append_str(&b, keel_str_from_cstr(sql));
	keel_db_rows_t *rows = NULL;
	if (!rc)
		rc = keel_db_query(conn, b.data, args, nargs, &rows);
	while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
		rc = 0;
		if (plan->n == MAX_PLAN)
			continue;
		struct plan_row *r = &plan->v[plan->n++];
		keel_str_t d = keel_db_rows_text(rows, 3);
		r->id = (int)keel_db_rows_int(rows, 0);
		r->parent = (int)keel_db_rows_int(rows, 1);
		snprintf(r->detail, sizeof(r->detail), "%.*s", KEEL_STR_FMT(d));
	}
	keel_db_rows_close(rows);
	keel_buf_deinit(&b);
	return rc;
}

static int depth_of(const struct plan *p, size_t i)
{
	int depth = 0;
	for (int guard = 0; p->v[i].parent != 0 && guard < MAX_PLAN; guard++) {
		size_t k = 0;
		while (k < p->n && p->v[k].id != p->v[i].parent)
			k++;
		if (k == p->n)
			break;
		i = k;
		depth++;
	}
	return depth;
}

KEEL_PRINTF(3, 4)
static void append(char *dst, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(dst);
	if (len + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + len, cap - len, fmt, ap);
	va_end(ap);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Is row i the outer loop of its level (no earlier sibling loop)? */
static bool outer_loop(const struct plan *p, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (p->v[k].parent == p->v[i].parent &&
		    (starts(p->v[k].detail, "SCAN ") ||
		     starts(p->v[k].detail, "SEARCH ")))
			return false;
	return true;
}

static bool sorts_in_temp_tree(const struct plan *p)
{
	for (size_t k = 0; k < p->n; k++)
		if (starts(p->v[k].detail, "USE TEMP B-TREE FOR ORDER BY") ||
		    starts(p->v[k].detail, "USE TEMP B-TREE FOR GROUP BY"))
			return true;
	return false;
}

/* ------------------------------------------------------------- schema */

/* What the schema says about one scanned table. */
struct table_info {
	char cols[MAX_COLS][NAME_MAX_];
	size_t ncols;
	char rowid[NAME_MAX_]; /* INTEGER PRIMARY KEY column, "" if none */
	char leads[MAX_LEADS][NAME_MAX_]; /* first column of each index */
	size_t nleads;
};

static void copy_name(char *dst, keel_str_t s)
{
	snprintf(dst, NAME_MAX_, "%.*s", KEEL_STR_FMT(s));
}

/* Columns of a real table (none for views, CTEs and subqueries). */
static int load_columns(keel_db_conn_t *conn, keel_str_t table,
                        struct table_info *ti)
{
	static const char sql[] =
	        "SELECT p.name, p.pk, upper(p.type) FROM sqlite_master AS s, "
	        "pragma_table_info(s.name) AS p WHERE s.type = 'table' AND "
	        "s.name = $1 COLLATE NOCASE";
	keel_db_rows_t *rows = NULL;
	int pks = 0,
	    rc = keel_db_query(conn, sql, KEEL_DB_ARGS(KEEL_DB_STR(table)),
	                       &rows);
	while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
		rc = 0;
		if (ti->ncols == MAX_COLS)
			continue;
		copy_name(ti->cols[ti->ncols++], keel_db_rows_text(rows, 0));
		if (keel_db_rows_int(rows, 1) > 0 && ++pks == 1 &&
		    keel_str_eq(keel_db_rows_text(rows, 2),
		                KEEL_STR("INTEGER")))
			copy_name(ti->rowid, keel_db_rows_text(rows, 0));
	}
	keel_db_rows_close(rows);
	if (pks > 1)
		ti->rowid[0] = '\0';
	return rc;
}

/* Leading columns of the table's full (not partial) indexes. */
static int load_indexes(keel_db_conn_t *conn, keel_str_t table,
                        struct table_info *ti)
{
	static const char sql[] =
	        "SELECT ii.name FROM pragma_index_list($1) AS il, "
	        "pragma_index_info(il.name) AS ii "
	        "WHERE ii.seqno = 0 AND il.partial = 0 AND ii.name IS NOT NULL";
	keel_db_rows_t *rows = NULL;
	int rc = keel_db_query(conn, sql, KEEL_DB_ARGS(KEEL_DB_STR(table)),
	                       &rows);
	while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
		rc = 0;
		if (ti->nleads < MAX_LEADS)
			copy_name(ti->leads[ti->nleads++],
			          keel_db_rows_text(rows, 0));
	}
	keel_db_rows_close(rows);
	return rc;
}

/* Is `s` one of the n names stored NAME_MAX_ bytes apart from `v`? */
static bool name_in(keel_str_t s, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keel_str_eq_nocase(s,
		                       keel_str_from_cstr(v + i * NAME_MAX_)))
			return true;
	return false;
}

static const char *const term_names[] = {"WHERE", "JOIN", "ORDER BY"};

/* ------------------------------------------------------------- verdict */

struct judge {
	keel_db_conn_t *conn;
	const struct shape *shape;
	const struct plan *plan;
	keel_dbtest_report_t *rep;
	struct table_info ti;
};

/* The table a plan name stands for: an alias, a table read without one,
 * or the name itself; empty for a subquery. */
static keel_str_t table_of(const struct shape *sh, keel_str_t name)
{
	for (size_t i = 0; i < sh->nsrc; i++)
		if (sh->src[i].alias.len &&
		    keel_str_eq_nocase(sh->src[i].alias, name))
			return sh->src[i].table;
	return name;
}

/* Does a term apply to the scan, and must an index serve it there? */
static bool term_counts(const struct judge *j, const struct term *t,
                        keel_str_t name, size_t row, bool sorted)
{
	bool mine = t->qual.len ? keel_str_eq_nocase(t->qual, name)
	                        : name_in(t->col, j->ti.cols[0], j->ti.ncols);
	if (!mine)
		return false;
	if (t->kind == TERM_JOIN)
		return !outer_loop(j->plan, row);
	if (t->kind == TERM_ORDER)
		return sorted;
	return true;
}

/* Record one problem for each distinct column a full scan ignores. */
static void judge_terms(struct judge *j, keel_str_t name, keel_str_t table,
                        size_t row)
{
	bool sorted = sorts_in_temp_tree(j->plan);
	keel_str_t seen[MAX_TERMS];
	size_t nseen = 0;
	for (size_t i = 0; i < j->shape->nterms; i++) {
		const struct term *t = &j->shape->terms[i];
		bool dup = false;
		for (size_t k = 0; k < nseen; k++)
			dup = dup || keel_str_eq_nocase(seen[k], t->col);
		if (dup || !term_counts(j, t, name, row, sorted))
			continue;
		seen[nseen++] = t->col;
		bool indexed = name_in(t->col, j->ti.leads[0], j->ti.nleads) ||
		               keel_str_eq_nocase(
		                       t->col, keel_str_from_cstr(j->ti.rowid));
		if (indexed)
			j->rep->unused_index = true;
		else
			j->rep->missing_index = true;
		append(j->rep->problems, sizeof(j->rep->problems),
		       "%s: %s on %.*s(%.*s) for %s\n", j->plan->v[row].detail,
		       indexed ? "an index exists but is not used" : "no index",
		       KEEL_STR_FMT(table), KEEL_STR_FMT(t->col),
		       term_names[t->kind]);
	}
}

/* The name a SCAN row reads ("SCAN a", old "SCAN TABLE t AS a"), or an
 * empty slice when the row is not a full scan of a table. */
static keel_str_t scanned_name(const char *d)
{
	keel_str_t none = {d, 0};
	if (!starts(d, "SCAN ") || strstr(d, "USING INDEX") ||
	    strstr(d, "USING COVERING INDEX") || strstr(d, "VIRTUAL TABLE") ||
	    starts(d, "SCAN CONSTANT ROW") || starts(d, "SCAN SUBQUERY"))
		return none;
	d += 5;
	if (starts(d, "TABLE "))
		d += 6;
	const char *as = strstr(d, " AS ");
	if (as)
		d = as + 4;
	return (keel_str_t){d, strcspn(d, " ")};
}

static int judge_row(struct judge *j, size_t row)
{
	const char *d = j->plan->v[row].detail;
	if (starts(d, "SEARCH ") && strstr(d, "AUTOMATIC")) {
		j->rep->missing_index = true;
		append(j->rep->problems, sizeof(j->rep->problems),
		       "%s: SQLite builds a throwaway index for this query; "
		       "create a real one\n",
		       d);
		return 0;
	}
	keel_str_t name = scanned_name(d);
	if (!name.len)
		return 0;
	keel_str_t table = table_of(j->shape, name);
	memset(&j->ti, 0, sizeof(j->ti));
	int rc = table.len ? load_columns(j->conn, table, &j->ti) : 0;
	if (rc || j->ti.ncols == 0)
		return rc;
	j->rep->scans++;
	rc = load_indexes(j->conn, table, &j->ti);
	if (!rc)
		judge_terms(j, name, table, row);
	return rc;
}

static void write_plan_text(const struct plan *p, keel_dbtest_report_t *rep)
{
	for (size_t i = 0; i < p->n; i++)
		append(rep->plan, sizeof(rep->plan), "%*s%s\n",
		       2 * depth_of(p, i), "", p->v[i].detail);
}

int keel_dbtest_explain(keel_db_conn_t *conn, const char *sql,
                        const keel_db_value_t *args, size_t nargs,
                        keel_dbtest_report_t *report)
{
	if (!conn || !sql || !report)
		return KEEL_EINVAL;
	memset(report, 0, sizeof(*report));
	struct judge *j = calloc(1, sizeof(*j));
	struct plan *plan = calloc(1, sizeof(*plan));
	struct shape *shape = calloc(1, sizeof(*shape));
	int rc = j && plan && shape ? keel__sql_shape(sql, shape) : KEEL_ENOMEM;
	if (!rc)
		rc = read_plan(conn, sql, args, nargs, plan);
	if (!rc) {
		*j = (struct judge){.conn = conn,
		                    .shape = shape,
		                    .plan = plan,
		                    .rep = report};
		write_plan_text(plan, report);
		for (size_t i = 0; i < plan->n && !rc; i++)
			rc = judge_row(j, i);
	}
	report->ok = !rc && !report->unused_index && !report->missing_index;
	free(shape);
	free(plan);
	free(j);
	return rc;
}

int keel_dbtest_count_queries(keel_db_conn_t *conn, keel_dbtest_fn fn,
                              void *ctx, uint64_t *queries)
{
	if (!conn || !fn)
		return KEEL_EINVAL;
	uint64_t before = keel_db_conn_stats(conn).queries;
	int rc = fn(conn, ctx);
	if (queries)
		*queries = keel_db_conn_stats(conn).queries - before;
	return rc;
}
