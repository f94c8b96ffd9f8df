#include <criterion/criterion.h>
#include <string.h>

#include "keel/db.h"
#include "keel/dbtest.h"

/* The blog schema with no secondary index: each test adds what it needs. */
static const char *const dt_schema[] = {
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "email TEXT NOT NULL UNIQUE)",
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, author_id INTEGER "
        "NOT NULL REFERENCES authors(id), title TEXT NOT NULL, created_at "
        "TEXT NOT NULL)",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
        "UNIQUE)",
        "CREATE TABLE article_tags (article_id INTEGER NOT NULL, tag_id "
        "INTEGER NOT NULL, PRIMARY KEY (article_id, tag_id))",
};

static keel_db_t *dt_db;
static keel_db_conn_t *dt_conn;

static void dt_exec(const char *sql)
{
	cr_assert_eq(keel_db_exec(dt_conn, sql, KEEL_DB_NOARGS, NULL), 0,
	             "%s: %s", sql, keel_db_errmsg(dt_conn));
}

static void dt_setup(void)
{
	keel_db_error_t err;
	dt_db = keel_db_open("sqlite::memory:", NULL, &err);
	cr_assert_not_null(dt_db, "%s", err.msg);
	cr_assert_eq(keel_db_acquire(dt_db, &dt_conn), 0);
	for (size_t i = 0; i < KEEL_COUNTOF(dt_schema); i++)
		dt_exec(dt_schema[i]);
}

static void dt_teardown(void)
{
	keel_db_release(dt_conn);
	keel_db_close(dt_db);
}

TestSuite(dbtest, .init = dt_setup, .fini = dt_teardown);

/* Explain with one integer argument per $N in the statement. */
static keel_dbtest_report_t *explain(const char *sql, size_t nargs)
{
	static keel_dbtest_report_t rep;
	keel_db_value_t args[4] = {KEEL_DB_I64(1), KEEL_DB_I64(2),
	                           KEEL_DB_I64(3), KEEL_DB_I64(4)};
	cr_assert_leq(nargs, 4);
	int rc = keel_dbtest_explain(dt_conn, sql, args, nargs, &rep);
	cr_assert_eq(rc, 0, "%s: %s", sql, keel_db_errmsg(dt_conn));
	return &rep;
}

Test(dbtest, flags_a_missing_index_and_passes_with_it)
{
	const char *sql = "SELECT id, title FROM articles WHERE author_id = $1";
	keel_dbtest_report_t *r = explain(sql, 1);
	cr_assert_not(r->ok, "%s", r->plan);
	cr_assert(r->missing_index);
	cr_assert_not(r->unused_index);
	cr_assert_eq(r->scans, 1);
	cr_assert(strstr(r->plan, "SCAN articles"), "%s", r->plan);
	cr_assert(strstr(r->problems, "no index on articles(author_id)"), "%s",
	          r->problems);

	dt_exec("CREATE INDEX articles_author ON articles(author_id)");
	r = explain(sql, 1);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
	cr_assert_eq(r->scans, 0);
	cr_assert_str_empty(r->problems);
	cr_assert(
	        strstr(r->plan, "SEARCH articles USING INDEX articles_author"),
	        "%s", r->plan);
}

Test(dbtest, flags_an_index_the_query_defeats)
{
	dt_exec("CREATE INDEX articles_author ON articles(author_id)");
	/* Arithmetic on the column hides it from the planner. */
	keel_dbtest_report_t *r = explain(
	        "SELECT title FROM articles WHERE author_id + 0 = $1", 1);
	cr_assert_not(r->ok);
	cr_assert(r->unused_index, "%s", r->plan);
	cr_assert_not(r->missing_index);
	cr_assert(strstr(r->problems, "an index exists but is not used"), "%s",
	          r->problems);
	/* So does NOT INDEXED, and a unique index under a leading wildcard. */
	r = explain(
	        "SELECT title FROM articles NOT INDEXED WHERE author_id = $1",
	        1);
	cr_assert(r->unused_index, "%s", r->plan);
	r = explain("SELECT id FROM authors WHERE email LIKE '%x%' AND id > $1",
	            1);
	cr_assert(r->ok, "the rowid range serves it: %s", r->plan);
	r = explain("SELECT name FROM authors WHERE lower(email) = 'x'", 0);
	cr_assert(r->unused_index, "%s", r->plan);
	/* A walk through a covering index is not a table scan. */
	r = explain("SELECT id FROM authors WHERE lower(email) = 'x'", 0);
	cr_assert(r->ok, "%s", r->plan);
	cr_assert(strstr(r->plan, "USING COVERING INDEX"), "%s", r->plan);
}

