/*
 * coro_bench - what a context switch costs.
 *
 * Compares keel's coroutine switch with swapcontext (which also saves and
 * restores the signal mask, one system call per switch) and with handing
 * control between two threads through a futex (two system calls and a
 * scheduler wake-up per handoff), then the cost of starting and finishing a
 * coroutine with a cached stack and with a freshly mapped one.
 *
 * A "switch" is one direction: a resume+yield round trip counts as two.
 * Each figure is the best of 20 slices, as other processes share the cores.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "keel/coro.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef double bench_fn(void *ctx, long n);

/*
 * Runs `n` operations as 20 slices and reports the best slice: other
 * processes share the cores, and their noise only ever adds time.
 */
static void run(const char *what, bench_fn *fn, void *ctx, long n)
{
	double best = fn(ctx, n / 20);
	for (int r = 1; r < 20; r++) {
		double t = fn(ctx, n / 20);
		best = t < best ? t : best;
	}
	printf("%-40s %10ld %10.1f\n", what, n, best);
}

/* ------------------------------------------------------ keel coroutines */

static intptr_t bounce(void *arg)
{
	long n = *(long *)arg;
	for (long i = 0; i < n; i++)
		keel_coro_yield(i);
	return 0;
}

static double bench_keel_switch(void *pool, long n)
{
	keel_coro_t *co = keel_coro_new(pool, bounce, &n);
	if (!co)
		exit(1);
	double t0 = now_ns();
	while (keel_coro_resume(co, 0) == KEEL_CORO_YIELDED)
		;
	double t1 = now_ns();
	keel_coro_free(co);
	return (t1 - t0) / (2.0 * (double)n);
}

static intptr_t nothing(void *arg)
{
	return (intptr_t)arg;
}

/* new + first resume (runs to the end) + free, all from the pool's cache. */
static double bench_keel_lifecycle(void *pool, long n)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		keel_coro_t *co = keel_coro_new(pool, nothing, NULL);
		if (!co)
			exit(1);
		keel_coro_resume(co, 0);
		keel_coro_free(co);
	}
	return (now_ns() - t0) / (double)n;
}

/* ------------------------------------------------------ swapcontext */

static ucontext_t uc_main, uc_co;

static void uc_bounce(void)
{
	for (;;)
		swapcontext(&uc_co, &uc_main);
}

static double bench_swapcontext(void *unused, long n)
{
	(void)unused;
	size_t size = 64 * 1024;
	void *stack = malloc(size);
	if (!stack)
		exit(1);
	getcontext(&uc_co);
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = size;
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_bounce, 0);
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_co);
	double t1 = now_ns();
	free(stack);
	return (t1 - t0) / (2.0 * (double)n);
}

/* ------------------------------------------------------ thread handoff */

static atomic_int turn; /* whose go it is: 0 or 1 */
static long handoffs;

static void futex_wait(atomic_int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits for its turn, passes it on; `me` is 0 or 1. */
static void play(int me)
{
	for (long i = 0; i < handoffs; i++) {
		while (atomic_load(&turn) != me)
			futex_wait(&turn, !me);
		atomic_store(&turn, !me);
		futex_wake(&turn);
	}
}

static void *other_player(void *arg)
{
	(void)arg;
	play(1);
	return NULL;
}

static double bench_thread_handoff(void *unused, long n)
{
	(void)unused;
	pthread_t t;
	handoffs = n;
	atomic_store(&turn, 0);
	if (pthread_create(&t, NULL, other_player, NULL) != 0)
		exit(1);
	double t0 = now_ns();
	play(0);
	pthread_join(t, NULL);
	return (now_ns() - t0) / (2.0 * (double)n);
}

int main(void)
{
	keel_coro_pool_t *cached = keel_coro_pool_new(0, 16);
	keel_coro_pool_t *uncached = keel_coro_pool_new(0, 0);
	if (!cached || !uncached)
		return 1;
	printf("coroutine switch cost (ns per one-way switch; lower is "
	       "better)\n");
	printf("%-40s %10s %10s\n", "what", "count", "ns/op");
	run("keel_coro resume/yield switch", bench_keel_switch, cached,
	    5000000);
	run("swapcontext switch", bench_swapcontext, NULL, 500000);
	run("thread handoff via futex", bench_thread_handoff, NULL, 50000);
	run("keel_coro new+run+free, cached stack", bench_keel_lifecycle,
	    cached, 2000000);
	run("keel_coro new+run+free, mmap each", bench_keel_lifecycle, uncached,
	    20000);
	keel_coro_pool_free(cached);
	keel_coro_pool_free(uncached);
	return 0;
}
