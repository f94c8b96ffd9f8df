/*
 * keel/auth.h - API authentication with JWTs, as middleware: reads the
 * token from `Authorization: Token|Bearer <jwt>` only (never the query
 * string or cookies), verifies it (keel/jwt.h), refuses revoked token ids
 * (keel/revoke.h, checked on every request), and hands the verified
 * claims to the handler.  Put it on the routes that need it
 * (keel_route_use / keel_group_use): `required` answers 401 without a
 * valid token; optional lets anonymous requests through but still
 * refuses a bad token (a client that sent one expects it to count).
 */
#ifndef KEEL_AUTH_H
#define KEEL_AUTH_H

#include <stdbool.h>

#include "keel/db.h"
#include "keel/jwt.h"
#include "keel/middleware.h"

/** Options; must outlive the app (the middleware keeps a pointer). */
typedef struct keel_auth_opts {
	keel_str_t key; /* the HMAC key (the app secret), >= 32 bytes */
	bool required;  /* 401 when no token is sent */
	keel_db_t *db;  /* revocation list lives here; NULL: see db_fn */
	/* The database when each worker opens its own after fork (db NULL);
	 * both NULL: revocation is not checked. */
	keel_db_t *(*db_fn)(void);
	int64_t leeway; /* clock skew allowed, seconds; 0: KEEL_JWT_LEEWAY */
	const char *scheme; /* WWW-Authenticate scheme; NULL: "Token" */
} keel_auth_opts_t;

/** The middleware for `opts` (which must outlive the app). */
KEEL_API keel_middleware_t keel_mw_auth(const keel_auth_opts_t *opts);

/**
 * The verified claims of the request's token, or NULL when the request is
 * anonymous (or no auth middleware ran).  Request memory.
 */
KEEL_API const keel_jwt_claims_t *keel_req_auth(const keel_req_t *req);

#endif
