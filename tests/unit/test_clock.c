#include <criterion/criterion.h>
#include <time.h>

#include "keel/clock.h"

/* Sleep long enough for both clocks to advance by a visible amount. */
static void clock_test_nap(void)
{
	struct timespec ts = {0, 3 * 1000 * 1000};

	while (nanosleep(&ts, &ts) != 0)
		;
}

Test(clock, monotonic_never_goes_backwards)
{
	int64_t prev = keel_clock_now_ns();

	cr_assert_gt(prev, 0);
	for (int i = 0; i < 100000; i++) {
		int64_t now = keel_clock_now_ns();
		cr_assert_geq(now, prev, "step %d went back %lld ns", i,
		              (long long)(prev - now));
		prev = now;
	}
}

Test(clock, monotonic_advances_across_a_sleep)
{
	int64_t a = keel_clock_now_ns();

	clock_test_nap();
	int64_t b = keel_clock_now_ns();
	cr_assert_geq(b - a, 3 * KEEL_NS_PER_MS);
	cr_assert_lt(b - a, 5 * KEEL_NS_PER_S);
}

Test(clock, wall_time_is_plausible)
{
	int64_t wall = keel_clock_wall_ns();
	time_t t = time(NULL);

	/* After 2024-01-01 and before 2100-01-01. */
	cr_assert_gt(wall, INT64_C(1704067200) * KEEL_NS_PER_S);
	cr_assert_lt(wall, INT64_C(4102444800) * KEEL_NS_PER_S);
	/* Agrees with time(2) to within two seconds. */
	int64_t diff = wall / KEEL_NS_PER_S - (int64_t)t;
	cr_assert(diff >= -2 && diff <= 2, "wall %lld vs time() %lld",
	          (long long)(wall / KEEL_NS_PER_S), (long long)t);
}

Test(clock, update_returns_what_the_cache_then_holds)
{
	keel_clock_snapshot_t s = keel_clock_update();

	cr_assert_eq(keel_clock_cached_ns(), s.mono_ns);
	cr_assert_eq(keel_clock_cached_ms(), s.mono_ns / KEEL_NS_PER_MS);
	cr_assert_eq(keel_clock_cached_wall_ns(), s.wall_ns);
	cr_assert_leq(s.mono_ns, keel_clock_now_ns());
}

Test(clock, cache_moves_only_on_update)
{
	keel_clock_snapshot_t s = keel_clock_update();

	clock_test_nap();
	/* Real time moved on, the cache did not. */
	cr_assert_gt(keel_clock_now_ns(), s.mono_ns);
	cr_assert_eq(keel_clock_cached_ns(), s.mono_ns);
	cr_assert_eq(keel_clock_cached_wall_ns(), s.wall_ns);

	keel_clock_snapshot_t t = keel_clock_update();
	cr_assert_geq(t.mono_ns - s.mono_ns, 3 * KEEL_NS_PER_MS);
	cr_assert_gt(t.wall_ns, s.wall_ns);
	cr_assert_eq(keel_clock_cached_ns(), t.mono_ns);
	cr_assert_geq(keel_clock_cached_ms(), s.mono_ns / KEEL_NS_PER_MS + 3);
}

Test(clock, cache_is_filled_on_first_read)
{
	/* Each Criterion test runs in a fresh process: nothing updated yet. */
	int64_t before = keel_clock_now_ns();
	int64_t cached = keel_clock_cached_ns();

	cr_assert_geq(cached, before);
	cr_assert_leq(cached, keel_clock_now_ns());
	cr_assert_gt(keel_clock_cached_wall_ns(),
	             INT64_C(1704067200) * KEEL_NS_PER_S);
}
