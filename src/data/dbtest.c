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

#define MAX_TOKENS  8192
#define MAX_SOURCES 32
#define MAX_TERMS   64
#define MAX_DEPTH   32
#define MAX_PLAN    128
#define NAME_MAX_   64
#define MAX_COLS    128
#define MAX_LEADS   64

/* ------------------------------------------------------------- tokenizer */

enum tok_type {
	TK_END = 0,
	TK_WORD,   /* bare identifier or keyword */
	TK_QUOTED, /* "ident", `ident`, [ident]: slice without the quotes */
	TK_STRING,
	TK_NUMBER,
	TK_PARAM,
	TK_OP,
	TK_LPAREN,
	TK_RPAREN,
	TK_COMMA,
	TK_DOT,
};

struct tok {
	enum tok_type type;
	keel_str_t s;
};

static bool is_word_byte(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c >= 0x80)
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '$');
}

/* Skip spaces, "-- line" and block comments; returns the next byte. */
static const char *skip_blank(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		    *p == '\f' || *p == '\v') {
			p++;
		} else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			while (p < end && *p != '\n')
				p++;
		} else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
			const char *q = p + 2;
			while (end - q >= 2 && !(q[0] == '*' && q[1] == '/'))
				q++;
			p = end - q >= 2 ? q + 2 : end;
		} else {
			break;
		}
	}
	return p;
}

/* A quoted run from p (at the opening quote) to its closing `close`;
 * a doubled closing quote is part of the text. */
static const char *quoted_end(const char *p, const char *end, char close)
{
	for (p++; p < end; p++) {
		if (*p != close)
			continue;
		if (close != ']' && end - p >= 2 && p[1] == close)
			p++;
		else
			return p + 1;
	}
	return end;
}

static const char *word_end(const char *p, const char *end)
{
	while (p < end && is_word_byte((unsigned char)*p, false))
		p++;
	return p;
}

/* Two-byte operators first, then any other single byte. */
static size_t op_len(const char *p, const char *end)
{
	static const char *const two[] = {
	        "==", "!=", "<>", "<=", ">=", "||", "<<", ">>", "->"};
	for (size_t i = 0; end - p >= 2 && i < KEEL_COUNTOF(two); i++)
		if (p[0] == two[i][0] && p[1] == two[i][1])
			return 2;
	return 1;
}

/* The token starting at *pp (after blanks); advances *pp past it. */
static struct tok lex(const char **pp, const char *end)
{
	const char *p = skip_blank(*pp, end), *q;
	struct tok t = {TK_END, {p, 0}};
	*pp = p;
	if (p == end)
		return t;
	unsigned char c = (unsigned char)*p;
	if (c == '"' || c == '`' || c == '[') {
		char close = c == '[' ? ']' : (char)c;
		q = quoted_end(p, end, close);
		t.type = TK_QUOTED;
		t.s = (keel_str_t){p + 1, (size_t)(q - p) - 1};
		if (t.s.len > 0 && q[-1] == close)
			t.s.len--;
	} else if (c == '\'') {
		q = quoted_end(p, end, '\'');
		t.type = TK_STRING;
	} else if (is_word_byte(c, true)) {
		q = word_end(p, end);
		t.type = TK_WORD;
	} else if ((c >= '0' && c <= '9') ||
	           (c == '.' && end - p > 1 && p[1] >= '0' && p[1] <= '9')) {
		q = p + 1;
		while (q < end &&
		       (is_word_byte((unsigned char)*q, false) || *q == '.'))
			q++;
		t.type = TK_NUMBER;
	} else if (c == '?' || c == '$' || c == ':' || c == '@') {
		q = word_end(p + 1, end);
		t.type = TK_PARAM;
	} else {
		q = p + op_len(p, end);
		t.type = c == '('   ? TK_LPAREN
		         : c == ')' ? TK_RPAREN
		         : c == ',' ? TK_COMMA
		         : c == '.' ? TK_DOT
		                    : TK_OP;
	}
	if (t.type != TK_QUOTED)
		t.s = (keel_str_t){p, (size_t)(q - p)};
	*pp = q;
	return t;
}

/* The statement as tokens; NULL when out of memory.  Capped at
 * MAX_TOKENS: the tail of a huge statement is not analysed. */
static struct tok *tokenize(const char *sql, size_t *n)
{
	size_t cap = 64, len = 0;
	struct tok *v = malloc(cap * sizeof(*v));
	const char *p = sql, *end = sql + strlen(sql);
	while (v) {
		struct tok t = lex(&p, end);
		if (t.type == TK_END || len == MAX_TOKENS)
			break;
		if (len == cap) {
			struct tok *nv = realloc(v, 2 * cap * sizeof(*v));
			if (!nv)
				free(v);
			v = nv;
			cap *= 2;
		}
		if (v)
			v[len++] = t;
	}
	*n = len;
	return v;
}

/* --------------------------------------------------------- query shape */

