/*
 * Matching a decoded path against the route trie: a depth-first walk that
 * tries, at each level, the literal child first, then the parameter child,
 * and backs up when a branch dead-ends.  The walk's depth is bounded by
 * the deepest pattern, not by the path, and each trie node is entered at
 * most once per match (a node sits at one depth and can only meet the
 * path's segment at that depth), so even the backtracking cost is bounded
 * by the routes that share the path's shape, never by the route count.
 */
#include "web/router_int.h"

typedef struct walk {
	keel_http_method_t method;
	keel__match_t *m;
} walk_t;

/* A node where a pattern ends: does it serve the method?  Every such node
 * the walk reaches adds its methods to Allow, for the 405 answer. */
static bool endpoint(const keel__rnode_t *n, walk_t *w)
{
	if (!n->mask)
		return false;
	w->m->allow |= n->mask;
	keel_http_method_t used = w->method;
	void *v = n->values[used];
	if (!v && used == KEEL_HTTP_HEAD) {
		used = KEEL_HTTP_GET;
		v = n->values[used];
	}
	if (!v)
		return false;
	w->m->value = v;
	w->m->method = used;
	return true;
}

/* Literal child equal to seg, by binary search. */
static const keel__rnode_t *find_kid(const keel__rnode_t *n, keel_str_t seg)
{
	size_t lo = 0, hi = n->nkids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = keel__seg_cmp(n->kids[mid], seg);
		if (c == 0)
			return n->kids[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool push(walk_t *w, const keel__rnode_t *n, keel_str_t value)
{
	keel__match_t *m = w->m;
	if (m->nparams == KEEL_ROUTE_MAX_PARAMS)
		return false; /* cannot happen: patterns are checked */
	m->params[m->nparams].name = (keel_str_t){n->text, n->len};
	m->params[m->nparams].value = value;
	m->nparams++;
	return true;
}

static bool visit(const keel__rnode_t *n, keel_str_t s, walk_t *w);

/* Continue below `k` with what follows its segment, or end there. */
static bool step(const keel__rnode_t *k, keel_str_t rest, bool more, walk_t *w)
{
	return more ? visit(k, rest, w) : endpoint(k, w);
}

static bool param_fits(const keel__rnode_t *k, keel_str_t seg)
{
	int64_t v;
	if (seg.len == 0)
		return false;
	return k->kind != KEEL__SEG_INT || keel_str_to_i64(seg, &v) == KEEL_OK;
}

/* Try the parameter child of n for segment `seg` (or the whole rest `s`
 * for a catch-all), undoing the capture if nothing below matches. */
static bool visit_param(const keel__rnode_t *n, keel_str_t s, keel_str_t seg,
                        keel_str_t rest, bool more, walk_t *w)
{
	const keel__rnode_t *k = n->param;
	bool path = k->kind == KEEL__SEG_PATH;
	if ((path && s.len == 0) || (!path && !param_fits(k, seg)))
		return false;
	if (!push(w, k, path ? s : seg))
		return false;
	if (path ? endpoint(k, w) : step(k, rest, more, w))
		return true;
	w->m->nparams--;
	return false;
}

/* `s` is the path after a '/': its first segment is matched at node n. */
static bool visit(const keel__rnode_t *n, keel_str_t s, walk_t *w)
{
	ptrdiff_t slash = keel_str_index(s, '/');
	bool more = slash >= 0;
	keel_str_t seg = more ? keel_str_sub(s, 0, (size_t)slash) : s;
	keel_str_t rest = more ? keel_str_sub(s, (size_t)slash + 1, s.len)
	                       : (keel_str_t){s.ptr + s.len, 0};
	const keel__rnode_t *k = find_kid(n, seg);
	if (k && step(k, rest, more, w))
		return true;
	return n->param && visit_param(n, s, seg, rest, more, w);
}

int keel__router_match(const keel__router_t *r, keel_http_method_t method,
                       keel_str_t path, keel__match_t *m)
{
	m->value = NULL;
	m->method = method;
	m->allow = 0;
	m->nparams = 0;
	if (path.len == 0 || path.ptr[0] != '/' ||
	    method <= KEEL_HTTP_UNKNOWN || method >= KEEL__METHODS)
		return KEEL_ENOENT;
	walk_t w = {method, m};
	keel_str_t s = {path.ptr + 1, path.len - 1};
	return visit(&r->root, s, &w) ? KEEL_OK : KEEL_ENOENT;
}
