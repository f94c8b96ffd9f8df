#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/coro.h"

/* Echoes every value it is resumed with, plus one, until it gets -1. */
static intptr_t coro_echo(void *arg)
{
	intptr_t v = (intptr_t)arg;
	while (v != -1)
		v = keel_coro_yield(v + 1);
	return 4242;
}

Test(coro, ping_pong_passes_values_both_ways)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 4);
	cr_assert_not_null(pool);
	keel_coro_t *co = keel_coro_new(pool, coro_echo, (void *)(intptr_t)7);
	cr_assert_not_null(co);
	cr_assert(!keel_coro_done(co));
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_value(co), 8);
	for (intptr_t i = 0; i < 100000; i++) {
		cr_assert_eq(keel_coro_resume(co, i * 3), KEEL_CORO_YIELDED);
		cr_assert_eq(keel_coro_value(co), i * 3 + 1);
	}
	cr_assert_eq(keel_coro_resume(co, -1), KEEL_CORO_FINISHED);
	cr_assert(keel_coro_done(co));
	cr_assert_eq(keel_coro_value(co), 4242);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_ESTATE);
	cr_assert_eq(keel_coro_free(co), 0);
	keel_coro_pool_free(pool);
}

struct nest {
	keel_coro_pool_t *pool;
	keel_coro_t *outer;
	keel_coro_t *inner_seen_current;
	keel_coro_t *outer_seen_after;
	int inner_resume_self;
	int inner_resume_outer;
	int steps;
};

static intptr_t coro_inner(void *arg)
{
	struct nest *n = arg;
	n->inner_seen_current = keel_coro_current();
	n->inner_resume_self = keel_coro_resume(keel_coro_current(), 0);
	n->inner_resume_outer = keel_coro_resume(n->outer, 0);
	n->steps++;
	keel_coro_yield(1); /* back to outer, not to the test */
	n->steps++;
	return 2;
}

