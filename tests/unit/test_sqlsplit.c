/*
 * The migration statement splitter: where files are cut, what is kept
 * whole (strings, identifiers, dollar quotes, comments, trigger bodies)
 * and which unterminated constructs are refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data/sqlsplit.h"

#define SPLIT_MAX 8

typedef struct split_case {
	const char *in;
	const char *want[SPLIT_MAX]; /* NULL-terminated */
} split_case_t;

/* Split `in` completely; returns the statement count or a negative code. */
static int split_all(const char *in, keel_str_t *out, const char **why)
{
	keel_str_t rest = keel_str_from_cstr(in);
	int n = 0, rc;
	while ((rc = keel__sqlsplit_next(&rest, &out[n], why)) == 1)
		if (++n == SPLIT_MAX)
			return n;
	return rc < 0 ? rc : n;
}

static void check_cases(const split_case_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		keel_str_t got[SPLIT_MAX];
		const char *why = NULL;
		int want_n = 0;
		while (t[i].want[want_n])
			want_n++;
		int rc = split_all(t[i].in, got, &why);
		cr_expect_eq(rc, want_n, "[%s] gave %d statements (%s)",
		             t[i].in, rc, why ? why : "");
		for (int k = 0; k < want_n && k < rc; k++)
			cr_expect(keel_str_eq(got[k],
			                      keel_str_from_cstr(t[i].want[k])),
			          "[%s] #%d = [%.*s], want [%s]", t[i].in, k,
			          KEEL_STR_FMT(got[k]), t[i].want[k]);
	}
}

Test(sqlsplit, cuts_at_top_level_semicolons)
{
	static const split_case_t t[] = {
	        {"CREATE TABLE a(x)", {"CREATE TABLE a(x)"}},
	        {"CREATE TABLE a(x);", {"CREATE TABLE a(x)"}},
	        {"a;b;c", {"a", "b", "c"}},
	        {"  a ;\n\n b  ;  ", {"a", "b"}},
	        {";;a;;;b;;", {"a", "b"}},
	        {"", {NULL}},
	        {" \n\t ", {NULL}},
	        {";;;", {NULL}},
	        {"-- only a comment\n", {NULL}},
	        {"/* only */ -- comments", {NULL}},
	        {"-- head\nCREATE TABLE a(x); -- tail\n",
	         {"CREATE TABLE a(x)"}},
	        {"/* lead */ a; /* mid */ b", {"a", "b"}},
	        {"a -- x;\n; b", {"a -- x;", "b"}},
	        {"INSERT INTO t VALUES ($1, $2); b",
	         {"INSERT INTO t VALUES "
	          "($1, $2)",
	          "b"}},
	};
	check_cases(t, KEEL_COUNTOF(t));
}

Test(sqlsplit, keeps_quoted_semicolons)
{
	static const split_case_t t[] = {
	        {"INSERT INTO t VALUES ('a;b'); x",
	         {"INSERT INTO t VALUES ('a;b')", "x"}},
	        {"SELECT 'it''s; fine'; x", {"SELECT 'it''s; fine'", "x"}},
	        {"SELECT ''; x", {"SELECT ''", "x"}},
	        {"SELECT \"odd;name\" FROM t; x",
	         {"SELECT \"odd;name\" FROM t", "x"}},
	        {"SELECT \"a\"\";b\"; x", {"SELECT \"a\"\";b\"", "x"}},
	        {"SELECT `a;b`; x", {"SELECT `a;b`", "x"}},
	        {"SELECT E'a\\';b'; x", {"SELECT E'a\\';b'", "x"}},
	        {"SELECT e'\\\\'; x", {"SELECT e'\\\\'", "x"}},
	        {"SELECT 'a\\'; x", {"SELECT 'a\\'", "x"}},
	        {"SELECT some_e'x;y'; z", {"SELECT some_e'x;y'", "z"}},
	        {"SELECT '--'; x", {"SELECT '--'", "x"}},
	        {"SELECT '/*'; x", {"SELECT '/*'", "x"}},
	        {"SELECT /* ; */ 1; x", {"SELECT /* ; */ 1", "x"}},
	};
	check_cases(t, KEEL_COUNTOF(t));
}

Test(sqlsplit, keeps_dollar_quoted_bodies)
{
	static const split_case_t t[] = {
	        {"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; "
	         "$$ LANGUAGE plpgsql; x",
	         {"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; "
	          "$$ LANGUAGE plpgsql",
	          "x"}},
	        {"SELECT $body$ a $$; b $body$; x",
	         {"SELECT $body$ a $$; b $body$", "x"}},
	        {"SELECT $a$;$a$, $b$;$b$; x",
	         {"SELECT $a$;$a$, $b$;$b$", "x"}},
	        {"SELECT a$b; x", {"SELECT a$b", "x"}},
	        {"SELECT $1; x", {"SELECT $1", "x"}},
	        {"SELECT $x; y", {"SELECT $x", "y"}},
	};
	check_cases(t, KEEL_COUNTOF(t));
}

