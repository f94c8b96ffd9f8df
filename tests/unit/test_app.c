/*
 * Unit tests for the app (src/web/app.c, route.c, chain.c, dispatch.c,
 * app_list.c): registration and its refusals, groups, middleware order
 * and short-circuits, automatic HEAD/OPTIONS/405/404/308 answers, path
 * parameters, listings.  Requests go through the in-process test client.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/app.h"
#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"
#include "keel/validate.h"

static const keel_route_spec_t spec_a = {.summary = "specA"};
static const keel_route_spec_t spec_b = {.summary = "specB"};
static const keel_route_spec_t spec_c = {.summary = "specC"};

static keel_app_t *app;
static keel_test_t *client;
static char trace[256];

static void app_setup(void)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF); /* refusals log on purpose */
	app = keel_app_new();
	cr_assert_not_null(app);
	trace[0] = '\0';
}

static void app_teardown(void)
{
	keel_test_free(client);
	client = NULL;
	keel_app_free(app);
	keel_log_set_level(KEEL_LOG_LEVEL_INFO);
}

TestSuite(app, .init = app_setup, .fini = app_teardown);

static void note(const char *s)
{
	size_t n = strlen(trace);
	snprintf(trace + n, sizeof(trace) - n, "%s", s);
}

static int ok_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	note("h");
	keel_res_body(res, "ok", 2);
	return 200;
}

static int created(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	note("h");
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_body(res, "made", 4);
	return 201;
}

/* Echo the path parameters as name=value lines. */
static int show_params(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	const keel_route_t *r = keel_req_route(req);
	size_t n;
	const keel_route_param_t *p = keel_route_params(r, &n);
	for (size_t i = 0; i < n; i++) {
		keel_str_t v = keel_req_param(req, p[i].name);
		keel_res_printf(res, "%s=%.*s\n", p[i].name, KEEL_STR_FMT(v));
	}
	int64_t id;
	if (keel_req_param_int(req, "id", &id) == 0)
		keel_res_printf(res, "id+1=%lld\n", (long long)id + 1);
	return 200;
}

static keel_test_result_t req_send(const char *method, const char *target)
{
	keel_test_result_t r;
	if (!client)
		client = keel_test_new(app);
	cr_assert_not_null(client);
	cr_assert_eq(
	        keel_test_request(client, method, target, NULL, NULL, 0, &r),
	        0);
	return r;
}

static bool header_is(const keel_test_result_t *r, const char *name,
                      const char *want)
{
	keel_str_t v;
	return keel_test_header(r, name, &v) == 0 &&
	       keel_str_eq(v, keel_str_from_cstr(want));
}

Test(app, route_carries_method_pattern_name_and_params)
{
	keel_route_t *r = KEEL_GET(app, "/api/profiles/{username}/x/{id:int}",
	                           ok_handler);
	cr_assert_not_null(r);
	cr_assert_eq(keel_route_method(r), KEEL_HTTP_GET);
	cr_assert_str_eq(keel_route_pattern(r),
	                 "/api/profiles/{username}/x/{id:int}");
	cr_assert_str_eq(keel_route_name(r), "ok_handler");
	size_t n;
	const keel_route_param_t *p = keel_route_params(r, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0].name, "username");
	cr_assert_eq(p[1].type, KEEL_PARAM_INT);
	keel_route_t *q =
	        keel_app_route(app, KEEL_HTTP_PUT, "/x", created, NULL);
	cr_assert_str_eq(keel_route_name(q), "-");
	cr_assert_eq(keel_app_failures(app), 0);
	cr_assert_eq(keel_app_error(app, NULL), 0);
}

