#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keel/db.h"
#include "keel/model.h"

/* The blog schema every data test uses: authors write articles, articles
 * carry tags through article_tags. */
static const keel_model_field_t author_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "name",
         .type = KEEL_FIELD_TEXT,
         .max_len = 64,
         .label = "Name",
         .help = "Shown on every article."},
        {.name = "email",
         .type = KEEL_FIELD_TEXT,
         .unique = true,
         .max_len = 254},
};
static const keel_relation_t author_rels[] = {
        {.name = "articles",
         .kind = KEEL_REL_HAS_MANY,
         .model = "article",
         .fk = "author_id"},
};
static const keel_model_t author_model = {
        .name = "author",
        .table = "authors",
        .fields = author_fields,
        .nfields = KEEL_COUNTOF(author_fields),
        .relations = author_rels,
        .nrelations = KEEL_COUNTOF(author_rels)};

static const keel_model_field_t article_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "author_id",
         .type = KEEL_FIELD_INTEGER,
         .ref_model = "author",
         .on_delete = KEEL_ON_DELETE_CASCADE},
        {.name = "editor_id",
         .type = KEEL_FIELD_INTEGER,
         .nullable = true,
         .ref_model = "author",
         .ref_field = "id",
         .on_delete = KEEL_ON_DELETE_SET_NULL},
        {.name = "title", .type = KEEL_FIELD_TEXT, .max_len = 120},
        {.name = "published", .type = KEEL_FIELD_BOOL, .def = "0"},
        {.name = "created_at", .type = KEEL_FIELD_TIMESTAMP},
};
static const keel_relation_t article_rels[] = {
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
static const keel_model_t article_model = {
        .name = "article",
        .table = "articles",
        .fields = article_fields,
        .nfields = KEEL_COUNTOF(article_fields),
        .relations = article_rels,
        .nrelations = KEEL_COUNTOF(article_rels)};

static const keel_model_field_t tag_fields[] = {
        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
        {.name = "name", .type = KEEL_FIELD_TEXT, .unique = true},
};
static const keel_model_t tag_model = {.name = "tag",
                                       .table = "tags",
                                       .fields = tag_fields,
                                       .nfields = KEEL_COUNTOF(tag_fields)};

/* A join table as a model of its own: a two-column primary key. */
static const keel_model_field_t at_fields[] = {
        {.name = "article_id",
         .type = KEEL_FIELD_INTEGER,
         .pk = true,
         .ref_model = "article",
         .on_delete = KEEL_ON_DELETE_CASCADE},
        {.name = "tag_id",
         .type = KEEL_FIELD_INTEGER,
         .pk = true,
         .ref_model = "tag",
         .on_delete = KEEL_ON_DELETE_CASCADE},
        {.name = "position", .type = KEEL_FIELD_INTEGER},
};
static const keel_model_t at_model = {.name = "article_tag",
                                      .table = "article_tags",
                                      .fields = at_fields,
                                      .nfields = KEEL_COUNTOF(at_fields)};

static keel_models_t *blog_registry(void)
{
	keel_models_t *reg = keel_models_new();
	cr_assert_not_null(reg);
	cr_assert_eq(keel_models_register(reg, &author_model), 0);
	cr_assert_eq(keel_models_register(reg, &article_model), 0);
	cr_assert_eq(keel_models_register(reg, &tag_model), 0);
	cr_assert_eq(keel_models_register(reg, &at_model), 0);
	cr_assert_eq(keel_models_check(reg), 0, "%s", keel_models_errmsg(reg));
	return reg;
}

/* Register a one-off model in a fresh registry and return the code. */
static int try_model(const keel_model_t *m, char *msg, size_t cap)
{
	keel_models_t *reg = keel_models_new();
	cr_assert_not_null(reg);
	int rc = keel_models_register(reg, m);
	snprintf(msg, cap, "%s", keel_models_errmsg(reg));
	keel_models_free(reg);
	return rc;
}

Test(model, registry_finds_and_lists_in_order)
{
	keel_models_t *reg = blog_registry();
	cr_assert_eq(keel_models_count(reg), 4);
	cr_assert_eq(keel_models_at(reg, 0), &author_model);
	cr_assert_eq(keel_models_at(reg, 3), &at_model);
	cr_assert_null(keel_models_at(reg, 4));
	cr_assert_eq(keel_models_find(reg, KEEL_STR("article")),
	             &article_model);
	cr_assert_eq(keel_models_find(reg, KEEL_STR("ARTICLE")),
	             &article_model);
	cr_assert_null(keel_models_find(reg, KEEL_STR("articles")));
	cr_assert_null(keel_models_find(reg, KEEL_STR("")));
	cr_assert_str_empty(keel_models_errmsg(reg));
	keel_models_free(reg);
}

Test(model, registering_a_name_twice_is_refused)
{
	keel_models_t *reg = blog_registry();
	keel_model_t copy = tag_model;
	cr_assert_eq(keel_models_register(reg, &copy), KEEL_EEXIST);
	cr_assert(strstr(keel_models_errmsg(reg), "tag") != NULL);
	cr_assert_eq(keel_models_count(reg), 4);
	cr_assert_eq(keel_models_register(reg, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_models_register(NULL, &tag_model), KEEL_EINVAL);
	keel_models_free(reg);
	keel_models_free(NULL);
}

Test(model, empty_registry_answers_safely)
{
	keel_models_t *reg = keel_models_new();
	cr_assert_eq(keel_models_count(reg), 0);
	cr_assert_null(keel_models_at(reg, 0));
	cr_assert_eq(keel_models_check(reg), 0);
	cr_assert_eq(keel_models_count(NULL), 0);
	cr_assert_null(keel_models_find(NULL, KEEL_STR("tag")));
	cr_assert_str_empty(keel_models_errmsg(NULL));
	keel_models_free(reg);
}

Test(model, identifiers_are_validated)
{
	cr_assert(keel_model_ident_valid(KEEL_STR("author_id")));
	cr_assert(keel_model_ident_valid(KEEL_STR("_x9")));
	cr_assert(keel_model_ident_valid(KEEL_STR("A")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("9lives")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("a b")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("a\"b")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("name; DROP TABLE x")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("a-b")));
	cr_assert_not(keel_model_ident_valid(KEEL_STR("caf\xc3\xa9")));
	cr_assert_not(keel_model_ident_valid((keel_str_t){"a\0b", 3}));
	cr_assert_not(keel_model_ident_valid((keel_str_t){NULL, 0}));
	char longest[KEEL_MODEL_IDENT_MAX + 2];
	memset(longest, 'x', sizeof(longest));
	cr_assert(keel_model_ident_valid(
	        (keel_str_t){longest, KEEL_MODEL_IDENT_MAX}));
	cr_assert_not(keel_model_ident_valid(
	        (keel_str_t){longest, KEEL_MODEL_IDENT_MAX + 1}));
}

Test(model, bad_names_are_refused_at_registration)
{
	char msg[256];
	keel_model_t m = tag_model;
	m.table = "tags\"; DROP TABLE users; --";
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL);
	m = tag_model;
	m.name = NULL;
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL);
	static const keel_model_field_t bad_field[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "na me", .type = KEEL_FIELD_TEXT},
	};
	m = (keel_model_t){
	        .name = "t", .table = "t", .fields = bad_field, .nfields = 2};
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL);
	cr_assert(strstr(msg, "field name") != NULL, "%s", msg);
}

