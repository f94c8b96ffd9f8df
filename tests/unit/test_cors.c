/*
 * CORS (src/security/cors.c) through the in-process test client: which
 * preflights are answered and which refused, the headers actual requests
 * get for allowed and foreign origins, the wildcard that never comes with
 * credentials, Vary: Origin whenever the answer depends on it, and the
 * policy checks done at start-up.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keel/app.h"
#include "keel/cors.h"
#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

#define S(lit) keel_str_from_cstr(lit)

static void quiet(void)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
}

TestSuite(cors, .init = quiet);

static const char *const site_origins[] = {"https://app.example",
                                           "http://localhost:3000", NULL};
static const char *const any_origin[] = {"*", NULL};

static int items(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "Content-Type", "application/json");
	keel_res_body(res, "[]", 2);
	return 200;
}

/* Drops every header, as keel_res_error does. */
static int fails(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	return keel_res_error(res, 404, "no such item");
}

/* An outer middleware that already says the answer varies by origin. */
static int pre_vary(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "Vary", "Accept-Encoding, origin");
	return KEEL_NEXT;
}

typedef struct fx {
	keel_app_t *app;
	keel_test_t *t;
	keel_cors_opts_t opts;
	keel_test_result_t r;
} fx_t;

static fx_t fx;

static void fx_start(void)
{
	keel_middleware_t mw = keel_mw_cors(&fx.opts);
	fx.app = keel_app_new();
	cr_assert_not_null(fx.app);
	cr_assert_eq(keel_app_use(fx.app, &mw), 0);
	KEEL_GET(fx.app, "/items", items);
	KEEL_PUT(fx.app, "/items", items);
	KEEL_GET(fx.app, "/fails", fails);
	fx.t = keel_test_new(fx.app);
	cr_assert_not_null(fx.t);
}

/* The site policy most tests use: two origins, credentials. */
static void fx_site(void)
{
	keel_cors_opts_init(&fx.opts);
	fx.opts.origins = site_origins;
	fx.opts.credentials = true;
	fx.opts.expose = "X-Request-Id, ETag";
	fx_start();
}

static void fx_stop(void)
{
	keel_test_result_free(&fx.r);
	keel_test_free(fx.t);
	keel_app_free(fx.app);
}

static int csend(const char *method, const char *target, const char *hdrs)
{
	keel_test_result_free(&fx.r);
	cr_assert_eq(
	        keel_test_request(fx.t, method, target, hdrs, NULL, 0, &fx.r),
	        0);
	return fx.r.status;
}

static bool has(const char *name)
{
	keel_str_t v;
	return keel_test_header(&fx.r, name, &v) == 0;
}

static bool is(const char *name, const char *want)
{
	keel_str_t v;
	return keel_test_header(&fx.r, name, &v) == 0 &&
	       keel_str_eq(v, S(want));
}

/* How many response header lines are exactly "Name: value". */
static int lines(const char *line)
{
	int n = 0;
	char want[256];
	snprintf(want, sizeof(want), "%s\r\n", line);
	for (const char *p = fx.r.headers; (p = strstr(p, want)); p++)
		n += p == fx.r.headers || p[-1] == '\n';
	return n;
}

/* Does any Vary field name `tok` (as its own list element)? */
static bool varies_on(const char *tok)
{
	for (const char *p = fx.r.headers; (p = strstr(p, "Vary: ")); p++) {
		const char *end = strstr(p, "\r\n");
		keel_str_t list = {p + 6, (size_t)(end - p - 6)};
		while (list.len) {
			keel_str_t item =
			        keel_str_trim(keel_str_cut(&list, ','));
			if (keel_str_eq_nocase(item, S(tok)))
				return true;
		}
	}
	return false;
}

#define PREFLIGHT(origin, method, hdrs)                                        \
	"Origin: " origin "\nAccess-Control-Request-Method: " method           \
	"\nAccess-Control-Request-Headers: " hdrs

/* ------------------------------------------------------- preflights */