Test(app, bad_registrations_return_null_with_a_reason)
{
	const char *why;
	KEEL_GET(app, "/a/{x}", ok_handler);
	cr_assert_null(KEEL_GET(app, "/a/{x}", created));
	cr_assert_eq(keel_app_error(app, &why), KEEL_EEXIST);
	cr_assert(strstr(why, "/a/{x}"), "%s", why);
	cr_assert_null(KEEL_POST(app, "/a/{y}", created));
	cr_assert_eq(keel_app_error(app, &why), KEEL_EEXIST);
	cr_assert(strstr(why, "{y}"), "%s", why);
	cr_assert_null(KEEL_GET(app, "/b//c", ok_handler));
	cr_assert_eq(keel_app_error(app, NULL), KEEL_EINVAL);
	cr_assert_null(KEEL_GET(app, "", ok_handler));
	cr_assert_null(KEEL_GET(app, "nope", ok_handler));
	cr_assert_null(KEEL_GET(app, NULL, ok_handler));
	cr_assert_null(
	        keel_app_route(app, KEEL_HTTP_TRACE, "/t", ok_handler, "t"));
	cr_assert_null(
	        keel_app_route(app, KEEL_HTTP_UNKNOWN, "/t", ok_handler, "t"));
	cr_assert_null(keel_app_route(app, KEEL_HTTP_GET, "/t", NULL, "t"));
	cr_assert_eq(keel_app_failures(app), 9);
	cr_assert_eq(keel_app_freeze(app), KEEL_EINVAL);
	cr_assert(keel_app_frozen(app));
}

Test(app, groups_prefix_their_routes_and_nest)
{
	keel_group_t *api = keel_app_group(app, "/api");
	keel_group_t *v1 = keel_group_nest(api, "/v1");
	keel_group_t *art = keel_group_nest(v1, "/articles/{slug}");
	cr_assert(api && v1 && art);
	cr_assert_str_eq(keel_route_pattern(KEEL_GET(v1, "/users", ok_handler)),
	                 "/api/v1/users");
	cr_assert_str_eq(keel_route_pattern(KEEL_GET(api, "", ok_handler)),
	                 "/api");
	cr_assert_str_eq(keel_route_pattern(KEEL_GET(api, "/", ok_handler)),
	                 "/api/");
	cr_assert_str_eq(keel_route_pattern(KEEL_DELETE(
	                         art, "/comments/{id:int}", show_params)),
	                 "/api/v1/articles/{slug}/comments/{id:int}");
	cr_assert_null(KEEL_GET(api, "users", ok_handler));
	cr_assert_null(keel_app_group(app, "/api/"));
	cr_assert_null(keel_app_group(app, "api"));
	cr_assert_null(keel_app_group(app, "/"));
	cr_assert_null(keel_app_group(app, NULL));
	cr_assert_null(keel_app_group(app, "/a//b"));
	cr_assert_null(keel_app_group(app, "/files/{p:path}"));
	keel_test_result_t r =
	        req_send("DELETE", "/api/v1/articles/how-to/comments/41");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "slug=how-to\nid=41\nid+1=42\n");
	keel_test_result_free(&r);
}

static void mw_before_note(const char *tag)
{
	char s[8];
	snprintf(s, sizeof(s), "%s>", tag);
	note(s);
}

static int before_hook(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)res;
	mw_before_note(ud);
	return KEEL_NEXT;
}

static int deny_hook(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	mw_before_note(ud);
	return keel_res_error(res, 401, "who are you");
}

static int broken_hook(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)res;
	mw_before_note(ud);
	return 0; /* neither KEEL_NEXT nor a status */
}

static void after_hook(keel_req_t *req, keel_res_t *res, void *ud)
{
	char s[24];
	(void)req;
	snprintf(s, sizeof(s), "<%s%d", (const char *)ud,
	         keel_res_get_status(res));
	note(s);
	keel_res_header(res, "X-After", ud);
}

#define MW(tag)                                                                \
	{                                                                      \
		.name = "mw_" tag, .before = before_hook, .after = after_hook, \
		.ud = tag                                                      \
	}

