/*
 * The route trie: one node per path segment of the registered patterns.
 * A node has its literal children sorted for binary search, at most one
 * parameter child (a single segment or the catch-all rest), and a value
 * per method when some pattern ends there.  Parsing a pattern and
 * inserting it live here; matching a path lives in router_match.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/router.h"
#include "web/router_int.h"

/* One parsed segment of a pattern. */
typedef struct pseg {
	keel_str_t text; /* literal bytes, or the parameter's name */
	int kind;
} pseg_t;

typedef struct parsed {
	pseg_t segs[KEEL_ROUTE_MAX_SEGMENTS];
	size_t nsegs;
} parsed_t;

keel__router_t *keel__router_new(void)
{
	return calloc(1, sizeof(keel__router_t));
}

static void node_deinit(keel__rnode_t *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		node_deinit(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
	if (n->param) {
		node_deinit(n->param);
		free(n->param);
	}
	free(n->text);
}

void keel__router_free(keel__router_t *r)
{
	if (!r)
		return;
	node_deinit(&r->root);
	free(r);
}

unsigned keel__router_methods(const keel__router_t *r)
{
	return r->methods;
}

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Literal bytes a decoded path can hold and a pattern may name: no
 * controls, spaces, '%' (patterns are decoded text, not escapes), '?',
 * '#', or braces outside a parameter. */
static bool literal_ok(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c <= 0x20 || c == 0x7f || strchr("%?#{}\\", c))
			return false;
	}
	return !keel_str_eq(s, KEEL_STR(".")) &&
	       !keel_str_eq(s, KEEL_STR(".."));
}

/* "{name}" / "{name:type}" into *out; false with a reason in err. */
static bool parse_param(keel_str_t s, pseg_t *out, char *err, size_t cap)
{
	keel_str_t in = {s.ptr + 1, s.len - 2};
	keel_str_t name = keel_str_cut(&in, ':');
	bool ok = name.len > 0 && name.len <= KEEL_ROUTE_MAX_NAME;
	for (size_t i = 0; ok && i < name.len; i++)
		ok = is_name_char(name.ptr[i], i == 0);
	if (!ok) {
		snprintf(err, cap, "bad parameter name in %.*s",
		         KEEL_STR_FMT(s));
		return false;
	}
	out->text = name;
	if (s.len == name.len + 2 || keel_str_eq(in, KEEL_STR("str")))
		out->kind = KEEL__SEG_STR;
	else if (keel_str_eq(in, KEEL_STR("int")))
		out->kind = KEEL__SEG_INT;
	else if (keel_str_eq(in, KEEL_STR("path")))
		out->kind = KEEL__SEG_PATH;
	else {
		snprintf(err, cap, "unknown parameter type in %.*s",
		         KEEL_STR_FMT(s));
		return false;
	}
	return true;
}

/* One segment: a parameter or a literal; "" only as the last one. */
static bool parse_segment(keel_str_t s, bool last, pseg_t *out, char *err,
                          size_t cap)
{
	if (s.len >= 2 && s.ptr[0] == '{' && s.ptr[s.len - 1] == '}')
		return parse_param(s, out, err, cap);
	if (s.len == 0 && !last) {
		snprintf(err, cap, "empty segment");
		return false;
	}
	if (!literal_ok(s)) {
		snprintf(err, cap, "bad segment '%.*s'", KEEL_STR_FMT(s));
		return false;
	}
	out->kind = KEEL__SEG_STATIC;
	out->text = s;
	return true;
}

