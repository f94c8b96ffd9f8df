/*
 * The compiled-pattern cache: each distinct `pattern` string of a spec is
 * compiled with regcomp(3) the first time a value meets it and kept for
 * the life of the process, so a request pays only for regexec.
 *
 * Specs are static tables, so the same pointer comes back every time; the
 * lookup compares pointers first and text second (two tables spelling the
 * same pattern share one entry).  A pattern that fails to compile is
 * cached as failed too, so a broken spec costs one regcomp, not one per
 * request.  Workers are processes with one validating thread each, but
 * handlers may offload work to the pool, so a mutex guards the table;
 * regexec itself is safe to call concurrently on one regex_t.
 */
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "validate_int.h"

typedef struct pattern {
	const char *key; /* the spec's pointer */
	char *text;      /* our copy, compared when pointers differ */
	bool ok;         /* regcomp succeeded; `re` is valid */
	regex_t re;
} pattern_t;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pattern_t **cache;
static size_t cache_len, cache_cap;

static pattern_t *find(const char *key)
{
	for (size_t i = 0; i < cache_len; i++)
		if (cache[i]->key == key || strcmp(cache[i]->text, key) == 0)
			return cache[i];
	return NULL;
}

static pattern_t *compile(const char *key)
{
	pattern_t *p = calloc(1, sizeof(*p));
	size_t len = strlen(key);
	if (!p || !(p->text = malloc(len + 1))) {
		free(p);
		return NULL;
	}
	memcpy(p->text, key, len + 1);
	p->key = key;
	p->ok = regcomp(&p->re, key, REG_EXTENDED | REG_NOSUB) == 0;
	return p;
}

static void destroy(pattern_t *p)
{
	if (p->ok)
		regfree(&p->re);
	free(p->text);
	free(p);
}

static int append(pattern_t *p)
{
	if (cache_len == cache_cap) {
		size_t cap = cache_cap ? cache_cap * 2 : 16;
		pattern_t **grown = realloc(cache, cap * sizeof(*grown));
		if (!grown)
			return KEEL_ENOMEM;
		cache = grown;
		cache_cap = cap;
	}
	cache[cache_len++] = p;
	return 0;
}

/* The entry for `key`, compiled on first use; NULL only when out of
 * memory (nothing is cached then, so a later call tries again). */
static pattern_t *lookup(const char *key)
{
	pthread_mutex_lock(&cache_lock);
	pattern_t *p = find(key);
	if (!p && (p = compile(key)) != NULL && append(p) < 0) {
		destroy(p);
		p = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	return p;
}

int keel__pattern_match(const char *pattern, const char *s)
{
	pattern_t *p = lookup(pattern);
	if (!p)
		return KEEL_ENOMEM;
	if (!p->ok)
		return KEEL_ESTATE;
	int r = regexec(&p->re, s, 0, NULL, 0);
	if (r == 0 || r == REG_NOMATCH)
		return r == 0;
	return KEEL_ENOMEM; /* REG_ESPACE: the matcher ran out of memory */
}

void keel_validate_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_len; i++)
		destroy(cache[i]);
	free(cache);
	cache = NULL;
	cache_len = cache_cap = 0;
	pthread_mutex_unlock(&cache_lock);
}
