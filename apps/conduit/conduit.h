/*
 * apps/conduit/conduit.h - what Conduit's resources share: configuration,
 * the per-worker database, authentication, time stamps and the JSON shapes
 * several resources print (profiles).  One file per resource registers its
 * routes (users.c, profiles.c, articles.c, comments.c, tags.c).
 */
#ifndef CONDUIT_H
#define CONDUIT_H

#include <keel/keel.h>

/** Process-wide settings, filled by main() before serving. */
typedef struct conduit_config {
	const char *database_url; /* DATABASE_URL; sqlite:///var/conduit.db */
	keel_secret_t secret; /* JWT key: CONDUIT_SECRET or var/secret.key */
	int64_t token_ttl;    /* seconds a token lives */
	bool production;      /* CONDUIT_ENV=production */
} conduit_config_t;

extern conduit_config_t conduit_cfg;

/** The worker's database (opened on first use, after fork); NULL on
 * failure (logged). */
keel_db_t *conduit_db(void);
/** The request's connection, or NULL (answer 503). */
keel_db_conn_t *conduit_conn(keel_req_t *req);

/** Middleware: a valid token required (401 otherwise) / optional. */
extern keel_middleware_t conduit_auth_required, conduit_auth_optional;
/** The response cache of public reads (NULL: off); made before fork. */
extern keel_cache_t *conduit_cache;
/** Cache `route`'s anonymous answers (after its other middleware). */
void conduit_cached(keel_route_t *route);
/** The authenticated user's id, or 0 for an anonymous request. */
int64_t conduit_user_id(const keel_req_t *req);
/** Sign a token for user `id` into out[0..cap); 0 or KEEL_E*. */
int conduit_token(int64_t id, char *out, size_t cap);

/** "2026-11-22T04:20:00.000Z" for now, into out (at least 32 bytes). */
void conduit_now(char out[32]);

/** {"username","bio","image","following"} of the current JSON object. */
void conduit_write_profile_fields(keel_json_t *w, keel_str_t username,
                                  keel_str_t bio, bool bio_null,
                                  keel_str_t image, bool image_null,
                                  bool following);

/** 503 in the app's error format when the database is unavailable. */
int conduit_unavailable(keel_req_t *req, keel_res_t *res);
/** 500 for an unexpected database error, logged with the request id. */
int conduit_db_error(keel_req_t *req, keel_res_t *res, int rc);

/* Route registration, one per resource file. */
void conduit_users_routes(keel_group_t *api);
void conduit_profiles_routes(keel_group_t *api);
void conduit_articles_routes(keel_group_t *api);
void conduit_comments_routes(keel_group_t *api);
void conduit_tags_routes(keel_group_t *api);

#endif