static const char *const keywords[] = {
        "ABORT",        "ALL",          "AND",
        "AS",           "ASC",          "BETWEEN",
        "BY",           "CASE",         "CAST",
        "COLLATE",      "CONFLICT",     "CROSS",
        "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
        "DEFAULT",      "DELETE",       "DESC",
        "DISTINCT",     "DO",           "ELSE",
        "END",          "ESCAPE",       "EXCEPT",
        "EXISTS",       "FAIL",         "FALSE",
        "FILTER",       "FROM",         "FULL",
        "GLOB",         "GROUP",        "HAVING",
        "IGNORE",       "IN",           "INDEXED",
        "INNER",        "INSERT",       "INTERSECT",
        "INTO",         "IS",           "ISNULL",
        "JOIN",         "LEFT",         "LIKE",
        "LIMIT",        "MATCH",        "NATURAL",
        "NOT",          "NOTHING",      "NOTNULL",
        "NULL",         "NULLS",        "OFFSET",
        "ON",           "OR",           "ORDER",
        "OUTER",        "OVER",         "RECURSIVE",
        "REGEXP",       "REPLACE",      "RETURNING",
        "RIGHT",        "ROLLBACK",     "SELECT",
        "SET",          "THEN",         "TRUE",
        "UNION",        "UPDATE",       "USING",
        "VALUES",       "WHEN",         "WHERE",
        "WINDOW",       "WITH",
};

static bool is_kw(const struct tok *t, const char *kw)
{
	return t->type == TK_WORD &&
	       keel_str_eq_nocase(t->s, keel_str_from_cstr(kw));
}

static bool is_keyword(const struct tok *t)
{
	for (size_t i = 0; t->type == TK_WORD && i < KEEL_COUNTOF(keywords);
	     i++)
		if (is_kw(t, keywords[i]))
			return true;
	return false;
}

static bool is_name(const struct tok *t)
{
	return t->type == TK_QUOTED || (t->type == TK_WORD && !is_keyword(t));
}

static bool is_comparison(const struct tok *t)
{
	static const char *const ops[] = {"=", "==", "!=", "<>",
	                                  "<", "<=", ">",  ">="};
	for (size_t i = 0; t->type == TK_OP && i < KEEL_COUNTOF(ops); i++)
		if (keel_str_eq(t->s, keel_str_from_cstr(ops[i])))
			return true;
	return is_kw(t, "IS");
}

enum clause { CL_NONE = 0, CL_FROM, CL_WHERE, CL_ON, CL_ORDER, CL_OTHER };
enum term_kind { TERM_FILTER, TERM_JOIN, TERM_ORDER };

static const char *const term_names[] = {"WHERE", "JOIN", "ORDER BY"};

/* A table read by the statement, under its alias (table empty for a
 * subquery in FROM). */
struct source {
	keel_str_t table, alias;
};

/* A column the statement filters, joins or sorts on. */
struct term {
	keel_str_t qual, col;
	enum term_kind kind;
};

struct shape {
	struct source src[MAX_SOURCES];
	size_t nsrc;
	struct term terms[MAX_TERMS];
	size_t nterms;
};

/* Parser state of one parenthesis level. */
struct frame {
	enum clause cl;
	bool expect_table, expect_alias, want_first, derived;
};

struct walker {
	const struct tok *t;
	size_t n;
	struct frame st[MAX_DEPTH];
	int depth, overflow;
	size_t join_until; /* tokens up to here belong to a join term */
	bool in_join;
	struct shape *out;
};

/* A possibly dotted name at t[i]: returns its last token's index, or i-1
 * when t[i] does not start a column reference (or is a function call). */
static size_t name_end(const struct walker *w, size_t i, bool *call)
{
	size_t j = i;
	while (j + 2 < w->n && w->t[j + 1].type == TK_DOT &&
	       (w->t[j + 2].type == TK_WORD || w->t[j + 2].type == TK_QUOTED))
		j += 2;
	*call = j + 1 < w->n && w->t[j + 1].type == TK_LPAREN;
	return j;
}

static void add_source(struct walker *w, keel_str_t table)
{
	if (w->out->nsrc < MAX_SOURCES)
		w->out->src[w->out->nsrc++] = (struct source){.table = table};
}

static void add_term(struct walker *w, size_t first, size_t last,
                     enum term_kind kind)
{
	if (w->out->nterms == MAX_TERMS)
		return;
	struct term *t = &w->out->terms[w->out->nterms++];
	t->col = w->t[last].s;
	t->qual = last >= first + 2 ? w->t[last - 2].s : (keel_str_t){"", 0};
	t->kind = kind;
}

/* Is the name ending at `j` compared with another column ("a.x = b.y")?
 * Then both are join terms; remember where the second one ends. */
static bool compared_to_column(struct walker *w, size_t j)
{
	bool call;
	if (j + 2 >= w->n || !is_comparison(&w->t[j + 1]) ||
	    !is_name(&w->t[j + 2]))
		return false;
	size_t k = name_end(w, j + 2, &call);
	if (call)
		return false;
	w->join_until = k;
	w->in_join = true;
	return true;
}

