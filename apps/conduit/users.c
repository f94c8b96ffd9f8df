/*
 * apps/conduit/users.c - registration, login and the current user
 * (POST /api/users, POST /api/users/login, GET and PUT /api/user).  A user
 * answer is {"user": {email, token, username, bio, image}} with a fresh
 * token.  Wrong password and unknown email look alike (same 401, same
 * time); taken usernames or emails are 409 under the clashing field.
 */
#include <stddef.h>
#include <stdio.h>

#include "conduit.h"

/* Set by main() when login/registration attempts are rate limited. */
keel_ratelimit_login_t *conduit_login_limiter;

#define TOKEN_MAX 1024

typedef struct register_in {
	keel_str_t username, email, password;
} register_in_t;

static const keel_field_t register_fields[] = {
        {.name = "username",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .max_len = 64,
         .offset = offsetof(register_in_t, username)},
        {.name = "email",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .max_len = 254,
         .format = KEEL_FMT_EMAIL,
         .offset = offsetof(register_in_t, email)},
        {.name = "password",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .min_len = 8,
         .max_len = 256,
         .offset = offsetof(register_in_t, password)},
};

static const keel_body_spec_t register_body = {
        KEEL_FIELDS(register_fields),
        .struct_size = sizeof(register_in_t),
        .wrapper = "user",
        .name = "NewUser",
};

static const char *const users_tags[] = {"User and Authentication", NULL};

static const keel_route_spec_t register_spec = {
        .summary = "Register a user",
        .tags = users_tags,
        .body = &register_body,
};

typedef struct login_in {
	keel_str_t email, password;
} login_in_t;

static const keel_field_t login_fields[] = {
        {.name = "email",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .max_len = 254,
         .offset = offsetof(login_in_t, email)},
        {.name = "password",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .max_len = 256,
         .offset = offsetof(login_in_t, password)},
};

static const keel_body_spec_t login_body = {
        KEEL_FIELDS(login_fields),
        .struct_size = sizeof(login_in_t),
        .wrapper = "user",
        .name = "LoginUser",
};

static const keel_route_spec_t login_spec = {
        .summary = "Log in",
        .tags = users_tags,
        .body = &login_body,
};

static const keel_route_spec_t current_spec = {
        .summary = "The current user",
        .tags = users_tags,
        .security = KEEL_SEC_REQUIRED,
};

typedef struct update_in {
	keel_str_t email, username, password, bio, image;
	keel_presence_t has_email, has_username, has_password, has_bio,
	        has_image;
} update_in_t;

static const keel_field_t update_fields[] = {
        {.name = "email",
         .type = KEEL_T_STRING,
         .not_blank = true,
         .max_len = 254,
         .format = KEEL_FMT_EMAIL,
         .offset = offsetof(update_in_t, email),
         .presence = KEEL_PRESENCE(update_in_t, has_email)},
        {.name = "username",
         .type = KEEL_T_STRING,
         .not_blank = true,
         .max_len = 64,
         .offset = offsetof(update_in_t, username),
         .presence = KEEL_PRESENCE(update_in_t, has_username)},
        {.name = "password",
         .type = KEEL_T_STRING,
         .not_blank = true,
         .min_len = 8,
         .max_len = 256,
         .offset = offsetof(update_in_t, password),
         .presence = KEEL_PRESENCE(update_in_t, has_password)},
        {.name = "bio",
         .type = KEEL_T_STRING,
         .nullable = true,
         .max_len = 4096,
         .offset = offsetof(update_in_t, bio),
         .presence = KEEL_PRESENCE(update_in_t, has_bio)},
        {.name = "image",
         .type = KEEL_T_STRING,
         .nullable = true,
         .max_len = 2048,
         .offset = offsetof(update_in_t, image),
         .presence = KEEL_PRESENCE(update_in_t, has_image)},
};

static const keel_body_spec_t update_body = {
        KEEL_FIELDS(update_fields),
        .struct_size = sizeof(update_in_t),
        .wrapper = "user",
        .name = "UpdateUser",
};

static const keel_route_spec_t update_spec = {
        .summary = "Update the current user",
        .tags = users_tags,
        .body = &update_body,
        .security = KEEL_SEC_REQUIRED,
};

#define USER_COLS "id, email, username, bio, image, password_hash"

