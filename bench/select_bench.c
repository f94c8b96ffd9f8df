/*
 * select_bench - the median of 1e6 random uint64 values found three ways:
 * keel_select (introselect, expected O(n)), a full keel_sort, and a full
 * glibc qsort, plus keel_median_u64 (keel_select behind the percentile
 * API).  Each runs REPS times (default 5, or argv[1]) on a fresh copy of
 * the same data; the table shows the median CPU time.  All four must agree
 * on the median, or the exit status is 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/select.h"
#include "keel/sort.h"

#define N        1000000
#define MAX_REPS 31

enum method { M_SELECT, M_MEDIAN, M_SORT, M_QSORT, M_COUNT };

static const char *const method_names[] = {"keel_select", "keel_median_u64",
                                           "keel_sort", "qsort"};

static uint64_t rng_state = 0x853c49e6748fea9bu;

/* xorshift64*: fixed seed, so every run works on the same data. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* CPU time of this process: steadier than wall time on a shared machine. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Finds the lower median of a fresh copy of `in` with method `m`; a
 * failing call yields UINT64_MAX, which main reports as a disagreement. */
static uint64_t median_by(enum method m, const uint64_t *in, uint64_t *work,
                          double *ms)
{
	size_t k = (N - 1) / 2;
	uint64_t out = UINT64_MAX;
	memcpy(work, in, N * sizeof(*work));
	double t0 = cpu_ms();
	switch (m) {
	case M_SELECT:
		if (keel_select(work, N, sizeof(*work), k, cmp_u64) == 0)
			out = work[k];
		break;
	case M_MEDIAN:
		if (keel_median_u64(work, N, &out) != 0)
			out = UINT64_MAX;
		break;
	case M_SORT:
		keel_sort(work, N, sizeof(*work), cmp_u64);
		out = work[k];
		break;
	default:
		qsort(work, N, sizeof(*work), cmp_u64);
		out = work[k];
		break;
	}
	*ms = cpu_ms() - t0;
	return out;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (reps < 1 || reps > MAX_REPS)
		reps = 5;
	uint64_t *in = malloc(N * sizeof(*in)), *work = malloc(N * sizeof(*in));
	if (in == NULL || work == NULL)
		return 1;
	for (size_t i = 0; i < N; i++)
		in[i] = rng_next();
	double t[M_COUNT][MAX_REPS], dummy;
	uint64_t expect = median_by(M_QSORT, in, work, &dummy);
	int rc = 0;
	for (int r = 0; r < reps; r++)
		for (int m = 0; m < M_COUNT; m++)
			if (median_by((enum method)m, in, work, &t[m][r]) !=
			    expect)
				rc = 1;
	printf("median of n = %d random uint64, median of %d runs, CPU ms\n", N,
	       reps);
	printf("%-18s %10s %10s\n", "method", "ms", "vs qsort");
	for (int m = 0; m < M_COUNT; m++)
		qsort(t[m], (size_t)reps, sizeof(double), cmp_double);
	for (int m = 0; m < M_COUNT; m++)
		printf("%-18s %10.1f %10.2f\n", method_names[m], t[m][reps / 2],
		       t[m][reps / 2] / t[M_QSORT][reps / 2]);
	if (rc != 0)
		fprintf(stderr,
		        "select_bench: methods disagree on the median\n");
	free(in);
	free(work);
	return rc;
}