/* A name outside keywords: a table or alias in FROM, a column term in
 * WHERE / ON / ORDER BY.  Returns the index of its last token. */
static size_t on_name(struct walker *w, size_t i)
{
	struct frame *f = &w->st[w->depth];
	bool call;
	size_t j = name_end(w, i, &call);
	if (f->cl == CL_FROM) {
		if (f->expect_table) {
			add_source(w, w->t[j].s);
			f->expect_table = false;
			f->expect_alias = !call;
		} else if (f->expect_alias && w->out->nsrc) {
			w->out->src[w->out->nsrc - 1].alias = w->t[j].s;
			f->expect_alias = false;
		}
	} else if ((f->cl == CL_WHERE || f->cl == CL_ON) && !call) {
		bool join = w->in_join && i <= w->join_until;
		if (!join)
			join = compared_to_column(w, j);
		add_term(w, i, j, join ? TERM_JOIN : TERM_FILTER);
	} else if (f->cl == CL_ORDER && f->want_first && !call) {
		add_term(w, i, j, TERM_ORDER);
		for (int d = 0; d <= w->depth; d++)
			w->st[d].want_first = false;
	}
	return j;
}

/* Keywords that open a clause; returns how many extra tokens it used. */
static size_t on_keyword(struct walker *w, size_t i)
{
	static const char *const other[] = {
	        "SELECT", "SET",    "VALUES",    "LIMIT",  "OFFSET",
	        "UNION",  "EXCEPT", "INTERSECT", "WINDOW", "RETURNING",
	        "USING",  "HAVING", "DEFAULT"};
	struct frame *f = &w->st[w->depth];
	const struct tok *t = &w->t[i];
	bool by = i + 1 < w->n && is_kw(&w->t[i + 1], "BY");
	if (is_kw(t, "FROM") || is_kw(t, "JOIN") || is_kw(t, "UPDATE") ||
	    is_kw(t, "INTO")) {
		*f = (struct frame){.cl = CL_FROM, .expect_table = true};
	} else if (is_kw(t, "WHERE") || is_kw(t, "ON")) {
		*f = (struct frame){.cl = is_kw(t, "ON") ? CL_ON : CL_WHERE};
	} else if ((is_kw(t, "ORDER") || is_kw(t, "GROUP")) && by) {
		*f = (struct frame){.cl = CL_ORDER, .want_first = true};
		return 1;
	} else {
		for (size_t k = 0; k < KEEL_COUNTOF(other); k++)
			if (is_kw(t, other[k]))
				*f = (struct frame){.cl = CL_OTHER};
		if (!is_kw(t, "AS"))
			f->expect_alias = false;
	}
	return 0;
}

static void on_paren(struct walker *w, bool open)
{
	struct frame *f = &w->st[w->depth];
	if (open) {
		/* A group inside WHERE / ON / ORDER BY is more of the same
		 * clause until a SELECT in it says otherwise. */
		struct frame inner = {0};
		if (f->cl == CL_WHERE || f->cl == CL_ON || f->cl == CL_ORDER)
			inner = (struct frame){.cl = f->cl,
			                       .want_first = f->want_first};
		f->derived = f->cl == CL_FROM && f->expect_table;
		f->expect_table = f->derived ? false : f->expect_table;
		if (w->depth + 1 < MAX_DEPTH)
			w->st[++w->depth] = inner;
		else
			w->overflow++;
		return;
	}
	if (w->overflow) {
		w->overflow--;
	} else if (w->depth > 0) {
		f = &w->st[--w->depth];
		if (f->derived) {
			add_source(w, (keel_str_t){"", 0});
			f->derived = false;
			f->expect_alias = true;
		}
	}
}

/* One pass over the tokens, filling `out`. */
static void read_shape(const struct tok *t, size_t n, struct shape *out)
{
	struct walker w = {.t = t, .n = n, .out = out};
	for (size_t i = 0; i < n; i++) {
		struct frame *f = &w.st[w.depth];
		if (t[i].type == TK_LPAREN || t[i].type == TK_RPAREN)
			on_paren(&w, t[i].type == TK_LPAREN);
		else if (t[i].type == TK_COMMA && f->cl == CL_FROM)
			*f = (struct frame){.cl = CL_FROM,
			                    .expect_table = true};
		else if (is_keyword(&t[i]))
			i += on_keyword(&w, i);
		else if (is_name(&t[i]))
			i = on_name(&w, i);
	}
}

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
	size_t ntok = 0;
	struct tok *toks = tokenize(sql, &ntok);
	int rc = j && plan && shape && toks ? 0 : KEEL_ENOMEM;
	if (!rc) {
		read_shape(toks, ntok, shape);
		rc = read_plan(conn, sql, args, nargs, plan);
	}
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
	free(toks);
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
