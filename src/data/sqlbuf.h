/*
 * src/data/sqlbuf.h - internal: the two pieces every generated statement
 * (models, relation loading) is written with.  Identifiers come from
 * registered models, never from requests; values are never written into
 * SQL, only their $N placeholders.  Not installed.
 */
#ifndef KEEL_DATA_SQLBUF_H
#define KEEL_DATA_SQLBUF_H

#include <stddef.h>

#include "keel/buf.h"

/** `name` double-quoted (a name already validated against its model). */
int keel__sql_ident(keel_buf_t *b, const char *name);
/** "$n", written digit by digit: no format string ever touches SQL. */
int keel__sql_param(keel_buf_t *b, size_t n);

#endif
