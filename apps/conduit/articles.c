/*
 * apps/conduit/articles.c - articles: list (filters, pagination), feed,
 * read, create, update, delete, favorite and unfavorite.
 *
 * Lists cost a constant number of queries whatever the page size: one
 * count, one page query that joins the author and computes `favorited`
 * and `following` with EXISTS subqueries, and one batched IN query for
 * the page's tags.  `limit` defaults to 20 and is capped at
 * CONDUIT_PAGE_MAX; a negative limit or offset is 422.  "Most recent
 * first" is id order: ids grow with creation time, and the primary key
 * lets a page stop after `limit` rows instead of sorting them all.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conduit.h"

#define CONDUIT_PAGE_MAX 100
#define SLUG_MAX         128

/* ------------------------------------------------------------- the rows */

typedef struct tag_node {
	keel_str_t name;
	struct tag_node *next;
} tag_node_t;

typedef struct article {
	int64_t id, author_id, favorites;
	keel_str_t slug, title, description, body, created, updated;
	keel_str_t username, bio, image;
	bool bio_null, image_null, favorited, following;
	tag_node_t *tags, **tail;
} article_t;

/* Columns every article query selects; $1 is the viewer (0: anonymous). */
#define ARTICLE_SELECT(body)                                                   \
	"SELECT a.id, a.author_id, a.favorites_count, a.slug, a.title, "       \
	"a.description, " body ", a.created_at, a.updated_at, u.username, "    \
	"u.bio, u.image, EXISTS (SELECT 1 FROM favorites f WHERE "             \
	"f.user_id = $1 AND f.article_id = a.id), EXISTS (SELECT 1 FROM "      \
	"follows fo WHERE fo.follower_id = $1 AND fo.followed_id = "           \
	"a.author_id) FROM articles a JOIN users u ON u.id = a.author_id "

/* Filters of GET /api/articles; NULL parameters match everything. */
#define LIST_WHERE                                                             \
	"WHERE ($2 IS NULL OR a.id IN (SELECT at.article_id FROM "             \
	"article_tags at JOIN tags t ON t.id = at.tag_id WHERE t.name = $2)) " \
	"AND ($3 IS NULL OR u.username = $3) AND ($4 IS NULL OR a.id IN "      \
	"(SELECT f2.article_id FROM favorites f2 JOIN users fu ON fu.id = "    \
	"f2.user_id WHERE fu.username = $4)) "

#define FEED_WHERE                                                             \
	"WHERE a.author_id IN (SELECT followed_id FROM follows WHERE "         \
	"follower_id = $1) "

#define PAGE_TAIL(l, o) "ORDER BY a.id DESC LIMIT " l " OFFSET " o

static const char list_sql[] =
        ARTICLE_SELECT("''") LIST_WHERE PAGE_TAIL("$5", "$6");
static const char list_count_sql[] =
        "SELECT count(*) FROM articles a JOIN users u ON u.id = "
        "a.author_id " LIST_WHERE "AND ($1 = $1 OR 1 = 1)";
/* Without filters the generic count still joins users and evaluates every
 * optional condition per row (~70x slower on 10,000 articles). */
static const char all_count_sql[] = "SELECT count(*) FROM articles";
static const char feed_sql[] =
        ARTICLE_SELECT("''") FEED_WHERE PAGE_TAIL("$2", "$3");
static const char feed_count_sql[] =
        "SELECT count(*) FROM articles a " FEED_WHERE;
static const char one_sql[] = ARTICLE_SELECT("a.body") "WHERE a.slug = $2";

static keel_str_t dup_col(keel_arena_t *a, keel_db_rows_t *rows, int col)
{
	keel_str_t s = keel_db_rows_text(rows, col);
	char *p = keel_arena_strndup(a, s);
	return p ? (keel_str_t){p, s.len} : (keel_str_t){"", 0};
}

/* Copy the current row (ARTICLE_SELECT order) out of the cursor, whose
 * text dies at the next step. */