static intptr_t coro_outer(void *arg)
{
	struct nest *n = arg;
	keel_coro_t *in = keel_coro_new(n->pool, coro_inner, n);
	cr_assert_not_null(in);
	cr_assert_eq(keel_coro_resume(in, 0), KEEL_CORO_YIELDED);
	n->outer_seen_after = keel_coro_current();
	cr_assert_eq(keel_coro_value(in), 1);
	cr_assert_eq(keel_coro_free(keel_coro_current()), KEEL_ESTATE);
	keel_coro_yield(10); /* to the test, with `in` suspended */
	cr_assert_eq(keel_coro_resume(in, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(in), 2);
	cr_assert_eq(keel_coro_free(in), 0);
	return 20;
}

Test(coro, nested_coroutine_yields_to_its_resumer)
{
	struct nest n = {.pool = keel_coro_pool_new(0, 2)};
	cr_assert_not_null(n.pool);
	n.outer = keel_coro_new(n.pool, coro_outer, &n);
	cr_assert_null(keel_coro_current());
	cr_assert_eq(keel_coro_resume(n.outer, 0), KEEL_CORO_YIELDED);
	cr_assert_null(keel_coro_current());
	cr_assert_eq(keel_coro_value(n.outer), 10);
	cr_assert_eq(n.steps, 1);
	cr_assert_eq(keel_coro_resume(n.outer, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(n.outer), 20);
	cr_assert_eq(n.steps, 2);
	cr_assert_neq(n.inner_seen_current, NULL);
	cr_assert_neq(n.inner_seen_current, n.outer);
	cr_assert_eq(n.outer_seen_after, n.outer);
	cr_assert_eq(n.inner_resume_self, KEEL_ESTATE);
	cr_assert_eq(n.inner_resume_outer, KEEL_ESTATE);
	cr_assert_eq(keel_coro_free(n.outer), 0);
	cr_assert_eq(keel_coro_pool_stats(n.pool).live, 0);
	keel_coro_pool_free(n.pool);
}

#define INTERLEAVED 500
#define ROUNDS      20

struct slot {
	int id;
	int *log;
	int *log_len;
};

/* Appends its id to a shared log each time it runs, ROUNDS times. */
static intptr_t coro_logger(void *arg)
{
	struct slot *s = arg;
	intptr_t sum = 0;
	for (int r = 0; r < ROUNDS; r++) {
		s->log[(*s->log_len)++] = s->id;
		sum += keel_coro_yield(r);
	}
	return sum;
}

Test(coro, many_coroutines_interleave_round_robin)
{
	static int log[INTERLEAVED * ROUNDS];
	static struct slot slots[INTERLEAVED];
	static keel_coro_t *cos[INTERLEAVED];
	int log_len = 0;
	keel_coro_pool_t *pool = keel_coro_pool_new(KEEL_CORO_STACK_MIN, 8);
	cr_assert_not_null(pool);
	for (int i = 0; i < INTERLEAVED; i++) {
		slots[i] = (struct slot){i, log, &log_len};
		cos[i] = keel_coro_new(pool, coro_logger, &slots[i]);
		cr_assert_not_null(cos[i]);
	}
	cr_assert_eq(keel_coro_pool_stats(pool).live, INTERLEAVED);
	for (int r = 0; r <= ROUNDS; r++)
		for (int i = 0; i < INTERLEAVED; i++) {
			int want = r == ROUNDS ? KEEL_CORO_FINISHED
			                       : KEEL_CORO_YIELDED;
			cr_assert_eq(keel_coro_resume(cos[i], i), want);
		}
	cr_assert_eq(log_len, INTERLEAVED * ROUNDS);
	for (int k = 0; k < log_len; k++)
		cr_assert_eq(log[k], k % INTERLEAVED);
	for (int i = 0; i < INTERLEAVED; i++) {
		cr_assert_eq(keel_coro_value(cos[i]), (intptr_t)i * ROUNDS);
		cr_assert_eq(keel_coro_free(cos[i]), 0);
	}
	keel_coro_pool_stats_t st = keel_coro_pool_stats(pool);
	cr_assert_eq(st.live, 0);
	cr_assert_eq(st.cached, 8);
	cr_assert_eq(st.mapped, INTERLEAVED);
	keel_coro_pool_free(pool);
}

static intptr_t coro_return_arg(void *arg)
{
	return (intptr_t)arg;
}

Test(coro, pool_reuses_stacks_without_mapping)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 2);
	cr_assert_not_null(pool);
	for (intptr_t i = 0; i < 1000; i++) {
		keel_coro_t *co =
		        keel_coro_new(pool, coro_return_arg, (void *)i);
		cr_assert_not_null(co);
		cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_FINISHED);
		cr_assert_eq(keel_coro_value(co), i);
		cr_assert_eq(keel_coro_free(co), 0);
	}
	keel_coro_pool_stats_t st = keel_coro_pool_stats(pool);
	cr_assert_eq(st.mapped, 1);
	cr_assert_eq(st.cached, 1);
	cr_assert_eq(st.live, 0);

	/* Three live at once: the cache gives one, two are mapped; on free
	 * only max_cached (2) are kept. */
	keel_coro_t *c[3];
	for (int i = 0; i < 3; i++)
		c[i] = keel_coro_new(pool, coro_return_arg, NULL);
	st = keel_coro_pool_stats(pool);
	cr_assert_eq(st.mapped, 3);
	cr_assert_eq(st.cached, 0);
	cr_assert_eq(st.live, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(keel_coro_free(c[i]), 0);
	st = keel_coro_pool_stats(pool);
	cr_assert_eq(st.cached, 2);
	cr_assert_eq(st.live, 0);
	keel_coro_pool_free(pool);
}

/* A suspended coroutine may be freed; its stack serves the next one. */
Test(coro, free_suspended_coroutine_and_reuse_its_stack)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 1);
	keel_coro_t *co = keel_coro_new(pool, coro_echo, (void *)1);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_resume(co, 5), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_free(co), 0);
	co = keel_coro_new(pool, coro_echo, (void *)100);
	cr_assert_eq(keel_coro_pool_stats(pool).mapped, 1);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_value(co), 101);
	cr_assert_eq(keel_coro_resume(co, -1), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_free(co), 0);
	keel_coro_pool_free(pool);
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Goes `n` frames deep, each with a local ASan guards, and yields there. */
static int dive(int n)
{
	volatile char buf[200];
	buf[0] = (char)n;
	if (n == 0) {
		keel_coro_yield(0);
		return buf[0];
	}
	return dive(n - 1) + buf[0];
}

static intptr_t coro_dive(void *arg)
{
	return dive((int)(intptr_t)arg);
}

/* Reports whether the stack below its own frame carries ASan poison. */
static intptr_t coro_probe_shadow(void *arg)
{
	(void)arg;
	char probe = 0;
	char *below = &probe - 512;
	keel_coro_yield(probe);
#ifdef TEST_ASAN
	return __asan_region_is_poisoned(below - 8192, 8192) != NULL;
#else
	(void)below;
	return 0;
#endif
}

/*
 * A coroutine freed mid-call leaves the redzones of its unfinished frames
 * poisoned; the next coroutine on that stack must not inherit them.
 */
