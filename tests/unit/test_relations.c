#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/db.h"
#include "keel/dbtest.h"
#include "keel/model.h"

/* authors -< articles >-< tags (through article_tags); articles also have
 * an optional editor. */
static const keel_model_field_t rel_author_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "name", .type = KEEL_FIELD_TEXT},
};
static const keel_relation_t rel_author_rels[] = {
        {.name = "articles",
         .kind = KEEL_REL_HAS_MANY,
         .model = "article",
         .fk = "author_id"},
};
static const keel_model_t rel_author = {.name = "author",
                                        .table = "authors",
                                        .fields = rel_author_fields,
                                        .nfields = 2,
                                        .relations = rel_author_rels,
                                        .nrelations = 1};

static const keel_model_field_t rel_article_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "author_id",
         .type = KEEL_FIELD_INTEGER,
         .ref_model = "author",
         .on_delete = KEEL_ON_DELETE_CASCADE},
        {.name = "editor_id",
         .type = KEEL_FIELD_INTEGER,
         .nullable = true,
         .ref_model = "author",
         .on_delete = KEEL_ON_DELETE_SET_NULL},
        {.name = "title", .type = KEEL_FIELD_TEXT},
};
static const keel_relation_t rel_article_rels[] = {
        {.name = "author",
         .kind = KEEL_REL_BELONGS_TO,
         .model = "author",
         .fk = "author_id"},
        {.name = "editor",
         .kind = KEEL_REL_BELONGS_TO,
         .model = "author",
         .fk = "editor_id"},
        {.name = "tags",
         .kind = KEEL_REL_MANY_TO_MANY,
         .model = "tag",
         .fk = "article_id",
         .through = "article_tags",
         .to_fk = "tag_id"},
};
static const keel_model_t rel_article = {.name = "article",
                                         .table = "articles",
                                         .fields = rel_article_fields,
                                         .nfields = 4,
                                         .relations = rel_article_rels,
                                         .nrelations = 3};

static const keel_model_field_t rel_tag_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "name", .type = KEEL_FIELD_TEXT, .unique = true},
};
static const keel_model_t rel_tag = {
        .name = "tag", .table = "tags", .fields = rel_tag_fields, .nfields = 2};

static const char *const rel_schema[] = {
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, author_id INTEGER "
        "NOT NULL REFERENCES authors(id) ON DELETE CASCADE, editor_id "
        "INTEGER REFERENCES authors(id) ON DELETE SET NULL, title TEXT NOT "
        "NULL)",
        "CREATE INDEX articles_author ON articles(author_id)",
        "CREATE INDEX articles_editor ON articles(editor_id)",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
        "UNIQUE)",
        "CREATE TABLE article_tags (article_id INTEGER NOT NULL REFERENCES "
        "articles(id) ON DELETE CASCADE, tag_id INTEGER NOT NULL REFERENCES "
        "tags(id) ON DELETE CASCADE, PRIMARY KEY (article_id, tag_id))",
        "CREATE INDEX article_tags_tag ON article_tags(tag_id)",
};

static keel_db_t *rel_db;
static keel_db_conn_t *rel_conn;
static keel_models_t *rel_reg;

static void rel_exec(const char *sql, const keel_db_value_t *args, size_t n)
{
	cr_assert_eq(keel_db_exec(rel_conn, sql, args, n, NULL), 0, "%s: %s",
	             sql, keel_db_errmsg(rel_conn));
}

/* Seeding for keel_db_tx: the sizes of the data set. */
struct seed {
	int authors, per_author, tags;
};

/* Author a writes per_author articles; article k carries tags
 * 1..(k % tags) + 1; every third article has author 1 as editor. */