Test(model, field_rules_are_enforced)
{
	char msg[256];
	static const keel_model_field_t no_pk[] = {
	        {.name = "a", .type = KEEL_FIELD_TEXT}};
	static const keel_model_field_t twice[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "ID", .type = KEEL_FIELD_TEXT}};
	static const keel_model_field_t null_pk[] = {
	        {.name = "id",
	         .type = KEEL_FIELD_INTEGER,
	         .pk = true,
	         .nullable = true}};
	static const keel_model_field_t no_type[] = {
	        {.name = "id", .pk = true}};
	static const keel_model_field_t set_null[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "o",
	         .type = KEEL_FIELD_INTEGER,
	         .ref_model = "x",
	         .on_delete = KEEL_ON_DELETE_SET_NULL}};
	static const keel_model_field_t dangling[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "o", .type = KEEL_FIELD_INTEGER, .ref_field = "id"}};
	static const keel_model_field_t negative[] = {
	        {.name = "id",
	         .type = KEEL_FIELD_INTEGER,
	         .pk = true,
	         .max_len = -1}};
	const struct {
		const keel_model_field_t *f;
		size_t n;
		const char *why;
	} cases[] = {{no_pk, 1, "no primary key"},
	             {twice, 2, "declared twice"},
	             {null_pk, 1, "cannot be NULL"},
	             {no_type, 1, "bad type"},
	             {set_null, 2, "nullable"},
	             {dangling, 2, "without ref_model"},
	             {negative, 1, "negative"}};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		keel_model_t m = {.name = "t",
		                  .table = "t",
		                  .fields = cases[i].f,
		                  .nfields = cases[i].n};
		cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL,
		             "case %zu", i);
		cr_assert(strstr(msg, cases[i].why) != NULL, "case %zu: %s", i,
		          msg);
	}
	keel_model_t empty = {.name = "t", .table = "t"};
	cr_assert_eq(try_model(&empty, msg, sizeof(msg)), KEEL_EINVAL);
}