Test(coro, reused_stack_carries_no_stale_poison)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 1);
	keel_coro_t *co = keel_coro_new(pool, coro_dive, (void *)40);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_free(co), 0);
	co = keel_coro_new(pool, coro_probe_shadow, NULL);
	cr_assert_eq(keel_coro_pool_stats(pool).mapped, 1);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(co), 0);
	keel_coro_free(co);
	keel_coro_pool_free(pool);
}

/* Not a tail call, and the frame cannot be folded away. */
static int recurse(int depth, int limit)
{
	volatile char frame[200];
	frame[0] = (char)depth;
	frame[199] = (char)(depth >> 8);
	if (depth >= limit)
		return depth;
	int below = recurse(depth + 1, limit);
	return below + (frame[0] == (char)depth) - 1 +
	       (frame[199] == (char)(depth >> 8)) - 1;
}

static intptr_t coro_recurse(void *arg)
{
	int limit = (int)(intptr_t)arg;
	int r1 = recurse(0, limit);
	keel_coro_yield(r1);
	return recurse(0, limit);
}

Test(coro, deep_recursion_within_the_stack)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(256 * 1024, 0);
	cr_assert_eq(keel_coro_pool_stack_size(pool), 256 * 1024);
	/* ~500 frames of 200+ bytes (more under ASan): well under 256 KiB. */
	keel_coro_t *co = keel_coro_new(pool, coro_recurse, (void *)500);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_value(co), 500);
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(co), 500);
	keel_coro_free(co);
	keel_coro_pool_free(pool);
}

/* A 32 KiB local array survives a yield intact. */
static intptr_t coro_big_local(void *arg)
{
	unsigned char big[32 * 1024];
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(seed + i * 131);
	keel_coro_yield(0);
	for (size_t i = 0; i < sizeof(big); i++)
		if (big[i] != (unsigned char)(seed + i * 131))
			return -1;
	return 1;
}

Test(coro, large_stack_locals_survive_switches)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(96 * 1024, 2);
	keel_coro_t *a = keel_coro_new(pool, coro_big_local, (void *)3);
	keel_coro_t *b = keel_coro_new(pool, coro_big_local, (void *)77);
	cr_assert_eq(keel_coro_resume(a, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_resume(b, 0), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_resume(a, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_resume(b, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(a), 1);
	cr_assert_eq(keel_coro_value(b), 1);
	keel_coro_free(a);
	keel_coro_free(b);
	keel_coro_pool_free(pool);
}

/* 1/3 rounded per the current mode, in double (SSE) and long double (x87). */
static void third(double *d, long double *ld)
{
	volatile double one = 1.0, three = 3.0;
	volatile long double lone = 1.0L, lthree = 3.0L;
	*d = one / three;
	*ld = lone / lthree;
}

/* Sets its own rounding mode, then checks it survives the test's switches. */
static intptr_t coro_round_up(void *arg)
{
	(void)arg;
	fesetround(FE_UPWARD);
	volatile double acc = 0.1;
	for (int i = 0; i < 3; i++) {
		keel_coro_yield(0);
		if (fegetround() != FE_UPWARD)
			return -1;
		acc = acc * 3.0;
	}
	double d;
	long double ld;
	third(&d, &ld);
	keel_coro_yield((intptr_t)(acc * 1000.0));
	double d2;
	long double ld2;
	third(&d2, &ld2);
	return d == d2 && ld == ld2 ? 1 : -2;
}

Test(coro, floating_point_state_is_per_coroutine)
{
	double down, up;
	long double ldown, lup;
	cr_assert_eq(fesetround(FE_DOWNWARD), 0);
	third(&down, &ldown);
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 1);
	keel_coro_t *co = keel_coro_new(pool, coro_round_up, NULL);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_YIELDED);
		cr_assert_eq(fegetround(), FE_DOWNWARD);
		double d;
		long double ld;
		third(&d, &ld);
		cr_assert(d == down && ld == ldown);
	}
	cr_assert_eq(keel_coro_value(co), 2700); /* 0.1*27 rounded up */
	cr_assert_eq(keel_coro_resume(co, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(co), 1);
	fesetround(FE_UPWARD);
	third(&up, &lup);
	cr_assert(up > down && lup > ldown, "rounding modes must differ");
	fesetround(FE_TONEAREST);
	keel_coro_free(co);
	keel_coro_pool_free(pool);
}

static char *overflow_top;   /* an address near the top of the stack */
static size_t overflow_size; /* the coroutine's usable stack bytes */

static intptr_t coro_overflow(void *arg)
{
	char here;
	overflow_top = &here;
	int limit = *(volatile int *)arg;
	return recurse(0, limit);
}