Test(sqlsplit, keeps_trigger_and_function_bodies_whole)
{
	static const char *trig =
	        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
	        "  UPDATE b SET n = n + 1;\n"
	        "  UPDATE b SET k = CASE WHEN new.x THEN 1 ELSE 0 END;\n"
	        "END";
	static const char *temp =
	        "create temp trigger if not exists t before delete on a "
	        "when old.x = 1 begin select raise(abort, 'no; way'); end";
	static const char *atomic =
	        "CREATE OR REPLACE PROCEDURE p() LANGUAGE SQL BEGIN ATOMIC "
	        "INSERT INTO a VALUES (1); END";
	const split_case_t t[] = {
	        {"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
	         "  UPDATE b SET n = n + 1;\n"
	         "  UPDATE b SET k = CASE WHEN new.x THEN 1 ELSE 0 END;\n"
	         "END;\nCREATE TABLE z(y);",
	         {trig, "CREATE TABLE z(y)"}},
	        {"create temp trigger if not exists t before delete on a "
	         "when old.x = 1 begin select raise(abort, 'no; way'); end;x",
	         {temp, "x"}},
	        {"CREATE OR REPLACE PROCEDURE p() LANGUAGE SQL BEGIN ATOMIC "
	         "INSERT INTO a VALUES (1); END; x",
	         {atomic, "x"}},
	        /* Outside those statements BEGIN and END are plain words. */
	        {"CREATE TABLE ev (begin INT, x INT); y",
	         {"CREATE TABLE ev (begin INT, x INT)", "y"}},
	        {"CREATE TABLE trigger (x); y",
	         {"CREATE TABLE trigger (x)", "y"}},
	        {"SELECT CASE WHEN 1 THEN 2 END; y",
	         {"SELECT CASE WHEN 1 THEN 2 END", "y"}},
	};
	check_cases(t, KEEL_COUNTOF(t));
}

typedef struct bad_case {
	const char *in;
	const char *why;
	size_t at; /* offset where the refused construct starts */
} bad_case_t;

Test(sqlsplit, refuses_unterminated_constructs)
{
	static const bad_case_t t[] = {
	        {"SELECT 'abc", "unterminated string", 7},
	        {"a; SELECT 'it''s", "unterminated string", 10},
	        {"SELECT E'\\'", "unterminated string", 7},
	        {"SELECT \"abc", "unterminated quoted identifier", 7},
	        {"SELECT `abc", "unterminated quoted identifier", 7},
	        {"SELECT 1 /* open", "unterminated /* comment", 9},
	        {"SELECT $$ body", "unterminated dollar-quoted string", 7},
	        {"SELECT $t$ body $u$", "unterminated dollar-quoted string", 7},
	        {"CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;",
	         "BEGIN without END", 0},
	        {"x;\nCREATE TRIGGER t BEGIN CASE WHEN 1 THEN 2 END; ",
	         "BEGIN without END", 3},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		keel_str_t in = keel_str_from_cstr(t[i].in), rest = in, stmt;
		const char *why = NULL;
		int rc;
		while ((rc = keel__sqlsplit_next(&rest, &stmt, &why)) == 1)
			;
		cr_expect_eq(rc, KEEL_EINVAL, "[%s] accepted", t[i].in);
		cr_expect_str_eq(why ? why : "", t[i].why, "[%s]", t[i].in);
		cr_expect_eq((size_t)(stmt.ptr - in.ptr), t[i].at,
		             "[%s] at %td", t[i].in, stmt.ptr - in.ptr);
		cr_expect_eq(stmt.ptr + stmt.len, in.ptr + in.len);
		cr_expect_leq(rest.ptr, stmt.ptr, "[%s] rest moved", t[i].in);
	}
}

Test(sqlsplit, statements_are_slices_of_the_input)
{
	char in[] = "a;\x80\xff b; 'x'\0'y'; c";
	keel_str_t rest = {in, sizeof(in) - 1}, stmt;
	const char *why = NULL;
	int n = 0;
	while (keel__sqlsplit_next(&rest, &stmt, &why) == 1) {
		cr_assert(stmt.ptr >= in &&
		          stmt.ptr + stmt.len <= in + sizeof(in));
		n++;
	}
	cr_expect_eq(n, 4);
	cr_expect_eq(rest.len, 0);
	cr_expect_eq(stmt.len, 1);
	cr_expect_eq(stmt.ptr[0], 'c');
}