Test(model, too_many_fields_hit_the_limit)
{
	static keel_model_field_t many[KEEL_MODEL_FIELDS_MAX + 1];
	static char names[KEEL_MODEL_FIELDS_MAX + 1][8];
	for (size_t i = 0; i < KEEL_COUNTOF(many); i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		many[i] = (keel_model_field_t){.name = names[i],
		                               .type = KEEL_FIELD_INTEGER,
		                               .pk = i == 0};
	}
	char msg[256];
	keel_model_t m = {.name = "wide",
	                  .table = "wide",
	                  .fields = many,
	                  .nfields = KEEL_MODEL_FIELDS_MAX + 1};
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_ELIMIT);
	m.nfields = KEEL_MODEL_FIELDS_MAX;
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), 0, "%s", msg);
}

Test(model, relation_rules_are_enforced)
{
	char msg[256];
	static const keel_relation_t no_fk_field[] = {
	        {.name = "owner",
	         .kind = KEEL_REL_BELONGS_TO,
	         .model = "user",
	         .fk = "owner_id"}};
	static const keel_relation_t clash[] = {{.name = "name",
	                                         .kind = KEEL_REL_HAS_MANY,
	                                         .model = "x",
	                                         .fk = "tag_id"}};
	static const keel_relation_t table_clash[] = {
	        {.name = "tags",
	         .kind = KEEL_REL_HAS_MANY,
	         .model = "x",
	         .fk = "tag_id"}};
	static const keel_relation_t m2m_half[] = {
	        {.name = "posts",
	         .kind = KEEL_REL_MANY_TO_MANY,
	         .model = "article",
	         .fk = "tag_id"}};
	static const keel_relation_t bad_kind[] = {
	        {.name = "posts", .model = "article", .fk = "tag_id"}};
	static const keel_relation_t twice[] = {{.name = "posts",
	                                         .kind = KEEL_REL_HAS_MANY,
	                                         .model = "a",
	                                         .fk = "tag_id"},
	                                        {.name = "POSTS",
	                                         .kind = KEEL_REL_HAS_MANY,
	                                         .model = "a",
	                                         .fk = "tag_id"}};
	const keel_relation_t *cases[] = {no_fk_field, clash,    table_clash,
	                                  m2m_half,    bad_kind, twice};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		keel_model_t m = tag_model;
		m.relations = cases[i];
		m.nrelations = cases[i] == twice ? 2 : 1;
		cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL,
		             "case %zu", i);
	}
	keel_model_t m = tag_model;
	m.nrelations = 1; /* count without an array */
	cr_assert_eq(try_model(&m, msg, sizeof(msg)), KEEL_EINVAL);
}