static int seed_rows(keel_db_conn_t *c, void *arg)
{
	const struct seed *s = arg;
	char name[32];
	int64_t article = 0;
	for (int i = 0; i < s->tags; i++) {
		snprintf(name, sizeof(name), "tag%d", i + 1);
		keel_db_exec(
		        c, "INSERT INTO tags (name) VALUES ($1)",
		        KEEL_DB_ARGS(KEEL_DB_STR(keel_str_from_cstr(name))),
		        NULL);
	}
	for (int a = 1; a <= s->authors; a++) {
		snprintf(name, sizeof(name), "author%d", a);
		keel_db_exec(
		        c, "INSERT INTO authors (name) VALUES ($1)",
		        KEEL_DB_ARGS(KEEL_DB_STR(keel_str_from_cstr(name))),
		        NULL);
		for (int k = 0; k < s->per_author; k++) {
			snprintf(name, sizeof(name), "a%d-%d", a, k);
			keel_db_value_t ed =
			        ++article % 3 ? KEEL_DB_NULLV : KEEL_DB_I64(1);
			int rc = keel_db_exec(
			        c,
			        "INSERT INTO articles (author_id, editor_id, "
			        "title) VALUES ($1, $2, $3)",
			        KEEL_DB_ARGS(
			                KEEL_DB_I64(a), ed,
			                KEEL_DB_STR(keel_str_from_cstr(name))),
			        NULL);
			for (int t = 1;
			     !rc && s->tags && t <= article % s->tags + 1; t++)
				rc = keel_db_exec(
				        c,
				        "INSERT INTO article_tags VALUES "
				        "($1, $2)",
				        KEEL_DB_ARGS(KEEL_DB_I64(article),
				                     KEEL_DB_I64(t)),
				        NULL);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static void rel_open(int authors, int per_author, int tags)
{
	keel_db_error_t err;
	rel_db = keel_db_open("sqlite::memory:", NULL, &err);
	cr_assert_not_null(rel_db, "%s", err.msg);
	cr_assert_eq(keel_db_acquire(rel_db, &rel_conn), 0);
	for (size_t i = 0; i < KEEL_COUNTOF(rel_schema); i++)
		rel_exec(rel_schema[i], KEEL_DB_NOARGS);
	struct seed s = {authors, per_author, tags};
	cr_assert_eq(keel_db_tx(rel_conn, seed_rows, &s), 0, "%s",
	             keel_db_errmsg(rel_conn));
	rel_reg = keel_models_new();
	cr_assert_eq(keel_models_register(rel_reg, &rel_author), 0);
	cr_assert_eq(keel_models_register(rel_reg, &rel_article), 0);
	cr_assert_eq(keel_models_register(rel_reg, &rel_tag), 0);
	cr_assert_eq(keel_models_check(rel_reg), 0);
}

static void rel_setup(void)
{
	rel_open(30, 3, 4);
}

static void rel_close(void)
{
	keel_models_free(rel_reg);
	keel_db_release(rel_conn);
	keel_db_close(rel_db);
	rel_reg = NULL;
	rel_conn = NULL;
	rel_db = NULL;
}

static uint64_t rel_queries(void)
{
	return keel_db_conn_stats(rel_conn).queries;
}

TestSuite(relations, .init = rel_setup, .fini = rel_close);

/* select_related ------------------------------------------------------ */

Test(relations, select_related_is_one_query_for_all_rows)
{
	uint64_t before = rel_queries();
	keel_db_rows_t *rows = NULL;
	cr_assert_eq(keel_model_select_related(
	                     rel_conn, rel_reg, &rel_article, "author",
	                     "ORDER BY \"articles\".\"id\" LIMIT $1",
	                     KEEL_DB_ARGS(KEEL_DB_I64(20)), &rows),
	             0, "%s", keel_db_errmsg(rel_conn));
	int n = 0, rc;
	while ((rc = keel_db_rows_next(rows)) == 1) {
		/* 4 article columns, then the author's id and name. */
		cr_assert_eq(keel_db_rows_columns(rows), 6);
		int64_t author = keel_db_rows_int(rows, 1);
		cr_assert_eq(keel_db_rows_int(rows, 4), author);
		char want[32];
		snprintf(want, sizeof(want), "author%lld", (long long)author);
		cr_assert(keel_str_eq(keel_db_rows_text(rows, 5),
		                      keel_str_from_cstr(want)));
		n++;
	}
	cr_assert_eq(rc, 0);
	keel_db_rows_close(rows);
	cr_assert_eq(n, 20);
	cr_assert_eq(rel_queries() - before, 1, "one JOIN, not 1 + 20");
}

Test(relations, nullable_key_keeps_rows_without_a_partner)
{
	keel_db_rows_t *rows = NULL;
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_article,
	                                       "editor",
	                                       "ORDER BY \"articles\".\"id\"",
	                                       KEEL_DB_NOARGS, &rows),
	             0, "%s", keel_db_errmsg(rel_conn));
	int n = 0, with = 0;
	while (keel_db_rows_next(rows) == 1) {
		bool has = !keel_db_rows_is_null(rows, 2);
		cr_assert_eq(keel_db_rows_is_null(rows, 4), !has,
		             "LEFT JOIN: no editor, NULL editor columns");
		cr_assert_eq(keel_db_rows_is_null(rows, 5), !has);
		with += has;
		n++;
	}
	keel_db_rows_close(rows);
	cr_assert_eq(n, 90, "every article, with or without an editor");
	cr_assert_eq(with, 30);
}

Test(relations, select_related_takes_a_filter)
{
	keel_db_rows_t *rows = NULL;
	cr_assert_eq(keel_model_select_related(
	                     rel_conn, rel_reg, &rel_article, "author",
	                     "WHERE \"author\".\"name\" = $1 ORDER BY "
	                     "\"articles\".\"title\" DESC",
	                     KEEL_DB_ARGS(KEEL_DB_CSTR("author7")), &rows),
	             0, "%s", keel_db_errmsg(rel_conn));
	const char *want[] = {"a7-2", "a7-1", "a7-0"};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(keel_db_rows_next(rows), 1);
		cr_assert(keel_str_eq(keel_db_rows_text(rows, 3),
		                      keel_str_from_cstr(want[i])));
	}
	cr_assert_eq(keel_db_rows_next(rows), 0);
	keel_db_rows_close(rows);
}

