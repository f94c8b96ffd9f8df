/*
 * src/web/router_int.h - internal: the trie's node layout, shared by the
 * code that builds it (router.c) and the code that walks it
 * (router_match.c).  Not installed.
 */
#ifndef KEEL_WEB_ROUTER_INT_H
#define KEEL_WEB_ROUTER_INT_H

#include <string.h>

#include "web/router.h"

/* Segment kinds; a parameter's keel_param_type_t is kind - SEG_STR. */
enum {
	KEEL__SEG_STATIC = 0,
	KEEL__SEG_STR,
	KEEL__SEG_INT,
	KEEL__SEG_PATH,
};

typedef struct keel__rnode keel__rnode_t;

struct keel__rnode {
	char *text; /* literal bytes, or the parameter's name; NUL-ended */
	size_t len;
	int kind;
	keel__rnode_t **kids; /* literal children, in keel__seg_cmp order */
	size_t nkids, capkids;
	keel__rnode_t *param;        /* the one parameter child */
	void *values[KEEL__METHODS]; /* per method, where a pattern ends */
	unsigned mask;               /* 1u << method of non-NULL values */
};

struct keel__router {
	keel__rnode_t root; /* the position after the leading '/' */
	unsigned methods;
};

/* Order of literal children: by length, then bytes (cheap to compare). */
static inline int keel__seg_cmp(const keel__rnode_t *n, keel_str_t s)
{
	if (n->len != s.len)
		return n->len < s.len ? -1 : 1;
	return s.len ? memcmp(n->text, s.ptr, s.len) : 0;
}

#endif
