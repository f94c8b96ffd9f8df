/*
 * JWT authentication middleware.  Every refusal is the same 401 with a
 * WWW-Authenticate challenge; why the token failed goes to the log with
 * the request id, never to the client, so a probe learns nothing.
 */
#include <string.h>
#include <time.h>

#include "keel/auth.h"
#include "keel/clock.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/revoke.h"
#include "http/conn.h"

static int refuse(keel_req_t *req, keel_res_t *res, const keel_auth_opts_t *o,
                  const char *why)
{
	KEEL_LOG_INFO("request %s: authentication refused: %s",
	              keel_req_id(req), why);
	int status = keel_errors_write(req, res, 401, "token",
	                               "is missing, invalid or expired");
	keel_res_header(res, "WWW-Authenticate",
	                o->scheme ? o->scheme : "Token");
	return status;
}

/* 0 when the token id is not on the list; a failed lookup refuses too. */
static int check_revoked(keel_req_t *req, const keel_auth_opts_t *o,
                         const keel_jwt_claims_t *c)
{
	keel_db_t *db = o->db ? o->db : o->db_fn ? o->db_fn() : NULL;
	if (!db)
		return o->db_fn ? KEEL_EIO : 0;
	keel_db_conn_t *conn = keel_req_db(req, db);
	if (!conn)
		return KEEL_ELIMIT;
	int rc = keel_revoke_check(conn, c->jti);
	return rc == 0 ? 0 : (rc > 0 ? KEEL_EEXIST : rc);
}

static int auth_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	const keel_auth_opts_t *o = ud;
	keel_str_t token;
	int rc = keel_auth_token(req, &token);
	if (rc == KEEL_ENOENT)
		return o->required ? refuse(req, res, o, "no token")
		                   : KEEL_NEXT;
	if (rc < 0)
		return refuse(req, res, o, "malformed Authorization header");
	keel_jwt_claims_t *c =
	        keel_arena_calloc(keel_req_arena(req), 1, sizeof(*c));
	if (!c)
		return keel_res_error(res, 500, "out of memory");
	int64_t now = keel_clock_cached_wall_ns() / KEEL_NS_PER_S;
	int64_t leeway = o->leeway ? o->leeway : KEEL_JWT_LEEWAY;
	if (keel_jwt_verify(o->key, token, now, leeway, c) < 0)
		return refuse(req, res, o, keel_jwt_reason_str(c->reason));
	rc = check_revoked(req, o, c);
	if (rc == KEEL_EEXIST)
		return refuse(req, res, o, "token revoked");
	if (rc < 0)
		return refuse(req, res, o, "revocation list unavailable");
	req->auth = c;
	return KEEL_NEXT;
}

keel_middleware_t keel_mw_auth(const keel_auth_opts_t *opts)
{
	return (keel_middleware_t){.name = opts->required ? "auth" : "auth?",
	                           .before = auth_before,
	                           .ud = (void *)opts};
}

const keel_jwt_claims_t *keel_req_auth(const keel_req_t *req)
{
	return req->auth;
}