Test(relations, select_related_refuses_other_relations)
{
	keel_db_rows_t *rows = NULL;
	uint64_t before = rel_queries();
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_article,
	                                       "tags", NULL, KEEL_DB_NOARGS,
	                                       &rows),
	             KEEL_EINVAL, "many-to-many cannot ride in one JOIN");
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_author,
	                                       "articles", NULL, KEEL_DB_NOARGS,
	                                       &rows),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_article,
	                                       "nope", NULL, KEEL_DB_NOARGS,
	                                       &rows),
	             KEEL_EINVAL);
	keel_model_t stray = rel_article; /* not the registered pointer */
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &stray,
	                                       "author", NULL, KEEL_DB_NOARGS,
	                                       &rows),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_article,
	                                       "author", NULL, KEEL_DB_NOARGS,
	                                       NULL),
	             KEEL_EINVAL);
	cr_assert_eq(rel_queries(), before, "nothing reached the database");
}

Test(relations, select_related_reports_bad_tail_sql)
{
	keel_db_rows_t *rows = NULL;
	cr_assert_eq(keel_model_select_related(rel_conn, rel_reg, &rel_article,
	                                       "author", "WHERE nonsense ((",
	                                       KEEL_DB_NOARGS, &rows),
	             KEEL_EINVAL);
}

/* prefetch ----------------------------------------------------------- */

/* Children grouped into the caller's parent structs. */
struct parent {
	int64_t id;
	int children;
	int64_t last_child;
	bool ordered;
};

static int collect(const keel_prefetch_row_t *row, void *ctx)
{
	struct parent *p = ctx;
	cr_assert_neq(row->parent, SIZE_MAX);
	struct parent *me = &p[row->parent];
	cr_assert_eq(me->id, row->parent_id);
	int64_t child = keel_db_rows_int(row->rows, 0);
	if (me->children && child <= me->last_child)
		me->ordered = false;
	me->last_child = child;
	me->children++;
	return 0;
}

Test(relations, prefetch_has_many_groups_children_by_parent)
{
	struct parent p[10];
	int64_t ids[10];
	for (int i = 0; i < 10; i++) {
		ids[i] = 10 - i; /* any order */
		p[i] = (struct parent){.id = ids[i], .ordered = true};
	}
	uint64_t before = rel_queries();
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", ids, 10, collect, p),
	             0, "%s", keel_db_errmsg(rel_conn));
	cr_assert_eq(rel_queries() - before, 1);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(p[i].children, 3, "author %lld",
		             (long long)p[i].id);
		cr_assert(p[i].ordered, "children ordered by key");
	}
}