Test(cors, preflight_allowed_gets_204_with_the_policy, .init = fx_site,
     .fini = fx_stop)
{
	cr_assert_eq(csend("OPTIONS", "/items",
	                   PREFLIGHT("https://app.example", "PUT",
	                             "content-type,authorization")),
	             204);
	cr_assert(is("Access-Control-Allow-Origin", "https://app.example"));
	cr_assert(is("Access-Control-Allow-Credentials", "true"));
	cr_assert(is("Access-Control-Allow-Methods",
	             "GET, HEAD, POST, PUT, PATCH, DELETE"));
	cr_assert(is("Access-Control-Allow-Headers",
	             "Content-Type, Authorization"));
	cr_assert(is("Access-Control-Max-Age", "600"));
	cr_assert(varies_on("Origin"));
	cr_assert(varies_on("Access-Control-Request-Method"));
	cr_assert(varies_on("Access-Control-Request-Headers"));
	cr_assert_not(has("Allow"), "the router never saw it");
	cr_assert_eq(fx.r.body_len, 0);
	/* Without Request-Headers, and to a path with no route at all. */
	cr_assert_eq(csend("OPTIONS", "/anything",
	                   "Origin: http://localhost:3000\n"
	                   "Access-Control-Request-Method: DELETE"),
	             204);
	cr_assert(is("Access-Control-Allow-Origin", "http://localhost:3000"));
}

Test(cors, preflight_refusals_are_403_without_cors_headers, .init = fx_site,
     .fini = fx_stop)
{
	const char *bad[] = {
	        PREFLIGHT("https://evil.example", "PUT", "content-type"),
	        PREFLIGHT("https://app.example", "TRACE", "content-type"),
	        PREFLIGHT("https://app.example", "put", "content-type"),
	        PREFLIGHT("https://app.example", "PU T", "content-type"),
	        PREFLIGHT("https://app.example", "PUT", "x-secret"),
	        PREFLIGHT("https://app.example", "PUT", "content-type,x-a"),
	        PREFLIGHT("https://app.example", "PUT", "a b"),
	        PREFLIGHT("null", "PUT", "content-type"),
	        "Origin: \nAccess-Control-Request-Method: PUT",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		cr_assert_eq(csend("OPTIONS", "/items", bad[i]), 403, "%zu: %s",
		             i, bad[i]);
		cr_assert_not(has("Access-Control-Allow-Origin"), "%zu", i);
		cr_assert_not(has("Access-Control-Allow-Credentials"));
		cr_assert_not(has("Access-Control-Allow-Methods"));
		cr_assert(varies_on("Origin"), "%zu", i);
		cr_assert_not_null(strstr(fx.r.body, "\"cors\""), "%s",
		                   fx.r.body);
	}
}

Test(cors, origin_match_is_exact)
{
	keel_cors_opts_t o;
	keel_cors_opts_init(&o);
	o.origins = site_origins;
	const char *no[] = {"https://app.example.evil.com",
	                    "https://evil.com/https://app.example",
	                    "http://app.example",
	                    "https://app.example:443",
	                    "https://app.example/",
	                    "https://app.exampl",
	                    " https://app.example",
	                    "null",
	                    "*",
	                    ""};
	for (size_t i = 0; i < KEEL_COUNTOF(no); i++)
		cr_assert_not(keel_cors_origin_allowed(&o, S(no[i])), "%s",
		              no[i]);
	cr_assert(keel_cors_origin_allowed(&o, S("https://app.example")));
	cr_assert(keel_cors_origin_allowed(&o, S("HTTPS://APP.EXAMPLE")));
	cr_assert_not(keel_cors_origin_allowed(NULL, S("https://a.b")),
	              "the defaults allow nobody");
	o.origins = any_origin;
	cr_assert(keel_cors_origin_allowed(&o, S("https://x.y")));
	cr_assert(keel_cors_origin_allowed(&o, S("null")));
	cr_assert_not(keel_cors_origin_allowed(&o, S("")));
}

/* --------------------------------------------------- actual requests */