/* Parameter names must be distinct and catch-alls must come last. */
static bool check_params(const parsed_t *p, char *err, size_t cap)
{
	size_t count = 0;
	for (size_t i = 0; i < p->nsegs; i++) {
		const pseg_t *a = &p->segs[i];
		if (a->kind == KEEL__SEG_STATIC)
			continue;
		if (a->kind == KEEL__SEG_PATH && i + 1 != p->nsegs) {
			snprintf(err, cap, "{%.*s:path} must be last",
			         KEEL_STR_FMT(a->text));
			return false;
		}
		if (++count > KEEL_ROUTE_MAX_PARAMS) {
			snprintf(err, cap, "too many parameters");
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (p->segs[j].kind != KEEL__SEG_STATIC &&
			    keel_str_eq(p->segs[j].text, a->text)) {
				snprintf(err, cap, "parameter {%.*s} repeated",
				         KEEL_STR_FMT(a->text));
				return false;
			}
	}
	return true;
}

/*
 * Split a pattern the way the matcher splits a path: what follows the
 * leading '/' is cut at every '/', so "/" is one empty segment and "/a/"
 * is "a" then an empty one.
 */
static int parse(keel_str_t pat, parsed_t *p, char *err, size_t cap)
{
	p->nsegs = 0;
	if (pat.len == 0 || pat.ptr[0] != '/' ||
	    pat.len > KEEL_ROUTE_MAX_PATTERN) {
		snprintf(err, cap,
		         "pattern must start with '/' and be at "
		         "most %d bytes",
		         KEEL_ROUTE_MAX_PATTERN);
		return KEEL_EINVAL;
	}
	keel_str_t rest = {pat.ptr + 1, pat.len - 1};
	for (;;) {
		ptrdiff_t slash = keel_str_index(rest, '/');
		keel_str_t seg =
		        slash < 0 ? rest : keel_str_sub(rest, 0, (size_t)slash);
		if (p->nsegs == KEEL_ROUTE_MAX_SEGMENTS) {
			snprintf(err, cap, "more than %d segments",
			         KEEL_ROUTE_MAX_SEGMENTS);
			return KEEL_EINVAL;
		}
		if (!parse_segment(seg, slash < 0, &p->segs[p->nsegs++], err,
		                   cap))
			return KEEL_EINVAL;
		if (slash < 0)
			break;
		rest = keel_str_sub(rest, (size_t)slash + 1, rest.len);
	}
	return check_params(p, err, cap) ? KEEL_OK : KEEL_EINVAL;
}

static void export_params(const parsed_t *p, keel_route_param_t *params,
                          size_t *nparams)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nsegs; i++) {
		if (p->segs[i].kind == KEEL__SEG_STATIC)
			continue;
		if (params) {
			/* Names point into the pattern here; add() swaps in
			 * the node's own copies. */
			params[n].name = p->segs[i].text.ptr;
			params[n].type = (keel_param_type_t)(p->segs[i].kind -
			                                     KEEL__SEG_STR);
		}
		n++;
	}
	if (nparams)
		*nparams = n;
}

int keel__router_parse(keel_str_t pattern, keel_route_param_t *params,
                       size_t *nparams, char *err, size_t cap)
{
	parsed_t p;
	int rc = parse(pattern, &p, err, cap);
	if (rc == KEEL_OK)
		export_params(&p, params, nparams);
	return rc;
}

static const char *kind_suffix(int kind)
{
	return kind == KEEL__SEG_INT    ? ":int"
	       : kind == KEEL__SEG_PATH ? ":path"
	                                : "";
}

/* Among the sorted literal children of n, the index of s or where it
 * would go. */