/* Tag names per article, to check many-to-many rows. */
struct tagged {
	int64_t article;
	char names[64];
};

static int collect_tags(const keel_prefetch_row_t *row, void *ctx)
{
	struct tagged *t = (struct tagged *)ctx + row->parent;
	keel_str_t name = keel_db_rows_text(row->rows, 1);
	size_t len = strlen(t->names);
	snprintf(t->names + len, sizeof(t->names) - len, "%s%.*s",
	         len ? "," : "", KEEL_STR_FMT(name));
	cr_assert_eq(keel_db_rows_columns(row->rows), 3);
	return 0;
}

Test(relations, prefetch_many_to_many_goes_through_the_join_table)
{
	/* Article k has tags 1..(k % 4) + 1. */
	struct tagged t[4] = {
	        {.article = 1}, {.article = 2}, {.article = 3}, {.article = 4}};
	int64_t ids[] = {1, 2, 3, 4};
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_article,
	                                 "tags", ids, 4, collect_tags, t),
	             0, "%s", keel_db_errmsg(rel_conn));
	cr_assert_str_eq(t[0].names, "tag1,tag2");
	cr_assert_str_eq(t[1].names, "tag1,tag2,tag3");
	cr_assert_str_eq(t[2].names, "tag1,tag2,tag3,tag4");
	cr_assert_str_eq(t[3].names, "tag1");
}

static int count_rows(const keel_prefetch_row_t *row, void *ctx)
{
	(void)row;
	(*(int *)ctx)++;
	return 0;
}

Test(relations, prefetch_belongs_to_loads_each_partner_once)
{
	/* Key values as found in articles.author_id, repeats included. */
	int64_t keys[] = {3, 3, 5, 3, 999};
	int n = 0;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_article,
	                                 "author", keys, 5, count_rows, &n),
	             0, "%s", keel_db_errmsg(rel_conn));
	cr_assert_eq(n, 2, "authors 3 and 5; 999 does not exist");
}

static int first_position(const keel_prefetch_row_t *row, void *ctx)
{
	cr_assert_eq(row->parent, 1, "first occurrence of id 4 is index 1");
	(*(int *)ctx)++;
	return 0;
}

Test(relations, duplicate_ids_map_to_their_first_position)
{
	int64_t ids[] = {100, 4, 4, 4};
	int n = 0;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", ids, 4, first_position,
	                                 &n),
	             0);
	cr_assert_eq(n, 3, "repeated ids do not repeat rows");
}

static int stop_after_two(const keel_prefetch_row_t *row, void *ctx)
{
	(void)row;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

Test(relations, callback_can_stop_the_load)
{
	int64_t ids[] = {1, 2, 3};
	int n = 0;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", ids, 3, stop_after_two,
	                                 &n),
	             42);
	cr_assert_eq(n, 2);
	/* The connection is usable afterwards: the cursor was closed. */
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", ids, 3, count_rows, &n),
	             0);
	cr_assert_eq(n, 2 + 9);
}

Test(relations, prefetch_of_nothing_runs_nothing)
{
	uint64_t before = rel_queries();
	int n = 0;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", NULL, 0, count_rows, &n),
	             0);
	cr_assert_eq(rel_queries(), before);
	int64_t id = 1;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", NULL, 1, count_rows, &n),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "books", &id, 1, count_rows, &n),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", &id, 1, NULL, &n),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_prefetch(NULL, rel_reg, &rel_author, "articles",
	                                 &id, 1, count_rows, &n),
	             KEEL_EINVAL);
	cr_assert_eq(n, 0);
}

/* Hand-written batch: extra arguments come first, ids after them. */
Test(relations, prefetch_sql_binds_its_own_arguments_first)
{
	keel_prefetch_query_t q = {
	        .head = "SELECT id, title, author_id FROM articles WHERE "
	                "title <> $1 AND author_id",
	        .tail = "ORDER BY id",
	        .key_col = 2,
	        .args = (keel_db_value_t[]){KEEL_DB_CSTR("a2-1")},
	        .nargs = 1};
	int64_t ids[] = {2, 3};
	int n = 0;
	cr_assert_eq(
	        keel_model_prefetch_sql(rel_conn, &q, ids, 2, count_rows, &n),
	        0, "%s", keel_db_errmsg(rel_conn));
	cr_assert_eq(n, 5, "6 articles minus the excluded title");
	q.key_col = -1;
	cr_assert_eq(
	        keel_model_prefetch_sql(rel_conn, &q, ids, 2, count_rows, &n),
	        KEEL_EINVAL);
	q.key_col = 2;
	q.args = NULL;
	cr_assert_eq(
	        keel_model_prefetch_sql(rel_conn, &q, ids, 2, count_rows, &n),
	        KEEL_EINVAL);
}

