/*
 * Rate limiting (src/security/ratelimit.c, shm.c): the token-bucket math
 * with explicit clocks (burst, even refill, no rounding drift, clocks that
 * go backwards), the shared table (independent keys, eviction under many
 * keys, exact budgets with several processes hammering one key), the
 * middleware and its headers through the test client, and the login
 * budget that answers the same for existing and unknown accounts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/app.h"
#include "keel/clock.h"
#include "keel/cors.h"
#include "keel/log.h"
#include "keel/ratelimit.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

#define S(lit) keel_str_from_cstr(lit)
#define SEC    INT64_C(1000000000)
#define MSEC   INT64_C(1000000)
#define T0     (INT64_C(100000) * SEC)

static void quiet(void)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
}

TestSuite(ratelimit, .init = quiet);

static keel_ratelimit_result_t take(int64_t *state, uint32_t limit,
                                    int64_t window_ms, uint32_t cost,
                                    int64_t now)
{
	keel_ratelimit_policy_t p = {limit, window_ms};
	keel_ratelimit_result_t r;
	cr_assert_eq(keel_ratelimit_bucket_take(state, &p, cost, now, &r), 0);
	return r;
}

/* ------------------------------------------------------ bucket math */

Test(ratelimit, bucket_allows_a_burst_then_refuses)
{
	int64_t st = 0;
	for (uint32_t i = 0; i < 5; i++) {
		keel_ratelimit_result_t r = take(&st, 5, 1000, 1, T0);
		cr_assert(r.allowed, "take %u", i);
		cr_assert_eq(r.remaining, 4 - i);
		cr_assert_eq(r.limit, 5);
		cr_assert_eq(r.retry_ms, 0);
		cr_assert_eq(r.reset_ms, 200 * (i + 1));
	}
	int64_t before = st;
	keel_ratelimit_result_t r = take(&st, 5, 1000, 1, T0);
	cr_assert_not(r.allowed);
	cr_assert_eq(r.remaining, 0);
	cr_assert_eq(r.retry_ms, 200);
	cr_assert_eq(r.reset_ms, 1000);
	cr_assert_eq(st, before, "a refusal must not change the bucket");
}

Test(ratelimit, bucket_refills_evenly_and_caps_at_the_limit)
{
	int64_t st = 0;
	for (int i = 0; i < 5; i++)
		take(&st, 5, 1000, 1, T0);
	cr_assert_not(take(&st, 5, 1000, 1, T0 + 199 * MSEC).allowed);
	keel_ratelimit_result_t r = take(&st, 5, 1000, 1, T0 + 200 * MSEC);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 0);
	/* An hour idle refills to the limit, not past it. */
	r = take(&st, 5, 1000, 1, T0 + 3600 * SEC);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 4);
	int n = 1;
	while (take(&st, 5, 1000, 1, T0 + 3600 * SEC).allowed)
		n++;
	cr_assert_eq(n, 5);
}

Test(ratelimit, bucket_cost_and_peek)
{
	int64_t st = 0;
	keel_ratelimit_result_t r = take(&st, 5, 1000, 3, T0);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 2);
	int64_t kept = st;
	r = take(&st, 5, 1000, 0, T0);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 2);
	cr_assert_eq(st, kept, "a peek must not change the bucket");
	r = take(&st, 5, 1000, 3, T0);
	cr_assert_not(r.allowed);
	cr_assert_eq(r.retry_ms, 200, "one token missing: 200 ms");
	cr_assert(take(&st, 5, 1000, 5, T0 + 2 * SEC).allowed);
}

/*
 * The classic fixed-point bug: refilling in small steps rounds each step's
 * fraction of a token down to zero and the bucket never refills.  10 per
 * minute polled every millisecond for 10 minutes must give exactly 100,
 * and 7 per minute (a period that is not a whole number of ns) exactly
 * 7 per minute over 70 minutes.
 */