Test(dbtest, follows_aliases_and_quoting)
{
	const char *sql =
	        "SELECT \"a\".\"title\" FROM \"articles\" AS \"a\" "
	        "/* comment; WHERE x = 1 */ WHERE \"a\".\"author_id\" "
	        "= $1 -- trailing";
	keel_dbtest_report_t *r = explain(sql, 1);
	cr_assert(r->missing_index, "%s", r->plan);
	cr_assert(strstr(r->plan, "SCAN a"), "%s", r->plan);
	cr_assert(strstr(r->problems, "articles(author_id)"), "%s",
	          r->problems);
	dt_exec("CREATE INDEX articles_author ON articles(author_id)");
	r = explain("SELECT a.title FROM articles a WHERE a.author_id = $1", 1);
	cr_assert(r->ok, "%s", r->plan);
}

Test(dbtest, sorting_needs_an_index_too)
{
	const char *sql = "SELECT id, title FROM articles ORDER BY created_at "
	                  "DESC LIMIT $1";
	keel_dbtest_report_t *r = explain(sql, 1);
	cr_assert(r->missing_index, "%s", r->plan);
	cr_assert(strstr(r->plan, "USE TEMP B-TREE FOR ORDER BY"), "%s",
	          r->plan);
	cr_assert(strstr(r->problems, "for ORDER BY"), "%s", r->problems);
	dt_exec("CREATE INDEX articles_created ON articles(created_at)");
	r = explain(sql, 1);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
	/* Sorting by the rowid key is served by the table itself. */
	r = explain("SELECT title FROM articles ORDER BY id DESC LIMIT $1", 1);
	cr_assert(r->ok, "%s", r->plan);
}

Test(dbtest, a_full_list_without_filter_is_fine)
{
	keel_dbtest_report_t *r = explain("SELECT count(*) FROM articles", 0);
	cr_assert(r->ok, "%s", r->plan);
	cr_assert_eq(r->scans, 1);
	r = explain("SELECT id, title FROM articles LIMIT $1 OFFSET $2", 2);
	cr_assert(r->ok, "%s", r->plan);
}

Test(dbtest, outer_loop_scan_of_a_join_is_fine)
{
	keel_dbtest_report_t *r =
	        explain("SELECT a.title, u.name FROM articles a JOIN authors u "
	                "ON u.id = a.author_id",
	                0);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
	cr_assert_eq(r->scans, 1);
}

Test(dbtest, inner_loop_scan_of_a_join_is_flagged)
{
	/* The author is found by email, then every article is scanned to
	 * find theirs: a nested loop with no index on the join column. */
	const char *sql = "SELECT a.title FROM authors u JOIN articles a ON "
	                  "a.author_id = u.id WHERE u.email = 'x@example.com'";
	keel_dbtest_report_t *r = explain(sql, 0);
	cr_assert(r->missing_index, "%s", r->plan);
	cr_assert(strstr(r->problems, "articles(author_id) for JOIN"), "%s",
	          r->problems);
	dt_exec("CREATE INDEX articles_author ON articles(author_id)");
	r = explain(sql, 0);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
}

Test(dbtest, subqueries_are_checked)
{
	const char *sql = "SELECT title FROM articles WHERE id IN (SELECT "
	                  "article_id FROM article_tags WHERE tag_id = $1)";
	keel_dbtest_report_t *r = explain(sql, 1);
	cr_assert(r->missing_index, "%s", r->plan);
	cr_assert(strstr(r->problems, "article_tags(tag_id)"), "%s",
	          r->problems);
	/* The composite primary key leads with article_id: no help. */
	dt_exec("CREATE INDEX article_tags_tag ON article_tags(tag_id)");
	r = explain(sql, 1);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
}

