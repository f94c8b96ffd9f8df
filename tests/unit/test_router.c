/*
 * Unit tests for the route trie (src/web/router.c, router_match.c):
 * precedence, backtracking, typed parameters, trailing slashes, Allow
 * masks, conflicts and refused patterns.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/router.h"

/* Distinct non-NULL values to store in the trie. */
static int rv[1200];
#define V(i) ((void *)&rv[(i)])

static keel__router_t *rt;

static void rt_setup(void)
{
	rt = keel__router_new();
	cr_assert_not_null(rt);
}

static void rt_teardown(void)
{
	keel__router_free(rt);
}

static int add(keel_http_method_t m, const char *pattern, void *v)
{
	char err[160];
	return keel__router_add(rt, m, keel_str_from_cstr(pattern), v, NULL,
	                        NULL, err, sizeof(err));
}

static void add_ok(keel_http_method_t m, const char *pattern, void *v)
{
	int rc = add(m, pattern, v);
	cr_assert_eq(rc, 0, "adding %s: %d", pattern, rc);
}

/* Match `path` for `m`; the value found (NULL when none). */
static void *match(keel_http_method_t m, const char *path, keel__match_t *out)
{
	keel__match_t local;
	keel__match_t *mm = out ? out : &local;
	int rc = keel__router_match(rt, m, keel_str_from_cstr(path), mm);
	cr_assert(rc == 0 || rc == KEEL_ENOENT);
	cr_assert_eq(rc == 0, mm->value != NULL);
	return rc == 0 ? mm->value : NULL;
}

static bool param_is(const keel__match_t *m, const char *name,
                     const char *value)
{
	for (size_t i = 0; i < m->nparams; i++)
		if (keel_str_eq(m->params[i].name, keel_str_from_cstr(name)))
			return keel_str_eq(m->params[i].value,
			                   keel_str_from_cstr(value));
	return false;
}

TestSuite(router, .init = rt_setup, .fini = rt_teardown);