Test(model, check_finds_dangling_references)
{
	keel_models_t *reg = keel_models_new();
	cr_assert_eq(keel_models_register(reg, &article_model), 0);
	cr_assert_eq(keel_models_check(reg), KEEL_EINVAL);
	cr_assert(strstr(keel_models_errmsg(reg), "unknown model author"), "%s",
	          keel_models_errmsg(reg));
	cr_assert_eq(keel_models_register(reg, &author_model), 0);
	cr_assert_eq(keel_models_check(reg), KEEL_EINVAL); /* tag missing */
	cr_assert(strstr(keel_models_errmsg(reg), "tag"));
	cr_assert_eq(keel_models_register(reg, &tag_model), 0);
	cr_assert_eq(keel_models_check(reg), 0, "%s", keel_models_errmsg(reg));
	cr_assert_str_empty(keel_models_errmsg(reg));
	keel_models_free(reg);

	/* A reference to a field the target does not have. */
	static const keel_model_field_t bad_ref[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "tag",
	         .type = KEEL_FIELD_TEXT,
	         .ref_model = "tag",
	         .ref_field = "slug"}};
	keel_model_t m = {.name = "pin",
	                  .table = "pins",
	                  .fields = bad_ref,
	                  .nfields = 2};
	reg = keel_models_new();
	cr_assert_eq(keel_models_register(reg, &tag_model), 0);
	cr_assert_eq(keel_models_register(reg, &m), 0);
	cr_assert_eq(keel_models_check(reg), KEEL_EINVAL);
	cr_assert(strstr(keel_models_errmsg(reg), "tag.slug"), "%s",
	          keel_models_errmsg(reg));
	keel_models_free(reg);
}

Test(model, check_needs_has_many_key_on_the_target)
{
	static const keel_relation_t rel[] = {{.name = "articles",
	                                       .kind = KEEL_REL_HAS_MANY,
	                                       .model = "article",
	                                       .fk = "writer_id"}};
	keel_model_t a = author_model;
	a.relations = rel;
	keel_models_t *reg = keel_models_new();
	cr_assert_eq(keel_models_register(reg, &a), 0);
	cr_assert_eq(keel_models_register(reg, &article_model), 0);
	cr_assert_eq(keel_models_register(reg, &tag_model), 0);
	cr_assert_eq(keel_models_check(reg), KEEL_EINVAL);
	cr_assert(strstr(keel_models_errmsg(reg), "writer_id"));
	keel_models_free(reg);
}

Test(model, lookups_by_name)
{
	cr_assert_eq(keel_model_field(&article_model, KEEL_STR("title")),
	             &article_fields[3]);
	cr_assert_eq(keel_model_field_index(&article_model, KEEL_STR("Title")),
	             3);
	cr_assert_eq(keel_model_field_index(&article_model, KEEL_STR("titl")),
	             -1);
	cr_assert_null(keel_model_field(&article_model, KEEL_STR("")));
	cr_assert_null(keel_model_field(NULL, KEEL_STR("id")));
	cr_assert_eq(keel_model_relation(&article_model, KEEL_STR("tags")),
	             &article_rels[2]);
	cr_assert_null(keel_model_relation(&tag_model, KEEL_STR("tags")));
	cr_assert_str_eq(keel_model_type_name(KEEL_FIELD_TIMESTAMP),
	                 "TIMESTAMP");
	cr_assert_str_eq(keel_model_type_name(KEEL_FIELD_BOOL), "BOOLEAN");
	cr_assert_str_eq(keel_model_type_name((keel_model_type_t)0), "?");
	cr_assert_str_eq(author_fields[1].label, "Name");
}

Test(model, select_and_delete_by_primary_key)
{
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	cr_assert_eq(keel_model_sql_get(reg, &article_model, &sql), 0);
	cr_assert_str_eq(sql, "SELECT \"id\", \"author_id\", \"editor_id\", "
	                      "\"title\", \"published\", \"created_at\" FROM "
	                      "\"articles\" WHERE \"id\" = $1");
	cr_assert_eq(keel_model_sql_delete(reg, &article_model, &sql), 0);
	cr_assert_str_eq(sql, "DELETE FROM \"articles\" WHERE \"id\" = $1");
	keel_models_free(reg);
}