static void article_read(keel_arena_t *a, keel_db_rows_t *rows, article_t *o)
{
	*o = (article_t){.id = keel_db_rows_int(rows, 0),
	                 .author_id = keel_db_rows_int(rows, 1),
	                 .favorites = keel_db_rows_int(rows, 2),
	                 .slug = dup_col(a, rows, 3),
	                 .title = dup_col(a, rows, 4),
	                 .description = dup_col(a, rows, 5),
	                 .body = dup_col(a, rows, 6),
	                 .created = dup_col(a, rows, 7),
	                 .updated = dup_col(a, rows, 8),
	                 .username = dup_col(a, rows, 9),
	                 .bio = dup_col(a, rows, 10),
	                 .bio_null = keel_db_rows_is_null(rows, 10),
	                 .image = dup_col(a, rows, 11),
	                 .image_null = keel_db_rows_is_null(rows, 11),
	                 .favorited = keel_db_rows_int(rows, 12) != 0,
	                 .following = keel_db_rows_int(rows, 13) != 0};
	o->tail = &o->tags;
}

typedef struct tag_ctx {
	keel_arena_t *arena;
	article_t *arts;
} tag_ctx_t;

static int tag_row(const keel_prefetch_row_t *row, void *ctx)
{
	tag_ctx_t *c = ctx;
	article_t *art = &c->arts[row->parent];
	tag_node_t *n = keel_arena_calloc(c->arena, 1, sizeof(*n));
	if (!n)
		return KEEL_ENOMEM;
	n->name = dup_col(c->arena, row->rows, 1);
	*art->tail = n;
	art->tail = &n->next;
	return 0;
}

/* Tags of all `n` articles in one batched IN query, in given order. */
static int load_tags(keel_db_conn_t *conn, keel_arena_t *arena, article_t *arts,
                     size_t n)
{
	static const keel_prefetch_query_t q = {
	        .head = "SELECT at.article_id, t.name FROM article_tags at "
	                "JOIN tags t ON t.id = at.tag_id WHERE at.article_id",
	        .tail = "ORDER BY at.article_id, at.position",
	        .key_col = 0};
	if (n == 0)
		return 0;
	int64_t *ids = keel_arena_calloc(arena, n, sizeof(*ids));
	if (!ids)
		return KEEL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		ids[i] = arts[i].id;
	tag_ctx_t ctx = {arena, arts};
	return keel_model_prefetch_sql(conn, &q, ids, n, tag_row, &ctx);
}

static void article_write(keel_json_t *w, const article_t *a, bool body)
{
	keel_json_begin_object(w);
	keel_json_key(w, "slug");
	keel_json_write_str(w, a->slug);
	keel_json_key(w, "title");
	keel_json_write_str(w, a->title);
	keel_json_key(w, "description");
	keel_json_write_str(w, a->description);
	if (body) {
		keel_json_key(w, "body");
		keel_json_write_str(w, a->body);
	}
	keel_json_key(w, "tagList");
	keel_json_begin_array(w);
	for (const tag_node_t *t = a->tags; t; t = t->next)
		keel_json_write_str(w, t->name);
	keel_json_end_array(w);
	keel_json_key(w, "createdAt");
	keel_json_write_str(w, a->created);
	keel_json_key(w, "updatedAt");
	keel_json_write_str(w, a->updated);
	keel_json_key(w, "favorited");
	keel_json_write_bool(w, a->favorited);
	keel_json_key(w, "favoritesCount");
	keel_json_write_int(w, a->favorites);
	keel_json_key(w, "author");
	keel_json_begin_object(w);
	conduit_write_profile_fields(w, a->username, a->bio, a->bio_null,
	                             a->image, a->image_null, a->following);
	keel_json_end_object(w);
	keel_json_end_object(w);
}

/* ------------------------------------------------------------ one article */