Test(ratelimit, bucket_has_no_rounding_drift)
{
	int64_t st = 0;
	for (int i = 0; i < 10; i++)
		cr_assert(take(&st, 10, 60000, 1, T0).allowed);
	int n = 0;
	for (int64_t ms = 1; ms <= 600000; ms++)
		n += take(&st, 10, 60000, 1, T0 + ms * MSEC).allowed;
	cr_assert_eq(n, 100);

	st = 0;
	for (int i = 0; i < 7; i++)
		cr_assert(take(&st, 7, 60000, 1, T0).allowed);
	n = 0;
	for (int64_t ms = 1; ms <= 70 * 60000; ms++)
		n += take(&st, 7, 60000, 1, T0 + ms * MSEC).allowed;
	cr_assert_eq(n, 490);
}

Test(ratelimit, bucket_survives_time_going_backwards)
{
	int64_t st = 0;
	/* 10 per 10 s: one token a second. */
	cr_assert(take(&st, 10, 10000, 1, T0).allowed);
	/* Half a second "earlier" (another process's older reading):
	 * no refill, the debt simply looks larger. */
	keel_ratelimit_result_t r = take(&st, 10, 10000, 1, T0 - SEC / 2);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 7);
	/* Far earlier than a window: at most one empty bucket of debt. */
	for (int i = 0; i < 8; i++)
		take(&st, 10, 10000, 1, T0);
	r = take(&st, 10, 10000, 1, T0 - 3600 * SEC);
	cr_assert_not(r.allowed);
	cr_assert_leq(r.retry_ms, 1000);
	cr_assert_leq(r.reset_ms, 10000);
	cr_assert_eq(take(&st, 10, 10000, 0, T0 - 3590 * SEC).remaining, 10,
	             "full one window after the jump");
}

Test(ratelimit, bucket_refuses_bad_arguments)
{
	int64_t st = 0;
	keel_ratelimit_result_t r;
	keel_ratelimit_policy_t ok = {5, 1000}, p;
	cr_assert_eq(keel_ratelimit_bucket_take(&st, &ok, 6, T0, &r),
	             KEEL_ERANGE);
	cr_assert_eq(keel_ratelimit_bucket_take(&st, &ok, 1, -1, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_ratelimit_bucket_take(NULL, &ok, 1, T0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_ratelimit_bucket_take(&st, NULL, 1, T0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_ratelimit_bucket_take(&st, &ok, 1, T0, NULL),
	             KEEL_EINVAL);
	p = (keel_ratelimit_policy_t){0, 1000};
	cr_assert_not(keel_ratelimit_policy_valid(&p));
	p = (keel_ratelimit_policy_t){KEEL_RATELIMIT_MAX_LIMIT + 1, 1000};
	cr_assert_not(keel_ratelimit_policy_valid(&p));
	p = (keel_ratelimit_policy_t){5, 0};
	cr_assert_not(keel_ratelimit_policy_valid(&p));
	p = (keel_ratelimit_policy_t){5, KEEL_RATELIMIT_MAX_WINDOW + 1};
	cr_assert_not(keel_ratelimit_policy_valid(&p));
	cr_assert_eq(keel_ratelimit_bucket_take(&st, &p, 1, T0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(st, 0);
}

Test(ratelimit, bucket_extremes_do_not_overflow)
{
	int64_t st = 0;
	uint32_t big = KEEL_RATELIMIT_MAX_LIMIT;
	int64_t w = KEEL_RATELIMIT_MAX_WINDOW;
	keel_ratelimit_result_t r = take(&st, big, w, big, T0);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 0);
	cr_assert_geq(r.reset_ms, w - 1);
	cr_assert_leq(r.reset_ms, w);
	/* Read under a 1-per-ms policy, a month of debt is clamped to one
	 * empty bucket: refused for a millisecond, not a month. */
	r = take(&st, 1, 1, 1, T0);
	cr_assert_not(r.allowed);
	cr_assert_eq(r.retry_ms, 1);
	cr_assert(take(&st, 1, 1, 1, T0 + MSEC).allowed);
	st = 0;
	r = take(&st, big, 1, 1, T0);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, big - 1);
}

/* ----------------------------------------------------- shared table */

static keel_ratelimit_result_t shm_take(keel_ratelimit_shm_t *t,
                                        const char *key, uint32_t limit,
                                        int64_t window_ms, int64_t now)
{
	keel_ratelimit_policy_t p = {limit, window_ms};
	keel_ratelimit_result_t r;
	cr_assert_eq(keel_ratelimit_shm_take(t, S(key), &p, 1, now, &r), 0);
	return r;
}

Test(ratelimit, shm_sizes_are_checked_and_rounded)
{
	keel_ratelimit_shm_stats_t st;
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(100);
	cr_assert_not_null(t);
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.slots, 128);
	keel_ratelimit_shm_free(t);
	t = keel_ratelimit_shm_new(0);
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.slots, 65536);
	keel_ratelimit_shm_free(t);
	t = keel_ratelimit_shm_new(1);
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.slots, 64);
	keel_ratelimit_shm_free(t);
	cr_assert_null(keel_ratelimit_shm_new((size_t)1 << 27));
	keel_ratelimit_shm_free(NULL);
}

