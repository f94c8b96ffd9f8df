/*
 * src/web/cache_int.h - the response cache's store, shared by cache.c
 * (entries, generation) and mw_cache.c (the middleware).  Not installed.
 */
#ifndef KEEL_WEB_CACHE_INT_H
#define KEEL_WEB_CACHE_INT_H

#include "keel/cache.h"
#include "keel/str.h"

/* One stored response; key, headers and body live in data[]. */
typedef struct keel__cache_entry {
	struct keel__cache_entry *hnext;         /* hash chain */
	struct keel__cache_entry *newer, *older; /* recency list */
	uint64_t hash;
	int64_t stored_ns, expires_ns;
	size_t size; /* bytes charged against max_bytes */
	int status;
	keel_str_t key, headers, body, etag;
	char data[];
} keel__cache_entry_t;

/** A response to store; every slice is copied. */
typedef struct keel__cache_item {
	keel_str_t key, headers, body, etag;
	int status;
} keel__cache_item_t;

/** The shared generation as it is now. */
uint64_t keel__cache_gen(const keel_cache_t *c);
/**
 * The fresh entry for `key` at monotonic time `now`, marked most recently
 * used, or NULL (a miss is counted).  Entries of an older generation are
 * all dropped first; an expired one is dropped.
 */
keel__cache_entry_t *keel__cache_get(keel_cache_t *c, keel_str_t key,
                                     int64_t now);
/**
 * Keep `item`, read under generation `gen`, replacing an entry with the
 * same key; nothing is kept when the generation has moved since, or the
 * body is over max_entry.  Least recently used entries go to make room.
 * 0, KEEL_ESTATE (generation moved: not kept), KEEL_ELIMIT (too big) or
 * KEEL_ENOMEM.
 */
int keel__cache_put(keel_cache_t *c, uint64_t gen,
                    const keel__cache_item_t *item, int64_t now);
/** A quoted strong ETag for `body` into out[0..20): "\"<16 hex>\"". */
void keel__cache_etag(const keel_cache_t *c, keel_str_t body, char out[20]);

#endif
