/*
 * fuzz_sqlsplit - the migration statement splitter.  Every statement
 * handed out must be a non-empty slice of the input, after the previous
 * one, without leading or trailing blanks; the input must shrink at each
 * step so splitting ends; a refusal must leave the rest untouched and
 * point inside it.  Splitting a statement on its own again must give back
 * exactly that statement: the lexer's view does not depend on what came
 * before a statement.
 */
#include <stdint.h>
#include <stdlib.h>

#include "data/sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static void check_alone(keel_str_t stmt)
{
	keel_str_t rest = stmt, again;
	const char *why = NULL;
	CHECK(keel__sqlsplit_next(&rest, &again, &why) == 1);
	CHECK(again.ptr == stmt.ptr && again.len == stmt.len);
	CHECK(keel__sqlsplit_next(&rest, &again, &why) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	keel_str_t in = {(const char *)data, size}, rest = in, stmt;
	const char *end = in.ptr + in.len, *prev = in.ptr, *why = NULL;
	int rc;
	while ((rc = keel__sqlsplit_next(&rest, &stmt, &why)) == 1) {
		CHECK(stmt.len > 0 && stmt.ptr >= prev);
		CHECK(stmt.ptr + stmt.len <= end);
		CHECK(!is_blank(stmt.ptr[0]) &&
		      !is_blank(stmt.ptr[stmt.len - 1]));
		CHECK(rest.ptr >= stmt.ptr + stmt.len &&
		      rest.ptr + rest.len == end);
		check_alone(stmt);
		prev = stmt.ptr + stmt.len;
	}
	if (rc == 0) {
		CHECK(rest.len == 0);
	} else {
		CHECK(rc == KEEL_EINVAL && why && why[0]);
		CHECK(stmt.ptr >= rest.ptr && stmt.ptr + stmt.len == end);
	}
	return 0;
}