Test(ratelimit, shm_keys_have_their_own_buckets)
{
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(64);
	for (int i = 0; i < 3; i++) {
		cr_assert(shm_take(t, "alice", 3, 60000, T0).allowed);
		cr_assert(shm_take(t, "bob", 3, 60000, T0).allowed);
	}
	cr_assert_not(shm_take(t, "alice", 3, 60000, T0).allowed);
	cr_assert_not(shm_take(t, "bob", 3, 60000, T0).allowed);
	cr_assert(shm_take(t, "", 3, 60000, T0).allowed, "empty key works");
	keel_ratelimit_shm_stats_t st;
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 3);
	keel_ratelimit_shm_free(t);
}

Test(ratelimit, shm_peek_creates_no_bucket)
{
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(64);
	keel_ratelimit_policy_t p = {4, 1000};
	keel_ratelimit_result_t r;
	cr_assert_eq(keel_ratelimit_shm_take(t, S("x"), &p, 0, T0, &r), 0);
	cr_assert(r.allowed);
	cr_assert_eq(r.remaining, 4);
	keel_ratelimit_shm_stats_t st;
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 0);
	cr_assert_eq(keel_ratelimit_shm_take(t, S("x"), &p, 5, T0, &r),
	             KEEL_ERANGE);
	p.limit = 0;
	cr_assert_eq(keel_ratelimit_shm_take(t, S("x"), &p, 1, T0, &r),
	             KEEL_EINVAL);
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 0, "bad calls claim nothing");
	keel_ratelimit_shm_free(t);
}

/*
 * 1000 clients through 64 slots: every newcomer is served (a full table
 * evicts rather than refuses), live evictions are counted while buckets
 * are in use, and once they have refilled only stale ones are evicted.
 */
Test(ratelimit, shm_many_keys_evict_stale_buckets_first)
{
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(64);
	keel_ratelimit_shm_stats_t st;
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "client-%d", i);
		cr_assert(shm_take(t, key, 2, 60000, T0).allowed, "%s", key);
	}
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 64);
	cr_assert_eq(st.evicted_live, 1000 - 64);
	cr_assert_eq(st.evicted_stale, 0);
	uint64_t live = st.evicted_live;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "later-%d", i);
		cr_assert(shm_take(t, key, 2, 60000, T0 + 61 * SEC).allowed);
	}
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 64);
	cr_assert_geq(st.evicted_stale, 64, "the old buckets were full");
	cr_assert_eq(st.evicted_live + st.evicted_stale, live + 1000);
	/* The most recent key is still tracked exactly. */
	cr_assert(shm_take(t, "later-999", 2, 60000, T0 + 61 * SEC).allowed);
	cr_assert_not(
	        shm_take(t, "later-999", 2, 60000, T0 + 61 * SEC).allowed);
	keel_ratelimit_shm_free(t);
}