/* The article `slug` as `viewer` sees it, tags included: 0, KEEL_ENOENT. */
static int article_load(keel_req_t *req, keel_db_conn_t *conn, keel_str_t slug,
                        article_t *out)
{
	keel_db_rows_t *rows;
	int64_t viewer = conduit_user_id(req);
	int rc = keel_db_query_row(
	        conn, one_sql,
	        KEEL_DB_ARGS(KEEL_DB_I64(viewer), KEEL_DB_STR(slug)), &rows);
	if (rc < 0)
		return rc;
	article_read(keel_req_arena(req), rows, out);
	keel_db_rows_close(rows);
	return load_tags(conn, keel_req_arena(req), out, 1);
}

static int article_respond(keel_res_t *res, const article_t *a, int status)
{
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "article");
	article_write(&w, a, true);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, status);
}

static int not_found(keel_req_t *req, keel_res_t *res)
{
	return keel_errors_write(req, res, 404, "article", "not found");
}

/* Load `slug` and answer with it, or the 404 / 500 that applies. */
static int article_answer(keel_req_t *req, keel_res_t *res,
                          keel_db_conn_t *conn, keel_str_t slug, int status)
{
	article_t a;
	int rc = article_load(req, conn, slug, &a);
	if (rc == KEEL_ENOENT)
		return not_found(req, res);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return article_respond(res, &a, status);
}

static int article_get(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	return article_answer(req, res, conn, keel_req_param(req, "slug"), 200);
}

/* ------------------------------------------------------------------ lists */

typedef struct list_params {
	keel_str_t tag, author, favorited;
	keel_presence_t has_tag, has_author, has_favorited;
	int64_t limit, offset;
} list_params_t;

#define QUERY_STR(n, m)                                                        \
	{                                                                      \
		KEEL_IN_QUERY,                                                 \
		{                                                              \
			.name = n, .type = KEEL_T_STRING, .max_len = 256,      \
			.offset = offsetof(list_params_t, m),                  \
			.presence = KEEL_PRESENCE(list_params_t, has_##m)      \
		}                                                              \
	}
#define QUERY_PAGE                                                             \
	{KEEL_IN_QUERY,                                                        \
	 {.name = "limit",                                                     \
	  .type = KEEL_T_INT,                                                  \
	  KEEL_MIN(0),                                                         \
	  .def = "20",                                                         \
	  .description = "page size, capped at 100",                           \
	  .offset = offsetof(list_params_t, limit)}},                          \
	{                                                                      \
		KEEL_IN_QUERY,                                                 \
		{                                                              \
			.name = "offset", .type = KEEL_T_INT, KEEL_MIN(0),     \
			.def = "0", .offset = offsetof(list_params_t, offset)  \
		}                                                              \
	}

static const keel_param_t list_params[] = {
        QUERY_STR("tag", tag), QUERY_STR("author", author),
        QUERY_STR("favorited", favorited), QUERY_PAGE};
static const keel_param_t feed_params[] = {QUERY_PAGE};

static const char *const articles_tag[] = {"Articles", NULL};
static const char *const favorites_tag[] = {"Favorites", NULL};

static const keel_route_spec_t list_spec = {
        .summary = "List articles, most recent first",
        .tags = articles_tag,
        .params = list_params,
        .n_params = KEEL_COUNTOF(list_params),
        .params_size = sizeof(list_params_t),
        .security = KEEL_SEC_OPTIONAL};
static const keel_route_spec_t feed_spec = {
        .summary = "Articles by followed authors, most recent first",
        .tags = articles_tag,
        .params = feed_params,
        .n_params = KEEL_COUNTOF(feed_params),
        .params_size = sizeof(list_params_t),
        .security = KEEL_SEC_REQUIRED};

static keel_db_value_t opt_str(keel_str_t s, keel_presence_t p)
{
	return p == KEEL_SET ? KEEL_DB_STR(s) : KEEL_DB_NULLV;
}

/* Read up to `limit` rows of an open page cursor into an arena array. */
static int page_read(keel_arena_t *a, keel_db_rows_t *rows, int64_t limit,
                     article_t **out, size_t *n)
{
	*out = keel_arena_calloc(a, (size_t)limit + 1, sizeof(article_t));
	*n = 0;
	if (!*out)
		return KEEL_ENOMEM;
	int rc;
	while ((rc = keel_db_rows_next(rows)) == 1 && (int64_t)*n < limit)
		article_read(a, rows, &(*out)[(*n)++]);
	return rc < 0 ? rc : 0;
}

static int page_respond(keel_res_t *res, const article_t *arts, size_t n,
                        int64_t total)
{
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "articles");
	keel_json_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		article_write(&w, &arts[i], false);
	keel_json_end_array(&w);
	keel_json_key(&w, "articlesCount");
	keel_json_write_int(&w, total);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 200);
}