Test(model, composite_keys_take_one_placeholder_each)
{
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	cr_assert_eq(keel_model_sql_get(reg, &at_model, &sql), 0);
	cr_assert_str_eq(sql, "SELECT \"article_id\", \"tag_id\", \"position\" "
	                      "FROM \"article_tags\" WHERE \"article_id\" = $1 "
	                      "AND \"tag_id\" = $2");
	cr_assert_eq(keel_model_sql_update(reg, &at_model,
	                                   (keel_str_t[]){KEEL_STR("position")},
	                                   1, &sql),
	             0);
	cr_assert_str_eq(sql, "UPDATE \"article_tags\" SET \"position\" = $1 "
	                      "WHERE \"article_id\" = $2 AND \"tag_id\" = $3");
	cr_assert_eq(keel_model_sql_list(reg, &at_model, KEEL_STR("position"),
	                                 true, &sql),
	             0);
	cr_assert_str_eq(sql,
	                 "SELECT \"article_id\", \"tag_id\", \"position\" "
	                 "FROM \"article_tags\" ORDER BY \"position\" DESC, "
	                 "\"article_id\" DESC, \"tag_id\" DESC LIMIT $1 "
	                 "OFFSET $2");
	keel_models_free(reg);
}

Test(model, list_orders_then_breaks_ties_by_key)
{
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	cr_assert_eq(
	        keel_model_sql_list(reg, &tag_model, KEEL_STR(""), false, &sql),
	        0);
	cr_assert_str_eq(sql, "SELECT \"id\", \"name\" FROM \"tags\" ORDER BY "
	                      "\"id\" ASC LIMIT $1 OFFSET $2");
	cr_assert_eq(keel_model_sql_list(reg, &article_model,
	                                 KEEL_STR("CREATED_AT"), true, &sql),
	             0);
	cr_assert(strstr(sql, " ORDER BY \"created_at\" DESC, \"id\" DESC "
	                      "LIMIT $1 OFFSET $2"),
	          "%s", sql);
	/* Sorting by the key itself does not repeat it. */
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("id"), true,
	                                 &sql),
	             0);
	cr_assert(strstr(sql, "ORDER BY \"id\" DESC LIMIT"), "%s", sql);
	keel_models_free(reg);
}

Test(model, list_refuses_columns_not_in_the_model)
{
	keel_models_t *reg = blog_registry();
	const char *sql = "unchanged";
	cr_assert_eq(keel_model_sql_list(reg, &tag_model,
	                                 KEEL_STR("name; DROP TABLE tags"),
	                                 false, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("title"),
	                                 false, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("\"id\""),
	                                 false, &sql),
	             KEEL_EINVAL);
	cr_assert_str_eq(sql, "unchanged");
	keel_models_free(reg);
}

Test(model, insert_keeps_the_callers_column_order)
{
	keel_models_t *reg = blog_registry();
	const char *a = NULL, *b = NULL;
	keel_str_t cols[] = {KEEL_STR("title"), KEEL_STR("author_id"),
	                     KEEL_STR("created_at")};
	cr_assert_eq(keel_model_sql_insert(reg, &article_model, cols, 3, &a),
	             0);
	cr_assert_str_eq(a,
	                 "INSERT INTO \"articles\" (\"title\", \"author_id\", "
	                 "\"created_at\") VALUES ($1, $2, $3)");
	keel_str_t other[] = {KEEL_STR("author_id"), KEEL_STR("title"),
	                      KEEL_STR("created_at")};
	cr_assert_eq(keel_model_sql_insert(reg, &article_model, other, 3, &b),
	             0);
	cr_assert_str_eq(b,
	                 "INSERT INTO \"articles\" (\"author_id\", \"title\", "
	                 "\"created_at\") VALUES ($1, $2, $3)");
	cr_assert_eq(keel_model_sql_insert(reg, &tag_model, NULL, 0, &a), 0);
	cr_assert_str_eq(a, "INSERT INTO \"tags\" DEFAULT VALUES");
	keel_models_free(reg);
}