/* Each child takes until it has tried `tries` times; reports its count. */
static int hammer(keel_ratelimit_shm_t *t, const char *key, int tries,
                  uint32_t limit, int64_t now)
{
	keel_ratelimit_policy_t p = {limit, 3600 * 1000};
	int allowed = 0;
	for (int i = 0; i < tries; i++) {
		keel_ratelimit_result_t r;
		if (keel_ratelimit_shm_take(t, S(key), &p, 1, now, &r) == 0 &&
		    r.allowed)
			allowed++;
	}
	return allowed;
}

/* Fork `kids` hammering children that all start at once (they wait for
 * the end of the `go` pipe) and sum what they were allowed. */
static int run_children(keel_ratelimit_shm_t *t, const char *key, int kids,
                        int tries, uint32_t limit, int64_t now)
{
	int fds[2], go[2], total = 0;
	pid_t pids[16];
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(pipe(go), 0);
	for (int i = 0; i < kids; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(2);
			int n = hammer(t, key, tries, limit, now);
			_exit(write(fds[1], &n, sizeof(n)) == sizeof(n) ? 0
			                                                : 1);
		}
	}
	close(go[0]);
	close(go[1]);
	close(fds[1]);
	for (int i = 0; i < kids; i++) {
		int n = 0, status = 0;
		cr_assert_eq(read(fds[0], &n, sizeof(n)), (ssize_t)sizeof(n));
		total += n;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(fds[0]);
	return total;
}

Test(ratelimit, shm_processes_share_one_budget_exactly)
{
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(1024);
	for (int round = 0; round < 5; round++) {
		char key[32];
		snprintf(key, sizeof(key), "shared-%d", round);
		int total = run_children(t, key, 4, 40000, 100000, T0);
		cr_assert_eq(total, 100000, "round %d: 4 processes got %d",
		             round, total);
	}
	/* The parent sees what the children spent. */
	cr_assert_not(shm_take(t, "shared-0", 100000, 3600 * 1000, T0).allowed);
	keel_ratelimit_shm_stats_t st;
	keel_ratelimit_shm_stats(t, &st);
	cr_assert_eq(st.used, 5, "one bucket per key, never a duplicate");
	cr_assert_eq(st.contended, 0);
	keel_ratelimit_shm_free(t);
}

Test(ratelimit, shm_processes_with_the_real_clock)
{
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(64);
	/* One token per 3.6 s: the run is far shorter than that. */
	int total =
	        run_children(t, "clock", 4, 3000, 1000, keel_clock_now_ns());
	cr_assert_eq(total, 1000);
	keel_ratelimit_shm_free(t);
}

/* --------------------------------------------------------- limiters */

typedef struct fake {
	int takes, frees, rc;
	uint32_t last_cost;
} fake_t;

static int fake_take(void *self, keel_str_t key,
                     const keel_ratelimit_policy_t *p, uint32_t cost,
                     int64_t now, keel_ratelimit_result_t *out)
{
	fake_t *f = self;
	(void)key;
	(void)now;
	f->takes++;
	f->last_cost = cost;
	*out = (keel_ratelimit_result_t){.allowed = true,
	                                 .limit = p->limit,
	                                 .remaining = p->limit - cost};
	return f->rc;
}

static void fake_free(void *self)
{
	((fake_t *)self)->frees++;
}

static const keel_ratelimit_backend_t fake_be = {"fake", fake_take, fake_free};

Test(ratelimit, limiter_uses_its_backend_and_owns_it)
{
	fake_t f = {0};
	keel_ratelimit_opts_t o;
	keel_ratelimit_opts_init(&o);
	cr_assert_eq(o.limit, 60);
	cr_assert_eq(o.window_ms, 60000);
	keel_ratelimit_t *rl = keel_ratelimit_new_backend(&o, &fake_be, &f);
	cr_assert_not_null(rl);
	keel_ratelimit_result_t r;
	cr_assert_eq(keel_ratelimit_take(rl, S("k"), 2, T0, &r), 0);
	cr_assert_eq(f.takes, 1);
	cr_assert_eq(f.last_cost, 2);
	cr_assert_eq(r.remaining, 58);
	cr_assert_eq(keel_ratelimit_policy(rl)->limit, 60);
	keel_ratelimit_free(rl);
	cr_assert_eq(f.frees, 1);
	/* A failed construction still releases what it was given. */
	o.limit = 0;
	cr_assert_null(keel_ratelimit_new_backend(&o, &fake_be, &f));
	cr_assert_eq(f.frees, 2);
	cr_assert_null(keel_ratelimit_new(&o));
	keel_ratelimit_free(NULL);
}

