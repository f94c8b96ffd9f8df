/*
 * router_bench - time to match a request path against the route table.
 *
 * Builds REST-shaped tables of 20, 200 and 2000 routes (per resource: GET
 * and POST on the collection, a static /search, GET /{id}, and a nested
 * /{id}/items/{item:int}) and matches a fixed mix of paths against each:
 * static, one parameter, two parameters with an int, and a 404 that makes
 * the trie back up.  The same lookups through a linear list of patterns
 * (what a hand-written if/else chain or a naive router does) show what
 * the trie buys.  Reported: median ns per match over RUNS runs of CPU
 * time (CLOCK_PROCESS_CPUTIME_ID, steadier than wall time on a shared
 * machine).  Every result is checked; exit status 1 if one is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/sort.h"
#include "web/router.h"

#define RUNS       5
#define PER_RES    5
#define MAX_ROUTES 2000

typedef struct entry {
	keel_http_method_t method;
	char pattern[64];
} entry_t;

static entry_t table[MAX_ROUTES];
static size_t ntable;

static void add_resource(keel__router_t *r, int i)
{
	static const struct {
		keel_http_method_t m;
		const char *fmt;
	} shapes[PER_RES] = {
	        {KEEL_HTTP_GET, "/api/r%d"},
	        {KEEL_HTTP_POST, "/api/r%d"},
	        {KEEL_HTTP_GET, "/api/r%d/search"},
	        {KEEL_HTTP_GET, "/api/r%d/{id}"},
	        {KEEL_HTTP_GET, "/api/r%d/{id}/items/{item:int}"},
	};
	for (int k = 0; k < PER_RES; k++) {
		entry_t *e = &table[ntable];
		char err[160];
		e->method = shapes[k].m;
		snprintf(e->pattern, sizeof(e->pattern), shapes[k].fmt, i);
		if (keel__router_add(r, e->method,
		                     keel_str_from_cstr(e->pattern), e, NULL,
		                     NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "add %s: %s\n", e->pattern, err);
			exit(1);
		}
		ntable++;
	}
}

typedef struct probe {
	char path[64];
	const entry_t *want; /* NULL: 404 */
} probe_t;

/* Paths spread over the table: static, param, nested, 404. */
static size_t make_probes(probe_t *p, int resources)
{
	size_t n = 0;
	for (int i = 0; i < 16; i++) {
		int r = (i * 7919) % resources;
		const entry_t *base = &table[(size_t)r * PER_RES];
		switch (i % 4) {
		case 0:
			snprintf(p[n].path, 64, "/api/r%d/search", r);
			p[n++].want = base + 2;
			break;
		case 1:
			snprintf(p[n].path, 64, "/api/r%d/slug-%d", r, i);
			p[n++].want = base + 3;
			break;
		case 2:
			snprintf(p[n].path, 64, "/api/r%d/x%d/items/%d", r, i,
			         i * 31);
			p[n++].want = base + 4;
			break;
		default:
			snprintf(p[n].path, 64, "/api/r%d/x/items/none", r);
			p[n++].want = NULL;
		}
	}
	return n;
}

/* The baseline: try every pattern in turn, segment by segment. */
static bool naive_one(const char *pat, const char *path)
{
	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++, path++;
		const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sl = se ? (size_t)(se - path) : strlen(path);
		if (pat[0] != '{' && (pl != sl || memcmp(pat, path, pl) != 0))
			return false;
		int64_t v;
		if (pat[0] == '{' &&
		    (sl == 0 ||
		     (pl >= 5 && memcmp(pat + pl - 5, ":int}", 5) == 0 &&
		      keel_str_to_i64((keel_str_t){path, sl}, &v))))
			return false;
		pat += pl;
		path += sl;
	}
	return *pat == *path;
}

static const entry_t *naive_match(const char *path)
{
	for (size_t i = 0; i < ntable; i++)
		if (table[i].method == KEEL_HTTP_GET &&
		    naive_one(table[i].pattern, path))
			return &table[i];
	return NULL;
}

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int failures;

/* Median ns per match over RUNS runs of `iters` lookups. */
static double time_trie(const keel__router_t *r, const probe_t *p, size_t np,
                        long iters)
{
	double v[RUNS];
	for (int run = 0; run < RUNS; run++) {
		double t0 = cpu_ns();
		for (long i = 0; i < iters; i++) {
			const probe_t *q = &p[(size_t)i % np];
			keel__match_t m;
			keel__router_match(r, KEEL_HTTP_GET,
			                   keel_str_from_cstr(q->path), &m);
			if (m.value != q->want)
				failures++;
		}
		v[run] = (cpu_ns() - t0) / (double)iters;
	}
	keel_sort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

static double time_naive(const probe_t *p, size_t np, long iters)
{
	double v[RUNS];
	for (int run = 0; run < RUNS; run++) {
		double t0 = cpu_ns();
		for (long i = 0; i < iters; i++) {
			const probe_t *q = &p[(size_t)i % np];
			if (naive_match(q->path) != q->want)
				failures++;
		}
		v[run] = (cpu_ns() - t0) / (double)iters;
	}
	keel_sort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

int main(void)
{
	static const int sizes[] = {4, 40, 400}; /* resources: 20/200/2000 */
	printf("%-8s %14s %16s\n", "routes", "trie ns/match",
	       "linear ns/match");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		keel__router_t *r = keel__router_new();
		probe_t probes[16];
		ntable = 0;
		for (int i = 0; i < sizes[s]; i++)
			add_resource(r, i);
		size_t np = make_probes(probes, sizes[s]);
		double trie = time_trie(r, probes, np, 2000000);
		double lin = time_naive(probes, np, 20000000 / (long)ntable);
		printf("%-8zu %14.1f %16.1f\n", ntable, trie, lin);
		keel__router_free(r);
	}
	if (failures)
		fprintf(stderr, "router_bench: %d wrong results\n", failures);
	return failures ? 1 : 0;
}
