/*
 * apps/conduit/comments.c - comments on an article: list (oldest first,
 * one query joining the authors), add, and delete (author only).
 */
#include <stddef.h>

#include "conduit.h"

#define COMMENT_SELECT                                                         \
	"SELECT c.id, c.created_at, c.updated_at, c.body, u.username, u.bio, " \
	"u.image, EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = "    \
	"$1 AND fo.followed_id = c.author_id) FROM comments c JOIN users u "   \
	"ON u.id = c.author_id "

/* Write the comment on the cursor's current row (COMMENT_SELECT order). */
static void comment_write(keel_json_t *w, keel_db_rows_t *rows)
{
	keel_json_begin_object(w);
	keel_json_key(w, "id");
	keel_json_write_int(w, keel_db_rows_int(rows, 0));
	keel_json_key(w, "createdAt");
	keel_json_write_str(w, keel_db_rows_text(rows, 1));
	keel_json_key(w, "updatedAt");
	keel_json_write_str(w, keel_db_rows_text(rows, 2));
	keel_json_key(w, "body");
	keel_json_write_str(w, keel_db_rows_text(rows, 3));
	keel_json_key(w, "author");
	keel_json_begin_object(w);
	conduit_write_profile_fields(
	        w, keel_db_rows_text(rows, 4), keel_db_rows_text(rows, 5),
	        keel_db_rows_is_null(rows, 5), keel_db_rows_text(rows, 6),
	        keel_db_rows_is_null(rows, 6), keel_db_rows_int(rows, 7) != 0);
	keel_json_end_object(w);
	keel_json_end_object(w);
}

/* The id of the article `slug`: 0 or KEEL_ENOENT / a db error. */
static int article_id(keel_db_conn_t *conn, keel_req_t *req, int64_t *id)
{
	return keel_db_query_int(
	        conn, "SELECT id FROM articles WHERE slug = $1",
	        KEEL_DB_ARGS(KEEL_DB_STR(keel_req_param(req, "slug"))), id);
}

static int lookup_failed(keel_req_t *req, keel_res_t *res, int rc)
{
	if (rc == KEEL_ENOENT)
		return keel_errors_write(req, res, 404, "article", "not found");
	return conduit_db_error(req, res, rc);
}

static int comments_list(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	int64_t id = 0;
	keel_db_rows_t *rows = NULL;
	int rc = article_id(conn, req, &id);
	if (rc == 0)
		rc = keel_db_query(
		        conn,
		        COMMENT_SELECT "WHERE c.article_id = $2 ORDER "
		                       "BY c.created_at, c.id",
		        KEEL_DB_ARGS(KEEL_DB_I64(conduit_user_id(req)),
		                     KEEL_DB_I64(id)),
		        &rows);
	if (rc < 0)
		return lookup_failed(req, res, rc);
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "comments");
	keel_json_begin_array(&w);
	while ((rc = keel_db_rows_next(rows)) == 1)
		comment_write(&w, rows);
	keel_db_rows_close(rows);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	keel_json_end_array(&w);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 200);
}

typedef struct comment_in {
	keel_str_t body;
} comment_in_t;

static const keel_field_t comment_fields[] = {
        {.name = "body",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .max_len = 10000,
         .offset = offsetof(comment_in_t, body)},
};
static const keel_body_spec_t comment_body = {
        KEEL_FIELDS(comment_fields), .struct_size = sizeof(comment_in_t),
        .wrapper = "comment", .name = "NewComment"};

/* Insert the comment, then read it back with its author in one query. */
static int comments_add(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	const comment_in_t *in = keel_req_valid_body(req);
	int64_t id = 0, user = conduit_user_id(req);
	char now[32];
	conduit_now(now);
	int rc = article_id(conn, req, &id);
	if (rc == 0)
		rc = keel_db_exec(
		        conn,
		        "INSERT INTO comments (article_id, author_id, "
		        "body, created_at, updated_at) VALUES ($1, $2, "
		        "$3, $4, $4)",
		        KEEL_DB_ARGS(KEEL_DB_I64(id), KEEL_DB_I64(user),
		                     KEEL_DB_STR(in->body), KEEL_DB_CSTR(now)),
		        NULL);
	keel_db_rows_t *rows = NULL;
	if (rc == 0)
		rc = keel_db_query_row(
		        conn, COMMENT_SELECT "WHERE c.id = $2",
		        KEEL_DB_ARGS(KEEL_DB_I64(user),
		                     KEEL_DB_I64(keel_db_last_id(conn))),
		        &rows);
	if (rc < 0)
		return lookup_failed(req, res, rc);
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "comment");
	comment_write(&w, rows);
	keel_db_rows_close(rows);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 201);
}

/* 404 unless the comment belongs to the article; 403 unless it is the
 * caller's. */
static int comments_delete(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	int64_t art = 0, cid = 0, author = 0;
	keel_req_param_int(req, "id", &cid);
	int rc = article_id(conn, req, &art);
	if (rc < 0)
		return lookup_failed(req, res, rc);
	rc = keel_db_query_int(conn,
	                       "SELECT author_id FROM comments WHERE id = $1 "
	                       "AND article_id = $2",
	                       KEEL_DB_ARGS(KEEL_DB_I64(cid), KEEL_DB_I64(art)),
	                       &author);
	if (rc == KEEL_ENOENT)
		return keel_errors_write(req, res, 404, "comment", "not found");
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	if (author != conduit_user_id(req))
		return keel_errors_write(req, res, 403, "comment",
		                         "is not yours");
	rc = keel_db_exec(conn, "DELETE FROM comments WHERE id = $1",
	                  KEEL_DB_ARGS(KEEL_DB_I64(cid)), NULL);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return 204;
}

static const char *const comments_tag[] = {"Comments", NULL};
static const keel_route_spec_t list_spec = {
        .summary = "Comments on an article, oldest first",
        .tags = comments_tag,
        .security = KEEL_SEC_OPTIONAL};
static const keel_route_spec_t add_spec = {.summary = "Comment on an article",
                                           .tags = comments_tag,
                                           .body = &comment_body,
                                           .security = KEEL_SEC_REQUIRED};
static const keel_route_spec_t delete_spec = {
        .summary = "Delete a comment (author only)",
        .tags = comments_tag,
        .security = KEEL_SEC_REQUIRED};

void conduit_comments_routes(keel_group_t *api)
{
	keel_route_t *r;
	r = KEEL_GET(api, "/articles/{slug}/comments", comments_list);
	keel_route_spec(r, &list_spec);
	keel_route_use(r, &conduit_auth_optional);
	conduit_cached(r);
	r = KEEL_POST(api, "/articles/{slug}/comments", comments_add);
	keel_route_spec(r, &add_spec);
	keel_route_use(r, &conduit_auth_required);
	r = KEEL_DELETE(api, "/articles/{slug}/comments/{id:int}",
	                comments_delete);
	keel_route_spec(r, &delete_spec);
	keel_route_use(r, &conduit_auth_required);
}