typedef struct page_query {
	const char *sql, *count_sql;
	const keel_db_value_t *args; /* page args; count uses the first */
	size_t nargs, ncount;
	int64_t limit;
} page_query_t;

/* Count, page and tags: three queries whatever the page size. */
static int page_run(keel_req_t *req, keel_res_t *res, const page_query_t *q)
{
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	int64_t total = 0;
	int rc = keel_db_query_int(conn, q->count_sql, q->args, q->ncount,
	                           &total);
	keel_db_rows_t *rows = NULL;
	article_t *arts = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = keel_db_query(conn, q->sql, q->args, q->nargs, &rows);
	if (rc == 0)
		rc = page_read(keel_req_arena(req), rows, q->limit, &arts, &n);
	keel_db_rows_close(rows);
	if (rc == 0)
		rc = load_tags(conn, keel_req_arena(req), arts, n);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return page_respond(res, arts, n, total);
}

static int64_t page_limit(int64_t limit)
{
	return limit > CONDUIT_PAGE_MAX ? CONDUIT_PAGE_MAX : limit;
}

static int articles_list(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const list_params_t *p = keel_req_valid_params(req);
	int64_t limit = page_limit(p->limit);
	keel_db_value_t args[] = {KEEL_DB_I64(conduit_user_id(req)),
	                          opt_str(p->tag, p->has_tag),
	                          opt_str(p->author, p->has_author),
	                          opt_str(p->favorited, p->has_favorited),
	                          KEEL_DB_I64(limit),
	                          KEEL_DB_I64(p->offset)};
	bool filtered = p->has_tag || p->has_author || p->has_favorited;
	page_query_t q = {list_sql,
	                  filtered ? list_count_sql : all_count_sql,
	                  args,
	                  6,
	                  filtered ? 4 : 0,
	                  limit};
	return page_run(req, res, &q);
}

static int articles_feed(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const list_params_t *p = keel_req_valid_params(req);
	int64_t limit = page_limit(p->limit);
	keel_db_value_t args[] = {KEEL_DB_I64(conduit_user_id(req)),
	                          KEEL_DB_I64(limit), KEEL_DB_I64(p->offset)};
	page_query_t q = {feed_sql, feed_count_sql, args, 3, 1, limit};
	return page_run(req, res, &q);
}

/* ------------------------------------------------------------------ slugs */

/* Lowercase ASCII letters and digits of `title`; every other run becomes
 * one '-', none at the ends; "article" when nothing is left.  Non-ASCII
 * is dropped, not transliterated, so slugs are always URL-safe. */
static void slugify(keel_str_t title, char out[SLUG_MAX])
{
	size_t n = 0;
	bool dash = false;
	for (size_t i = 0; i < title.len && n < 80; i++) {
		unsigned char c = (unsigned char)title.ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0)
				out[n++] = '-';
			out[n++] = (char)c;
			dash = false;
		} else {
			dash = true;
		}
	}
	if (n == 0) {
		snprintf(out, SLUG_MAX, "article");
		return;
	}
	out[n] = '\0';
}

/* The numeric suffix of "base-N" (N >= 2), or 0 for anything else. */
static int64_t slug_suffix(keel_str_t slug, size_t base_len)
{
	int64_t v = 0;
	if (slug.len <= base_len + 1 || slug.ptr[base_len] != '-')
		return 0;
	keel_str_t tail = keel_str_sub(slug, base_len + 1, slug.len);
	if (tail.ptr[0] == '0' || keel_str_to_i64(tail, &v) < 0 || v < 0)
		return 0;
	return v;
}

