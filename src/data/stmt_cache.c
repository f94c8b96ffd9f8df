/*
 * The per-connection prepared-statement cache, keyed by SQL text.
 *
 * Preparing is parsing and planning: for the short statements a web app
 * runs it can cost more than running them.  Handlers use a handful of
 * fixed SQL strings over and over, so each connection keeps the last
 * `cap` statements it prepared in a hash table (lookup) threaded on a
 * recency list (eviction: the least recently used statement not in use
 * is finalized).  A statement an open cursor is still stepping cannot be
 * shared, so asking for the same SQL meanwhile prepares a second, uncached
 * one that is finalized when handed back.
 *
 * A miss is also where the SQL is checked once: exactly one statement,
 * and placeholders $1..$N with every number up to the highest one used,
 * which is what PostgreSQL requires too.
 */
#include <stdlib.h>
#include <string.h>

#include "data/driver.h"

/* FNV-1a: short keys, no adversary (the SQL is the program's own text). */
static uint64_t hash_sql(const char *s, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
	return h;
}

int keel__db_cache_init(keel__db_cache_t *cache, int cap)
{
	memset(cache, 0, sizeof(*cache));
	if (cap <= 0)
		return KEEL_OK;
	size_t n = 16;
	while (n < (size_t)cap * 2)
		n *= 2;
	cache->buckets = calloc(n, sizeof(*cache->buckets));
	if (!cache->buckets)
		return KEEL_ENOMEM;
	cache->nbuckets = n;
	cache->cap = cap;
	return KEEL_OK;
}

static void stmt_free(const keel__db_driver_t *drv, keel__db_stmt_t *st)
{
	if (st->h)
		drv->finalize(st->h);
	free(st->sql);
	free(st->map);
	free(st);
}

void keel__db_cache_deinit(keel__db_cache_t *cache,
                           const keel__db_driver_t *drv)
{
	keel__db_stmt_t *next;
	for (keel__db_stmt_t *st = cache->newest; st; st = next) {
		next = st->older;
		stmt_free(drv, st);
	}
	free(cache->buckets);
	memset(cache, 0, sizeof(*cache));
}

static void lru_unlink(keel__db_cache_t *cache, keel__db_stmt_t *st)
{
	if (st->newer)
		st->newer->older = st->older;
	else
		cache->newest = st->older;
	if (st->older)
		st->older->newer = st->newer;
	else
		cache->oldest = st->newer;
	st->newer = st->older = NULL;
}

static void lru_push(keel__db_cache_t *cache, keel__db_stmt_t *st)
{
	st->older = cache->newest;
	st->newer = NULL;
	if (cache->newest)
		cache->newest->newer = st;
	else
		cache->oldest = st;
	cache->newest = st;
}

static keel__db_stmt_t **bucket(keel__db_cache_t *cache, uint64_t hash)
{
	return &cache->buckets[hash & (cache->nbuckets - 1)];
}

static keel__db_stmt_t *cache_find(keel__db_cache_t *cache, const char *sql,
                                   size_t len, uint64_t hash)
{
	if (!cache->nbuckets)
		return NULL;
	for (keel__db_stmt_t *st = *bucket(cache, hash); st; st = st->hnext)
		if (st->hash == hash && st->len == len &&
		    memcmp(st->sql, sql, len) == 0)
			return st;
	return NULL;
}

static void cache_remove(keel__db_cache_t *cache, keel__db_stmt_t *st)
{
	for (keel__db_stmt_t **p = bucket(cache, st->hash); *p;
	     p = &(*p)->hnext) {
		if (*p == st) {
			*p = st->hnext;
			break;
		}
	}
	lru_unlink(cache, st);
	cache->count--;
	st->cached = false;
}

/* Make room by finalizing the least recently used idle statement; false
 * when every cached statement is busy in a cursor. */
static bool evict_one(keel__db_cache_t *cache, const keel__db_driver_t *drv)
{
	for (keel__db_stmt_t *st = cache->oldest; st; st = st->newer) {
		if (!st->in_use) {
			cache_remove(cache, st);
			stmt_free(drv, st);
			return true;
		}
	}
	return false;
}

/* Cache a fresh statement unless its SQL is already cached (then that
 * one is in use) or no room can be made; it then stays uncached. */
