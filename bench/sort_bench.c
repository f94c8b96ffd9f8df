/*
 * sort_bench - keel_sort against glibc qsort on the same inputs.
 *
 * Sorts 1e6 random 32-bit ints and 1e6 64-byte records (a 64-bit key and a
 * payload), each also presorted and reversed, REPS times per algorithm
 * (default 5, or argv[1]), and prints the median CPU time and the
 * keel/qsort ratio.  CPU time of the process rather than wall time, because
 * the benchmark machines are shared.  Every result is checked to be sorted;
 * exit status 1 if one is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/sort.h"

#define N        1000000
#define MAX_REPS 31

struct record {
	uint64_t key;
	char payload[56];
};

enum order { RANDOM, SORTED, REVERSED };

static const char *const order_names[] = {"random", "sorted", "reversed"};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed seed, so every run sorts the same data. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_record(const void *a, const void *b)
{
	uint64_t x = ((const struct record *)a)->key;
	uint64_t y = ((const struct record *)b)->key;
	return (x > y) - (x < y);
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void fill_ints(int *v, enum order o)
{
	for (size_t i = 0; i < N; i++)
		v[i] = (int)(uint32_t)rng_next();
	if (o != RANDOM)
		qsort(v, N, sizeof(*v), cmp_int);
	for (size_t i = 0; o == REVERSED && i < N / 2; i++) {
		int t = v[i];
		v[i] = v[N - 1 - i];
		v[N - 1 - i] = t;
	}
}

static void fill_records(struct record *v, enum order o)
{
	for (size_t i = 0; i < N; i++) {
		v[i].key = rng_next();
		memset(v[i].payload, (int)(i & 0x7f), sizeof(v[i].payload));
	}
	if (o != RANDOM)
		qsort(v, N, sizeof(*v), cmp_record);
	for (size_t i = 0; o == REVERSED && i < N / 2; i++) {
		struct record t = v[i];
		v[i] = v[N - 1 - i];
		v[N - 1 - i] = t;
	}
}

static int is_sorted(const char *v, size_t size, keel_sort_cmp_fn cmp)
{
	for (size_t i = 1; i < N; i++)
		if (cmp(v + (i - 1) * size, v + i * size) > 0)
			return 0;
	return 1;
}

/* Times one sort of a fresh copy of `in`; -1 when the output is wrong. */
static double time_one(int use_keel, const void *in, void *work, size_t size,
                       keel_sort_cmp_fn cmp)
{
	memcpy(work, in, N * size);
	double t0 = cpu_ms();
	if (use_keel)
		keel_sort(work, N, size, cmp);
	else
		qsort(work, N, size, cmp);
	double t = cpu_ms() - t0;
	return is_sorted(work, size, cmp) ? t : -1.0;
}

/* Alternates the two sorts so that neither always runs on a warm cache. */
static int run_case(const char *name, const void *in, void *work, size_t size,
                    keel_sort_cmp_fn cmp, int reps)
{
	double tq[MAX_REPS], tk[MAX_REPS];
	for (int r = 0; r < reps; r++) {
		tq[r] = time_one(0, in, work, size, cmp);
		tk[r] = time_one(1, in, work, size, cmp);
		if (tq[r] < 0 || tk[r] < 0) {
			fprintf(stderr, "%s: output not sorted\n", name);
			return 1;
		}
	}
	double q = median(tq, reps), k = median(tk, reps);
	printf("%-20s %10.1f %10.1f %8.2f\n", name, q, k, k / q);
	return 0;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (reps < 1 || reps > MAX_REPS)
		reps = 5;
	size_t bytes = N * sizeof(struct record);
	char *in = malloc(bytes), *work = malloc(bytes);
	if (in == NULL || work == NULL)
		return 1;
	printf("n = %d, median of %d runs, CPU ms\n", N, reps);
	printf("%-20s %10s %10s %8s\n", "input", "qsort", "keel_sort", "ratio");
	int rc = 0;
	for (int o = RANDOM; o <= REVERSED && rc == 0; o++) {
		char name[32];
		fill_ints((int *)(void *)in, (enum order)o);
		snprintf(name, sizeof(name), "int32 %s", order_names[o]);
		rc = run_case(name, in, work, sizeof(int), cmp_int, reps);
	}
	for (int o = RANDOM; o <= REVERSED && rc == 0; o++) {
		char name[32];
		fill_records((struct record *)(void *)in, (enum order)o);
		snprintf(name, sizeof(name), "record64 %s", order_names[o]);
		rc = run_case(name, in, work, sizeof(struct record), cmp_record,
		              reps);
	}
	free(in);
	free(work);
	return rc;
}
