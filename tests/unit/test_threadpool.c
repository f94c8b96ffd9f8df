#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keel/threadpool.h"

/* True when the pool's eventfd becomes readable within `ms`. */
static bool tp_readable(keel_threadpool_t *tp, int ms)
{
	struct pollfd p = {.fd = keel_threadpool_fd(tp), .events = POLLIN};
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Waits on the eventfd and completes until `pending` reaches zero. */
static void tp_drain(keel_threadpool_t *tp)
{
	while (keel_threadpool_pending(tp) > 0) {
		cr_assert(tp_readable(tp, 10000), "completions never arrived");
		cr_assert_gt(keel_threadpool_complete(tp), 0);
	}
}

struct tp_job {
	int id;
	atomic_int work_runs;
	int done_runs;
	bool cancelled;
	unsigned char result[64]; /* written by work, plain memory */
};

static void tp_work_fill(void *arg)
{
	struct tp_job *j = arg;
	atomic_fetch_add(&j->work_runs, 1);
	for (size_t i = 0; i < sizeof(j->result); i++)
		j->result[i] = (unsigned char)(j->id * 7 + i);
}

static pthread_t tp_loop_thread;
static bool tp_done_on_loop = true;
static bool tp_results_ok = true;

static void tp_done_check(void *arg, bool cancelled)
{
	struct tp_job *j = arg;
	j->done_runs++;
	j->cancelled = cancelled;
	if (!pthread_equal(pthread_self(), tp_loop_thread))
		tp_done_on_loop = false;
	for (size_t i = 0; i < sizeof(j->result); i++)
		if (j->result[i] != (unsigned char)(j->id * 7 + i))
			tp_results_ok = false;
}

#define TP_MANY 5000

Test(threadpool, many_jobs_complete_exactly_once_on_the_loop)
{
	static struct tp_job jobs[TP_MANY];
	tp_loop_thread = pthread_self();
	keel_threadpool_t *tp = keel_threadpool_new(4, TP_MANY);
	cr_assert_not_null(tp);
	for (int i = 0; i < TP_MANY; i++) {
		jobs[i].id = i;
		cr_assert_eq(keel_threadpool_submit(tp, tp_work_fill,
		                                    tp_done_check, &jobs[i]),
		             0);
	}
	cr_assert_eq(keel_threadpool_pending(tp), TP_MANY);
	tp_drain(tp);
	for (int i = 0; i < TP_MANY; i++) {
		cr_assert_eq(atomic_load(&jobs[i].work_runs), 1, "job %d", i);
		cr_assert_eq(jobs[i].done_runs, 1, "job %d", i);
		cr_assert(!jobs[i].cancelled);
	}
	cr_assert(tp_done_on_loop, "a done function ran off the loop thread");
	cr_assert(tp_results_ok, "work results not visible to done");
	cr_assert(!tp_readable(tp, 0));
	keel_threadpool_free(tp);
	for (int i = 0; i < TP_MANY; i++)
		cr_assert_eq(jobs[i].done_runs, 1);
}

/* A gate the test opens to let blocked work functions go on. */
static atomic_int tp_gate_open;
static atomic_int tp_started;

static void tp_work_gated(void *arg)
{
	struct tp_job *j = arg;
	atomic_fetch_add(&tp_started, 1);
	while (!atomic_load(&tp_gate_open))
		usleep(1000);
	atomic_fetch_add(&j->work_runs, 1);
}

static void tp_done_note(void *arg, bool cancelled)
{
	struct tp_job *j = arg;
	j->done_runs++;
	j->cancelled = cancelled;
}

static void tp_wait_started(int n)
{
	for (int i = 0; i < 10000 && atomic_load(&tp_started) < n; i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&tp_started), n);
}

Test(threadpool, full_queue_refuses_and_refused_job_never_completes)
{
	static struct tp_job j[5];
	keel_threadpool_t *tp = keel_threadpool_new(1, 2);
	cr_assert_not_null(tp);
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[0]),
	        0);
	tp_wait_started(1); /* the only thread is busy: the queue is empty */
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[1]),
	        0);
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[2]),
	        0);
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[3]),
	        KEEL_ELIMIT);
	cr_assert_eq(keel_threadpool_pending(tp), 3);
	atomic_store(&tp_gate_open, 1);
	tp_drain(tp);
	/* Room again once the queue drained. */
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[4]),
	        0);
	tp_drain(tp);
	keel_threadpool_free(tp);
	for (int i = 0; i < 5; i++) {
		int want = i == 3 ? 0 : 1;
		cr_assert_eq(atomic_load(&j[i].work_runs), want, "job %d", i);
		cr_assert_eq(j[i].done_runs, want, "job %d", i);
		cr_assert(!j[i].cancelled);
	}
}