Test(cors, allowed_origin_gets_allow_origin_and_credentials, .init = fx_site,
     .fini = fx_stop)
{
	cr_assert_eq(csend("GET", "/items", "Origin: https://app.example"),
	             200);
	cr_assert(is("Access-Control-Allow-Origin", "https://app.example"));
	cr_assert(is("Access-Control-Allow-Credentials", "true"));
	cr_assert(is("Access-Control-Expose-Headers", "X-Request-Id, ETag"));
	cr_assert(varies_on("Origin"));
	cr_assert_eq(lines("Access-Control-Allow-Origin: https://app.example"),
	             1, "%s", fx.r.headers);
	cr_assert_eq(lines("Vary: Origin"), 1);
	/* OPTIONS without a request method is not a preflight: the router
	 * answers it, with CORS headers. */
	cr_assert_eq(csend("OPTIONS", "/items", "Origin: https://app.example"),
	             204);
	cr_assert(has("Allow"));
	cr_assert(is("Access-Control-Allow-Origin", "https://app.example"));
}

Test(cors, foreign_or_missing_origin_gets_no_cors_headers, .init = fx_site,
     .fini = fx_stop)
{
	cr_assert_eq(csend("GET", "/items", "Origin: https://evil.example"),
	             200, "CORS is not server-side access control");
	cr_assert_not(has("Access-Control-Allow-Origin"));
	cr_assert_not(has("Access-Control-Allow-Credentials"));
	cr_assert_not(has("Access-Control-Expose-Headers"));
	cr_assert(varies_on("Origin"));
	cr_assert_eq(csend("GET", "/items", NULL), 200);
	cr_assert_not(has("Access-Control-Allow-Origin"));
	cr_assert(varies_on("Origin"), "a cache must not reuse this answer");
	cr_assert_eq(csend("GET", "/items", "Origin: null"), 200);
	cr_assert_not(has("Access-Control-Allow-Origin"));
}

Test(cors, headers_survive_handlers_that_reset_theirs, .init = fx_site,
     .fini = fx_stop)
{
	cr_assert_eq(csend("GET", "/fails", "Origin: https://app.example"),
	             404);
	cr_assert(is("Access-Control-Allow-Origin", "https://app.example"));
	cr_assert(is("Access-Control-Allow-Credentials", "true"));
	cr_assert(varies_on("Origin"));
}

static void fx_pre_vary(void)
{
	keel_middleware_t pre = {.name = "pre", .before = pre_vary};
	keel_middleware_t mw;
	keel_cors_opts_init(&fx.opts);
	fx.opts.origins = site_origins;
	mw = keel_mw_cors(&fx.opts);
	fx.app = keel_app_new();
	keel_app_use(fx.app, &pre);
	keel_app_use(fx.app, &mw);
	KEEL_GET(fx.app, "/items", items);
	fx.t = keel_test_new(fx.app);
}

Test(cors, vary_is_not_repeated, .init = fx_pre_vary, .fini = fx_stop)
{
	cr_assert_eq(csend("GET", "/items", "Origin: https://app.example"),
	             200);
	cr_assert_eq(lines("Vary: Accept-Encoding, origin"), 1);
	cr_assert_eq(lines("Vary: Origin"), 0, "%s", fx.r.headers);
}

/* ---------------------------------------------------------- wildcard */

static void fx_wild(bool credentials)
{
	keel_cors_opts_init(&fx.opts);
	fx.opts.origins = any_origin;
	fx.opts.credentials = credentials;
	fx.opts.headers = "*";
	fx.opts.max_age = -1;
	fx_start();
}

static void fx_wild_creds(void)
{
	fx_wild(true);
}

static void fx_wild_plain(void)
{
	fx_wild(false);
}

