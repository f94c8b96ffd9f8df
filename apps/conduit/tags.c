/*
 * apps/conduit/tags.c - GET /api/tags: every tag used by at least one
 * article, alphabetical, in one query.
 */
#include "conduit.h"

static int tags_list(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	keel_db_rows_t *rows;
	int rc = keel_db_query(conn,
	                       "SELECT t.name FROM tags t WHERE EXISTS (SELECT "
	                       "1 FROM article_tags at WHERE at.tag_id = t.id) "
	                       "ORDER BY t.name",
	                       KEEL_DB_NOARGS, &rows);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "tags");
	keel_json_begin_array(&w);
	while ((rc = keel_db_rows_next(rows)) == 1)
		keel_json_write_str(&w, keel_db_rows_text(rows, 0));
	keel_db_rows_close(rows);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	keel_json_end_array(&w);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 200);
}

static const char *const tags_tag[] = {"Tags", NULL};
static const keel_route_spec_t tags_spec = {
        .summary = "Tags in use, alphabetical", .tags = tags_tag};

void conduit_tags_routes(keel_group_t *api)
{
	keel_route_t *r = KEEL_GET(api, "/tags", tags_list);
	keel_route_spec(r, &tags_spec);
	conduit_cached(r);
}
