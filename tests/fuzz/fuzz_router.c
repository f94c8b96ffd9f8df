/*
 * fuzz_router - the route trie against a brute-force reference.
 *
 * The input describes up to 16 patterns built from a small alphabet of
 * segments (literals that collide on purpose, "{pN}", "{qN}", "{pN:int}",
 * "{pN:path}", empty), each with a method, then paths built from another
 * small alphabet (digits, signs, overflow, empty segments).  The reference
 * keeps the accepted patterns in a list and decides every question by
 * looking at all of them: whether a pattern is refused (bad shape, same
 * method twice, another parameter at the same position), which route a
 * path and method reach (literal before parameter before catch-all,
 * segment by segment, first path with the method wins, HEAD falls back to
 * GET at the same path), with which parameters, and which methods Allow
 * lists otherwise.  Any disagreement aborts.  The raw input is also fed
 * to the pattern parser and the matcher, which must simply not crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#define MAX_ROUTES 16
#define MAX_SEGS   6

enum { K_LIT, K_STR, K_INT, K_PATH };

typedef struct seg {
	int kind;
	char text[24]; /* literal, or parameter name */
} seg_t;

typedef struct route {
	keel_http_method_t method;
	seg_t segs[MAX_SEGS];
	int n;
	char pattern[256];
} route_t;

typedef struct input {
	const uint8_t *p;
	size_t left;
} input_t;

static int next(input_t *in)
{
	if (in->left == 0)
		return -1;
	in->left--;
	return *in->p++;
}

/* One pattern segment from a byte: colliding literals, parameters whose
 * names depend on the position (and sometimes clash), empty. */
static void make_seg(int b, int pos, seg_t *s)
{
	static const char *const lits[] = {"a", "b", "ab", "1", ""};
	int pick = b % 9;
	if (pick < 5) {
		s->kind = K_LIT;
		snprintf(s->text, sizeof(s->text), "%s", lits[pick]);
		return;
	}
	s->kind = pick == 5 || pick == 6 ? K_STR : pick == 7 ? K_INT : K_PATH;
	snprintf(s->text, sizeof(s->text), "%c%d", pick == 6 ? 'q' : 'p', pos);
}

static void render(route_t *r)
{
	size_t n = 0;
	for (int i = 0; i < r->n; i++) {
		const seg_t *s = &r->segs[i];
		const char *fmt = s->kind == K_LIT   ? "/%s"
		                  : s->kind == K_STR ? "/{%s}"
		                  : s->kind == K_INT ? "/{%s:int}"
		                                     : "/{%s:path}";
		n += (size_t)snprintf(r->pattern + n, sizeof(r->pattern) - n,
		                      fmt, s->text);
	}
}

/* Shape rules: "" and catch-alls only last. */
static bool shape_ok(const route_t *r)
{
	for (int i = 0; i + 1 < r->n; i++)
		if (r->segs[i].kind == K_PATH ||
		    (r->segs[i].kind == K_LIT && !r->segs[i].text[0]))
			return false;
	return true;
}

static bool same_seg(const seg_t *a, const seg_t *b)
{
	return a->kind == b->kind && strcmp(a->text, b->text) == 0;
}

/* Same trie node: same literals, same parameters, position by position. */
static bool same_node(const route_t *a, const route_t *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (!same_seg(&a->segs[i], &b->segs[i]))
			return false;
	return true;
}

/* Where a and b share a prefix, parameters at one position must agree. */
static bool conflicts(const route_t *a, const route_t *b)
{
	for (int i = 0; i < a->n && i < b->n; i++) {
		const seg_t *x = &a->segs[i], *y = &b->segs[i];
		bool px = x->kind != K_LIT, py = y->kind != K_LIT;
		if (px != py || (!px && strcmp(x->text, y->text) != 0))
			return false;
		if (px && !same_seg(x, y))
			return true;
	}
	return false;
}

static int reference_add(const route_t *acc, int nacc, const route_t *r)
{
	if (!shape_ok(r))
		return KEEL_EINVAL;
	for (int i = 0; i < nacc; i++) {
		if (conflicts(&acc[i], r))
			return KEEL_EEXIST;
		if (acc[i].method == r->method && same_node(&acc[i], r))
			return KEEL_EEXIST;
	}
	return KEEL_OK;
}

typedef struct path {
	char text[512];
	const char *seg[MAX_SEGS + 1]; /* starts of segments in text */
	size_t len[MAX_SEGS + 1];
	int n;
} path_t;

static void make_path(input_t *in, path_t *p)
{
	static const char *const toks[] = {
	        "a", "b", "ab", "", "1", "-2", "+3", "99999999999999999999",
	        "c"};
	int nseg = next(in);
	p->n = nseg < 0 ? 1 : nseg % (MAX_SEGS + 1) + 1;
	size_t at = 0;
	for (int i = 0; i < p->n; i++) {
		int t = next(in);
		const char *tok = toks[(t < 0 ? 0 : t) % 9];
		p->text[at++] = '/';
		p->seg[i] = p->text + at;
		p->len[i] = strlen(tok);
		memcpy(p->text + at, tok, p->len[i]);
		at += p->len[i];
	}
	p->text[at] = '\0';
}

static bool is_i64(const char *s, size_t n)
{
	int64_t v;
	return keel_str_to_i64((keel_str_t){s, n}, &v) == KEEL_OK;
}

/* Does r match p?  Fills the rank of each position (literal 0,
 * parameter 1, catch-all 2) for ordering. */
