/*
 * The response cache (keel/cache.h) through the in-process test client:
 * what is served from memory, what never is, invalidation by generation,
 * by a database commit and by time, eviction, and ETag / 304.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keel/app.h"
#include "keel/cache.h"
#include "keel/db.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

#define S(lit) keel_str_from_cstr(lit)

/* ------------------------------------------------------------- fixture */

typedef struct cfx {
	keel_app_t *app;
	keel_test_t *t;
	keel_cache_t *cache;
	keel_middleware_t mw, outer;
	int runs;          /* handler calls */
	int status;        /* what the handler answers */
	const char *extra; /* a header line the handler adds: "Name: value" */
	size_t body_len;   /* 0: a short body naming the run */
	bool invalidate;   /* the handler moves the generation meanwhile */
} cfx_t;

static cfx_t fx;

static int page(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	fx.runs++;
	if (fx.invalidate)
		keel_cache_invalidate(fx.cache);
	keel_res_header(res, "Content-Type", "text/plain");
	if (fx.extra) {
		keel_str_t line = S(fx.extra);
		keel_str_t name = keel_str_cut(&line, ':');
		keel_res_header_str(res, name, keel_str_trim(line));
	}
	if (fx.body_len) {
		char *big = malloc(fx.body_len);
		cr_assert_not_null(big);
		memset(big, 'x', fx.body_len);
		keel_res_body(res, big, fx.body_len);
		free(big);
	} else {
		keel_str_t q = keel_req_query(req);
		keel_res_printf(res, "run %d q=%.*s", fx.runs, KEEL_STR_FMT(q));
	}
	return fx.status;
}

/* An app-wide middleware adding a header before the route runs. */
static int outer_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_header(res, "X-Outer", "1");
	return KEEL_NEXT;
}

static void setup_opts(const keel_cache_opts_t *o)
{
	memset(&fx, 0, sizeof(fx));
	fx.status = 200;
	fx.cache = keel_cache_new(o);
	cr_assert_not_null(fx.cache);
	fx.mw = keel_mw_cache(fx.cache);
	fx.outer = (keel_middleware_t){.name = "outer", .before = outer_before};
	fx.app = keel_app_new();
	keel_app_use(fx.app, &fx.outer);
	keel_route_t *r = KEEL_GET(fx.app, "/page", page);
	keel_route_use(r, &fx.mw);
	r = KEEL_GET(fx.app, "/item/{name}", page);
	keel_route_use(r, &fx.mw);
	KEEL_POST(fx.app, "/page", page);
	fx.t = keel_test_new(fx.app);
	cr_assert_not_null(fx.t);
}

static void setup(void)
{
	setup_opts(NULL);
}

static void teardown(void)
{
	keel_test_free(fx.t);
	keel_app_free(fx.app);
	keel_cache_free(fx.cache);
}

static keel_test_result_t req(const char *method, const char *target,
                              const char *headers)
{
	keel_test_result_t r;
	cr_assert_eq(
	        keel_test_request(fx.t, method, target, headers, NULL, 0, &r),
	        0);
	return r;
}

static bool header_is(const keel_test_result_t *r, const char *name,
                      const char *want)
{
	keel_str_t v;
	if (keel_test_header(r, name, &v) < 0)
		return want == NULL;
	return want && keel_str_eq(v, S(want));
}

static int count_lines(const keel_test_result_t *r, const char *line)
{
	int n = 0;
	for (const char *p = r->headers; (p = strstr(p, line)); p++)
		n++;
	return n;
}

/* GET `target` and check which way it was answered. */
static keel_test_result_t get_expect(const char *target, const char *headers,
                                     const char *xcache)
{
	keel_test_result_t r = req("GET", target, headers);
	cr_assert(header_is(&r, "X-Cache", xcache), "%s: %s", target,
	          r.headers);
	return r;
}

static void get_and_free(const char *target, const char *headers,
                         const char *xcache)
{
	keel_test_result_t r = get_expect(target, headers, xcache);
	keel_test_result_free(&r);
}