Test(app, middleware_runs_app_then_groups_then_route_and_unwinds)
{
	keel_middleware_t a = MW("A"), g = MW("G"), n = MW("N"), r = MW("R");
	keel_group_t *grp = keel_app_group(app, "/g");
	keel_group_t *nest = keel_group_nest(grp, "/n");
	keel_route_t *route = KEEL_POST(nest, "/x", created);
	cr_assert_eq(keel_route_use(route, &r), 0);
	cr_assert_eq(keel_group_use(nest, &n), 0);
	cr_assert_eq(keel_group_use(grp, &g), 0);
	cr_assert_eq(keel_app_use(app, &a), 0); /* order is by level */
	keel_test_result_t res = req_send("POST", "/g/n/x");
	cr_assert_eq(res.status, 201);
	cr_assert_str_eq(trace, "A>G>N>R>h<R201<N201<G201<A201");
	cr_assert_eq(keel_route_middleware_count(route), 4);
	cr_assert_str_eq(keel_route_middleware(route, 0)->name, "mw_A");
	cr_assert_str_eq(keel_route_middleware(route, 3)->name, "mw_R");
	cr_assert_null(keel_route_middleware(route, 4));
	keel_test_result_free(&res);
}

Test(app, middleware_of_a_group_stays_in_its_group)
{
	keel_middleware_t g = MW("G");
	keel_group_t *grp = keel_app_group(app, "/g");
	keel_group_use(grp, &g);
	KEEL_GET(grp, "/in", ok_handler);
	KEEL_GET(app, "/out", ok_handler);
	keel_test_result_t r = req_send("GET", "/out");
	cr_assert_str_eq(trace, "h");
	keel_test_result_free(&r);
	trace[0] = '\0';
	r = req_send("GET", "/g/in");
	cr_assert_str_eq(trace, "G>h<G200");
	keel_test_result_free(&r);
}

Test(app, answering_before_hook_stops_the_chain_but_unwinds_what_ran)
{
	keel_middleware_t a = MW("A"), r = MW("R");
	keel_middleware_t g = {.name = "auth",
	                       .before = deny_hook,
	                       .after = after_hook,
	                       .ud = "G"};
	keel_group_t *grp = keel_app_group(app, "/g");
	keel_route_t *route = KEEL_GET(grp, "/x", ok_handler);
	keel_app_use(app, &a);
	keel_group_use(grp, &g);
	keel_route_use(route, &r);
	keel_test_result_t res = req_send("GET", "/g/x");
	cr_assert_eq(res.status, 401);
	cr_assert_str_eq(trace, "A>G><G401<A401");
	cr_assert(strstr(res.body, "who are you"));
	keel_test_result_free(&res);
}

static int leaky(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "X-Secret", "db password");
	keel_res_body(res, "stack trace: secret", 19);
	return KEEL_EIO;
}

Test(app, failing_handler_becomes_a_generic_500_with_the_request_id)
{
	keel_middleware_t a = MW("A");
	keel_app_use(app, &a);
	KEEL_GET(app, "/boom", leaky);
	keel_test_result_t r = req_send("GET", "/boom");
	keel_str_t v;
	cr_assert_eq(r.status, 500);
	cr_assert_null(strstr(r.body, "secret"));
	cr_assert(strstr(r.body, "\"request_id\":\"test-"), "%s", r.body);
	cr_assert_eq(keel_test_header(&r, "X-Secret", &v), KEEL_ENOENT);
	cr_assert_str_eq(trace, "A><A500"); /* after hooks see the 500 */
	keel_test_result_free(&r);
}

Test(app, broken_middleware_is_a_500_and_after_hooks_still_run)
{
	keel_middleware_t a = MW("A");
	keel_middleware_t b = {.name = "broken",
	                       .before = broken_hook,
	                       .after = after_hook,
	                       .ud = "B"};
	keel_app_use(app, &a);
	keel_app_use(app, &b);
	KEEL_GET(app, "/x", ok_handler);
	keel_test_result_t r = req_send("GET", "/x");
	cr_assert_eq(r.status, 500);
	cr_assert_str_eq(trace, "A>B><B500<A500");
	keel_test_result_free(&r);
}

static int status_99(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)res;
	(void)ud;
	return 99;
}