static void *tp_open_gate_later(void *arg)
{
	(void)arg;
	usleep(100 * 1000);
	atomic_store(&tp_gate_open, 1);
	return NULL;
}

Test(threadpool, free_cancels_queued_jobs_and_finishes_running_ones)
{
	static struct tp_job j[4];
	keel_threadpool_t *tp = keel_threadpool_new(1, 8);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(keel_threadpool_submit(tp, tp_work_gated,
		                                    tp_done_note, &j[i]),
		             0);
	tp_wait_started(1);
	pthread_t opener;
	cr_assert_eq(pthread_create(&opener, NULL, tp_open_gate_later, NULL),
	             0);
	keel_threadpool_free(tp); /* blocks until job 0's work ends */
	pthread_join(opener, NULL);
	cr_assert_eq(atomic_load(&j[0].work_runs), 1);
	cr_assert_eq(j[0].done_runs, 1);
	cr_assert(!j[0].cancelled);
	for (int i = 1; i < 4; i++) {
		cr_assert_eq(atomic_load(&j[i].work_runs), 0, "job %d", i);
		cr_assert_eq(j[i].done_runs, 1, "job %d", i);
		cr_assert(j[i].cancelled, "job %d", i);
	}
}

/* Finished but never completed by the loop: free still calls done. */
Test(threadpool, free_runs_done_of_finished_uncollected_jobs)
{
	static struct tp_job j[3];
	keel_threadpool_t *tp = keel_threadpool_new(2, 8);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(keel_threadpool_submit(tp, tp_work_fill,
		                                    tp_done_note, &j[i]),
		             0);
	for (int i = 0; i < 10000; i++) {
		int finished = 0;
		for (int k = 0; k < 3; k++)
			finished += atomic_load(&j[k].work_runs);
		if (finished == 3)
			break;
		usleep(1000);
	}
	keel_threadpool_free(tp);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(atomic_load(&j[i].work_runs), 1);
		cr_assert_eq(j[i].done_runs, 1);
		cr_assert(!j[i].cancelled);
	}
}

Test(threadpool, eventfd_is_readable_exactly_while_completions_wait)
{
	static struct tp_job j[2];
	keel_threadpool_t *tp = keel_threadpool_new(2, 4);
	int fd = keel_threadpool_fd(tp);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(!tp_readable(tp, 0));
	cr_assert_eq(keel_threadpool_complete(tp), 0);

	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[0]),
	        0);
	cr_assert_eq(
	        keel_threadpool_submit(tp, tp_work_gated, tp_done_note, &j[1]),
	        0);
	tp_wait_started(2);
	cr_assert(!tp_readable(tp, 50), "readable while work still runs");
	atomic_store(&tp_gate_open, 1);
	cr_assert(tp_readable(tp, 10000));
	int ran = keel_threadpool_complete(tp);
	if (ran == 1) { /* the second may finish after the first complete */
		cr_assert(tp_readable(tp, 10000));
		ran += keel_threadpool_complete(tp);
	}
	cr_assert_eq(ran, 2);
	cr_assert(!tp_readable(tp, 0), "readable with nothing to complete");
	cr_assert_eq(keel_threadpool_complete(tp), 0);
	cr_assert_eq(keel_threadpool_pending(tp), 0);
	keel_threadpool_free(tp);
}

#define TP_THREADS 4

static atomic_int tp_arrived;
static pthread_t tp_seen[TP_THREADS];

/* Waits until TP_THREADS works are running at once; fails by timeout. */
static void tp_work_rendezvous(void *arg)
{
	struct tp_job *j = arg;
	int me = atomic_fetch_add(&tp_arrived, 1);
	if (me < TP_THREADS)
		tp_seen[me] = pthread_self();
	for (int i = 0; i < 5000 && atomic_load(&tp_arrived) < TP_THREADS; i++)
		usleep(1000);
	j->result[0] = atomic_load(&tp_arrived) >= TP_THREADS;
	atomic_fetch_add(&j->work_runs, 1);
}

