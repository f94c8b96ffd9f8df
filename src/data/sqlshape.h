/*
 * src/data/sqlshape.h - internal: what a SQL statement reads, learned
 * from its text without a full parser: the tables under their aliases and
 * the columns it filters, joins and sorts on.  The query-plan checker
 * (dbtest.c) holds SQLite's plan against it.  Not installed.
 */
#ifndef KEEL_DATA_SQLSHAPE_H
#define KEEL_DATA_SQLSHAPE_H

#include "keel/str.h"

#define MAX_SOURCES 32
#define MAX_TERMS   64

enum term_kind { TERM_FILTER, TERM_JOIN, TERM_ORDER };

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

/**
 * Tokenize `sql` and walk it once into `out` (zeroed by the caller);
 * slices point into `sql`.  0, or KEEL_ENOMEM.
 */
int keel__sql_shape(const char *sql, struct shape *out);

#endif