static bool ref_match(const route_t *r, const path_t *p, int *rank)
{
	for (int i = 0; i < r->n; i++) {
		const seg_t *s = &r->segs[i];
		if (s->kind == K_PATH) {
			rank[i] = 2;
			size_t rest = strlen(p->seg[i < p->n ? i : 0]);
			return i < p->n && rest > 0;
		}
		if (i >= p->n)
			return false;
		rank[i] = s->kind == K_LIT ? 0 : 1;
		if (s->kind == K_LIT && (strlen(s->text) != p->len[i] ||
		                         memcmp(s->text, p->seg[i], p->len[i])))
			return false;
		if (s->kind != K_LIT && p->len[i] == 0)
			return false;
		if (s->kind == K_INT && !is_i64(p->seg[i], p->len[i]))
			return false;
	}
	return r->n == p->n;
}

static int rank_cmp(const int *a, int na, const int *b, int nb)
{
	for (int i = 0; i < na && i < nb; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return na - nb;
}

typedef struct expect {
	int route; /* index into acc, -1: none */
	unsigned allow;
} expect_t;

/* The best endpoint serving `m`, by rank order; HEAD uses GET there. */
static expect_t reference_match(const route_t *acc, int nacc,
                                keel_http_method_t m, const path_t *p)
{
	expect_t e = {-1, 0};
	int best[MAX_SEGS], rank[MAX_SEGS], best_n = 0;
	bool best_head = false;
	for (int i = 0; i < nacc; i++) {
		if (!ref_match(&acc[i], p, rank))
			continue;
		e.allow |= 1u << acc[i].method;
		bool exact = acc[i].method == m;
		bool fallback =
		        m == KEEL_HTTP_HEAD && acc[i].method == KEEL_HTTP_GET;
		if (!exact && !fallback)
			continue;
		int c = e.route < 0 ? -1
		                    : rank_cmp(rank, acc[i].n, best, best_n);
		if (c < 0 || (c == 0 && exact && !best_head)) {
			e.route = i;
			memcpy(best, rank, sizeof(rank));
			best_n = acc[i].n;
			best_head = exact;
		}
	}
	return e;
}

/* The parameters the router captured are the route's, with its values. */
static void check_params(const route_t *r, const path_t *p,
                         const keel__match_t *m)
{
	size_t k = 0;
	for (int i = 0; i < r->n; i++) {
		const seg_t *s = &r->segs[i];
		if (s->kind == K_LIT)
			continue;
		CHECK(k < m->nparams);
		CHECK(keel_str_eq(m->params[k].name,
		                  keel_str_from_cstr(s->text)));
		keel_str_t want = {p->seg[i], p->len[i]};
		if (s->kind == K_PATH)
			want.len = strlen(p->seg[i]);
		CHECK(keel_str_eq(m->params[k].value, want));
		k++;
	}
	CHECK(k == m->nparams);
}

static void check_path(const keel__router_t *rt, const route_t *acc, int nacc,
                       keel_http_method_t method, const path_t *p)
{
	keel__match_t m;
	int rc =
	        keel__router_match(rt, method, keel_str_from_cstr(p->text), &m);
	expect_t e = reference_match(acc, nacc, method, p);
	if (e.route < 0) {
		CHECK(rc == KEEL_ENOENT);
		CHECK(m.value == NULL);
		CHECK(m.allow == e.allow);
		return;
	}
	CHECK(rc == KEEL_OK);
	CHECK(m.value == &acc[e.route]);
	check_params(&acc[e.route], p, &m);
}

static int build_routes(keel__router_t *rt, input_t *in, route_t *acc)
{
	int nroutes = next(in);
	int nacc = 0;
	nroutes = nroutes < 0 ? 0 : nroutes % MAX_ROUTES + 1;
	for (int i = 0; i < nroutes; i++) {
		route_t r = {0};
		int mb = next(in), nb = next(in);
		r.method = (keel_http_method_t)((mb < 0 ? 0 : mb) % 7 + 1);
		r.n = (nb < 0 ? 0 : nb) % MAX_SEGS + 1;
		for (int j = 0; j < r.n; j++) {
			int b = next(in);
			make_seg(b < 0 ? 0 : b, j, &r.segs[j]);
		}
		render(&r);
		int want = reference_add(acc, nacc, &r);
		acc[nacc] = r;
		char err[160];
		int got = keel__router_add(
		        rt, r.method, keel_str_from_cstr(acc[nacc].pattern),
		        &acc[nacc], NULL, NULL, err, sizeof(err));
		CHECK(got == want);
		if (got == KEEL_OK)
			nacc++;
	}
	return nacc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static route_t acc[MAX_ROUTES];
	keel__router_t *rt = keel__router_new();
	CHECK(rt);
	input_t in = {data, size};
	int nacc = build_routes(rt, &in, acc);
	while (in.left > 0) {
		path_t p;
		int mb = next(&in);
		make_path(&in, &p);
		check_path(rt, acc, nacc, (keel_http_method_t)(mb % 7 + 1), &p);
	}
	/* Raw bytes as a pattern and as a path: no crash, parse agrees. */
	char err[160];
	keel_str_t raw = {(const char *)data, size};
	int parsed = keel__router_parse(raw, NULL, NULL, err, sizeof(err));
	int added = keel__router_add(rt, KEEL_HTTP_PUT, raw, acc, NULL, NULL,
	                             err, sizeof(err));
	CHECK(parsed == KEEL_OK || added == KEEL_EINVAL);
	keel__match_t m;
	keel__router_match(rt, KEEL_HTTP_PUT, raw, &m);
	keel__router_free(rt);
	return 0;
}