Test(cors, wildcard_is_never_sent_with_credentials, .init = fx_wild_creds,
     .fini = fx_stop)
{
	cr_assert_eq(keel_cors_opts_check(&fx.opts), KEEL_EINVAL);
	cr_assert_eq(csend("GET", "/items", "Origin: https://x.example"), 200);
	cr_assert(is("Access-Control-Allow-Origin", "*"));
	cr_assert_not(has("Access-Control-Allow-Credentials"));
	cr_assert_eq(csend("OPTIONS", "/items",
	                   PREFLIGHT("https://x.example", "PATCH",
	                             "x-custom,content-type")),
	             204);
	cr_assert(is("Access-Control-Allow-Origin", "*"));
	cr_assert_not(has("Access-Control-Allow-Credentials"));
}

Test(cors, wildcard_answers_everyone_alike, .init = fx_wild_plain,
     .fini = fx_stop)
{
	cr_assert_eq(keel_cors_opts_check(&fx.opts), 0);
	cr_assert_eq(csend("GET", "/items", NULL), 200);
	cr_assert(is("Access-Control-Allow-Origin", "*"));
	cr_assert_not(varies_on("Origin"), "same answer for every origin");
	cr_assert_eq(csend("GET", "/items", "Origin: null"), 200);
	cr_assert(is("Access-Control-Allow-Origin", "*"));
	/* headers "*": whatever was asked is echoed; max_age < 0: none. */
	cr_assert_eq(csend("OPTIONS", "/items",
	                   PREFLIGHT("https://x.example", "PUT",
	                             "x-custom,content-type")),
	             204);
	cr_assert(is("Access-Control-Allow-Headers", "x-custom,content-type"));
	cr_assert_not(has("Access-Control-Max-Age"));
	cr_assert_not(varies_on("Origin"));
	cr_assert(varies_on("Access-Control-Request-Headers"));
}

/* ----------------------------------------------------------- defaults */

static void fx_default(void)
{
	keel_middleware_t mw = keel_mw_cors(NULL);
	fx.app = keel_app_new();
	keel_app_use(fx.app, &mw);
	KEEL_GET(fx.app, "/items", items);
	fx.t = keel_test_new(fx.app);
}

Test(cors, defaults_allow_no_origin, .init = fx_default, .fini = fx_stop)
{
	cr_assert_eq(csend("OPTIONS", "/items",
	                   PREFLIGHT("https://app.example", "GET", "")),
	             403);
	cr_assert_eq(csend("GET", "/items", "Origin: https://app.example"),
	             200);
	cr_assert_not(has("Access-Control-Allow-Origin"));
	cr_assert_eq(keel_cors_opts_check(NULL), 0);
}

Test(cors, opts_check_catches_mistakes)
{
	static const char *const bad_origins[][2] = {
	        {"https://app.example/", NULL},
	        {"https://app.example/path", NULL},
	        {"app.example", NULL},
	        {"https://", NULL},
	        {"null", NULL},
	        {"https://a b", NULL},
	        {"://app.example", NULL},
	};
	static const char *const good[] = {"https://app.example:8443",
	                                   "http://[::1]:3000", NULL};
	keel_cors_opts_t o;
	keel_cors_opts_init(&o);
	cr_assert_eq(keel_cors_opts_check(&o), 0);
	o.origins = good;
	o.credentials = true;
	cr_assert_eq(keel_cors_opts_check(&o), 0);
	for (size_t i = 0; i < KEEL_COUNTOF(bad_origins); i++) {
		o.origins = bad_origins[i];
		cr_assert_eq(keel_cors_opts_check(&o), KEEL_EINVAL, "%s",
		             bad_origins[i][0]);
	}
	o.origins = good;
	o.methods = "GET, PO ST";
	cr_assert_eq(keel_cors_opts_check(&o), KEEL_EINVAL);
	o.methods = "GET,,POST,";
	cr_assert_eq(keel_cors_opts_check(&o), 0);
	o.headers = "X-A, X\"B";
	cr_assert_eq(keel_cors_opts_check(&o), KEEL_EINVAL);
	o.headers = NULL;
	o.expose = "X-Total-Count;";
	cr_assert_eq(keel_cors_opts_check(&o), KEEL_EINVAL);
}
