/*
 * The shared-memory bucket table: the rate limiter's built-in backend.
 *
 * Workers are processes, so a per-process counter would give each of N
 * workers the whole budget.  The table is one anonymous MAP_SHARED
 * mapping made before the master forks; every worker inherits it, and a
 * bucket is two 64-bit words updated with C11 atomics (lock-free, so they
 * work across processes): the key's hash, claimed once by a CAS, and the
 * bucket state (keel_ratelimit_bucket_take), changed by a CAS loop.  No
 * locks means no worker can die holding one and wedge the others.
 *
 * Open addressing: a key lives in one of PROBE consecutive slots after its
 * hash.  A lookup scans all of them before claiming one, and a key word
 * only ever changes from 0 to a hash (or, on eviction, from one hash to
 * another), so two workers inserting the same key find each other instead
 * of making two buckets.  When the window is full the stalest bucket goes:
 * one already full again is indistinguishable from no bucket, so evicting
 * it costs nothing; evicting a live one (a table too small for its
 * traffic) is counted so it can be noticed and the table enlarged.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "keel/ratelimit.h"

/* Slots a key may occupy; 8 x 16 bytes = two cache lines. */
#define PROBE         8
/* Attempts before a take gives up on a slot that keeps changing. */
#define RETRIES       1024
#define MIN_SLOTS     64u
#define MAX_SLOTS     (1u << 26)
#define DEFAULT_SLOTS 65536u

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to work across processes");

struct slot {
	_Atomic uint64_t key;    /* keyed hash of the bucket's key; 0: free */
	_Atomic int64_t full_at; /* bucket state; 0: never used */
};

/* Counters shared by all processes, at the start of the mapping. */
struct counters {
	_Atomic uint64_t used, evicted_stale, evicted_live, contended;
	char pad[32];
};

struct keel_ratelimit_shm {
	void *map;
	size_t map_len;
	struct counters *counters;
	struct slot *slots;
	size_t mask;
	unsigned char hkey[crypto_shorthash_KEYBYTES];
};

static size_t round_slots(size_t n)
{
	size_t p = MIN_SLOTS;
	if (n == 0)
		return DEFAULT_SLOTS;
	if (n > MAX_SLOTS)
		return 0;
	while (p < n)
		p <<= 1;
	return p;
}

/*
 * Why the mapping is anonymous and shared: anonymous means no file to
 * name, clean up or leave behind; shared means a fork keeps one copy of
 * the pages instead of copying them on the first write.
 */
keel_ratelimit_shm_t *keel_ratelimit_shm_new(size_t slots)
{
	size_t n = round_slots(slots);
	if (n == 0 || sodium_init() < 0)
		return NULL;
	keel_ratelimit_shm_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->map_len = sizeof(struct counters) + n * sizeof(struct slot);
	t->map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->map == MAP_FAILED) {
		free(t);
		return NULL;
	}
	t->counters = t->map;
	t->slots = (struct slot *)(void *)((char *)t->map +
	                                   sizeof(struct counters));
	t->mask = n - 1;
	randombytes_buf(t->hkey, sizeof(t->hkey));
	return t;
}

void keel_ratelimit_shm_free(keel_ratelimit_shm_t *t)
{
	if (!t)
		return;
	munmap(t->map, t->map_len);
	sodium_memzero(t->hkey, sizeof(t->hkey));
	free(t);
}

/* SipHash under a secret random key: a client choosing its key (an
 * address, a user name) cannot predict which slots it lands in. */
static uint64_t hash_key(const keel_ratelimit_shm_t *t, keel_str_t key)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;
	crypto_shorthash(out, (const unsigned char *)(key.ptr ? key.ptr : ""),
	                 key.len, t->hkey);
	memcpy(&h, out, sizeof(h));
	return h ? h : 1; /* 0 marks a free slot */
}

/* One pass over the key's window: its slot, or the first free one and the
 * stalest occupied one as candidates. */
typedef struct scan {
	struct slot *match, *empty, *victim;
	uint64_t victim_key;
	int64_t victim_full;
} scan_t;

static scan_t scan_window(const keel_ratelimit_shm_t *t, uint64_t h)
{
	scan_t sc = {.victim_full = INT64_MAX};
	for (size_t i = 0; i < PROBE; i++) {
		struct slot *s = &t->slots[(h + i) & t->mask];
		uint64_t k = atomic_load(&s->key);
		if (k == h) {
			sc.match = s;
			return sc;
		}
		if (k == 0) {
			if (!sc.empty)
				sc.empty = s;
			continue;
		}
		int64_t f = atomic_load(&s->full_at);
		if (f < sc.victim_full) {
			sc.victim = s;
			sc.victim_key = k;
			sc.victim_full = f;
		}
	}
	return sc;
}