TestSuite(cache, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- hits */

Test(cache, second_get_is_served_from_memory)
{
	keel_test_result_t a = get_expect("/page?x=1", NULL, "MISS");
	keel_test_result_t b = get_expect("/page?x=1", NULL, "HIT");
	cr_assert_eq(fx.runs, 1);
	cr_assert_eq(b.status, 200);
	cr_assert_str_eq(b.body, a.body);
	cr_assert(header_is(&b, "Content-Type", "text/plain"));
	cr_assert(header_is(&b, "Age", "0"));
	keel_str_t ea, eb;
	cr_assert_eq(keel_test_header(&a, "ETag", &ea), 0);
	cr_assert_eq(keel_test_header(&b, "ETag", &eb), 0);
	cr_assert(keel_str_eq(ea, eb));
	/* The outer middleware's header once, not once more from memory. */
	cr_assert_eq(count_lines(&b, "X-Outer: 1"), 1);
	cr_assert_eq(count_lines(&b, "ETag:"), 1);
	keel_test_result_free(&a);
	keel_test_result_free(&b);
	/* Another query string is another entry. */
	get_and_free("/page?x=2", NULL, "MISS");
	cr_assert_eq(fx.runs, 2);
	keel_cache_stats_t st = keel_cache_stats(fx.cache);
	cr_assert_eq(st.hits, 1);
	cr_assert_eq(st.misses, 2);
	cr_assert_eq(st.stores, 2);
	cr_assert_eq(st.entries, 2);
}

Test(cache, an_encoded_question_mark_is_not_a_query)
{
	/* Path "/item/a?b" (one parameter) and path "/item/a" with query
	 * "b" are two resources. */
	keel_test_result_t a = get_expect("/item/a%3Fb", NULL, "MISS");
	keel_test_result_t b = get_expect("/item/a?b", NULL, "MISS");
	cr_assert_str_neq(a.body, b.body);
	keel_test_result_free(&a);
	keel_test_result_free(&b);
	get_and_free("/item/a%3Fb", NULL, "HIT");
	get_and_free("/item/a?b", NULL, "HIT");
}

Test(cache, head_is_answered_from_a_get_entry_but_never_stores)
{
	keel_test_result_t h = req("HEAD", "/page", NULL);
	cr_assert(header_is(&h, "X-Cache", "MISS"));
	keel_test_result_free(&h);
	get_and_free("/page", NULL, "MISS");
	h = req("HEAD", "/page", NULL);
	cr_assert(header_is(&h, "X-Cache", "HIT"));
	cr_assert_eq(h.body_len, 0);
	keel_test_result_free(&h);
	cr_assert_eq(fx.runs, 2);
}

/* ------------------------------------------------------- never served */

Test(cache, personal_requests_are_neither_served_nor_stored)
{
	get_and_free("/page", NULL, "MISS");
	get_and_free("/page", "Authorization: Token abc", "MISS");
	get_and_free("/page", "Cookie: sid=1", "MISS");
	cr_assert_eq(fx.runs, 3);
	get_and_free("/page", NULL, "HIT");
	/* What a personal request got was not stored under the URL. */
	keel_cache_invalidate(fx.cache);
	get_and_free("/page?p", "Authorization: Token abc", "MISS");
	get_and_free("/page?p", NULL, "MISS");
	cr_assert_eq(fx.runs, 5);
}

Test(cache, other_methods_pass_through)
{
	get_and_free("/page", NULL, "MISS");
	keel_test_result_t r = req("POST", "/page", NULL);
	cr_assert(header_is(&r, "X-Cache", NULL));
	keel_test_result_free(&r);
	cr_assert_eq(fx.runs, 2);
}

Test(cache, only_plain_shareable_200s_are_stored)
{
	static const struct {
		int status;
		const char *extra;
	} cases[] = {
	        {404, NULL},
	        {201, NULL},
	        {200, "Set-Cookie: a=b"},
	        {200, "Cache-Control: private, max-age=10"},
	        {200, "Cache-Control: no-store"},
	        {200, "Vary: Accept-Language"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		char target[32];
		snprintf(target, sizeof(target), "/page?case=%zu", i);
		fx.status = cases[i].status;
		fx.extra = cases[i].extra;
		int before = fx.runs;
		keel_test_result_t a = req("GET", target, NULL);
		keel_test_result_t b = req("GET", target, NULL);
		cr_assert_eq(fx.runs, before + 2, "case %zu was cached", i);
		cr_assert(!header_is(&b, "X-Cache", "HIT"));
		keel_test_result_free(&a);
		keel_test_result_free(&b);
	}
	/* A Cache-Control that allows sharing is no obstacle. */
	fx.status = 200;
	fx.extra = "Cache-Control: max-age=0, no-cache";
	get_and_free("/page?shared", NULL, "MISS");
	get_and_free("/page?shared", NULL, "HIT");
}

/* --------------------------------------------------------- freshness */

Test(cache, invalidate_empties_the_cache)
{
	get_and_free("/page", NULL, "MISS");
	get_and_free("/page", NULL, "HIT");
	keel_cache_invalidate(fx.cache);
	get_and_free("/page", NULL, "MISS");
	cr_assert_eq(fx.runs, 2);
	cr_assert_eq(keel_cache_stats(fx.cache).flushes, 1);
}

Test(cache, answer_read_while_the_generation_moved_is_not_kept)
{
	fx.invalidate = true;
	get_and_free("/page", NULL, "MISS");
	fx.invalidate = false;
	get_and_free("/page", NULL, "MISS");
	get_and_free("/page", NULL, "HIT");
	cr_assert_eq(fx.runs, 2);
}

Test(cache, a_database_commit_invalidates)
{
	keel_db_error_t err;
	keel_db_t *db = keel_db_open("sqlite::memory:", NULL, &err);
	cr_assert_not_null(db, "%s", err.msg);
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(db, &c), 0);
	cr_assert_eq(keel_db_exec(c, "CREATE TABLE t(x)", NULL, 0, NULL), 0);
	keel_cache_watch(fx.cache, db);
	get_and_free("/page", NULL, "MISS");
	int64_t n;
	cr_assert_eq(
	        keel_db_query_int(c, "SELECT count(*) FROM t", NULL, 0, &n), 0);
	get_and_free("/page", NULL, "HIT"); /* a read changes nothing */
	uint64_t gen = keel_cache_stats(fx.cache).generation;
	cr_assert_eq(keel_db_exec(c, "INSERT INTO t VALUES (1)", NULL, 0, NULL),
	             0);
	cr_assert_eq(keel_cache_stats(fx.cache).generation, gen + 1);
	get_and_free("/page", NULL, "MISS");
	keel_db_release(c);
	keel_db_close(db);
}

Test(cache, entries_expire_after_the_ttl)
{
	teardown();
	keel_cache_opts_t o = {.ttl_ms = 30};
	setup_opts(&o);
	get_and_free("/page", NULL, "MISS");
	get_and_free("/page", NULL, "HIT");
	usleep(60 * 1000);
	get_and_free("/page", NULL, "MISS");
	cr_assert_eq(fx.runs, 2);
}

/* ------------------------------------------------------------- sizes */

Test(cache, least_recently_used_goes_when_full)
{
	teardown();
	keel_cache_opts_t o = {.max_bytes = 3 * 1024};
	setup_opts(&o);
	fx.body_len = 900; /* with key and headers, three do not fit */
	get_and_free("/page?a", NULL, "MISS");
	get_and_free("/page?b", NULL, "MISS");
	get_and_free("/page?a", NULL, "HIT"); /* a is now the newest */
	get_and_free("/page?c", NULL, "MISS");
	keel_cache_stats_t st = keel_cache_stats(fx.cache);
	cr_assert_eq(st.evictions, 1);
	cr_assert_leq(st.bytes, o.max_bytes);
	get_and_free("/page?a", NULL, "HIT");
	get_and_free("/page?c", NULL, "HIT");
	get_and_free("/page?b", NULL, "MISS"); /* b was the one to go */
}

Test(cache, bodies_over_max_entry_are_not_kept)
{
	teardown();
	keel_cache_opts_t o = {.max_entry = 1000};
	setup_opts(&o);
	fx.body_len = 1001;
	get_and_free("/page", NULL, "MISS");
	get_and_free("/page", NULL, "MISS");
	fx.body_len = 1000;
	get_and_free("/page?fits", NULL, "MISS");
	get_and_free("/page?fits", NULL, "HIT");
}

Test(cache, many_entries_stay_reachable)
{
	char target[32];
	for (int i = 0; i < 500; i++) {
		snprintf(target, sizeof(target), "/page?n=%d", i);
		get_and_free(target, NULL, "MISS");
	}
	for (int i = 0; i < 500; i++) {
		snprintf(target, sizeof(target), "/page?n=%d", i);
		keel_test_result_t r = get_expect(target, NULL, "HIT");
		char want[32];
		snprintf(want, sizeof(want), "run %d q=n=%d", i + 1, i);
		cr_assert_str_eq(r.body, want);
		keel_test_result_free(&r);
	}
	cr_assert_eq(keel_cache_stats(fx.cache).entries, 500);
}

/* --------------------------------------------------------- ETag, 304 */

static char *etag_of(const char *target)
{
	keel_test_result_t r = req("GET", target, NULL);
	keel_str_t v;
	cr_assert_eq(keel_test_header(&r, "ETag", &v), 0);
	char *tag = strndup(v.ptr, v.len);
	keel_test_result_free(&r);
	return tag;
}

Test(cache, if_none_match_gets_304_on_hit_and_miss)
{
	char *tag = etag_of("/page");
	char hdr[128];
	snprintf(hdr, sizeof(hdr), "If-None-Match: \"nope\", W/%s", tag);
	keel_test_result_t r = get_expect("/page", hdr, "HIT");
	cr_assert_eq(r.status, 304);
	cr_assert_eq(r.body_len, 0);
	cr_assert(header_is(&r, "ETag", tag));
	cr_assert(header_is(&r, "Content-Type", NULL));
	keel_test_result_free(&r);
	/* A personal request is a miss, and still gets its 304: the body is
	 * the same, so is the tag. */
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s\nCookie: a=1", tag);
	r = get_expect("/page", hdr, "MISS");
	cr_assert_eq(r.status, 200); /* the run count changed the body */
	keel_test_result_free(&r);
	r = get_expect("/page", "If-None-Match: \"other\"", "HIT");
	cr_assert_eq(r.status, 200);
	keel_test_result_free(&r);
	r = get_expect("/page", "If-None-Match: *", "HIT");
	cr_assert_eq(r.status, 304);
	keel_test_result_free(&r);
	free(tag);
}

Test(cache, the_etag_follows_the_body)
{
	char *a = etag_of("/page?x");
	keel_cache_invalidate(fx.cache);
	char *b = etag_of("/page?x"); /* run 2: another body */
	cr_assert_str_neq(a, b);
	cr_assert_eq(strlen(a), 18);
	cr_assert_eq(a[0], '"');
	free(a);
	free(b);
	/* A handler's own ETag is kept and used. */
	fx.extra = "ETag: \"v7\"";
	keel_cache_invalidate(fx.cache);
	keel_test_result_t r =
	        get_expect("/page", "If-None-Match: \"v7\"", "MISS");
	cr_assert_eq(r.status, 304);
	keel_test_result_free(&r);
	r = get_expect("/page", NULL, "HIT");
	cr_assert(header_is(&r, "ETag", "\"v7\""));
	keel_test_result_free(&r);
}