static keel_ip_t ip(const char *s)
{
	keel_ip_t a;
	cr_assert_eq(keel_ip_parse(S(s), &a), 0, "%s", s);
	return a;
}

static bool same_key(const char *a, const char *b)
{
	uint8_t ka[KEEL_RATELIMIT_ADDR_KEY], kb[KEEL_RATELIMIT_ADDR_KEY];
	keel_ip_t ia = ip(a), ib = ip(b);
	size_t na = keel_ratelimit_addr_key(&ia, ka);
	size_t nb = keel_ratelimit_addr_key(&ib, kb);
	return na == nb && memcmp(ka, kb, na) == 0;
}

Test(ratelimit, address_keys_group_ipv6_by_64)
{
	uint8_t k[KEEL_RATELIMIT_ADDR_KEY];
	keel_ip_t a = ip("192.0.2.7");
	cr_assert_eq(keel_ratelimit_addr_key(&a, k), 5);
	cr_assert_eq(k[0], 4);
	cr_assert_eq(k[4], 7);
	cr_assert(same_key("192.0.2.7", "::ffff:192.0.2.7"));
	cr_assert_not(same_key("192.0.2.7", "192.0.2.8"));
	cr_assert(same_key("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"));
	cr_assert_not(same_key("2001:db8:1:2::1", "2001:db8:1:3::1"));
	/* An IPv6 prefix never equals an IPv4 key. */
	cr_assert_not(same_key("192.0.2.7", "c000:207::"));
	a = ip("2001:db8::1");
	cr_assert_eq(keel_ratelimit_addr_key(&a, k), 9);
}

/* ------------------------------------------------- middleware, headers */

static int ok_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "ok", 2);
	return 200;
}

static bool header_is(const keel_test_result_t *r, const char *name,
                      const char *want)
{
	keel_str_t v;
	return keel_test_header(r, name, &v) == 0 && keel_str_eq(v, S(want));
}

static bool has_header(const keel_test_result_t *r, const char *name)
{
	keel_str_t v;
	return keel_test_header(r, name, &v) == 0;
}

static int count_lines(const keel_test_result_t *r, const char *prefix)
{
	int n = 0;
	for (const char *p = r->headers; (p = strstr(p, prefix)); p++)
		n++;
	return n;
}

static keel_test_t *limited_app(keel_app_t **app,
                                const keel_mw_ratelimit_opts_t *o)
{
	keel_middleware_t mw = keel_mw_ratelimit(o);
	*app = keel_app_new();
	cr_assert_not_null(*app);
	cr_assert_eq(keel_app_use(*app, &mw), 0);
	KEEL_GET(*app, "/x", ok_handler);
	keel_test_t *t = keel_test_new(*app);
	cr_assert_not_null(t);
	return t;
}