/* Write {"user": {...}} from a row of USER_COLS, with a new token. */
static int user_respond(keel_req_t *req, keel_res_t *res, keel_db_rows_t *rows,
                        int status)
{
	char token[TOKEN_MAX];
	int rc = conduit_token(keel_db_rows_int(rows, 0), token, sizeof(token));
	if (rc < 0) {
		keel_db_rows_close(rows);
		return conduit_db_error(req, res, rc);
	}
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "user");
	keel_json_begin_object(&w);
	keel_json_key(&w, "email");
	keel_json_write_str(&w, keel_db_rows_text(rows, 1));
	keel_json_key(&w, "token");
	keel_json_write_cstr(&w, token);
	keel_json_key(&w, "username");
	keel_json_write_str(&w, keel_db_rows_text(rows, 2));
	for (int col = 3; col <= 4; col++) {
		keel_json_key(&w, col == 3 ? "bio" : "image");
		if (keel_db_rows_is_null(rows, col))
			keel_json_write_null(&w);
		else
			keel_json_write_str(&w, keel_db_rows_text(rows, col));
	}
	keel_json_end_object(&w);
	keel_json_end_object(&w);
	keel_db_rows_close(rows);
	return keel_json_respond(&w, res, status);
}

/* Answer with user `id` as stored now (after an insert or update). */
static int user_respond_id(keel_req_t *req, keel_res_t *res,
                           keel_db_conn_t *conn, int64_t id, int status)
{
	keel_db_rows_t *rows;
	int rc = keel_db_query_row(
	        conn, "SELECT " USER_COLS " FROM users WHERE id = $1",
	        KEEL_DB_ARGS(KEEL_DB_I64(id)), &rows);
	if (rc == KEEL_ENOENT)
		return keel_errors_write(req, res, 401, "token",
		                         "user no longer exists");
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return user_respond(req, res, rows, status);
}

/*
 * A unique violation names no column portably: ask which of username and
 * email another user (not `self`) holds, and answer 409 under each.
 */
static int taken_respond(keel_req_t *req, keel_res_t *res, keel_db_conn_t *conn,
                         keel_str_t username, keel_str_t email, int64_t self)
{
	keel_db_rows_t *rows;
	int rc = keel_db_query_row(
	        conn,
	        "SELECT (SELECT count(*) FROM users WHERE username = $1 AND "
	        "id <> $3), (SELECT count(*) FROM users WHERE email = $2 AND "
	        "id <> $3)",
	        KEEL_DB_ARGS(KEEL_DB_STR(username), KEEL_DB_STR(email),
	                     KEEL_DB_I64(self)),
	        &rows);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	keel_error_item_t items[2];
	size_t n = 0;
	if (keel_db_rows_int(rows, 0) > 0)
		items[n++] = (keel_error_item_t){"username",
		                                 "has already been taken"};
	if (keel_db_rows_int(rows, 1) > 0 || n == 0)
		items[n++] =
		        (keel_error_item_t){"email", "has already been taken"};
	keel_db_rows_close(rows);
	return keel_errors_write_list(req, res, 409, items, n);
}

/* Password hashing failed: a full pool queue is 503, the rest is 500. */
static int hash_error(keel_req_t *req, keel_res_t *res, int rc)
{
	if (rc == KEEL_ELIMIT || rc == KEEL_ECLOSED)
		return keel_errors_write(req, res, 503, "server",
		                         "busy, try again");
	return conduit_db_error(req, res, rc);
}

/* Charge a credential attempt when rate limiting is on: KEEL_NEXT or 429. */
static int login_budget(keel_req_t *req, keel_res_t *res, keel_str_t account)
{
	if (!conduit_login_limiter)
		return KEEL_NEXT;
	return keel_ratelimit_login_check(conduit_login_limiter, req, res,
	                                  account);
}

static int users_register(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const register_in_t *in = keel_req_valid_body(req);
	int rc = login_budget(req, res, in->email);
	if (rc != KEEL_NEXT)
		return rc;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	char hash[KEEL_PASSWORD_HASH_MAX];
	rc = keel_password_hash(in->password, hash);
	if (rc < 0)
		return hash_error(req, res, rc);
	char now[32];
	conduit_now(now);
	rc = keel_db_exec(conn,
	                  "INSERT INTO users (username, email, password_hash, "
	                  "created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
	                  KEEL_DB_ARGS(KEEL_DB_STR(in->username),
	                               KEEL_DB_STR(in->email),
	                               KEEL_DB_CSTR(hash), KEEL_DB_CSTR(now)),
	                  NULL);
	if (rc == KEEL_EEXIST)
		return taken_respond(req, res, conn, in->username, in->email,
		                     0);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return user_respond_id(req, res, conn, keel_db_last_id(conn), 201);
}

/* Store a fresh hash when the policy changed since this one was made;
 * a failure only costs the upgrade, never the login. */
static void maybe_rehash(keel_db_conn_t *conn, int64_t id, keel_str_t pw,
                         const char *old)
{
	char hash[KEEL_PASSWORD_HASH_MAX];
	if (!keel_password_needs_rehash(old, NULL) ||
	    keel_password_hash(pw, hash) < 0)
		return;
	if (keel_db_exec(conn,
	                 "UPDATE users SET password_hash = $1 WHERE id = $2",
	                 KEEL_DB_ARGS(KEEL_DB_CSTR(hash), KEEL_DB_I64(id)),
	                 NULL) < 0)
		KEEL_LOG_WARN("user %lld: password rehash not stored",
		              (long long)id);
}

