/*
 * The app the framework integration tests start (tests/integration/
 * test_app.py): routes with typed parameters, a group with its own
 * middleware, app-wide middleware, a handler that waits, one that fails,
 * and the `routes` subcommand, all through keel_app_run.
 */
#include <keel/app.h>
#include <keel/keel.h>
#include <stdlib.h>
#include <string.h>

static int profile(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_str_t name = keel_req_param(req, "username");
	keel_res_header(res, "Content-Type", "text/plain; charset=utf-8");
	keel_res_printf(res, "profile %.*s", KEEL_STR_FMT(name));
	return 200;
}

static int comment(keel_req_t *req, keel_res_t *res, void *ud)
{
	int64_t id = 0;
	(void)ud;
	keel_req_param_int(req, "id", &id);
	keel_res_printf(res, "article %.*s comment %lld",
	                KEEL_STR_FMT(keel_req_param(req, "slug")),
	                (long long)id);
	return 200;
}

static int feed(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "feed", 4);
	return 200;
}

static int create_article(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t body = keel_req_body(req);
	(void)ud;
	keel_res_header(res, "Location", "/api/articles/new");
	keel_res_printf(res, "created %.*s", KEEL_STR_FMT(body));
	return 201;
}

static int asset(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_res_printf(res, "asset %.*s",
	                KEEL_STR_FMT(keel_req_param(req, "rest")));
	return 200;
}

static int docs(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "docs", 4);
	return 200;
}

/* Waits on the worker's event loop, not on the thread. */
static int nap(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_sleep_ms(200);
	keel_res_body(res, "rested", 6);
	return 200;
}

static int boom(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "secret internals", 16);
	return KEEL_EIO;
}

/* App-wide: marks every response, automatic answers included. */
static void stamp(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "X-App", "appserver");
}

/* The /api group: writes need "Authorization: Token ...". */
static int auth(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t v;
	(void)ud;
	if (keel_req_method(req) != KEEL_HTTP_POST ||
	    (keel_req_header(req, "Authorization", &v) == 0 &&
	     keel_str_has_prefix(v, KEEL_STR("Token "))))
		return KEEL_NEXT;
	return keel_res_error(res, 401, "missing token");
}

static const keel_middleware_t stamp_mw = {.name = "stamp", .after = stamp};
static const keel_middleware_t auth_mw = {.name = "auth", .before = auth};

int main(int argc, char **argv)
{
	keel_app_t *app = keel_app_new();
	if (!app)
		return 1;
	keel_app_use(app, &stamp_mw);
	keel_group_t *api = keel_app_group(app, "/api");
	keel_group_use(api, &auth_mw);
	KEEL_GET(api, "/profiles/{username}", profile);
	KEEL_GET(api, "/articles/feed", feed);
	KEEL_POST(api, "/articles", create_article);
	keel_group_t *art = keel_group_nest(api, "/articles/{slug}");
	KEEL_GET(art, "/comments/{id:int}", comment);
	KEEL_GET(app, "/static/{rest:path}", asset);
	KEEL_GET(app, "/docs/", docs);
	KEEL_GET(app, "/nap", nap);
	KEEL_GET(app, "/boom", boom);
	if (getenv("APPSERVER_BROKEN")) /* a conflict: must refuse to serve */
		KEEL_GET(app, "/api/articles/{id}", profile);
	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	return rc;
}