Test(ratelimit, middleware_counts_down_then_answers_429)
{
	keel_ratelimit_opts_t o = {.limit = 3, .window_ms = 60000, .slots = 64};
	keel_mw_ratelimit_opts_t mo = {.limiter = keel_ratelimit_new(&o)};
	keel_app_t *app;
	keel_test_t *t = limited_app(&app, &mo);
	keel_test_result_t r;
	const char *left[] = {"2", "1", "0"}, *reset[] = {"20", "40", "60"};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(keel_test_get(t, "/x", &r), 0);
		cr_assert_eq(r.status, 200);
		cr_assert(header_is(&r, "RateLimit-Limit", "3"));
		cr_assert(header_is(&r, "RateLimit-Remaining", left[i]));
		cr_assert(header_is(&r, "RateLimit-Reset", reset[i]), "%s",
		          r.headers);
		cr_assert(header_is(&r, "RateLimit-Policy", "3;w=60"));
		cr_assert_not(has_header(&r, "Retry-After"));
		keel_test_result_free(&r);
	}
	cr_assert_eq(keel_test_get(t, "/x", &r), 0);
	cr_assert_eq(r.status, 429);
	cr_assert(header_is(&r, "Retry-After", "20"), "%s", r.headers);
	cr_assert(header_is(&r, "RateLimit-Remaining", "0"));
	cr_assert(header_is(&r, "Content-Type", "application/json"));
	cr_assert_not_null(strstr(r.body, "\"rate_limit\""), "%s", r.body);
	cr_assert_eq(count_lines(&r, "RateLimit-Limit:"), 1);
	keel_test_result_free(&r);
	/* Automatic answers are limited too: they run inside middleware. */
	cr_assert_eq(keel_test_get(t, "/nowhere", &r), 0);
	cr_assert_eq(r.status, 429);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_free(mo.limiter);
}

/* Keyed by a user header; requests without one are not limited. */
static int user_key(keel_req_t *req, keel_str_t *key, void *ud)
{
	(void)ud;
	return keel_req_header(req, "X-User", key) == 0 ? 0 : KEEL_ENOENT;
}

Test(ratelimit, middleware_key_function_and_cost)
{
	keel_ratelimit_opts_t o = {.limit = 5, .window_ms = 60000, .slots = 64};
	keel_mw_ratelimit_opts_t mo = {
	        .limiter = keel_ratelimit_new(&o), .key = user_key, .cost = 2};
	keel_app_t *app;
	keel_test_t *t = limited_app(&app, &mo);
	keel_test_result_t r;
	int statuses[3];
	for (int i = 0; i < 3; i++) {
		keel_test_request(t, "GET", "/x", "X-User: ann", NULL, 0, &r);
		statuses[i] = r.status;
		keel_test_result_free(&r);
	}
	cr_assert(statuses[0] == 200 && statuses[1] == 200 &&
	          statuses[2] == 429);
	keel_test_request(t, "GET", "/x", "X-User: ben", NULL, 0, &r);
	cr_assert_eq(r.status, 200, "another user has their own bucket");
	cr_assert(header_is(&r, "RateLimit-Remaining", "3"));
	keel_test_result_free(&r);
	for (int i = 0; i < 5; i++) {
		keel_test_get(t, "/x", &r);
		cr_assert_eq(r.status, 200);
		cr_assert_not(has_header(&r, "RateLimit-Limit"));
		keel_test_result_free(&r);
	}
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_free(mo.limiter);
}

Test(ratelimit, middleware_fails_open_when_the_backend_fails)
{
	fake_t f = {.rc = KEEL_EIO};
	keel_mw_ratelimit_opts_t mo = {
	        .limiter = keel_ratelimit_new_backend(NULL, &fake_be, &f)};
	keel_app_t *app;
	keel_test_t *t = limited_app(&app, &mo);
	keel_test_result_t r;
	keel_test_get(t, "/x", &r);
	cr_assert_eq(r.status, 200);
	cr_assert_not(has_header(&r, "RateLimit-Limit"));
	cr_assert_eq(f.takes, 1);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_free(mo.limiter);
	/* No limiter at all: a harmless no-op. */
	keel_mw_ratelimit_opts_t none = {0};
	t = limited_app(&app, &none);
	keel_test_get(t, "/x", &r);
	cr_assert_eq(r.status, 200);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}

/* The recommended order, CORS first: preflights never reach the limiter
 * and a browser can read the 429. */