static size_t kid_slot(const keel__rnode_t *n, keel_str_t s, bool *found)
{
	size_t lo = 0, hi = n->nkids;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = keel__seg_cmp(n->kids[mid], s);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static keel__rnode_t *node_new(const pseg_t *seg)
{
	keel__rnode_t *n = calloc(1, sizeof(*n));
	char *text = n ? malloc(seg->text.len + 1) : NULL;
	if (!text) {
		free(n);
		return NULL;
	}
	memcpy(text, seg->text.ptr, seg->text.len);
	text[seg->text.len] = '\0';
	n->text = text;
	n->len = seg->text.len;
	n->kind = seg->kind;
	return n;
}

static keel__rnode_t *kid_insert(keel__rnode_t *n, size_t at, const pseg_t *seg)
{
	if (n->nkids == n->capkids) {
		size_t cap = n->capkids ? n->capkids * 2 : 4;
		keel__rnode_t **k = realloc(n->kids, cap * sizeof(*k));
		if (!k)
			return NULL;
		n->kids = k;
		n->capkids = cap;
	}
	keel__rnode_t *kid = node_new(seg);
	if (!kid)
		return NULL;
	memmove(n->kids + at + 1, n->kids + at,
	        (n->nkids - at) * sizeof(*n->kids));
	n->kids[at] = kid;
	n->nkids++;
	return kid;
}

/*
 * The child of n for `seg`, created when `create`; NULL when absent (or
 * out of memory).  A parameter child of another name or type is a
 * conflict: the router could not tell which name a value belongs to.
 */
static int child(keel__rnode_t *n, const pseg_t *seg, bool create,
                 keel__rnode_t **out, char *err, size_t cap)
{
	*out = NULL;
	if (seg->kind == KEEL__SEG_STATIC) {
		bool found;
		size_t at = kid_slot(n, seg->text, &found);
		*out = found    ? n->kids[at]
		       : create ? kid_insert(n, at, seg)
		                : NULL;
	} else if (n->param) {
		keel__rnode_t *p = n->param;
		if (p->kind != seg->kind ||
		    !keel_str_eq((keel_str_t){p->text, p->len}, seg->text)) {
			snprintf(err, cap,
			         "{%.*s%s} conflicts with {%s%s} at the same "
			         "position",
			         KEEL_STR_FMT(seg->text),
			         kind_suffix(seg->kind), p->text,
			         kind_suffix(p->kind));
			return KEEL_EEXIST;
		}
		*out = p;
	} else if (create) {
		*out = n->param = node_new(seg);
	}
	if (create && !*out) {
		snprintf(err, cap, "out of memory");
		return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

/*
 * Follow (or build) the pattern's path of nodes.  Run once without
 * creating to find conflicts, so a refused pattern leaves the trie as it
 * was; *end is the last node, NULL when the path does not exist yet.
 */
static int walk(keel__router_t *r, const parsed_t *p, bool create,
                keel__rnode_t **end, char *err, size_t cap)
{
	keel__rnode_t *n = &r->root;
	for (size_t i = 0; i < p->nsegs && n; i++) {
		int rc = child(n, &p->segs[i], create, &n, err, cap);
		if (rc < 0)
			return rc;
	}
	*end = n;
	return KEEL_OK;
}

/* Replace pattern-pointing parameter names with the nodes' copies. */
static void own_names(const keel__router_t *r, const parsed_t *p,
                      keel_route_param_t *params)
{
	const keel__rnode_t *n = &r->root;
	size_t k = 0;
	for (size_t i = 0; i < p->nsegs; i++) {
		bool found;
		const pseg_t *s = &p->segs[i];
		n = s->kind == KEEL__SEG_STATIC
		            ? n->kids[kid_slot(n, s->text, &found)]
		            : n->param;
		if (s->kind != KEEL__SEG_STATIC)
			params[k++].name = n->text;
	}
}

int keel__router_add(keel__router_t *r, keel_http_method_t method,
                     keel_str_t pattern, void *value,
                     keel_route_param_t *params, size_t *nparams, char *err,
                     size_t cap)
{
	parsed_t p;
	keel__rnode_t *end;
	if (method <= KEEL_HTTP_UNKNOWN || method >= KEEL__METHODS || !value) {
		snprintf(err, cap, "bad method or value");
		return KEEL_EINVAL;
	}
	int rc = parse(pattern, &p, err, cap);
	if (rc == KEEL_OK)
		rc = walk(r, &p, false, &end, err, cap);
	if (rc == KEEL_OK && end && end->values[method]) {
		snprintf(err, cap, "already registered");
		rc = KEEL_EEXIST;
	}
	if (rc == KEEL_OK)
		rc = walk(r, &p, true, &end, err, cap);
	if (rc < 0)
		return rc;
	end->values[method] = value;
	end->mask |= 1u << method;
	r->methods |= 1u << method;
	export_params(&p, params, nparams);
	if (params)
		own_names(r, &p, params);
	return KEEL_OK;
}