Test(app, impossible_status_from_a_handler_is_a_500)
{
	KEEL_GET(app, "/x", status_99);
	keel_test_result_t r = req_send("GET", "/x");
	cr_assert_eq(r.status, 500);
	keel_test_result_free(&r);
}

Test(app, registration_after_freeze_is_refused)
{
	keel_middleware_t a = MW("A");
	keel_group_t *grp = keel_app_group(app, "/g");
	keel_route_t *r = KEEL_GET(app, "/x", ok_handler);
	cr_assert_eq(keel_app_freeze(app), 0);
	cr_assert_eq(keel_app_freeze(app), 0);
	cr_assert_null(KEEL_GET(app, "/y", ok_handler));
	cr_assert_eq(keel_app_error(app, NULL), KEEL_ESTATE);
	cr_assert_null(KEEL_GET(grp, "/y", ok_handler));
	cr_assert_null(keel_app_group(app, "/h"));
	cr_assert_null(keel_group_nest(grp, "/h"));
	cr_assert_eq(keel_app_use(app, &a), KEEL_ESTATE);
	cr_assert_eq(keel_group_use(grp, &a), KEEL_ESTATE);
	cr_assert_eq(keel_route_use(r, &a), KEEL_ESTATE);
	cr_assert_eq(keel_route_spec(r, &spec_a), KEEL_ESTATE);
	cr_assert_eq(keel_route_set_ud(r, NULL), KEEL_ESTATE);
	cr_assert_eq(keel_app_use(app, NULL), KEEL_EINVAL);
	keel_test_result_t res = req_send("GET", "/y");
	cr_assert_eq(res.status, 404);
	keel_test_result_free(&res);
}

Test(app, unknown_path_is_a_json_404)
{
	KEEL_GET(app, "/x", ok_handler);
	keel_test_result_t r = req_send("GET", "/nope");
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(r.body, "{\"error\":\"not found\"}\n");
	cr_assert(header_is(&r, "Content-Type", "application/json"));
	keel_test_result_free(&r);
}

Test(app, wrong_method_is_a_405_with_allow)
{
	KEEL_GET(app, "/r", ok_handler);
	KEEL_POST(app, "/r", created);
	KEEL_DELETE(app, "/d", ok_handler);
	keel_test_result_t r = req_send("PUT", "/r");
	cr_assert_eq(r.status, 405);
	cr_assert(header_is(&r, "Allow", "GET, HEAD, POST, OPTIONS"));
	keel_test_result_free(&r);
	r = req_send("GET", "/d");
	cr_assert_eq(r.status, 405);
	cr_assert(header_is(&r, "Allow", "DELETE, OPTIONS"));
	keel_test_result_free(&r);
	cr_assert_str_eq(trace, "");
}

Test(app, head_runs_the_get_route_without_a_body)
{
	KEEL_GET(app, "/x", ok_handler);
	keel_test_result_t r = req_send("HEAD", "/x");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 0);
	cr_assert(header_is(&r, "Content-Length", "2"));
	cr_assert_str_eq(trace, "h");
	keel_test_result_free(&r);
}

static int own_options(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "X-Own", "yes");
	return 200;
}

Test(app, options_is_automatic_unless_the_route_has_its_own)
{
	KEEL_GET(app, "/x", ok_handler);
	KEEL_PATCH(app, "/x", ok_handler);
	keel_app_route(app, KEEL_HTTP_OPTIONS, "/y", own_options, "own");
	keel_test_result_t r = req_send("OPTIONS", "/x");
	cr_assert_eq(r.status, 204);
	cr_assert(header_is(&r, "Allow", "GET, HEAD, PATCH, OPTIONS"));
	cr_assert_eq(r.body_len, 0);
	keel_test_result_free(&r);
	r = req_send("OPTIONS", "/y");
	cr_assert_eq(r.status, 200);
	cr_assert(header_is(&r, "X-Own", "yes"));
	keel_test_result_free(&r);
	r = req_send("OPTIONS", "*");
	cr_assert_eq(r.status, 204);
	cr_assert(header_is(&r, "Allow", "GET, HEAD, PATCH, OPTIONS"));
	keel_test_result_free(&r);
	r = req_send("OPTIONS", "/none");
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
}

