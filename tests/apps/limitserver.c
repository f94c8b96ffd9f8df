/*
 * The app the rate-limit and CORS integration tests start
 * (tests/integration/test_ratelimit.py, test_cors.py), usually with
 * --workers 2: the limiters are made here in main(), before keel_app_run
 * forks the workers, so every worker shares their shared-memory tables.
 *
 *   GET  /limited   50 per hour per client address
 *   GET  /tiny      3 per hour per client address
 *   POST /login     body "name:password"; 3 attempts per account per hour
 *   GET  /ping      unlimited
 *   GET, PUT, DELETE /api/data   for CORS
 *
 * Every response says which worker answered (X-Worker: <pid>).
 */
#include <keel/app.h>
#include <keel/cors.h>
#include <keel/keel.h>
#include <keel/ratelimit.h>
#include <stdio.h>
#include <unistd.h>

static int ok(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_body(res, "ok", 2);
	return 200;
}

static int data(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_res_header(res, "Content-Type", "application/json");
	keel_res_printf(res, "{\"method\":\"%s\"}",
	                keel_http_method_name(keel_req_method(req)));
	return 200;
}

static const struct account {
	const char *name, *password;
} accounts[] = {{"alice", "wonderland"}, {"bob", "builder"}};

/* Budget first, lookup second: the answer to an unknown name and to a
 * wrong password is the same 401, and the budget never looks at either. */
static int login(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t body = keel_req_body(req);
	keel_str_t name = keel_str_cut(&body, ':');
	int rc = keel_ratelimit_login_check(ud, req, res, name);
	if (rc != KEEL_NEXT)
		return rc;
	for (size_t i = 0; i < KEEL_COUNTOF(accounts); i++) {
		if (keel_str_eq(name, keel_str_from_cstr(accounts[i].name)) &&
		    keel_str_eq(body,
		                keel_str_from_cstr(accounts[i].password))) {
			keel_res_header(res, "Content-Type",
			                "application/json");
			keel_res_printf(res, "{\"user\":\"%s\"}",
			                accounts[i].name);
			return 200;
		}
	}
	return keel_errors_write(req, res, 401, "credentials",
	                         "wrong name or password");
}

static void stamp(keel_req_t *req, keel_res_t *res, void *ud)
{
	char pid[24];
	(void)req;
	(void)ud;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	keel_res_header(res, "X-Worker", pid);
}

static const char *const origins[] = {"https://app.example", NULL};

int main(int argc, char **argv)
{
	static keel_cors_opts_t cors;
	static keel_mw_ratelimit_opts_t limited_opts, tiny_opts;
	keel_cors_opts_init(&cors);
	cors.origins = origins;
	cors.credentials = true;
	cors.expose = "RateLimit-Remaining, Retry-After";
	cors.max_age = 300;
	keel_ratelimit_opts_t o = {.limit = 50, .window_ms = 3600 * 1000};
	limited_opts.limiter = keel_ratelimit_new(&o);
	o.limit = 3;
	tiny_opts.limiter = keel_ratelimit_new(&o);
	keel_ratelimit_login_opts_t lo;
	keel_ratelimit_login_opts_init(&lo);
	lo.addr.limit = 1000;
	lo.account =
	        (keel_ratelimit_opts_t){.limit = 3, .window_ms = 3600 * 1000};
	keel_ratelimit_login_t *logins = keel_ratelimit_login_new(&lo);
	keel_app_t *app = keel_app_new();
	if (!app || !limited_opts.limiter || !tiny_opts.limiter || !logins ||
	    keel_cors_opts_check(&cors) < 0)
		return 1;

	const keel_middleware_t stamp_mw = {.name = "stamp", .after = stamp};
	const keel_middleware_t cors_mw = keel_mw_cors(&cors);
	const keel_middleware_t limited_mw = keel_mw_ratelimit(&limited_opts);
	const keel_middleware_t tiny_mw = keel_mw_ratelimit(&tiny_opts);
	keel_app_use(app, &stamp_mw);
	keel_app_use(app, &cors_mw);
	keel_route_use(
	        keel_app_route(app, KEEL_HTTP_GET, "/limited", ok, "limited"),
	        &limited_mw);
	keel_route_use(keel_app_route(app, KEEL_HTTP_GET, "/tiny", ok, "tiny"),
	               &tiny_mw);
	keel_route_set_ud(KEEL_POST(app, "/login", login), logins);
	KEEL_GET(app, "/ping", ok);
	KEEL_GET(app, "/api/data", data);
	KEEL_PUT(app, "/api/data", data);
	KEEL_DELETE(app, "/api/data", data);

	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	keel_ratelimit_free(limited_opts.limiter);
	keel_ratelimit_free(tiny_opts.limiter);
	keel_ratelimit_login_free(logins);
	return rc;
}
