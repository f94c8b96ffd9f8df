/*
 * The response cache's store.
 *
 * Workers are processes: each keeps its own entries (a chained hash table
 * threaded on a recency list, bounded in bytes), and they agree on
 * freshness through one 64-bit generation in a MAP_SHARED page made
 * before the fork.  A write anywhere bumps it with one atomic add; a
 * worker that sees it moved drops everything it holds, so a lookup costs
 * one atomic load more than a private cache.  An entry also expires after
 * ttl_ms, which bounds what writes the generation never hears of can do.
 *
 * Keys are request targets, which clients choose, so they are hashed with
 * a keyed SipHash (libsodium's shorthash): no one can aim requests at one
 * chain.  The same hash, under the same key in every worker, gives the
 * body's ETag, so a client bouncing between workers sees one validator.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "keel/clock.h"
#include "web/cache_int.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to work across processes");

#define MIN_BUCKETS 64u

struct keel_cache {
	keel_cache_opts_t o;
	_Atomic uint64_t *gen; /* shared by every process */
	uint64_t seen_gen;     /* the generation this process's entries have */
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	keel__cache_entry_t **buckets;
	size_t nbuckets; /* a power of two */
	keel__cache_entry_t *newest, *oldest;
	keel_cache_stats_t st;
};

static uint64_t hash(const keel_cache_t *c, keel_str_t s)
{
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, (const unsigned char *)s.ptr, s.len, c->hkey);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return h;
}

keel_cache_t *keel_cache_new(const keel_cache_opts_t *opts)
{
	if (sodium_init() < 0)
		return NULL;
	keel_cache_t *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (opts)
		c->o = *opts;
	if (!c->o.max_bytes)
		c->o.max_bytes = (size_t)32 << 20;
	if (!c->o.max_entry)
		c->o.max_entry = (size_t)1 << 20;
	if (c->o.ttl_ms <= 0)
		c->o.ttl_ms = 60000;
	c->nbuckets = MIN_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	void *map = mmap(NULL, sizeof(*c->gen), PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!c->buckets || map == MAP_FAILED) {
		free(c->buckets);
		free(c);
		if (map != MAP_FAILED)
			munmap(map, sizeof(*c->gen));
		return NULL;
	}
	c->gen = map;
	atomic_init(c->gen, 1);
	c->seen_gen = 1;
	crypto_shorthash_keygen(c->hkey);
	return c;
}

static void unlink_lru(keel_cache_t *c, keel__cache_entry_t *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void push_newest(keel_cache_t *c, keel__cache_entry_t *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

static keel__cache_entry_t **slot(keel_cache_t *c, uint64_t h)
{
	return &c->buckets[h & (c->nbuckets - 1)];
}

/* Take `e` out of the table and the list, and free it. */
static void drop(keel_cache_t *c, keel__cache_entry_t *e)
{
	keel__cache_entry_t **p = slot(c, e->hash);
	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	unlink_lru(c, e);
	c->st.entries--;
	c->st.bytes -= e->size;
	free(e);
}

static void drop_all(keel_cache_t *c)
{
	while (c->oldest)
		drop(c, c->oldest);
}

void keel_cache_free(keel_cache_t *c)
{
	if (!c)
		return;
	drop_all(c);
	free(c->buckets);
	munmap((void *)c->gen, sizeof(*c->gen));
	sodium_memzero(c->hkey, sizeof(c->hkey));
	free(c);
}

void keel_cache_invalidate(keel_cache_t *c)
{
	if (c)
		atomic_fetch_add_explicit(c->gen, 1, memory_order_acq_rel);
}

static void on_commit(void *ud)
{
	keel_cache_invalidate(ud);
}

void keel_cache_watch(keel_cache_t *c, keel_db_t *db)
{
	if (c && db)
		keel_db_on_commit(db, on_commit, c);
}

uint64_t keel__cache_gen(const keel_cache_t *c)
{
	return atomic_load_explicit(c->gen, memory_order_acquire);
}

/* Entries read before the generation moved are all stale: drop them. */
static void sync_gen(keel_cache_t *c)
{
	uint64_t g = keel__cache_gen(c);
	if (g == c->seen_gen)
		return;
	if (c->st.entries)
		c->st.flushes++;
	drop_all(c);
	c->seen_gen = g;
}

keel_cache_stats_t keel_cache_stats(const keel_cache_t *c)
{
	keel_cache_stats_t s = c->st;
	s.generation = keel__cache_gen(c);
	return s;
}

static keel__cache_entry_t *find(keel_cache_t *c, keel_str_t key, uint64_t h)
{
	for (keel__cache_entry_t *e = *slot(c, h); e; e = e->hnext)
		if (e->hash == h && keel_str_eq(e->key, key))
			return e;
	return NULL;
}

keel__cache_entry_t *keel__cache_get(keel_cache_t *c, keel_str_t key,
                                     int64_t now)
{
	sync_gen(c);
	uint64_t h = hash(c, key);
	keel__cache_entry_t *e = find(c, key, h);
	if (e && now >= e->expires_ns) {
		drop(c, e);
		e = NULL;
	}
	if (!e) {
		c->st.misses++;
		return NULL;
	}
	unlink_lru(c, e);
	push_newest(c, e);
	c->st.hits++;
	return e;
}

/* Double the table when entries outnumber chains; a failed grow only
 * makes chains longer. */
static void maybe_grow(keel_cache_t *c)
{
	if (c->st.entries < c->nbuckets)
		return;
	size_t n = c->nbuckets * 2;
	keel__cache_entry_t **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		keel__cache_entry_t *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static keel_str_t copy_in(char **at, keel_str_t s)
{
	keel_str_t out = {*at, s.len};
	if (s.len)
		memcpy(*at, s.ptr, s.len);
	*at += s.len;
	return out;
}

int keel__cache_put(keel_cache_t *c, uint64_t gen, const keel__cache_item_t *it,
                    int64_t now)
{
	sync_gen(c);
	if (gen != c->seen_gen)
		return KEEL_ESTATE;
	size_t size = sizeof(keel__cache_entry_t) + it->key.len +
	              it->headers.len + it->body.len + it->etag.len;
	if (it->body.len > c->o.max_entry || size > c->o.max_bytes)
		return KEEL_ELIMIT;
	uint64_t h = hash(c, it->key);
	keel__cache_entry_t *old = find(c, it->key, h);
	if (old)
		drop(c, old);
	while (c->oldest && c->st.bytes + size > c->o.max_bytes) {
		drop(c, c->oldest);
		c->st.evictions++;
	}
	keel__cache_entry_t *e = malloc(size);
	if (!e)
		return KEEL_ENOMEM;
	char *at = e->data;
	e->key = copy_in(&at, it->key);
	e->headers = copy_in(&at, it->headers);
	e->body = copy_in(&at, it->body);
	e->etag = copy_in(&at, it->etag);
	e->hash = h;
	e->size = size;
	e->status = it->status;
	e->stored_ns = now;
	e->expires_ns = now + c->o.ttl_ms * KEEL_NS_PER_MS;
	e->hnext = *slot(c, h);
	*slot(c, h) = e;
	push_newest(c, e);
	c->st.entries++;
	c->st.bytes += size;
	c->st.stores++;
	maybe_grow(c);
	return KEEL_OK;
}

void keel__cache_etag(const keel_cache_t *c, keel_str_t body, char out[20])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = hash(c, body);
	out[0] = '"';
	for (int i = 0; i < 16; i++)
		out[1 + i] = hex[(h >> (60 - 4 * i)) & 15];
	out[17] = '"';
	out[18] = '\0';
}