Test(dbtest, derived_tables_and_ctes_are_not_tables)
{
	keel_dbtest_report_t *r =
	        explain("SELECT s.title FROM (SELECT title FROM articles LIMIT "
	                "5) AS s WHERE s.title = 'x'",
	                0);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
	r = explain("WITH x AS (SELECT 1 AS v) SELECT v FROM x WHERE v = 1", 0);
	cr_assert(r->ok, "%s%s", r->problems, r->plan);
	cr_assert_eq(r->scans, 0);
}

Test(dbtest, writes_are_explained_too)
{
	keel_dbtest_report_t *r = explain(
	        "UPDATE articles SET title = $1 WHERE author_id = $2", 2);
	cr_assert(r->missing_index, "%s", r->plan);
	r = explain("DELETE FROM articles WHERE id = $1", 1);
	cr_assert(r->ok, "%s", r->plan);
}

Test(dbtest, plan_text_is_indented_by_level)
{
	keel_dbtest_report_t *r =
	        explain("SELECT title FROM articles WHERE id IN (SELECT "
	                "article_id FROM article_tags WHERE tag_id = $1)",
	                1);
	cr_assert(strstr(r->plan, "\n  SCAN article_tags\n"), "%s", r->plan);
}

Test(dbtest, bad_sql_and_arguments_are_errors)
{
	keel_dbtest_report_t rep;
	cr_assert_eq(keel_dbtest_explain(dt_conn, "SELEC nothing",
	                                 KEEL_DB_NOARGS, &rep),
	             KEEL_EINVAL);
	cr_assert_not(rep.ok);
	cr_assert_eq(keel_dbtest_explain(dt_conn, "SELECT * FROM nowhere",
	                                 KEEL_DB_NOARGS, &rep),
	             KEEL_EINVAL);
	cr_assert_eq(keel_dbtest_explain(dt_conn,
	                                 "SELECT * FROM articles WHERE id = $1",
	                                 KEEL_DB_NOARGS, &rep),
	             KEEL_EINVAL, "argument count is checked");
	cr_assert_eq(
	        keel_dbtest_explain(NULL, "SELECT 1", KEEL_DB_NOARGS, &rep),
	        KEEL_EINVAL);
	cr_assert_eq(keel_dbtest_explain(dt_conn, NULL, KEEL_DB_NOARGS, &rep),
	             KEEL_EINVAL);
	cr_assert_eq(
	        keel_dbtest_explain(dt_conn, "SELECT 1", KEEL_DB_NOARGS, NULL),
	        KEEL_EINVAL);
}

Test(dbtest, odd_text_does_not_confuse_the_reader)
{
	/* Unbalanced parentheses and quotes inside strings and comments. */
	keel_dbtest_report_t *r =
	        explain("SELECT ')', \"(\" FROM articles AS \"(\" WHERE "
	                "\"(\".title = ')(' /* ) */",
	                0);
	cr_assert(r->missing_index, "%s", r->plan);
	cr_assert(strstr(r->problems, "articles(title)"), "%s", r->problems);
}

/* count_queries ---------------------------------------------------- */

static int three_queries(keel_db_conn_t *c, void *ctx)
{
	for (int i = 0; i < 3; i++)
		cr_assert_eq(keel_db_exec(c, "SELECT 1", KEEL_DB_NOARGS, NULL),
		             0);
	return *(int *)ctx;
}

static int no_query(keel_db_conn_t *c, void *ctx)
{
	(void)c;
	(void)ctx;
	return 0;
}

Test(dbtest, counts_the_queries_a_function_runs)
{
	uint64_t n = 99;
	int ret = 0;
	cr_assert_eq(
	        keel_dbtest_count_queries(dt_conn, three_queries, &ret, &n), 0);
	cr_assert_eq(n, 3);
	ret = KEEL_EEXIST;
	cr_assert_eq(
	        keel_dbtest_count_queries(dt_conn, three_queries, &ret, &n),
	        KEEL_EEXIST, "the function's result is passed through");
	cr_assert_eq(n, 3);
	cr_assert_eq(keel_dbtest_count_queries(dt_conn, no_query, NULL, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(keel_dbtest_count_queries(dt_conn, no_query, NULL, NULL),
	             0);
	cr_assert_eq(keel_dbtest_count_queries(NULL, no_query, NULL, &n),
	             KEEL_EINVAL);
	cr_assert_eq(keel_dbtest_count_queries(dt_conn, NULL, NULL, &n),
	             KEEL_EINVAL);
}