Test(router, static_segment_beats_parameter)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/users/{id}", V(1));
	add_ok(KEEL_HTTP_GET, "/users/me", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/users/me", &m), V(2));
	cr_assert_eq(m.nparams, 0);
	cr_assert_eq(match(KEEL_HTTP_GET, "/users/mel", &m), V(1));
	cr_assert(param_is(&m, "id", "mel"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/users/m", &m), V(1));
}

Test(router, backtracks_when_the_static_branch_dead_ends)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/a/b/c", V(1));
	add_ok(KEEL_HTTP_GET, "/a/{x}/d", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/b/c", &m), V(1));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/b/d", &m), V(2));
	cr_assert(param_is(&m, "x", "b"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/b/e", &m), NULL);
	cr_assert_eq(m.allow, 0);
}

Test(router, backtracking_drops_the_captures_of_the_abandoned_branch)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/a/{x}/b/c", V(1));
	add_ok(KEEL_HTTP_GET, "/a/{x}/{y}/d", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/1/b/d", &m), V(2));
	cr_assert_eq(m.nparams, 2);
	cr_assert(param_is(&m, "x", "1"));
	cr_assert(param_is(&m, "y", "b"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/1/b/c", &m), V(1));
	cr_assert_eq(m.nparams, 1);
}

Test(router, backtracking_to_an_ancestor_forgets_deeper_captures)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/s/{y}/c", V(1));
	add_ok(KEEL_HTTP_GET, "/{x}/{z}/d", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/s/1/d", &m), V(2));
	cr_assert_eq(m.nparams, 2);
	cr_assert(param_is(&m, "x", "s"));
	cr_assert(param_is(&m, "z", "1"));
	cr_assert_not(param_is(&m, "y", "1"));
}

Test(router, int_parameters_are_strict_int64)
{
	static const char *const yes[] = {
	        "/n/0",
	        "/n/42",
	        "/n/-7",
	        "/n/007",
	        "/n/9223372036854775807",
	        "/n/-9223372036854775808",
	};
	static const char *const no[] = {
	        "/n/+7",
	        "/n/4a",
	        "/n/-",
	        "/n/1.5",
	        "/n/ 1",
	        "/n/0x10",
	        "/n/9223372036854775808",
	        "/n/-9223372036854775809",
	        "/n/99999999999999999999999",
	        "/n/",
	        "/n",
	};
	add_ok(KEEL_HTTP_GET, "/n/{id:int}", V(1));
	for (size_t i = 0; i < KEEL_COUNTOF(yes); i++)
		cr_expect_eq(match(KEEL_HTTP_GET, yes[i], NULL), V(1), "%s",
		             yes[i]);
	for (size_t i = 0; i < KEEL_COUNTOF(no); i++) {
		keel__match_t m;
		cr_expect_null(match(KEEL_HTTP_GET, no[i], &m), "%s", no[i]);
		cr_expect_eq(m.allow, 0, "%s is a 404, not a 405", no[i]);
	}
}

Test(router, int_parameter_that_does_not_parse_falls_to_a_static_sibling)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/n/{id:int}", V(1));
	add_ok(KEEL_HTTP_GET, "/n/latest", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/n/latest", &m), V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/n/12", &m), V(1));
	cr_assert(param_is(&m, "id", "12"));
}

Test(router, catch_all_takes_the_non_empty_rest)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/static/{rest:path}", V(1));
	add_ok(KEEL_HTTP_GET, "/static/special", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/static/a/b/c.css", &m), V(1));
	cr_assert(param_is(&m, "rest", "a/b/c.css"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/static/a/", &m), V(1));
	cr_assert(param_is(&m, "rest", "a/"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/static/special", &m), V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/static/special/x", &m), V(1));
	cr_assert(param_is(&m, "rest", "special/x"));
	cr_assert_null(match(KEEL_HTTP_GET, "/static/", &m));
	cr_assert_null(match(KEEL_HTTP_GET, "/static", &m));
}

Test(router, trailing_slash_is_a_different_route)
{
	add_ok(KEEL_HTTP_GET, "/a", V(1));
	add_ok(KEEL_HTTP_GET, "/b/", V(2));
	add_ok(KEEL_HTTP_GET, "/", V(3));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a", NULL), V(1));
	cr_assert_null(match(KEEL_HTTP_GET, "/a/", NULL));
	cr_assert_eq(match(KEEL_HTTP_GET, "/b/", NULL), V(2));
	cr_assert_null(match(KEEL_HTTP_GET, "/b", NULL));
	cr_assert_eq(match(KEEL_HTTP_GET, "/", NULL), V(3));
	cr_assert_null(match(KEEL_HTTP_GET, "//", NULL));
}

Test(router, empty_segments_never_fill_a_parameter)
{
	add_ok(KEEL_HTTP_GET, "/a/{x}/b", V(1));
	add_ok(KEEL_HTTP_GET, "/c/{x}", V(2));
	cr_assert_null(match(KEEL_HTTP_GET, "/a//b", NULL));
	cr_assert_null(match(KEEL_HTTP_GET, "/c/", NULL));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/z/b", NULL), V(1));
}

Test(router, decoded_bytes_reach_parameters_as_they_are)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/u/{name}", V(1));
	add_ok(KEEL_HTTP_GET, "/caf\xc3\xa9", V(2));
	cr_assert_eq(match(KEEL_HTTP_GET, "/u/J\xc3\xb6rg", &m), V(1));
	cr_assert(param_is(&m, "name", "J\xc3\xb6rg"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/u/a b?c#d%", &m), V(1));
	cr_assert(param_is(&m, "name", "a b?c#d%"));
	cr_assert_eq(match(KEEL_HTTP_GET, "/caf\xc3\xa9", &m), V(2));
}

Test(router, paths_must_start_with_a_slash)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/{x}", V(1));
	cr_assert_null(match(KEEL_HTTP_GET, "", &m));
	cr_assert_null(match(KEEL_HTTP_GET, "*", &m));
	cr_assert_null(match(KEEL_HTTP_GET, "x", &m));
	cr_assert_null(match(KEEL_HTTP_UNKNOWN, "/x", &m));
	cr_assert_null(match((keel_http_method_t)99, "/x", &m));
}

Test(router, allow_lists_the_methods_of_the_path)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/r", V(1));
	add_ok(KEEL_HTTP_POST, "/r", V(2));
	add_ok(KEEL_HTTP_DELETE, "/other", V(3));
	cr_assert_null(match(KEEL_HTTP_PUT, "/r", &m));
	cr_assert_eq(m.allow, (1u << KEEL_HTTP_GET) | (1u << KEEL_HTTP_POST));
	cr_assert_eq(match(KEEL_HTTP_POST, "/r", &m), V(2));
	cr_assert_null(match(KEEL_HTTP_PUT, "/nothing", &m));
	cr_assert_eq(m.allow, 0);
	cr_assert_eq(keel__router_methods(rt),
	             (1u << KEEL_HTTP_GET) | (1u << KEEL_HTTP_POST) |
	                     (1u << KEEL_HTTP_DELETE));
}

Test(router, method_decides_between_static_and_parameter_paths)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_POST, "/a/b", V(1));
	add_ok(KEEL_HTTP_GET, "/a/{x}", V(2));
	cr_assert_eq(match(KEEL_HTTP_POST, "/a/b", &m), V(1));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/b", &m), V(2));
	cr_assert(param_is(&m, "x", "b"));
	cr_assert_null(match(KEEL_HTTP_PUT, "/a/b", &m));
	cr_assert_eq(m.allow, (1u << KEEL_HTTP_GET) | (1u << KEEL_HTTP_POST));
}

Test(router, head_uses_get_unless_it_has_its_own)
{
	keel__match_t m;
	add_ok(KEEL_HTTP_GET, "/g", V(1));
	add_ok(KEEL_HTTP_GET, "/h", V(2));
	add_ok(KEEL_HTTP_HEAD, "/h", V(3));
	add_ok(KEEL_HTTP_POST, "/p", V(4));
	cr_assert_eq(match(KEEL_HTTP_HEAD, "/g", &m), V(1));
	cr_assert_eq(m.method, KEEL_HTTP_GET);
	cr_assert_eq(match(KEEL_HTTP_HEAD, "/h", &m), V(3));
	cr_assert_eq(m.method, KEEL_HTTP_HEAD);
	cr_assert_null(match(KEEL_HTTP_HEAD, "/p", &m));
	cr_assert_eq(m.allow, 1u << KEEL_HTTP_POST);
}

Test(router, same_method_and_pattern_twice_is_a_conflict)
{
	add_ok(KEEL_HTTP_GET, "/a/{x}", V(1));
	cr_assert_eq(add(KEEL_HTTP_GET, "/a/{x}", V(2)), KEEL_EEXIST);
	add_ok(KEEL_HTTP_PUT, "/a/{x}", V(3));
	cr_assert_eq(match(KEEL_HTTP_GET, "/a/1", NULL), V(1));
}

Test(router, one_parameter_name_and_type_per_position)
{
	char err[160] = "";
	add_ok(KEEL_HTTP_GET, "/a/{x}/b", V(1));
	cr_assert_eq(keel__router_add(rt, KEEL_HTTP_GET, KEEL_STR("/a/{y}/c"),
	                              V(2), NULL, NULL, err, sizeof(err)),
	             KEEL_EEXIST);
	cr_assert(strstr(err, "{y}") && strstr(err, "{x}"), "%s", err);
	cr_assert_eq(add(KEEL_HTTP_POST, "/a/{x:int}", V(3)), KEEL_EEXIST);
	cr_assert_eq(add(KEEL_HTTP_POST, "/a/{x:path}", V(3)), KEEL_EEXIST);
	add_ok(KEEL_HTTP_POST, "/a/{x}", V(4));
	add_ok(KEEL_HTTP_POST, "/a/{x:str}/c", V(5));
	/* The refused patterns left nothing behind. */
	cr_assert_null(match(KEEL_HTTP_GET, "/a/1/c", NULL));
	cr_assert_eq(match(KEEL_HTTP_POST, "/a/1/c", NULL), V(5));
}

Test(router, bad_patterns_are_refused_with_a_reason)
{
	static const char *const bad[] = {
	        "",
	        "a",
	        "//",
	        "/a//b",
	        "/{",
	        "/{}",
	        "/{1x}",
	        "/{x-y}",
	        "/{x:float}",
	        "/{x:path}/y",
	        "/{x}/{x}",
	        "/a%20b",
	        "/a b",
	        "/.",
	        "/..",
	        "/a/./b",
	        "/a{x}",
	        "/{x}y",
	        "/a?b",
	        "/a#b",
	        "/\x01",
	        "/a\\b",
	        "/{abcdefghijabcdefghijabcdefghijabc}",
	        "/{x:}",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		char err[160] = "";
		int rc = keel__router_add(rt, KEEL_HTTP_GET,
		                          keel_str_from_cstr(bad[i]), V(1),
		                          NULL, NULL, err, sizeof(err));
		cr_expect_eq(rc, KEEL_EINVAL, "%s: %d", bad[i], rc);
		cr_expect_neq(err[0], '\0', "%s has no reason", bad[i]);
	}
	cr_assert_eq(keel__router_methods(rt), 0);
	cr_assert_eq(add(KEEL_HTTP_UNKNOWN, "/x", V(1)), KEEL_EINVAL);
	cr_assert_eq(add(KEEL_HTTP_GET, "/x", NULL), KEEL_EINVAL);
}

Test(router, size_limits_are_enforced)
{
	char buf[KEEL_ROUTE_MAX_PATTERN + 64];
	size_t n = 0;
	for (int i = 0; i <= KEEL_ROUTE_MAX_PARAMS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/{p%d}", i);
	cr_assert_eq(add(KEEL_HTTP_GET, buf, V(1)), KEEL_EINVAL);
	n = 0;
	for (int i = 0; i <= KEEL_ROUTE_MAX_SEGMENTS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/s");
	cr_assert_eq(add(KEEL_HTTP_GET, buf, V(1)), KEEL_EINVAL);
	buf[0] = '/';
	memset(buf + 1, 'a', KEEL_ROUTE_MAX_PATTERN);
	buf[KEEL_ROUTE_MAX_PATTERN + 1] = '\0';
	cr_assert_eq(add(KEEL_HTTP_GET, buf, V(1)), KEEL_EINVAL);
	buf[KEEL_ROUTE_MAX_PATTERN] = '\0'; /* exactly the limit */
	add_ok(KEEL_HTTP_GET, buf, V(1));
}

Test(router, parameters_are_reported_in_pattern_order)
{
	keel_route_param_t p[KEEL_ROUTE_MAX_PARAMS];
	size_t n = 0;
	char err[160];
	cr_assert_eq(keel__router_add(rt, KEEL_HTTP_GET,
	                              KEEL_STR("/a/{slug}/c/{id:int}/{f:path}"),
	                              V(1), p, &n, err, sizeof(err)),
	             0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(p[0].name, "slug");
	cr_assert_eq(p[0].type, KEEL_PARAM_STR);
	cr_assert_str_eq(p[1].name, "id");
	cr_assert_eq(p[1].type, KEEL_PARAM_INT);
	cr_assert_str_eq(p[2].name, "f");
	cr_assert_eq(p[2].type, KEEL_PARAM_PATH);
	n = 9;
	cr_assert_eq(keel__router_parse(KEEL_STR("/x/y"), NULL, &n, err,
	                                sizeof(err)),
	             0);
	cr_assert_eq(n, 0);
}

Test(router, very_long_paths_are_matched_without_trouble)
{
	size_t len = 60000;
	char *p = malloc(len + 1);
	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i += 2)
		p[i] = '/', p[i + 1] = 'a';
	p[len] = '\0';
	add_ok(KEEL_HTTP_GET, "/a/a/{x}", V(1));
	cr_assert_null(match(KEEL_HTTP_GET, p, NULL));
	add_ok(KEEL_HTTP_GET, "/a/{all:path}", V(2));
	keel__match_t m;
	cr_assert_eq(match(KEEL_HTTP_GET, p, &m), V(2));
	cr_assert_eq(m.params[0].value.len, len - 3);
	free(p);
}

Test(router, many_routes_each_find_their_own_value)
{
	char pat[64], path[64];
	for (int i = 0; i < 1000; i++) {
		snprintf(pat, sizeof(pat), "/r%d/{id:int}/%s", i,
		         i % 2 ? "odd" : "even");
		add_ok(i % 3 ? KEEL_HTTP_GET : KEEL_HTTP_POST, pat, V(i));
	}
	for (int i = 0; i < 1000; i++) {
		keel__match_t m;
		keel_http_method_t me = i % 3 ? KEEL_HTTP_GET : KEEL_HTTP_POST;
		snprintf(path, sizeof(path), "/r%d/%d/%s", i, i * 7,
		         i % 2 ? "odd" : "even");
		cr_assert_eq(match(me, path, &m), V(i), "%s", path);
		snprintf(path, sizeof(path), "%d", i * 7);
		cr_assert(param_is(&m, "id", path));
	}
	cr_assert_null(match(KEEL_HTTP_GET, "/r1000/1/odd", NULL));
}
