/*
 * Conduit's shared pieces: the per-worker database, authentication, time
 * stamps, the profile JSON shape and database error answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conduit.h"

conduit_config_t conduit_cfg;

static keel_db_t *worker_db;

keel_db_t *conduit_db(void)
{
	if (worker_db)
		return worker_db;
	keel_db_error_t err;
	/* A request keeps its connection while its write waits for the
	 * group commit, so the pool bounds a batch: 32 fills the fsync. */
	static const keel_db_opts_t opts = {.pool_size = 32};
	worker_db = keel_db_open(conduit_cfg.database_url, &opts, &err);
	if (!worker_db)
		KEEL_LOG_ERROR("database: %s", err.msg);
	/* Every commit of this worker empties every worker's cache before
	 * the writing request answers. */
	keel_cache_watch(conduit_cache, worker_db);
	return worker_db;
}

keel_db_conn_t *conduit_conn(keel_req_t *req)
{
	keel_db_t *db = conduit_db();
	return db ? keel_req_db(req, db) : NULL;
}

keel_cache_t *conduit_cache;
static keel_middleware_t cache_mw;

void conduit_cached(keel_route_t *route)
{
	if (conduit_cache) {
		cache_mw = keel_mw_cache(conduit_cache);
		keel_route_use(route, &cache_mw);
	}
}

static keel_auth_opts_t auth_required_opts, auth_optional_opts;
keel_middleware_t conduit_auth_required, conduit_auth_optional;

/* Called by main() once the secret is loaded. */
void conduit_auth_init(void);
void conduit_auth_init(void)
{
	keel_str_t key = keel_secret_str(&conduit_cfg.secret);
	auth_required_opts = (keel_auth_opts_t){
	        .key = key, .required = true, .db_fn = conduit_db};
	auth_optional_opts =
	        (keel_auth_opts_t){.key = key, .db_fn = conduit_db};
	conduit_auth_required = keel_mw_auth(&auth_required_opts);
	conduit_auth_optional = keel_mw_auth(&auth_optional_opts);
}

int64_t conduit_user_id(const keel_req_t *req)
{
	const keel_jwt_claims_t *c = keel_req_auth(req);
	int64_t id = 0;
	if (!c || keel_str_to_i64(keel_str_from_cstr(c->sub), &id) < 0)
		return 0;
	return id;
}

int conduit_token(int64_t id, char *out, size_t cap)
{
	char sub[24];
	keel_jwt_claims_t c;
	snprintf(sub, sizeof(sub), "%lld", (long long)id);
	int rc = keel_jwt_claims_init(&c, keel_str_from_cstr(sub),
	                              (int64_t)time(NULL),
	                              conduit_cfg.token_ttl);
	if (rc < 0)
		return rc;
	return keel_jwt_sign(keel_secret_str(&conduit_cfg.secret), &c, NULL,
	                     out, cap);
}

void conduit_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void write_nullable(keel_json_t *w, keel_str_t s, bool null)
{
	if (null)
		keel_json_write_null(w);
	else
		keel_json_write_str(w, s);
}

void conduit_write_profile_fields(keel_json_t *w, keel_str_t username,
                                  keel_str_t bio, bool bio_null,
                                  keel_str_t image, bool image_null,
                                  bool following)
{
	keel_json_key(w, "username");
	keel_json_write_str(w, username);
	keel_json_key(w, "bio");
	write_nullable(w, bio, bio_null);
	keel_json_key(w, "image");
	write_nullable(w, image, image_null);
	keel_json_key(w, "following");
	keel_json_write_bool(w, following);
}

int conduit_unavailable(keel_req_t *req, keel_res_t *res)
{
	return keel_errors_write(req, res, 503, "database",
	                         "is unavailable, try again");
}

/* A valid token of a user deleted since (by an administrator): writes in
 * its name break a foreign key.  True when that is why `rc` happened. */
static bool user_gone(keel_req_t *req, int rc)
{
	int64_t id = conduit_user_id(req), n = 0;
	keel_db_conn_t *conn =
	        id && rc == KEEL_EINVAL ? conduit_conn(req) : NULL;
	return conn &&
	       keel_db_query_int(conn,
	                         "SELECT count(*) FROM users WHERE id = $1",
	                         KEEL_DB_ARGS(KEEL_DB_I64(id)), &n) == 0 &&
	       n == 0;
}

int conduit_db_error(keel_req_t *req, keel_res_t *res, int rc)
{
	if (user_gone(req, rc))
		return keel_errors_write(req, res, 401, "token",
		                         "user no longer exists");
	KEEL_LOG_ERROR("request %s: database error: %s", keel_req_id(req),
	               keel_strerror(rc));
	return keel_errors_write(req, res, 500, "server", "internal error");
}