/* Exits 77 when the fault is at the stack's low end, where the guard is. */
static void on_overflow_segv(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)uctx;
	char *addr = si->si_addr;
	char *bottom = overflow_top - overflow_size;
	bool in_guard = addr < bottom + 4096 && addr >= bottom - 16 * 1024;
	_exit(in_guard ? 77 : 78);
}

/* Child side: overflows a 16 KiB stack; returns only if nothing faulted. */
static void overflow_child(void)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa = {.sa_sigaction = on_overflow_segv,
	                       .sa_flags = SA_SIGINFO | SA_ONSTACK};
	static volatile int limit = 1 << 30;
	int devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0)
		dup2(devnull, 2);
	sigaltstack(&ss, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	keel_coro_pool_t *pool = keel_coro_pool_new(0x4000, 0);
	overflow_size = keel_coro_pool_stack_size(pool);
	keel_coro_t *co = keel_coro_new(pool, coro_overflow, (void *)&limit);
	keel_coro_resume(co, 0);
}

/*
 * Runs an unbounded recursion on a 16 KiB stack in a child process: it must
 * fault just below the stack (in the guard), not somewhere further down
 * after trampling a neighbouring mapping.
 */
Test(coro, stack_overflow_hits_the_guard_page)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		overflow_child();
		_exit(0); /* not reached when the guard works */
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %#x", status);
	cr_assert_eq(WEXITSTATUS(status), 77);
}

Test(coro, bad_arguments_are_refused)
{
	errno = 0;
	cr_assert_null(keel_coro_pool_new(KEEL_CORO_STACK_MAX + 1, 1));
	cr_assert_eq(errno, EINVAL);
	keel_coro_pool_t *pool = keel_coro_pool_new(1, 1);
	cr_assert_not_null(pool);
	cr_assert_eq(keel_coro_pool_stack_size(pool), KEEL_CORO_STACK_MIN);
	cr_assert_null(keel_coro_new(NULL, coro_echo, NULL));
	cr_assert_null(keel_coro_new(pool, NULL, NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(keel_coro_resume(NULL, 0), KEEL_EINVAL);
	cr_assert_eq(keel_coro_yield(5), KEEL_ESTATE);
	cr_assert_eq(keel_coro_free(NULL), 0);
	cr_assert(!keel_coro_done(NULL));
	cr_assert_eq(keel_coro_value(NULL), 0);
	cr_assert_eq(keel_coro_pool_stack_size(NULL), 0);
	cr_assert_eq(keel_coro_pool_stats(NULL).mapped, 0);
	keel_coro_pool_free(pool);
	keel_coro_pool_free(NULL);
}

Test(coro, pool_freed_first_outlives_its_coroutines)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 4);
	keel_coro_t *a = keel_coro_new(pool, coro_echo, (void *)1);
	keel_coro_t *b = keel_coro_new(pool, coro_return_arg, (void *)9);
	cr_assert_eq(keel_coro_resume(b, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_free(b), 0);
	cr_assert_eq(keel_coro_resume(a, 0), KEEL_CORO_YIELDED);
	keel_coro_pool_free(pool); /* a still lives: freeing is deferred */
	cr_assert_eq(keel_coro_resume(a, 1), KEEL_CORO_YIELDED);
	cr_assert_eq(keel_coro_value(a), 2);
	cr_assert_eq(keel_coro_resume(a, -1), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_free(a), 0); /* frees the pool (LSan checks) */
}

struct cross {
	keel_coro_t *co;
	keel_coro_pool_t *pool;
	int resume_rc;
	int free_rc;
	keel_coro_t *created;
	int create_errno;
};

static void *thread_misuse(void *arg)
{
	struct cross *x = arg;
	x->resume_rc = keel_coro_resume(x->co, 0);
	x->free_rc = keel_coro_free(x->co);
	errno = 0;
	x->created = keel_coro_new(x->pool, coro_echo, NULL);
	x->create_errno = errno;
	return NULL;
}

Test(coro, other_threads_are_refused)
{
	keel_coro_pool_t *pool = keel_coro_pool_new(0, 1);
	struct cross x = {.pool = pool};
	x.co = keel_coro_new(pool, coro_return_arg, (void *)3);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, thread_misuse, &x), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(x.resume_rc, KEEL_ESTATE);
	cr_assert_eq(x.free_rc, KEEL_ESTATE);
	cr_assert_null(x.created);
	cr_assert_eq(x.create_errno, EPERM);
	cr_assert_eq(keel_coro_resume(x.co, 0), KEEL_CORO_FINISHED);
	cr_assert_eq(keel_coro_value(x.co), 3);
	keel_coro_free(x.co);
	keel_coro_pool_free(pool);
}
