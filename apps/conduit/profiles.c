/*
 * apps/conduit/profiles.c - public profiles and following
 * (GET /api/profiles/{username}, POST and DELETE .../follow).  `following`
 * reflects the caller (anonymous: false); follow and unfollow are
 * idempotent; following yourself is refused with 422.
 */
#include "conduit.h"

static const char *const profile_tags[] = {"Profile", NULL};

static const keel_route_spec_t get_spec = {
        .summary = "A user's profile",
        .tags = profile_tags,
        .security = KEEL_SEC_OPTIONAL,
};

static const keel_route_spec_t follow_spec = {
        .summary = "Follow a user",
        .tags = profile_tags,
        .security = KEEL_SEC_REQUIRED,
};

static const keel_route_spec_t unfollow_spec = {
        .summary = "Stop following a user",
        .tags = profile_tags,
        .security = KEEL_SEC_REQUIRED,
};

/* One query: the user and whether `viewer` (0: nobody) follows them. */
static int profile_respond(keel_req_t *req, keel_res_t *res,
                           keel_db_conn_t *conn, int64_t viewer)
{
	keel_db_rows_t *rows;
	int rc = keel_db_query_row(
	        conn,
	        "SELECT u.username, u.bio, u.image, EXISTS (SELECT 1 FROM "
	        "follows f WHERE f.follower_id = $2 AND f.followed_id = u.id) "
	        "FROM users u WHERE u.username = $1",
	        KEEL_DB_ARGS(KEEL_DB_STR(keel_req_param(req, "username")),
	                     KEEL_DB_I64(viewer)),
	        &rows);
	if (rc == KEEL_ENOENT)
		return keel_errors_write(req, res, 404, "profile", "not found");
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "profile");
	keel_json_begin_object(&w);
	conduit_write_profile_fields(
	        &w, keel_db_rows_text(rows, 0), keel_db_rows_text(rows, 1),
	        keel_db_rows_is_null(rows, 1), keel_db_rows_text(rows, 2),
	        keel_db_rows_is_null(rows, 2), keel_db_rows_int(rows, 3) != 0);
	keel_json_end_object(&w);
	keel_json_end_object(&w);
	keel_db_rows_close(rows);
	return keel_json_respond(&w, res, 200);
}

static int profiles_get(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	return profile_respond(req, res, conn, conduit_user_id(req));
}

/* The id of the user named in the path: 0, KEEL_ENOENT or a db error. */
static int target_id(keel_req_t *req, keel_db_conn_t *conn, int64_t *id)
{
	return keel_db_query_int(
	        conn, "SELECT id FROM users WHERE username = $1",
	        KEEL_DB_ARGS(KEEL_DB_STR(keel_req_param(req, "username"))), id);
}

/*
 * Follow (`on`) or unfollow the user in the path.  Both are idempotent:
 * the insert ignores an existing row, the delete a missing one.
 */
static int follow_set(keel_req_t *req, keel_res_t *res, bool on)
{
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	int64_t me = conduit_user_id(req), them = 0;
	int rc = target_id(req, conn, &them);
	if (rc == KEEL_ENOENT)
		return keel_errors_write(req, res, 404, "profile", "not found");
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	if (on && them == me)
		return keel_errors_write(req, res, 422, "profile",
		                         "cannot follow yourself");
	char now[32];
	conduit_now(now);
	if (on)
		rc = keel_db_exec(
		        conn,
		        "INSERT INTO follows (follower_id, followed_id, "
		        "created_at) VALUES ($1, $2, $3) "
		        "ON CONFLICT DO NOTHING",
		        KEEL_DB_ARGS(KEEL_DB_I64(me), KEEL_DB_I64(them),
		                     KEEL_DB_CSTR(now)),
		        NULL);
	else
		rc = keel_db_exec(
		        conn,
		        "DELETE FROM follows WHERE follower_id = $1 "
		        "AND followed_id = $2",
		        KEEL_DB_ARGS(KEEL_DB_I64(me), KEEL_DB_I64(them)), NULL);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return profile_respond(req, res, conn, me);
}

static int profiles_follow(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	return follow_set(req, res, true);
}

static int profiles_unfollow(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	return follow_set(req, res, false);
}

void conduit_profiles_routes(keel_group_t *api)
{
	keel_route_t *r = KEEL_GET(api, "/profiles/{username}", profiles_get);
	keel_route_spec(r, &get_spec);
	keel_route_use(r, &conduit_auth_optional);
	conduit_cached(r);
	r = KEEL_POST(api, "/profiles/{username}/follow", profiles_follow);
	keel_route_spec(r, &follow_spec);
	keel_route_use(r, &conduit_auth_required);
	r = KEEL_DELETE(api, "/profiles/{username}/follow", profiles_unfollow);
	keel_route_spec(r, &unfollow_spec);
	keel_route_use(r, &conduit_auth_required);
}
