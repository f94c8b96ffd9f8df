/*
 * A small string -> index table with open addressing, for template names
 * (looked up on every render) and block names (interned at compile).
 * Keys are borrowed: they live in the templates the table indexes.
 */
#include <stdlib.h>
#include <string.h>

#include "template_int.h"

/* FNV-1a: short keys, no adversary (names come from the application). */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t find(const tpl_names_t *m, const char *key)
{
	uint32_t mask = m->cap - 1, i = hash(key) & mask;
	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Keep the load under one half so probes stay short. */
static int rehash(tpl_names_t *m)
{
	uint32_t cap = m->cap == 0 ? 16 : m->cap * 2;
	if (cap < m->cap)
		return KEEL_ENOMEM;
	tpl_names_t n = {calloc(cap, sizeof *n.keys),
	                 calloc(cap, sizeof *n.vals), cap, m->n};
	if (n.keys == NULL || n.vals == NULL) {
		free(n.keys);
		free(n.vals);
		return KEEL_ENOMEM;
	}
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == NULL)
			continue;
		uint32_t j = find(&n, m->keys[i]);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int keel__tpl_names_put(tpl_names_t *m, const char *key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap && rehash(m) != 0)
		return KEEL_ENOMEM;
	uint32_t i = find(m, key);
	if (m->keys[i] == NULL)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

uint32_t keel__tpl_names_get(const tpl_names_t *m, const char *key)
{
	if (m->cap == 0)
		return TPL_NONE;
	uint32_t i = find(m, key);
	return m->keys[i] == NULL ? TPL_NONE : m->vals[i];
}

void keel__tpl_names_free(tpl_names_t *m)
{
	free(m->keys);
	free(m->vals);
	*m = (tpl_names_t){0};
}
