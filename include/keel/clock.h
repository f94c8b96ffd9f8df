/*
 * keel/clock.h - time for the server: a monotonic clock for timeouts and
 * intervals, a wall clock for timestamps, and a cached "now" that the event
 * loop refreshes once per iteration.  Timers, the Date header and rate limits
 * read the cache instead of making a system call each time; a few
 * milliseconds of staleness within one loop iteration is the point, not a
 * bug.  The cache is process-wide: each worker process runs one loop, and
 * every value is read and written atomically, so other threads may read it
 * too (they see the last update, never a torn value).
 */
#ifndef KEEL_CLOCK_H
#define KEEL_CLOCK_H

#include <stdint.h>

#include "keel/common.h"

/** Nanoseconds per millisecond / second, for conversions. */
#define KEEL_NS_PER_MS INT64_C(1000000)
#define KEEL_NS_PER_S  INT64_C(1000000000)

/** One reading of both clocks, taken together by keel_clock_update(). */
typedef struct keel_clock_snapshot {
	int64_t mono_ns; /* CLOCK_MONOTONIC: only differences are meaningful */
	int64_t wall_ns; /* CLOCK_REALTIME: nanoseconds since 1970-01-01 UTC */
} keel_clock_snapshot_t;

/** Monotonic time in nanoseconds (CLOCK_MONOTONIC); never goes backwards. */
KEEL_API int64_t keel_clock_now_ns(void);

/** Wall-clock time in nanoseconds since the Unix epoch (CLOCK_REALTIME). */
KEEL_API int64_t keel_clock_wall_ns(void);

/**
 * Read both clocks, store them as the process-wide cached "now" and return
 * them.  The event loop calls this once per iteration.
 */
KEEL_API keel_clock_snapshot_t keel_clock_update(void);

/**
 * Cached monotonic time in nanoseconds, without a system call.  Moves only
 * when keel_clock_update() runs (the first read before any update does one).
 */
KEEL_API int64_t keel_clock_cached_ns(void);

/** Cached monotonic time in milliseconds; see keel_clock_cached_ns(). */
KEEL_API int64_t keel_clock_cached_ms(void);

/** Cached wall-clock time in nanoseconds since the epoch (Date headers). */
KEEL_API int64_t keel_clock_cached_wall_ns(void);

#endif