Test(app, trailing_slash_twin_is_a_308)
{
	KEEL_GET(app, "/a", ok_handler);
	KEEL_POST(app, "/b/", created);
	KEEL_GET(app, "/caf\xc3\xa9", ok_handler);
	KEEL_GET(app, "/u/{name}", ok_handler);
	keel_test_result_t r = req_send("GET", "/a/?q=1&r=%20");
	cr_assert_eq(r.status, 308);
	cr_assert(header_is(&r, "Location", "/a?q=1&r=%20"));
	keel_test_result_free(&r);
	r = req_send("POST", "/b");
	cr_assert_eq(r.status, 308);
	cr_assert(header_is(&r, "Location", "/b/"));
	keel_test_result_free(&r);
	r = req_send("GET", "/caf%C3%A9/");
	cr_assert_eq(r.status, 308);
	cr_assert(header_is(&r, "Location", "/caf%C3%A9"));
	keel_test_result_free(&r);
	r = req_send("GET", "/u/a%20b%25c/");
	cr_assert_eq(r.status, 308);
	cr_assert(header_is(&r, "Location", "/u/a%20b%25c"));
	keel_test_result_free(&r);
	r = req_send("GET", "/c/");
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
	cr_assert_str_eq(trace, "");
}

Test(app, automatic_answers_run_inside_app_middleware_only)
{
	keel_middleware_t a = MW("A"), g = MW("G");
	keel_group_t *grp = keel_app_group(app, "/g");
	keel_group_use(grp, &g);
	keel_app_use(app, &a);
	KEEL_GET(grp, "/x", ok_handler);
	keel_test_result_t r = req_send("GET", "/g/nope");
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(trace, "A><A404");
	cr_assert(header_is(&r, "X-After", "A"));
	keel_test_result_free(&r);
	trace[0] = '\0';
	r = req_send("DELETE", "/g/x");
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(trace, "A><A405");
	keel_test_result_free(&r);
}

Test(app, path_parameters_are_decoded_and_typed)
{
	KEEL_GET(app, "/u/{name}", show_params);
	KEEL_GET(app, "/n/{id:int}", show_params);
	keel_test_result_t r = req_send("GET", "/u/J%C3%B6rg%20K");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "name=J\xc3\xb6rg K\n");
	keel_test_result_free(&r);
	r = req_send("GET", "/n/-9223372036854775807");
	cr_assert_str_eq(r.body, "id=-9223372036854775807\n"
	                         "id+1=-9223372036854775806\n");
	keel_test_result_free(&r);
	r = req_send("GET", "/n/9223372036854775808");
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
}

static int param_probe(keel_req_t *req, keel_res_t *res, void *ud)
{
	int64_t v;
	(void)ud;
	keel_res_printf(res, "%d %d %d %zu", keel_req_param_int(req, "x", &v),
	                keel_req_param_int(req, "missing", &v),
	                keel_req_param_int(req, "big", &v),
	                keel_req_param(req, "missing").len);
	return 200;
}

Test(app, param_int_reports_absent_and_non_numeric_values)
{
	KEEL_GET(app, "/p/{x}/{big}", param_probe);
	keel_test_result_t r = req_send("GET", "/p/abc/99999999999999999999");
	char want[64];
	snprintf(want, sizeof(want), "%d %d %d 0", KEEL_EINVAL, KEEL_ENOENT,
	         KEEL_ERANGE);
	cr_assert_str_eq(r.body, want);
	keel_test_result_free(&r);
}

static int show_ud(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_res_printf(res, "%s|%s", ud ? (const char *)ud : "null",
	                keel_route_get_spec(keel_req_route(req))->summary);
	return 200;
}

