/*
 * The shape of a SQL statement (see sqlshape.h): a tokenizer that knows
 * SQLite's quoting, comments and parameters, and one walk over the tokens
 * that follows FROM lists, aliases, joins, WHERE, ORDER BY and nesting.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/common.h"
#include "sqlshape.h"

#define MAX_TOKENS 8192
#define MAX_DEPTH  32

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

int keel__sql_shape(const char *sql, struct shape *out)
{
	size_t n = 0;
	struct tok *t = tokenize(sql, &n);
	if (!t)
		return KEEL_ENOMEM;
	read_shape(t, n, out);
	free(t);
	return KEEL_OK;
}