Test(model, insert_and_update_refuse_bad_columns)
{
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	keel_str_t unknown[] = {KEEL_STR("title"), KEEL_STR("password")};
	keel_str_t dup[] = {KEEL_STR("title"), KEEL_STR("TITLE")};
	keel_str_t pk[] = {KEEL_STR("id")};
	keel_str_t inject[] = {KEEL_STR("title\" = 1 --")};
	cr_assert_eq(
	        keel_model_sql_insert(reg, &article_model, unknown, 2, &sql),
	        KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_insert(reg, &article_model, dup, 2, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(
	        keel_model_sql_update(reg, &article_model, inject, 1, &sql),
	        KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_update(reg, &article_model, pk, 1, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_update(reg, &article_model, dup, 2, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_update(reg, &article_model, NULL, 0, &sql),
	             KEEL_EINVAL);
	cr_assert_eq(keel_model_sql_insert(reg, &article_model, NULL, 2, &sql),
	             KEEL_EINVAL);
	cr_assert_null(sql);
	/* An explicit primary key is fine for INSERT. */
	cr_assert_eq(keel_model_sql_insert(reg, &tag_model, pk, 1, &sql), 0);
	cr_assert_str_eq(sql, "INSERT INTO \"tags\" (\"id\") VALUES ($1)");
	keel_models_free(reg);
}

Test(model, update_sets_columns_then_matches_the_key)
{
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	keel_str_t cols[] = {KEEL_STR("title"), KEEL_STR("published")};
	cr_assert_eq(keel_model_sql_update(reg, &article_model, cols, 2, &sql),
	             0);
	cr_assert_str_eq(sql, "UPDATE \"articles\" SET \"title\" = $1, "
	                      "\"published\" = $2 WHERE \"id\" = $3");
	keel_models_free(reg);
}

Test(model, statements_are_generated_once)
{
	keel_models_t *reg = blog_registry();
	const char *a = NULL, *b = NULL;
	cr_assert_eq(keel_model_sql_get(reg, &tag_model, &a), 0);
	cr_assert_eq(keel_model_sql_get(reg, &tag_model, &b), 0);
	cr_assert_eq(a, b, "the cached text is handed out again");
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("name"),
	                                 false, &a),
	             0);
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("NAME"),
	                                 false, &b),
	             0);
	cr_assert_eq(a, b);
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("name"),
	                                 true, &b),
	             0);
	cr_assert_neq(a, b, "direction is part of the key");
	keel_models_free(reg);
}

Test(model, unregistered_models_are_not_served)
{
	keel_models_t *reg = keel_models_new();
	cr_assert_eq(keel_models_register(reg, &tag_model), 0);
	keel_model_t copy = tag_model; /* same content, other address */
	const char *sql = NULL;
	cr_assert_eq(keel_model_sql_get(reg, &copy, &sql), KEEL_ENOENT);
	cr_assert_eq(keel_model_sql_delete(reg, &author_model, &sql),
	             KEEL_ENOENT);
	cr_assert_eq(
	        keel_model_sql_list(reg, &copy, KEEL_STR("nope"), false, &sql),
	        KEEL_ENOENT);
	cr_assert_eq(keel_model_sql_insert(reg, &copy, NULL, 0, &sql),
	             KEEL_ENOENT);
	cr_assert_eq(keel_model_sql_update(reg, &copy, NULL, 1, &sql),
	             KEEL_ENOENT);
	cr_assert_eq(keel_model_sql_get(NULL, &tag_model, &sql), KEEL_ENOENT);
	cr_assert_eq(keel_model_sql_get(reg, &tag_model, NULL), KEEL_EINVAL);
	cr_assert_null(sql);
	keel_models_free(reg);
}

Test(model, statement_cache_is_bounded)
{
	static const keel_model_field_t f8[] = {
	        {.name = "id", .type = KEEL_FIELD_INTEGER, .pk = true},
	        {.name = "a", .type = KEEL_FIELD_INTEGER},
	        {.name = "b", .type = KEEL_FIELD_INTEGER},
	        {.name = "c", .type = KEEL_FIELD_INTEGER},
	        {.name = "d", .type = KEEL_FIELD_INTEGER},
	        {.name = "e", .type = KEEL_FIELD_INTEGER},
	        {.name = "f", .type = KEEL_FIELD_INTEGER},
	        {.name = "g", .type = KEEL_FIELD_INTEGER},
	};
	keel_model_t m = {
	        .name = "w", .table = "w", .fields = f8, .nfields = 8};
	keel_models_t *reg = keel_models_new();
	cr_assert_eq(keel_models_register(reg, &m), 0);
	const char *first = NULL, *sql = NULL;
	size_t made = 0;
	int rc = 0;
	/* Ordered triples of distinct columns: 8 * 7 * 6 = 336 statements. */
	for (size_t i = 0; i < 8 && !rc; i++)
		for (size_t j = 0; j < 8 && !rc; j++)
			for (size_t k = 0; k < 8 && !rc; k++) {
				if (i == j || j == k || i == k)
					continue;
				keel_str_t cols[] = {
				        keel_str_from_cstr(f8[i].name),
				        keel_str_from_cstr(f8[j].name),
				        keel_str_from_cstr(f8[k].name)};
				rc = keel_model_sql_insert(reg, &m, cols, 3,
				                           &sql);
				if (!rc && made++ == 0)
					first = sql;
			}
	cr_assert_eq(rc, KEEL_ELIMIT);
	cr_assert_eq(made, KEEL_MODEL_SQL_CACHE_MAX);
	/* What is cached stays served, at the same address. */
	keel_str_t again[] = {KEEL_STR("id"), KEEL_STR("a"), KEEL_STR("b")};
	cr_assert_eq(keel_model_sql_insert(reg, &m, again, 3, &sql), 0);
	cr_assert_eq(sql, first);
	keel_models_free(reg);
}