Test(app, handlers_get_the_route_ud_or_the_app_ud)
{
	keel_app_set_ud(app, "app");
	keel_route_t *a = KEEL_GET(app, "/a", show_ud);
	keel_route_t *b = KEEL_GET(app, "/b", show_ud);
	keel_route_t *c = KEEL_GET(app, "/c", show_ud);
	cr_assert_eq(keel_route_set_ud(b, "route"), 0);
	cr_assert_eq(keel_route_set_ud(c, NULL), 0);
	keel_route_spec(a, &spec_a);
	keel_route_spec(b, &spec_b);
	keel_route_spec(c, &spec_c);
	cr_assert_eq(keel_route_get_spec(a), &spec_a);
	keel_test_result_t r = req_send("GET", "/a");
	cr_assert_str_eq(r.body, "app|specA");
	keel_test_result_free(&r);
	r = req_send("GET", "/b");
	cr_assert_str_eq(r.body, "route|specB");
	keel_test_result_free(&r);
	r = req_send("GET", "/c");
	cr_assert_str_eq(r.body, "null|specC");
	keel_test_result_free(&r);
}

static int count_routes(const keel_route_t *r, void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%s %s;",
	         keel_http_method_name(keel_route_method(r)),
	         keel_route_pattern(r));
	return strcmp(keel_route_pattern(r), "/z") == 0 ? 7 : 0;
}

Test(app, routes_each_walks_in_pattern_then_method_order)
{
	char out[256] = "";
	KEEL_POST(app, "/b", ok_handler);
	KEEL_GET(app, "/b", ok_handler);
	KEEL_GET(app, "/a/{x}", ok_handler);
	KEEL_DELETE(app, "/z", ok_handler);
	KEEL_GET(app, "/zz", ok_handler);
	cr_assert_eq(keel_app_routes_each(app, count_routes, out), 7);
	cr_assert_str_eq(out, "GET /a/{x};GET /b;POST /b;DELETE /z;");
}

Test(app, routes_print_shows_method_pattern_handler_middleware)
{
	keel_middleware_t a = MW("A"), g = MW("G");
	keel_group_t *grp = keel_app_group(app, "/api");
	keel_app_use(app, &a);
	keel_group_use(grp, &g);
	KEEL_POST(grp, "/users", created);
	KEEL_GET(app, "/", ok_handler);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(keel_app_routes_print(app, f), 0);
	fclose(f);
	cr_assert_str_eq(buf, "METHOD  PATTERN    HANDLER    MIDDLEWARE\n"
	                      "GET     /          ok_handler mw_A\n"
	                      "POST    /api/users created    mw_A,mw_G\n");
	free(buf);
}

Test(app, run_refuses_an_app_with_failed_registrations, .timeout = 20)
{
	char prog[] = "prog", port[] = "--port=0";
	char *argv[] = {prog, port, NULL};
	KEEL_GET(app, "/x", ok_handler);
	cr_assert_null(KEEL_GET(app, "/x", ok_handler));
	cr_assert_eq(keel_app_run(app, 2, argv), 1);
}

Test(app, run_routes_subcommand_prints_the_table, .timeout = 20)
{
	char prog[] = "prog", cmd[] = "routes";
	char *argv[] = {prog, cmd, NULL};
	cr_redirect_stdout();
	KEEL_GET(app, "/listed", ok_handler);
	cr_assert_eq(keel_app_run(app, 2, argv), 0);
	fflush(stdout);
	cr_assert_stdout_eq_str("METHOD  PATTERN HANDLER    MIDDLEWARE\n"
	                        "GET     /listed ok_handler -\n");
}

Test(app, dispatch_refuses_an_unfrozen_app)
{
	keel_test_t *t = keel_test_new_handler(keel_app_dispatch, app);
	keel_test_result_t r;
	KEEL_GET(app, "/x", ok_handler);
	cr_assert_eq(keel_test_get(t, "/x", &r), 0);
	cr_assert_eq(r.status, 500);
	cr_assert_str_eq(trace, "");
	keel_test_result_free(&r);
	keel_test_free(t);
}