Test(ratelimit, preflights_are_free_and_429s_carry_cors)
{
	static const char *const origins[] = {"https://app.example", NULL};
	keel_cors_opts_t co;
	keel_cors_opts_init(&co);
	co.origins = origins;
	keel_ratelimit_opts_t o = {.limit = 1, .window_ms = 60000, .slots = 64};
	keel_mw_ratelimit_opts_t mo = {.limiter = keel_ratelimit_new(&o)};
	keel_middleware_t cors = keel_mw_cors(&co), rl = keel_mw_ratelimit(&mo);
	keel_app_t *app = keel_app_new();
	keel_app_use(app, &cors);
	keel_app_use(app, &rl);
	KEEL_GET(app, "/x", ok_handler);
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	for (int i = 0; i < 3; i++) {
		keel_test_request(t, "OPTIONS", "/x",
		                  "Origin: https://app.example\n"
		                  "Access-Control-Request-Method: GET",
		                  NULL, 0, &r);
		cr_assert_eq(r.status, 204);
		cr_assert_not(has_header(&r, "RateLimit-Limit"));
		keel_test_result_free(&r);
	}
	keel_test_request(t, "GET", "/x", "Origin: https://app.example", NULL,
	                  0, &r);
	cr_assert_eq(r.status, 200);
	keel_test_result_free(&r);
	keel_test_request(t, "GET", "/x", "Origin: https://app.example", NULL,
	                  0, &r);
	cr_assert_eq(r.status, 429);
	cr_assert(header_is(&r, "Access-Control-Allow-Origin",
	                    "https://app.example"));
	cr_assert(has_header(&r, "Retry-After"));
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_free(mo.limiter);
}

/* Headers written twice (an inner and an outer limiter) stay single. */
static int twice_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_ratelimit_policy_t p = {10, 90500};
	keel_ratelimit_result_t a = {true, 10, 9, 9050, 0};
	keel_ratelimit_result_t b = {false, 10, 0, 90001, 1};
	(void)req;
	(void)ud;
	cr_assert_eq(keel_ratelimit_headers(res, &p, &a), 0);
	cr_assert_eq(keel_ratelimit_headers(res, &p, &b), 0);
	return 200;
}

Test(ratelimit, headers_replace_earlier_ones)
{
	keel_test_t *t = keel_test_new_handler(twice_handler, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(count_lines(&r, "RateLimit-Limit:"), 1);
	cr_assert_eq(count_lines(&r, "RateLimit-Remaining:"), 1);
	cr_assert(header_is(&r, "RateLimit-Remaining", "0"));
	cr_assert(header_is(&r, "RateLimit-Reset", "91"), "rounded up");
	cr_assert(header_is(&r, "RateLimit-Policy", "10;w=91"));
	cr_assert(header_is(&r, "Retry-After", "1"), "never 0 on a refusal");
	keel_test_result_free(&r);
	keel_test_free(t);
}

/* ------------------------------------------------------------ login */

static const char *const known_accounts[] = {"alice@example.com", NULL};

/* A login handler in the recommended shape: budget first, then the
 * lookup, and the same 401 for an unknown user and a wrong password. */
static int login_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_ratelimit_login_t *l = ud;
	keel_str_t account = keel_req_body(req);
	int rc = keel_ratelimit_login_check(l, req, res, account);
	if (rc != KEEL_NEXT)
		return rc;
	bool exists = false;
	for (const char *const *a = known_accounts; *a; a++)
		exists |= keel_str_eq_nocase(keel_str_trim(account), S(*a));
	(void)exists; /* the password is always wrong in this test */
	return keel_res_error(res, 401, "wrong email or password");
}

static keel_test_t *login_app(keel_app_t **app, keel_ratelimit_login_t *l)
{
	*app = keel_app_new();
	keel_route_t *rt = KEEL_POST(*app, "/login", login_handler);
	cr_assert_not_null(rt);
	keel_route_set_ud(rt, l);
	return keel_test_new(*app);
}

static void login_opts(keel_ratelimit_login_opts_t *o, uint32_t per_addr,
                       uint32_t per_account)
{
	keel_ratelimit_login_opts_init(o);
	o->addr.limit = per_addr;
	o->addr.slots = 64;
	o->account.limit = per_account;
	o->account.slots = 64;
}