/* The generated text is SQL the database accepts, with $N bound in order. */
Test(model, generated_crud_runs_against_sqlite)
{
	keel_db_t *db = keel_db_open("sqlite::memory:", NULL, NULL);
	cr_assert_not_null(db);
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(db, &c), 0);
	cr_assert_eq(keel_db_exec(c,
	                          "CREATE TABLE tags (id INTEGER PRIMARY KEY, "
	                          "name TEXT NOT NULL UNIQUE)",
	                          KEEL_DB_NOARGS, NULL),
	             0);
	keel_models_t *reg = blog_registry();
	const char *sql = NULL;
	keel_str_t name[] = {KEEL_STR("name")};
	cr_assert_eq(keel_model_sql_insert(reg, &tag_model, name, 1, &sql), 0);
	const char *names[] = {"c", "a", "b"};
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(keel_db_exec(c, sql,
		                          KEEL_DB_ARGS(KEEL_DB_CSTR(names[i])),
		                          NULL),
		             0, "%s", keel_db_errmsg(c));
	cr_assert_eq(
	        keel_db_exec(c, sql, KEEL_DB_ARGS(KEEL_DB_CSTR("a")), NULL),
	        KEEL_EEXIST);
	cr_assert_eq(keel_model_sql_update(reg, &tag_model, name, 1, &sql), 0);
	int64_t changed = 0;
	cr_assert_eq(
	        keel_db_exec(c, sql,
	                     KEEL_DB_ARGS(KEEL_DB_CSTR("z"), KEEL_DB_I64(1)),
	                     &changed),
	        0);
	cr_assert_eq(changed, 1);
	cr_assert_eq(keel_model_sql_list(reg, &tag_model, KEEL_STR("name"),
	                                 false, &sql),
	             0);
	keel_db_rows_t *rows = NULL;
	cr_assert_eq(keel_db_query(c, sql,
	                           KEEL_DB_ARGS(KEEL_DB_I64(2), KEEL_DB_I64(0)),
	                           &rows),
	             0, "%s", keel_db_errmsg(c));
	cr_assert_eq(keel_db_rows_next(rows), 1);
	cr_assert(keel_str_eq(keel_db_rows_text(rows, 1), KEEL_STR("a")));
	cr_assert_eq(keel_db_rows_next(rows), 1);
	cr_assert(keel_str_eq(keel_db_rows_text(rows, 1), KEEL_STR("b")));
	cr_assert_eq(keel_db_rows_next(rows), 0, "LIMIT 2 holds");
	keel_db_rows_close(rows);
	cr_assert_eq(keel_model_sql_delete(reg, &tag_model, &sql), 0);
	cr_assert_eq(
	        keel_db_exec(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(1)), &changed),
	        0);
	cr_assert_eq(changed, 1);
	cr_assert_eq(keel_model_sql_get(reg, &tag_model, &sql), 0);
	cr_assert_eq(keel_db_query(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(1)), &rows),
	             0);
	cr_assert_eq(keel_db_rows_next(rows), 0, "deleted row is gone");
	keel_db_rows_close(rows);
	keel_models_free(reg);
	keel_db_release(c);
	keel_db_close(db);
}