/*
 * Take over the stalest slot.  A full bucket's state already means "full"
 * for the newcomer; a live one is reset to 0 (a racing update from the old
 * key may still land: it can only make the newcomer stricter).
 */
static struct slot *evict(keel_ratelimit_shm_t *t, scan_t *sc, uint64_t h,
                          int64_t now)
{
	uint64_t expect = sc->victim_key;
	if (!atomic_compare_exchange_strong(&sc->victim->key, &expect, h))
		return expect == h ? sc->victim : NULL;
	if (sc->victim_full <= now) {
		atomic_fetch_add(&t->counters->evicted_stale, 1);
	} else {
		int64_t f = sc->victim_full;
		atomic_compare_exchange_strong(&sc->victim->full_at, &f, 0);
		atomic_fetch_add(&t->counters->evicted_live, 1);
	}
	return sc->victim;
}

/* The slot of key hash `h`, claimed when `create`; NULL when absent (not
 * creating) or when the window kept changing under us. */
static struct slot *find_slot(keel_ratelimit_shm_t *t, uint64_t h, int64_t now,
                              bool create)
{
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		scan_t sc = scan_window(t, h);
		if (sc.match || !create)
			return sc.match;
		if (sc.empty) {
			uint64_t expect = 0;
			if (atomic_compare_exchange_strong(&sc.empty->key,
			                                   &expect, h)) {
				atomic_fetch_add(&t->counters->used, 1);
				return sc.empty;
			}
			continue; /* someone claimed it: look again */
		}
		struct slot *s = sc.victim ? evict(t, &sc, h, now) : NULL;
		if (s)
			return s;
	}
	return NULL;
}

/* The bucket math on the slot's state, retried until our compare-and-swap
 * wins: each failure means another process's update went in first. */
static int update(keel_ratelimit_shm_t *t, struct slot *s,
                  const keel_ratelimit_policy_t *p, uint32_t cost, int64_t now,
                  keel_ratelimit_result_t *out)
{
	for (int n = 0; n < RETRIES; n++) {
		int64_t old = atomic_load(&s->full_at);
		int64_t state = old;
		int rc = keel_ratelimit_bucket_take(&state, p, cost, now, out);
		if (rc < 0)
			return rc;
		if (state == old ||
		    atomic_compare_exchange_weak(&s->full_at, &old, state))
			return 0;
	}
	atomic_fetch_add(&t->counters->contended, 1);
	return KEEL_AGAIN;
}

int keel_ratelimit_shm_take(keel_ratelimit_shm_t *t, keel_str_t key,
                            const keel_ratelimit_policy_t *policy,
                            uint32_t cost, int64_t now_ns,
                            keel_ratelimit_result_t *out)
{
	int64_t fresh = 0;
	if (!t || !policy || !out)
		return KEEL_EINVAL;
	/* Refuse bad calls before they claim a slot. */
	int rc = keel_ratelimit_bucket_take(&fresh, policy, 0, now_ns, out);
	if (rc < 0)
		return rc;
	if (cost > policy->limit)
		return KEEL_ERANGE;
	struct slot *s = find_slot(t, hash_key(t, key), now_ns, cost > 0);
	if (s)
		return update(t, s, policy, cost, now_ns, out);
	if (cost == 0)
		return 0; /* no bucket: it is full, as computed above */
	atomic_fetch_add(&t->counters->contended, 1);
	return KEEL_AGAIN;
}

void keel_ratelimit_shm_stats(const keel_ratelimit_shm_t *t,
                              keel_ratelimit_shm_stats_t *out)
{
	out->slots = t->mask + 1;
	out->used = atomic_load(&t->counters->used);
	out->evicted_stale = atomic_load(&t->counters->evicted_stale);
	out->evicted_live = atomic_load(&t->counters->evicted_live);
	out->contended = atomic_load(&t->counters->contended);
}

static int shm_take(void *self, keel_str_t key,
                    const keel_ratelimit_policy_t *policy, uint32_t cost,
                    int64_t now_ns, keel_ratelimit_result_t *out)
{
	return keel_ratelimit_shm_take(self, key, policy, cost, now_ns, out);
}

static void shm_free(void *self)
{
	keel_ratelimit_shm_free(self);
}

static const keel_ratelimit_backend_t shm_backend = {
        .name = "shm",
        .take = shm_take,
        .free = shm_free,
};

const keel_ratelimit_backend_t *keel_ratelimit_shm_backend(void)
{
	return &shm_backend;
}
