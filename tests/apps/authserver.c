/*
 * The login app the auth tests and bench/auth/run.sh start: argon2id
 * password checks on the worker's thread pool, JWTs for the API, and a
 * cheap /ping whose latency shows whether logins stall the event loop.
 *
 *   POST /login  {"user": "alice", "password": "..."}  -> 200 {"token"}
 *                wrong password and unknown user: the same 401 and body,
 *                and the same cost (dummy hash); 503 when the pool is full
 *   GET  /me     Authorization: Token|Bearer <jwt>     -> 200 subject
 *   GET  /ping                                         -> 200 pong
 *
 * The one user is alice / wonderland, hashed at start-up.
 * AUTHSERVER_BLOCKING=1 verifies on the event loop's own thread instead of
 * the pool, as a control: what every other request suffers without the
 * offload.  The secret
 * comes from AUTHSERVER_SECRET; without it, development mode keeps one in
 * $AUTHSERVER_VAR (default var/), and AUTHSERVER_PRODUCTION=1 refuses to
 * start.
 */
#include <keel/keel.h>
#include <keel/jwt.h>
#include <keel/password.h>
#include <keel/secret.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static keel_secret_t secret;
static char alice_hash[KEEL_PASSWORD_HASH_MAX];
static bool blocking;

static int ping(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "pong", 4);
	return 200;
}

static keel_str_t json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return (keel_str_t){NULL, 0};
	return (keel_str_t){json_string_value(v), json_string_length(v)};
}

/* The password check: alice's hash, or the dummy for anyone else. */
static int check_login(keel_str_t user, keel_str_t pw)
{
	if (blocking) /* the control: argon2 right on the event loop */
		return crypto_pwhash_str_verify(alice_hash, pw.ptr, pw.len) == 0
		               ? 0
		               : KEEL_EINVAL;
	if (keel_str_eq(user, KEEL_STR("alice")))
		return keel_password_verify(pw, alice_hash);
	return keel_password_dummy_verify(pw);
}

static int token_respond(keel_res_t *res, keel_str_t user)
{
	keel_jwt_claims_t c;
	char tok[KEEL_JWT_MAX_TOKEN + 1];
	keel_json_t w;

	if (keel_jwt_claims_init(&c, user, (int64_t)time(NULL), 3600) < 0 ||
	    keel_jwt_sign(keel_secret_str(&secret), &c, NULL, tok,
	                  sizeof(tok)) < 0)
		return 500;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "token");
	keel_json_write_cstr(&w, tok);
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 200);
}

static int login(keel_req_t *req, keel_res_t *res, void *ud)
{
	json_t *body;
	keel_json_error_t err;
	(void)ud;

	if (keel_req_json(req, &body, &err) < 0)
		return keel_res_error(res, err.status, err.message);
	keel_str_t user = json_str(body, "user");
	keel_str_t pw = json_str(body, "password");
	if (!user.ptr || !pw.ptr)
		return keel_res_error(res, 422, "user and password required");
	int rc = check_login(user, pw);
	if (rc == KEEL_ELIMIT && pw.len <= KEEL_PASSWORD_MAX)
		return keel_res_error(res, 503, "busy, retry later");
	if (rc < 0)
		return keel_res_error(res, 401, "invalid credentials");
	return token_respond(res, user);
}

static int me(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_jwt_claims_t c;
	(void)ud;
	int rc = keel_jwt_from_request(req, keel_secret_str(&secret), &c);
	if (rc < 0) {
		keel_res_header(res, "WWW-Authenticate", "Token");
		return keel_res_error(res, 401, "authentication required");
	}
	keel_res_printf(res, "%s", c.sub);
	return 200;
}

/* Secret, password policy and alice's hash: before the workers fork. */
static int setup(void)
{
	const char *prod = getenv("AUTHSERVER_PRODUCTION");
	const char *block = getenv("AUTHSERVER_BLOCKING");
	blocking = block && strcmp(block, "1") == 0;
	if (keel_secret_load(&secret, getenv("AUTHSERVER_SECRET"),
	                     prod && strcmp(prod, "1") == 0,
	                     getenv("AUTHSERVER_VAR"), NULL) < 0)
		return -1;
	if (keel_password_setup(NULL) < 0 ||
	    keel_password_hash(KEEL_STR("wonderland"), alice_hash) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (setup() < 0)
		return 1;
	keel_app_t *app = keel_app_new();
	if (!app)
		return 1;
	KEEL_GET(app, "/ping", ping);
	KEEL_POST(app, "/login", login);
	KEEL_GET(app, "/me", me);
	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	keel_secret_wipe(&secret);
	return rc;
}
