/*
 * keel/cache.h - a response cache for read routes: Django's cache_page
 * with invalidation on write.
 *
 * Attach keel_mw_cache to the GET routes whose anonymous answers are the
 * same for everyone (a list, a tag cloud, one article).  The first GET of
 * a URL runs the handler and keeps its 200 response; the next ones are
 * answered from memory before validation, the database or the handler
 * run.  Requests carrying Authorization or Cookie are never answered from
 * the cache nor stored: what they see may depend on who asks.
 *
 * Freshness: each worker keeps its own entries, and every worker drops
 * all of them when the shared generation moves.  keel_cache_watch moves
 * it after every commit that changed rows on a database, before the
 * writing request answers, so a client that wrote and then reads never
 * gets the old page from any worker.  Writes the server cannot see (another
 * process on the same SQLite file) show once an entry's ttl has passed.
 *
 * Every response the middleware handles carries an ETag (a hash of the
 * body unless the handler set one) and X-Cache: HIT or MISS; HIT adds Age.
 * A GET or HEAD whose If-None-Match names the current ETag gets 304 with
 * no body, hit or miss (weak comparison, keel_static_etag_match).
 */
#ifndef KEEL_CACHE_H
#define KEEL_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "keel/db.h"
#include "keel/middleware.h"

typedef struct keel_cache keel_cache_t;

/** Cache sizes and lifetime; zero fields take the defaults. */
typedef struct keel_cache_opts {
	size_t max_bytes; /* per worker, entries included; 0: 32 MiB */
	size_t max_entry; /* largest body kept; 0: 1 MiB */
	int64_t ttl_ms;   /* longest an entry is served; 0: 60 s */
} keel_cache_opts_t;

/** Counters of this process's side of the cache. */
typedef struct keel_cache_stats {
	uint64_t hits, misses, stores, evictions, flushes;
	size_t entries, bytes;
	uint64_t generation; /* the shared one */
} keel_cache_stats_t;

/**
 * A cache whose generation lives in shared memory: create it before the
 * server forks its workers.  `opts` is copied (NULL: defaults).  NULL when
 * the mapping or memory cannot be had.
 */
KEEL_API keel_cache_t *keel_cache_new(const keel_cache_opts_t *opts);
/** Free this process's entries and the mapping; NULL is ignored. */
KEEL_API void keel_cache_free(keel_cache_t *cache);
/** Make every worker's entries stale (they go at their next lookup). */
KEEL_API void keel_cache_invalidate(keel_cache_t *cache);
/**
 * Invalidate after every commit on `db` that changed rows (through
 * keel_db_on_commit, which this takes over).  Call in each worker once it
 * has opened its database.
 */
KEEL_API void keel_cache_watch(keel_cache_t *cache, keel_db_t *db);
/** This process's counters and the shared generation. */
KEEL_API keel_cache_stats_t keel_cache_stats(const keel_cache_t *cache);

/**
 * Route middleware answering GET and HEAD from `cache` (see above); the
 * cache must outlive the app.  Register it on the routes to cache, with
 * keel_route_use, after any middleware that must run on every request.
 */
KEEL_API keel_middleware_t keel_mw_cache(keel_cache_t *cache);

#endif