/*
 * A free slug for `title` (the article `self` may keep its own): the bare
 * slug when free, else "<slug>-<N>" with N one past the highest in use.
 * Deterministic, and race-free inside the caller's write transaction.
 */
static int slug_pick(keel_db_conn_t *conn, keel_str_t title, int64_t self,
                     char out[SLUG_MAX])
{
	char base[SLUG_MAX], lo[SLUG_MAX], hi[SLUG_MAX];
	slugify(title, base);
	int64_t owner = 0, max = 1;
	int rc = keel_db_query_int(conn,
	                           "SELECT id FROM articles WHERE slug = $1",
	                           KEEL_DB_ARGS(KEEL_DB_CSTR(base)), &owner);
	snprintf(out, SLUG_MAX, "%.80s", base);
	if (rc == KEEL_ENOENT || (rc == 0 && owner == self))
		return 0;
	if (rc < 0)
		return rc;
	/* "base-" < "base-N" < "base.": a range the slug index serves. */
	snprintf(lo, sizeof(lo), "%.80s-", base);
	snprintf(hi, sizeof(hi), "%.80s.", base);
	keel_db_rows_t *rows;
	rc = keel_db_query(conn,
	                   "SELECT slug FROM articles WHERE slug > $1 AND "
	                   "slug < $2",
	                   KEEL_DB_ARGS(KEEL_DB_CSTR(lo), KEEL_DB_CSTR(hi)),
	                   &rows);
	if (rc < 0)
		return rc;
	size_t blen = strlen(base);
	while ((rc = keel_db_rows_next(rows)) == 1) {
		int64_t v = slug_suffix(keel_db_rows_text(rows, 0), blen);
		max = v > max ? v : max;
	}
	keel_db_rows_close(rows);
	snprintf(out, SLUG_MAX, "%.80s-%lld", base, (long long)max + 1);
	return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------------- writes */

typedef struct article_in {
	keel_str_t title, description, body;
	keel_presence_t has_title, has_description, has_body, has_tags;
	KEEL_ARRAY(keel_str_t) tags;
} article_in_t;

static const keel_field_t tag_item = {
        .type = KEEL_T_STRING, .not_blank = true, .min_len = 1, .max_len = 64};

#define ARTICLE_FIELDS(req)                                                    \
	{.name = "title",                                                      \
	 .type = KEEL_T_STRING,                                                \
	 .required = req,                                                      \
	 .not_blank = true,                                                    \
	 .max_len = 255,                                                       \
	 .offset = offsetof(article_in_t, title),                              \
	 .presence = KEEL_PRESENCE(article_in_t, has_title)},                  \
	        {.name = "description",                                        \
	         .type = KEEL_T_STRING,                                        \
	         .required = req,                                              \
	         .not_blank = true,                                            \
	         .max_len = 1000,                                              \
	         .offset = offsetof(article_in_t, description),                \
	         .presence = KEEL_PRESENCE(article_in_t, has_description)},    \
	        {.name = "body",                                               \
	         .type = KEEL_T_STRING,                                        \
	         .required = req,                                              \
	         .not_blank = true,                                            \
	         .max_len = 100000,                                            \
	         .offset = offsetof(article_in_t, body),                       \
	         .presence = KEEL_PRESENCE(article_in_t, has_body)},           \
	{                                                                      \
		.name = "tagList", .type = KEEL_T_ARRAY, .items = &tag_item,   \
		.max_len = 20, .offset = offsetof(article_in_t, tags),         \
		.presence = KEEL_PRESENCE(article_in_t, has_tags)              \
	}

static const keel_field_t create_fields[] = {ARTICLE_FIELDS(true)};
static const keel_field_t update_fields[] = {ARTICLE_FIELDS(false)};

static const keel_body_spec_t create_body = {
        KEEL_FIELDS(create_fields), .struct_size = sizeof(article_in_t),
        .wrapper = "article", .name = "NewArticle"};
static const keel_body_spec_t update_body = {
        KEEL_FIELDS(update_fields), .struct_size = sizeof(article_in_t),
        .wrapper = "article", .name = "UpdateArticle"};

static const keel_route_spec_t create_spec = {.summary = "Create an article",
                                              .tags = articles_tag,
                                              .body = &create_body,
                                              .security = KEEL_SEC_REQUIRED};
static const keel_route_spec_t update_spec = {
        .summary = "Update an article (author only)",
        .tags = articles_tag,
        .body = &update_body,
        .security = KEEL_SEC_REQUIRED};

/* A write and the article it leaves, read back inside the transaction on
 * the connection that wrote it (its pages are warm there). */
typedef struct write_ctx {
	keel_req_t *req;
	const article_in_t *in;
	int64_t user, id;
	keel_str_t old_slug;
	char slug[SLUG_MAX];
	char now[32];
	article_t out;
} write_ctx_t;

static bool tag_seen(const article_in_t *in, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (keel_str_eq(in->tags.items[j], in->tags.items[i]))
			return true;
	return false;
}

/* The id of tag `name`, made when it is new. */
static int tag_id(keel_db_conn_t *conn, keel_str_t name, int64_t *id)
{
	int rc = keel_db_query_int(conn, "SELECT id FROM tags WHERE name = $1",
	                           KEEL_DB_ARGS(KEEL_DB_STR(name)), id);
	if (rc != KEEL_ENOENT)
		return rc;
	rc = keel_db_exec(conn, "INSERT INTO tags (name) VALUES ($1)",
	                  KEEL_DB_ARGS(KEEL_DB_STR(name)), NULL);
	*id = keel_db_last_id(conn);
	return rc;
}

/* Set the article's tags to the list, in the given order (repeats
 * dropped), replacing any it had: a couple of statements per tag, all in
 * the caller's transaction. */
static int tags_store(keel_db_conn_t *conn, int64_t id, const article_in_t *in,
                      bool replace)
{
	int rc = 0;
	if (replace)
		rc = keel_db_exec(
		        conn, "DELETE FROM article_tags WHERE article_id = $1",
		        KEEL_DB_ARGS(KEEL_DB_I64(id)), NULL);
	for (size_t i = 0; rc == 0 && i < in->tags.count; i++) {
		keel_str_t t = in->tags.items[i];
		int64_t tag = 0;
		if (tag_seen(in, i))
			continue;
		rc = tag_id(conn, t, &tag);
		if (rc == 0)
			rc = keel_db_exec(
			        conn,
			        "INSERT INTO article_tags (article_id, "
			        "tag_id, position) VALUES ($1, $2, $3)",
			        KEEL_DB_ARGS(KEEL_DB_I64(id), KEEL_DB_I64(tag),
			                     KEEL_DB_I64((int64_t)i)),
			        NULL);
	}
	return rc;
}

static int create_tx(keel_db_conn_t *conn, void *arg)
{
	write_ctx_t *c = arg;
	int rc = slug_pick(conn, c->in->title, 0, c->slug);
	if (rc == 0)
		rc = keel_db_exec(
		        conn,
		        "INSERT INTO articles (slug, title, description, "
		        "body, author_id, created_at, updated_at) VALUES "
		        "($1, $2, $3, $4, $5, $6, $6)",
		        KEEL_DB_ARGS(KEEL_DB_CSTR(c->slug),
		                     KEEL_DB_STR(c->in->title),
		                     KEEL_DB_STR(c->in->description),
		                     KEEL_DB_STR(c->in->body),
		                     KEEL_DB_I64(c->user),
		                     KEEL_DB_CSTR(c->now)),
		        NULL);
	if (rc == 0)
		rc = tags_store(conn, keel_db_last_id(conn), c->in, false);
	if (rc == 0)
		rc = article_load(c->req, conn, keel_str_from_cstr(c->slug),
		                  &c->out);
	return rc;
}

static int article_create(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	write_ctx_t c = {.req = req,
	                 .in = keel_req_valid_body(req),
	                 .user = conduit_user_id(req)};
	conduit_now(c.now);
	int rc = keel_db_tx(conn, create_tx, &c);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return article_respond(res, &c.out, 201);
}

/* Owner check shared by update and delete: the article's id in *id, or
 * the status to answer (404, 403) / a negative db error. */
static int owned_article(keel_db_conn_t *conn, keel_str_t slug, int64_t user,
                         int64_t *id)
{
	keel_db_rows_t *rows;
	int rc = keel_db_query_row(conn,
	                           "SELECT id, author_id FROM articles WHERE "
	                           "slug = $1",
	                           KEEL_DB_ARGS(KEEL_DB_STR(slug)), &rows);
	if (rc == KEEL_ENOENT)
		return 404;
	if (rc < 0)
		return rc;
	*id = keel_db_rows_int(rows, 0);
	int64_t author = keel_db_rows_int(rows, 1);
	keel_db_rows_close(rows);
	return author == user ? 0 : 403;
}

static int ownership_answer(keel_req_t *req, keel_res_t *res, int rc)
{
	if (rc == 404)
		return not_found(req, res);
	if (rc == 403)
		return keel_errors_write(req, res, 403, "article",
		                         "is not yours");
	return conduit_db_error(req, res, rc);
}

static int update_tx(keel_db_conn_t *conn, void *arg)
{
	write_ctx_t *c = arg;
	const article_in_t *in = c->in;
	int rc = 0;
	snprintf(c->slug, SLUG_MAX, "%.*s", KEEL_STR_FMT(c->old_slug));
	if (in->has_title == KEEL_SET)
		rc = slug_pick(conn, in->title, c->id, c->slug);
	if (rc == 0)
		rc = keel_db_exec(
		        conn,
		        "UPDATE articles SET slug = $1, title = coalesce($2, "
		        "title), description = coalesce($3, description), body "
		        "= coalesce($4, body), updated_at = $5 WHERE id = $6",
		        KEEL_DB_ARGS(
		                KEEL_DB_CSTR(c->slug),
		                opt_str(in->title, in->has_title),
		                opt_str(in->description, in->has_description),
		                opt_str(in->body, in->has_body),
		                KEEL_DB_CSTR(c->now), KEEL_DB_I64(c->id)),
		        NULL);
	if (rc == 0 && in->has_tags == KEEL_SET)
		rc = tags_store(conn, c->id, in, true);
	if (rc == 0)
		rc = article_load(c->req, conn, keel_str_from_cstr(c->slug),
		                  &c->out);
	return rc;
}

static int article_update(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	write_ctx_t c = {.req = req,
	                 .in = keel_req_valid_body(req),
	                 .user = conduit_user_id(req),
	                 .old_slug = keel_req_param(req, "slug")};
	int rc = owned_article(conn, c.old_slug, c.user, &c.id);
	if (rc != 0)
		return ownership_answer(req, res, rc);
	conduit_now(c.now);
	rc = keel_db_tx(conn, update_tx, &c);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return article_respond(res, &c.out, 200);
}

static int article_delete(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	int64_t id = 0;
	int rc = owned_article(conn, keel_req_param(req, "slug"),
	                       conduit_user_id(req), &id);
	if (rc != 0)
		return ownership_answer(req, res, rc);
	rc = keel_db_exec(conn, "DELETE FROM articles WHERE id = $1",
	                  KEEL_DB_ARGS(KEEL_DB_I64(id)), NULL);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return 204;
}

/* -------------------------------------------------------------- favorites */

typedef struct fav_ctx {
	keel_req_t *req;
	keel_str_t slug;
	int64_t user;
	bool add;
	char now[32];
	article_t out; /* as the transaction left it */
} fav_ctx_t;

/* The favorites row and the counter change together: the counter moves
 * only when a row was really inserted or deleted, so concurrent and
 * repeated requests keep favorites_count equal to the row count. */
static int fav_tx(keel_db_conn_t *conn, void *arg)
{
	fav_ctx_t *c = arg;
	int64_t id = 0, changed = 0;
	int rc = keel_db_query_int(conn,
	                           "SELECT id FROM articles WHERE slug = $1",
	                           KEEL_DB_ARGS(KEEL_DB_STR(c->slug)), &id);
	if (rc == 0 && c->add)
		rc = keel_db_exec(conn,
		                  "INSERT INTO favorites (user_id, article_id, "
		                  "created_at) VALUES ($1, $2, $3) ON CONFLICT "
		                  "DO NOTHING",
		                  KEEL_DB_ARGS(KEEL_DB_I64(c->user),
		                               KEEL_DB_I64(id),
		                               KEEL_DB_CSTR(c->now)),
		                  &changed);
	else if (rc == 0)
		rc = keel_db_exec(
		        conn,
		        "DELETE FROM favorites WHERE user_id = $1 AND "
		        "article_id = $2",
		        KEEL_DB_ARGS(KEEL_DB_I64(c->user), KEEL_DB_I64(id)),
		        &changed);
	if (rc == 0 && changed)
		rc = keel_db_exec(conn,
		                  "UPDATE articles SET favorites_count = "
		                  "favorites_count + $1 WHERE id = $2",
		                  KEEL_DB_ARGS(KEEL_DB_I64(c->add ? 1 : -1),
		                               KEEL_DB_I64(id)),
		                  NULL);
	if (rc == 0)
		rc = article_load(c->req, conn, c->slug, &c->out);
	return rc;
}

static int favorite_set(keel_req_t *req, keel_res_t *res, bool add)
{
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	fav_ctx_t c = {.req = req,
	               .slug = keel_req_param(req, "slug"),
	               .user = conduit_user_id(req),
	               .add = add};
	conduit_now(c.now);
	int rc = keel_db_tx(conn, fav_tx, &c);
	if (rc == KEEL_ENOENT)
		return not_found(req, res);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return article_respond(res, &c.out, 200);
}

static int article_favorite(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	return favorite_set(req, res, true);
}

static int article_unfavorite(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	return favorite_set(req, res, false);
}

/* --------------------------------------------------------------- routes */

static const keel_route_spec_t get_spec = {.summary =
                                                   "One article, body included",
                                           .tags = articles_tag,
                                           .security = KEEL_SEC_OPTIONAL};
static const keel_route_spec_t delete_spec = {
        .summary = "Delete an article (author only)",
        .tags = articles_tag,
        .security = KEEL_SEC_REQUIRED};
static const keel_route_spec_t fav_spec = {.summary = "Favorite an article",
                                           .tags = favorites_tag,
                                           .security = KEEL_SEC_REQUIRED};
static const keel_route_spec_t unfav_spec = {.summary = "Unfavorite an article",
                                             .tags = favorites_tag,
                                             .security = KEEL_SEC_REQUIRED};

static void add(keel_route_t *r, const keel_route_spec_t *spec, bool required)
{
	keel_route_spec(r, spec);
	if (required)
		keel_route_use(r, &conduit_auth_required);
	else
		keel_route_use(r, &conduit_auth_optional);
}

/* A public read: optional token, anonymous answers cached. */
static void add_read(keel_route_t *r, const keel_route_spec_t *spec)
{
	add(r, spec, false);
	conduit_cached(r);
}

void conduit_articles_routes(keel_group_t *api)
{
	add_read(KEEL_GET(api, "/articles", articles_list), &list_spec);
	add(KEEL_GET(api, "/articles/feed", articles_feed), &feed_spec, true);
	add_read(KEEL_GET(api, "/articles/{slug}", article_get), &get_spec);
	add(KEEL_POST(api, "/articles", article_create), &create_spec, true);
	add(KEEL_PUT(api, "/articles/{slug}", article_update), &update_spec,
	    true);
	add(KEEL_DELETE(api, "/articles/{slug}", article_delete), &delete_spec,
	    true);
	add(KEEL_POST(api, "/articles/{slug}/favorite", article_favorite),
	    &fav_spec, true);
	add(KEEL_DELETE(api, "/articles/{slug}/favorite", article_unfavorite),
	    &unfav_spec, true);
}