static void cache_add(keel__db_cache_t *cache, const keel__db_driver_t *drv,
                      keel__db_stmt_t *st)
{
	st->cached = false;
	if (!cache->cap || cache_find(cache, st->sql, st->len, st->hash))
		return;
	while (cache->count >= cache->cap)
		if (!evict_one(cache, drv))
			return;
	keel__db_stmt_t **b = bucket(cache, st->hash);
	st->hnext = *b;
	*b = st;
	lru_push(cache, st);
	cache->count++;
	st->cached = true;
}

/* Text after the first statement may be blanks, ';' or comments only. */
static int check_tail(keel_db_conn_t *c, const char *tail)
{
	const keel__db_driver_t *drv = c->db->drv;
	while (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r')
		tail++;
	if (!*tail)
		return KEEL_OK;
	void *h = NULL;
	const char *rest = NULL;
	int rc = drv->prepare(c->h, tail, strlen(tail), false, &h, &rest);
	if (h)
		drv->finalize(h);
	if (rc < 0 || h) {
		keel__db_set_error(c, "one statement per call (scripts: "
		                      "keel_db_exec_script)");
		return KEEL_EINVAL;
	}
	return KEEL_OK;
}

/* Slot -> argument table; every $1..$max must appear at least once. */
static int map_params(keel_db_conn_t *c, keel__db_stmt_t *st)
{
	const keel__db_driver_t *drv = c->db->drv;
	int n = drv->param_count(st->h), max = -1;
	st->map = malloc(sizeof(int) * (size_t)(n ? n : 1));
	if (!st->map)
		return KEEL_ENOMEM;
	for (int slot = 1; slot <= n; slot++) {
		int arg = drv->param_arg(st->h, slot);
		if (arg < 0) {
			keel__db_set_error(c, "placeholders must be $1..$N");
			return KEEL_EINVAL;
		}
		st->map[slot - 1] = arg;
		max = arg > max ? arg : max;
	}
	st->nslots = n;
	st->nargs = max + 1;
	/* n distinct names all within 1..max: all present iff n == max. */
	if (n != st->nargs) {
		keel__db_set_error(c, "placeholder numbers skip a value");
		return KEEL_EINVAL;
	}
	return KEEL_OK;
}

static int stmt_prepare(keel_db_conn_t *c, const char *sql, size_t len,
                        uint64_t hash, keel__db_stmt_t **out)
{
	const keel__db_driver_t *drv = c->db->drv;
	keel__db_stmt_t *st = calloc(1, sizeof(*st));
	if (!st || !(st->sql = malloc(len + 1))) {
		free(st);
		return KEEL_ENOMEM;
	}
	memcpy(st->sql, sql, len + 1);
	st->len = len;
	st->hash = hash;
	const char *tail = NULL;
	int rc = drv->prepare(c->h, st->sql, len + 1, c->cache.cap > 0, &st->h,
	                      &tail);
	if (rc < 0) {
		rc = keel__db_fail(c, rc);
	} else if (!st->h) {
		keel__db_set_error(c, "no SQL statement");
		rc = KEEL_EINVAL;
	} else {
		rc = check_tail(c, tail);
		if (rc == KEEL_OK)
			rc = map_params(c, st);
	}
	if (rc < 0) {
		stmt_free(drv, st);
		return rc;
	}
	*out = st;
	return KEEL_OK;
}

int keel__db_stmt_get(keel_db_conn_t *c, const char *sql, keel__db_stmt_t **out)
{
	size_t len = strlen(sql);
	uint64_t hash = hash_sql(sql, len);
	keel__db_stmt_t *st = cache_find(&c->cache, sql, len, hash);
	if (st && !st->in_use) {
		c->stats.cache_hits++;
		lru_unlink(&c->cache, st);
		lru_push(&c->cache, st);
	} else {
		c->stats.cache_misses++;
		int rc = stmt_prepare(c, sql, len, hash, &st);
		if (rc < 0)
			return rc;
		cache_add(&c->cache, c->db->drv, st);
	}
	st->in_use = true;
	*out = st;
	return KEEL_OK;
}

void keel__db_stmt_put(keel_db_conn_t *c, keel__db_stmt_t *st)
{
	const keel__db_driver_t *drv = c->db->drv;
	drv->reset(st->h);
	st->in_use = false;
	if (!st->cached)
		stmt_free(drv, st);
}
