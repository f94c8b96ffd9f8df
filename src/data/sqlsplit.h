/*
 * data/sqlsplit.h - internal: split a migration file into statements.
 *
 * The database API runs one statement per call, so a file holding many
 * must be cut at its top-level semicolons.  The lexer knows the parts of
 * SQL that may hide a ';' and that SQLite and PostgreSQL share or keep
 * apart without ambiguity: '...' strings (with '' inside), E'...' strings
 * (PostgreSQL backslash escapes), "..." and `...` identifiers,
 * $tag$...$tag$ dollar quoting, -- and (non-nested) block comments, and
 * the BEGIN ... END bodies of CREATE TRIGGER / FUNCTION / PROCEDURE, where
 * CASE ... END nests.  Nothing is copied: statements are slices of the
 * input, without leading blanks or comments and without trailing blanks.
 */
#ifndef KEEL_DATA_SQLSPLIT_H
#define KEEL_DATA_SQLSPLIT_H

#include "keel/str.h"

/*
 * Next statement of `*rest` into `*stmt`; `*rest` moves past it.  Returns
 * 1 for a statement, 0 when only blanks, comments and empty statements
 * remain, KEEL_EINVAL for an unterminated string, identifier, comment or
 * block: then `*why` names it, `*stmt` starts at it and `*rest` is left.
 */
int keel__sqlsplit_next(keel_str_t *rest, keel_str_t *stmt, const char **why);

#endif