Test(relations, short_batches_share_a_padded_statement)
{
	int64_t three[] = {1, 2, 3}, four[] = {4, 5, 6, 7};
	int n = 0;
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", three, 3, count_rows, &n),
	             0);
	keel_db_stats_t s = keel_db_conn_stats(rel_conn);
	cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
	                                 "articles", four, 4, count_rows, &n),
	             0);
	keel_db_stats_t t = keel_db_conn_stats(rel_conn);
	cr_assert_eq(t.cache_hits - s.cache_hits, 1,
	             "3 ids are padded to 4: the statement is reused");
	cr_assert_eq(t.cache_misses, s.cache_misses);
	cr_assert_eq(n, 21, "padding repeats an id, never adds rows");
}

/* Chunking: 1200 parents are three IN lists of at most 500. */

static int count_distinct_parents(const keel_prefetch_row_t *row, void *ctx)
{
	unsigned char *seen = ctx;
	cr_assert_lt(row->parent, 1200);
	cr_assert_eq(seen[row->parent], 0, "each parent's row comes once");
	seen[row->parent] = 1;
	return 0;
}

Test(relations, prefetch_chunks_to_the_parameter_limit)
{
	rel_close(); /* a bigger data set than the suite's */
	rel_open(1200, 1, 0);
	int64_t *ids = malloc(1200 * sizeof(*ids));
	unsigned char *seen = calloc(1200, 1);
	for (int i = 0; i < 1200; i++)
		ids[i] = i + 1;
	const struct {
		size_t n;
		uint64_t queries;
	} cases[] = {{1, 1}, {500, 1}, {501, 2}, {1000, 2}, {1200, 3}};
	for (size_t c = 0; c < KEEL_COUNTOF(cases); c++) {
		memset(seen, 0, 1200);
		uint64_t before = rel_queries();
		cr_assert_eq(keel_model_prefetch(rel_conn, rel_reg, &rel_author,
		                                 "articles", ids, cases[c].n,
		                                 count_distinct_parents, seen),
		             0, "%s", keel_db_errmsg(rel_conn));
		cr_assert_eq(rel_queries() - before, cases[c].queries,
		             "%zu ids", cases[c].n);
		size_t got = 0;
		for (int i = 0; i < 1200; i++)
			got += seen[i];
		cr_assert_eq(got, cases[c].n);
	}
	free(seen);
	free(ids);
}

/* N+1 ------------------------------------------------------------------ */

/* A page of authors with their articles and each article's tags. */
struct page {
	int limit;
	int64_t authors[256];
	int nauthors;
	int64_t articles[1024];
	int narticles, ntags;
};

static int add_article(const keel_prefetch_row_t *row, void *ctx)
{
	struct page *pg = ctx;
	if (pg->narticles < 1024)
		pg->articles[pg->narticles++] = keel_db_rows_int(row->rows, 0);
	return 0;
}

static int add_tag(const keel_prefetch_row_t *row, void *ctx)
{
	(void)row;
	((struct page *)ctx)->ntags++;
	return 0;
}

static int load_page(keel_db_conn_t *c, void *ctx)
{
	struct page *pg = ctx;
	const char *list = NULL;
	int rc = keel_model_sql_list(rel_reg, &rel_author, KEEL_STR(""), false,
	                             &list);
	keel_db_rows_t *rows = NULL;
	if (!rc)
		rc = keel_db_query(
		        c, list,
		        KEEL_DB_ARGS(KEEL_DB_I64(pg->limit), KEEL_DB_I64(0)),
		        &rows);
	while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
		rc = 0;
		pg->authors[pg->nauthors++] = keel_db_rows_int(rows, 0);
	}
	keel_db_rows_close(rows);
	if (!rc)
		rc = keel_model_prefetch(c, rel_reg, &rel_author, "articles",
		                         pg->authors, (size_t)pg->nauthors,
		                         add_article, pg);
	if (!rc)
		rc = keel_model_prefetch(c, rel_reg, &rel_article, "tags",
		                         pg->articles, (size_t)pg->narticles,
		                         add_tag, pg);
	return rc;
}

