#include <stdatomic.h>
#include <time.h>

#include "keel/clock.h"

/*
 * The cached readings.  Zero means "never updated": CLOCK_MONOTONIC counts
 * from boot and CLOCK_REALTIME from 1970, so neither reads zero in practice.
 * Relaxed atomics compile to plain loads and stores on x86-64 and arm64 but
 * keep readers on other threads free of torn values.
 */
static _Atomic int64_t cached_mono_ns;
static _Atomic int64_t cached_wall_ns;

/*
 * clock_gettime on these two clocks cannot fail on Linux (they always exist
 * and the pointer is ours), so the result is not checked; the vDSO answers
 * without entering the kernel.
 */
static int64_t read_clock(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * KEEL_NS_PER_S + (int64_t)ts.tv_nsec;
}

int64_t keel_clock_now_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t keel_clock_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

keel_clock_snapshot_t keel_clock_update(void)
{
	keel_clock_snapshot_t now = {
	        .mono_ns = read_clock(CLOCK_MONOTONIC),
	        .wall_ns = read_clock(CLOCK_REALTIME),
	};

	atomic_store_explicit(&cached_mono_ns, now.mono_ns,
	                      memory_order_relaxed);
	atomic_store_explicit(&cached_wall_ns, now.wall_ns,
	                      memory_order_relaxed);
	return now;
}

/*
 * A reader that runs before the loop's first update (start-up code, a test)
 * would otherwise see time zero and compute deadlines decades in the past;
 * filling the cache on first use avoids that without a separate init call.
 */
int64_t keel_clock_cached_ns(void)
{
	int64_t v = atomic_load_explicit(&cached_mono_ns, memory_order_relaxed);

	if (KEEL_UNLIKELY(v == 0))
		v = keel_clock_update().mono_ns;
	return v;
}

int64_t keel_clock_cached_ms(void)
{
	return keel_clock_cached_ns() / KEEL_NS_PER_MS;
}

int64_t keel_clock_cached_wall_ns(void)
{
	int64_t v = atomic_load_explicit(&cached_wall_ns, memory_order_relaxed);

	if (KEEL_UNLIKELY(v == 0))
		v = keel_clock_update().wall_ns;
	return v;
}