/* Everything the client sees of one attempt, minus the request id. */
static void login_answer(keel_test_t *t, const char *account, char *out,
                         size_t cap)
{
	keel_test_result_t r;
	keel_str_t v;
	cr_assert_eq(keel_test_request(t, "POST", "/login", NULL, account,
	                               strlen(account), &r),
	             0);
	int n = snprintf(out, cap, "%d|%s|", r.status, r.body);
	const char *names[] = {"RateLimit-Limit", "RateLimit-Remaining",
	                       "RateLimit-Reset", "RateLimit-Policy",
	                       "Retry-After"};
	for (size_t i = 0; i < KEEL_COUNTOF(names); i++) {
		if (keel_test_header(&r, names[i], &v) < 0)
			v = S("-");
		n += snprintf(out + n, cap - (size_t)n, "%s=%.*s;", names[i],
		              KEEL_STR_FMT(v));
	}
	keel_test_result_free(&r);
}

Test(ratelimit, login_answers_the_same_for_existing_and_unknown_accounts)
{
	keel_ratelimit_login_opts_t o;
	login_opts(&o, 100, 3);
	keel_ratelimit_login_t *la = keel_ratelimit_login_new(&o);
	keel_ratelimit_login_t *lb = keel_ratelimit_login_new(&o);
	cr_assert(la && lb);
	keel_app_t *aa, *ab;
	keel_test_t *ta = login_app(&aa, la), *tb = login_app(&ab, lb);
	char ea[512], eb[512];
	for (int i = 0; i < 5; i++) {
		login_answer(ta, "alice@example.com", ea, sizeof(ea));
		login_answer(tb, "nobody@example.com", eb, sizeof(eb));
		cr_assert_str_eq(ea, eb, "attempt %d", i);
		cr_assert_eq(strncmp(ea, i < 3 ? "401|" : "429|", 4), 0, "%s",
		             ea);
	}
	keel_test_free(ta);
	keel_test_free(tb);
	keel_app_free(aa);
	keel_app_free(ab);
	keel_ratelimit_login_free(la);
	keel_ratelimit_login_free(lb);
}

Test(ratelimit, login_budget_per_account_ignores_case_and_spaces)
{
	keel_ratelimit_login_opts_t o;
	login_opts(&o, 100, 2);
	keel_ratelimit_login_t *l = keel_ratelimit_login_new(&o);
	keel_app_t *app;
	keel_test_t *t = login_app(&app, l);
	char out[512];
	login_answer(t, "Alice@Example.com", out, sizeof(out));
	cr_assert_eq(strncmp(out, "401|", 4), 0);
	cr_assert_not_null(strstr(out, "RateLimit-Limit=2;"), "%s", out);
	login_answer(t, "  alice@example.COM\t", out, sizeof(out));
	cr_assert_eq(strncmp(out, "401|", 4), 0);
	login_answer(t, "alice@example.com", out, sizeof(out));
	cr_assert_eq(strncmp(out, "429|", 4), 0, "%s", out);
	cr_assert_not_null(strstr(out, "Retry-After=150;"), "%s", out);
	login_answer(t, "bob@example.com", out, sizeof(out));
	cr_assert_eq(strncmp(out, "401|", 4), 0, "another account: %s", out);
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_login_free(l);
}

Test(ratelimit, login_budget_per_address_spans_accounts)
{
	keel_ratelimit_login_opts_t o;
	login_opts(&o, 3, 100);
	keel_ratelimit_login_t *l = keel_ratelimit_login_new(&o);
	keel_app_t *app;
	keel_test_t *t = login_app(&app, l);
	char out[512], name[32];
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "user%d@example.com", i);
		login_answer(t, name, out, sizeof(out));
		cr_assert_eq(strncmp(out, i < 3 ? "401|" : "429|", 4), 0,
		             "attempt %d: %s", i, out);
	}
	cr_assert_not_null(strstr(out, "RateLimit-Limit=3;"), "%s", out);
	keel_test_free(t);
	keel_app_free(app);
	keel_ratelimit_login_free(l);
	o.account.limit = 0;
	cr_assert_null(keel_ratelimit_login_new(&o));
	keel_ratelimit_login_free(NULL);
}