/* The same page, loaded the naive way: one query per author. */
static int load_page_naively(keel_db_conn_t *c, void *ctx)
{
	struct page *pg = ctx;
	int rc = 0;
	for (int a = 1; a <= pg->limit && !rc; a++) {
		keel_db_rows_t *rows = NULL;
		rc = keel_db_query(
		        c, "SELECT id FROM articles WHERE author_id = $1",
		        KEEL_DB_ARGS(KEEL_DB_I64(a)), &rows);
		while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
			rc = 0;
			pg->narticles++;
		}
		keel_db_rows_close(rows);
	}
	return rc;
}

Test(relations, listing_costs_the_same_queries_whatever_n)
{
	const int sizes[] = {1, 5, 20, 30};
	for (size_t i = 0; i < KEEL_COUNTOF(sizes); i++) {
		struct page *pg = calloc(1, sizeof(*pg));
		pg->limit = sizes[i];
		uint64_t q = 0;
		cr_assert_eq(
		        keel_dbtest_count_queries(rel_conn, load_page, pg, &q),
		        0, "%s", keel_db_errmsg(rel_conn));
		cr_assert_eq(pg->nauthors, sizes[i]);
		cr_assert_eq(pg->narticles, 3 * sizes[i]);
		cr_assert_gt(pg->ntags, pg->narticles);
		cr_assert_eq(q, 3, "N = %d: list + articles + tags", sizes[i]);
		free(pg);
	}
	/* Contrast: the loop that asks per row grows with N. */
	struct page naive = {.limit = 20};
	uint64_t q = 0;
	cr_assert_eq(keel_dbtest_count_queries(rel_conn, load_page_naively,
	                                       &naive, &q),
	             0);
	cr_assert_eq(q, 20);
	cr_assert_eq(naive.narticles, 60);
}

/* What keel_model_select_related and keel_model_prefetch send (for two
 * ids) uses the schema's indexes. */
Test(relations, generated_queries_use_indexes)
{
	static const char *const sqls[] = {
	        "SELECT \"articles\".\"id\", \"articles\".\"author_id\", "
	        "\"articles\".\"editor_id\", \"articles\".\"title\", "
	        "\"articles\".\"author_id\" FROM \"articles\" WHERE "
	        "\"articles\".\"author_id\" IN ($1, $2) ORDER BY "
	        "\"articles\".\"author_id\", \"articles\".\"id\"",
	        "SELECT \"tags\".\"id\", \"tags\".\"name\", "
	        "\"article_tags\".\"article_id\" FROM \"article_tags\" INNER "
	        "JOIN \"tags\" ON \"tags\".\"id\" = "
	        "\"article_tags\".\"tag_id\" "
	        "WHERE \"article_tags\".\"article_id\" IN ($1, $2) ORDER BY "
	        "\"article_tags\".\"article_id\", \"tags\".\"id\"",
	        "SELECT \"articles\".\"id\", \"author\".\"name\" FROM "
	        "\"articles\" INNER JOIN \"authors\" AS \"author\" ON "
	        "\"author\".\"id\" = \"articles\".\"author_id\" WHERE "
	        "\"articles\".\"author_id\" IN ($1, $2) ORDER BY "
	        "\"articles\".\"id\"",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(sqls); i++) {
		keel_dbtest_report_t rep;
		cr_assert_eq(keel_dbtest_explain(rel_conn, sqls[i],
		                                 KEEL_DB_ARGS(KEEL_DB_I64(1),
		                                              KEEL_DB_I64(2)),
		                                 &rep),
		             0, "%s", keel_db_errmsg(rel_conn));
		cr_assert(rep.ok, "%zu: %s%s", i, rep.problems, rep.plan);
		cr_assert_eq(rep.scans, 0, "%zu: %s", i, rep.plan);
	}
}