static int bad_credentials(keel_req_t *req, keel_res_t *res)
{
	return keel_errors_write(req, res, 401, "credentials", "invalid");
}

/*
 * Unknown email and wrong password take the same time (dummy verify) and
 * get the same answer; the stored hash is copied out of the row because
 * verifying suspends the request.
 */
static int users_login(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const login_in_t *in = keel_req_valid_body(req);
	int rc = login_budget(req, res, in->email);
	if (rc != KEEL_NEXT)
		return rc;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	keel_db_rows_t *rows;
	rc = keel_db_query_row(
	        conn, "SELECT id, password_hash FROM users WHERE email = $1",
	        KEEL_DB_ARGS(KEEL_DB_STR(in->email)), &rows);
	if (rc == KEEL_ENOENT) {
		rc = keel_password_dummy_verify(in->password);
		return rc == KEEL_EINVAL ? bad_credentials(req, res)
		                         : hash_error(req, res, rc);
	}
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	int64_t id = keel_db_rows_int(rows, 0);
	char phc[KEEL_PASSWORD_HASH_MAX];
	keel_str_t stored = keel_db_rows_text(rows, 1);
	snprintf(phc, sizeof(phc), "%.*s", KEEL_STR_FMT(stored));
	keel_db_rows_close(rows);
	rc = keel_password_verify(in->password, phc);
	if (rc == KEEL_EINVAL)
		return bad_credentials(req, res);
	if (rc < 0)
		return hash_error(req, res, rc);
	maybe_rehash(conn, id, in->password, phc);
	return user_respond_id(req, res, conn, id, 200);
}

static int users_current(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	return user_respond_id(req, res, conn, conduit_user_id(req), 200);
}

/* "" clears bio and image (NOTES.md): stored as NULL. */
static keel_db_value_t nullable_arg(keel_presence_t p, keel_str_t s)
{
	if (p != KEEL_SET || s.len == 0)
		return KEEL_DB_NULLV;
	return KEEL_DB_STR(s);
}

static keel_db_value_t optional_arg(keel_presence_t p, keel_str_t s)
{
	return p == KEEL_SET ? KEEL_DB_STR(s) : KEEL_DB_NULLV;
}

/*
 * One UPDATE covers every combination of fields: absent ones keep their
 * column (COALESCE / the flag arguments), so no SQL is assembled.
 */
static int users_update(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const update_in_t *in = keel_req_valid_body(req);
	int64_t id = conduit_user_id(req);
	keel_db_conn_t *conn = conduit_conn(req);
	if (!conn)
		return conduit_unavailable(req, res);
	char hash[KEEL_PASSWORD_HASH_MAX];
	keel_db_value_t pw = KEEL_DB_NULLV;
	if (in->has_password == KEEL_SET) {
		int rc = keel_password_hash(in->password, hash);
		if (rc < 0)
			return hash_error(req, res, rc);
		pw = KEEL_DB_CSTR(hash);
	}
	char now[32];
	conduit_now(now);
	int rc = keel_db_exec(
	        conn,
	        "UPDATE users SET email = COALESCE($1, email), "
	        "username = COALESCE($2, username), "
	        "password_hash = COALESCE($3, password_hash), "
	        "bio = CASE WHEN $4 = 1 THEN $5 ELSE bio END, "
	        "image = CASE WHEN $6 = 1 THEN $7 ELSE image END, "
	        "updated_at = $8 WHERE id = $9",
	        KEEL_DB_ARGS(optional_arg(in->has_email, in->email),
	                     optional_arg(in->has_username, in->username), pw,
	                     KEEL_DB_BOOL(in->has_bio != KEEL_ABSENT),
	                     nullable_arg(in->has_bio, in->bio),
	                     KEEL_DB_BOOL(in->has_image != KEEL_ABSENT),
	                     nullable_arg(in->has_image, in->image),
	                     KEEL_DB_CSTR(now), KEEL_DB_I64(id)),
	        NULL);
	if (rc == KEEL_EEXIST)
		return taken_respond(req, res, conn, in->username, in->email,
		                     id);
	if (rc < 0)
		return conduit_db_error(req, res, rc);
	return user_respond_id(req, res, conn, id, 200);
}

void conduit_users_routes(keel_group_t *api)
{
	keel_route_spec(KEEL_POST(api, "/users", users_register),
	                &register_spec);
	keel_route_spec(KEEL_POST(api, "/users/login", users_login),
	                &login_spec);
	keel_route_t *r = KEEL_GET(api, "/user", users_current);
	keel_route_spec(r, &current_spec);
	keel_route_use(r, &conduit_auth_required);
	r = KEEL_PUT(api, "/user", users_update);
	keel_route_spec(r, &update_spec);
	keel_route_use(r, &conduit_auth_required);
}