Test(threadpool, work_runs_concurrently_on_all_threads)
{
	static struct tp_job j[TP_THREADS];
	keel_threadpool_t *tp = keel_threadpool_new(TP_THREADS, TP_THREADS);
	for (int i = 0; i < TP_THREADS; i++)
		cr_assert_eq(keel_threadpool_submit(tp, tp_work_rendezvous,
		                                    tp_done_note, &j[i]),
		             0);
	tp_drain(tp);
	for (int i = 0; i < TP_THREADS; i++) {
		cr_assert_eq(j[i].result[0], 1, "job %d ran alone", i);
		cr_assert(!pthread_equal(tp_seen[i], pthread_self()));
		for (int k = 0; k < i; k++)
			cr_assert(!pthread_equal(tp_seen[i], tp_seen[k]));
	}
	keel_threadpool_free(tp);
}

/* Done functions may queue follow-up work; a chain of 10 runs to the end. */
static keel_threadpool_t *tp_chain_pool;
static int tp_chain_len;

static void tp_work_nothing(void *arg)
{
	(void)arg;
}

static void tp_done_chain(void *arg, bool cancelled)
{
	(void)arg;
	cr_assert(!cancelled);
	if (++tp_chain_len < 10)
		cr_assert_eq(keel_threadpool_submit(tp_chain_pool,
		                                    tp_work_nothing,
		                                    tp_done_chain, NULL),
		             0);
}

Test(threadpool, done_function_may_submit)
{
	tp_chain_pool = keel_threadpool_new(1, 1);
	cr_assert_eq(keel_threadpool_submit(tp_chain_pool, tp_work_nothing,
	                                    tp_done_chain, NULL),
	             0);
	tp_drain(tp_chain_pool);
	cr_assert_eq(tp_chain_len, 10);
	keel_threadpool_free(tp_chain_pool);
}

/* While free runs done functions, new submissions are refused. */
static keel_threadpool_t *tp_closing_pool;
static int tp_submit_during_free = 1;

static void tp_done_resubmit(void *arg, bool cancelled)
{
	(void)arg;
	(void)cancelled;
	tp_submit_during_free = keel_threadpool_submit(
	        tp_closing_pool, tp_work_nothing, NULL, NULL);
}

Test(threadpool, submit_during_free_is_refused)
{
	tp_closing_pool = keel_threadpool_new(1, 4);
	cr_assert_eq(keel_threadpool_submit(tp_closing_pool, tp_work_nothing,
	                                    tp_done_resubmit, NULL),
	             0);
	keel_threadpool_free(tp_closing_pool);
	cr_assert_eq(tp_submit_during_free, KEEL_ESTATE);
}

static void *tp_signal_mask_probe(void *arg)
{
	sigset_t *out = arg;
	pthread_sigmask(SIG_BLOCK, NULL, out);
	return NULL;
}

static void tp_work_mask(void *arg)
{
	tp_signal_mask_probe(arg);
}

Test(threadpool, pool_threads_block_signals_and_caller_mask_is_kept)
{
	static sigset_t seen, before, after;
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	keel_threadpool_t *tp = keel_threadpool_new(1, 1);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	cr_assert_eq(keel_threadpool_submit(tp, tp_work_mask, NULL, &seen), 0);
	tp_drain(tp);
	cr_assert(sigismember(&seen, SIGTERM));
	cr_assert(sigismember(&seen, SIGHUP));
	cr_assert(sigismember(&seen, SIGCHLD));
	for (int sig = 1; sig < SIGRTMAX; sig++)
		cr_assert_eq(sigismember(&after, sig),
		             sigismember(&before, sig));
	keel_threadpool_free(tp);
}

Test(threadpool, bad_arguments_are_refused)
{
	errno = 0;
	cr_assert_null(keel_threadpool_new(0, 4));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(keel_threadpool_new(KEEL_THREADPOOL_MAX_THREADS + 1, 4));
	cr_assert_null(keel_threadpool_new(1, 0));
	keel_threadpool_t *tp = keel_threadpool_new(1, 1);
	cr_assert_not_null(tp);
	cr_assert_eq(keel_threadpool_submit(NULL, tp_work_nothing, NULL, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(keel_threadpool_submit(tp, NULL, NULL, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_threadpool_pending(tp), 0);
	cr_assert_eq(keel_threadpool_fd(NULL), KEEL_EINVAL);
	cr_assert_eq(keel_threadpool_complete(NULL), KEEL_EINVAL);
	cr_assert_eq(keel_threadpool_pending(NULL), 0);
	keel_threadpool_free(tp);
	keel_threadpool_free(NULL);
}
