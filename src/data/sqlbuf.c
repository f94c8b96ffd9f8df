/*
 * Writing generated SQL: quoted identifiers and $N placeholders
 * (src/data/sqlbuf.h), shared by models and relation loading.
 */
#include "data/sqlbuf.h"

int keel__sql_ident(keel_buf_t *b, const char *name)
{
	int rc = keel_buf_append_char(b, '"');
	if (!rc)
		rc = keel_buf_append_str(b, keel_str_from_cstr(name));
	if (!rc)
		rc = keel_buf_append_char(b, '"');
	return rc;
}

int keel__sql_param(keel_buf_t *b, size_t n)
{
	char d[24];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	d[--i] = '$';
	return keel_buf_append(b, d + i, sizeof(d) - i);
}
