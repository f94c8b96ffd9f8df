/*
 * password_bench - what a login costs in CPU.
 *
 * Hashes and verifies with argon2id at the default policy (19 MiB, t=2,
 * p=1: OWASP's minimum) and at a raised one, on the calling thread, and
 * reports per-operation wall time (best of the runs, as other processes
 * share the cores) and operations per second per core.  This is the
 * number that sizes a worker's thread pool: one pool thread answers about
 * that many logins per second.  Exits 1 when a verify gives a wrong answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/password.h"

#define RUNS 10

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void row(const char *what, double best)
{
	printf("%-34s %9.1f %9.1f\n", what, best * 1e3, 1.0 / best);
}

/* Best-of-RUNS time of hash, verify (right) and verify (wrong). */
static int measure(const char *label, const keel_password_params_t *p)
{
	char h[KEEL_PASSWORD_HASH_MAX], what[64];
	keel_str_t pw = {"correct horse battery staple", 28};
	keel_str_t bad = {"correct horse battery stapler", 29};
	double hash = 1e9, ok = 1e9, wrong = 1e9;

	if (keel_password_setup(p) != 0)
		return 1;
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_s();
		if (keel_password_hash(pw, h) != 0)
			return 1;
		double t1 = now_s();
		if (keel_password_verify(pw, h) != 0)
			return 1;
		double t2 = now_s();
		if (keel_password_verify(bad, h) != KEEL_EINVAL)
			return 1;
		double t3 = now_s();
		hash = t1 - t0 < hash ? t1 - t0 : hash;
		ok = t2 - t1 < ok ? t2 - t1 : ok;
		wrong = t3 - t2 < wrong ? t3 - t2 : wrong;
	}
	snprintf(what, sizeof(what), "hash %s", label);
	row(what, hash);
	snprintf(what, sizeof(what), "verify ok %s", label);
	row(what, ok);
	snprintf(what, sizeof(what), "verify wrong %s", label);
	row(what, wrong);
	return 0;
}

int main(void)
{
	keel_password_params_t def, raised = {64u * 1024 * 1024, 3};
	keel_password_params_default(&def);

	printf("%-34s %9s %9s\n", "argon2id (1 thread)", "ms/op", "ops/s");
	if (measure("m=19MiB t=2", &def) || measure("m=64MiB t=3", &raised)) {
		fprintf(stderr, "password_bench: wrong result\n");
		return 1;
	}
	return 0;
}
