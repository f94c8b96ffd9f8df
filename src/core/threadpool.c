/*
 * Per-worker thread pool: one mutex guards a bounded FIFO of jobs waiting for
 * a thread and a list of finished jobs waiting for the loop.
 *
 * The eventfd is written and read only while that mutex is held, on the
 * empty/non-empty transitions of the finished list, so "the fd is readable"
 * and "finished jobs exist" change together: the loop never wakes for nothing
 * and never misses a completion.  The same mutex orders memory: whatever a
 * work function wrote is visible to its done function on the loop thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "keel/threadpool.h"

struct job {
	struct job *next;
	keel_threadpool_work_fn_t *work;
	keel_threadpool_done_fn_t *done;
	void *arg;
};

struct keel_threadpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* a job was queued, or the pool is stopping */
	struct job *head;     /* queue of jobs waiting for a thread (FIFO) */
	struct job *tail;     /* last queued job, valid when head != NULL */
	size_t queued;        /* length of that queue */
	size_t max_queued;    /* refuse beyond this many waiting */
	struct job *finished; /* done with work, newest first */
	bool stopping;        /* threads exit when they see it */
	bool freeing;         /* loop thread only: free is running */
	size_t pending;       /* loop thread only: accepted, done not yet run */
	int efd;              /* readable while `finished` is non-empty */
	unsigned nthreads;    /* threads started (and to join) */
	pthread_t threads[];
};

/* Called with the lock held; wakes the loop on the first finished job. */
static void finished_push(keel_threadpool_t *tp, struct job *job)
{
	if (!tp->finished) {
		uint64_t one = 1;
		ssize_t n = write(tp->efd, &one, sizeof(one));
		(void)n; /* cannot fail: the counter is only ever 0 or 1 */
	}
	job->next = tp->finished;
	tp->finished = job;
}

/* Takes the oldest queued job; called with the lock held, queue non-empty. */
static struct job *queue_pop(keel_threadpool_t *tp)
{
	struct job *job = tp->head;
	tp->head = job->next;
	tp->queued--;
	return job;
}

/*
 * A pool thread sleeps until there is work or the pool stops.  On stop it
 * leaves at once: free has already taken the queued jobs to cancel them.
 */
static void *pool_thread(void *arg)
{
	keel_threadpool_t *tp = arg;
	pthread_mutex_lock(&tp->lock);
	for (;;) {
		while (!tp->head && !tp->stopping)
			pthread_cond_wait(&tp->wake, &tp->lock);
		if (tp->stopping)
			break;
		struct job *job = queue_pop(tp);
		pthread_mutex_unlock(&tp->lock);
		job->work(job->arg);
		pthread_mutex_lock(&tp->lock);
		finished_push(tp, job);
	}
	pthread_mutex_unlock(&tp->lock);
	return NULL;
}

/* Reverses a newest-first list into the order the jobs finished. */
static struct job *reverse(struct job *list)
{
	struct job *out = NULL;
	while (list) {
		struct job *next = list->next;
		list->next = out;
		out = list;
		list = next;
	}
	return out;
}

/* Runs and frees each job's done function on the calling (loop) thread. */
static int run_done(keel_threadpool_t *tp, struct job *list, bool cancelled)
{
	int ran = 0;
	while (list) {
		struct job *job = list;
		list = job->next;
		tp->pending--;
		if (job->done)
			job->done(job->arg, cancelled);
		free(job);
		ran++;
	}
	return ran;
}

/* Wakes every thread with the stop flag set and waits for each to exit. */
static void stop_threads(keel_threadpool_t *tp)
{
	pthread_mutex_lock(&tp->lock);
	tp->stopping = true;
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->lock);
	for (unsigned i = 0; i < tp->nthreads; i++)
		pthread_join(tp->threads[i], NULL);
	tp->nthreads = 0;
}

/*
 * Threads inherit the creator's signal mask; blocking everything around
 * pthread_create keeps process signals (SIGTERM, SIGHUP, SIGCHLD) for the
 * loop thread, where the worker's signal handling expects them.
 */
static int start_threads(keel_threadpool_t *tp, unsigned n)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = 0;
	while (tp->nthreads < n && err == 0) {
		pthread_t *t = &tp->threads[tp->nthreads];
		err = pthread_create(t, NULL, pool_thread, tp);
		if (err == 0) {
			pthread_setname_np(*t, "keel-pool");
			tp->nthreads++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

static void destroy(keel_threadpool_t *tp)
{
	close(tp->efd);
	pthread_cond_destroy(&tp->wake);
	pthread_mutex_destroy(&tp->lock);
	free(tp);
}

keel_threadpool_t *keel_threadpool_new(unsigned nthreads, size_t max_queued)
{
	if (nthreads == 0 || nthreads > KEEL_THREADPOOL_MAX_THREADS ||
	    max_queued == 0) {
		errno = EINVAL;
		return NULL;
	}
	keel_threadpool_t *tp =
	        calloc(1, sizeof(*tp) + nthreads * sizeof(pthread_t));
	if (!tp)
		return NULL;
	tp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tp->efd < 0) {
		free(tp);
		return NULL;
	}
	pthread_mutex_init(&tp->lock, NULL);
	pthread_cond_init(&tp->wake, NULL);
	tp->max_queued = max_queued;
	int err = start_threads(tp, nthreads);
	if (err != 0) {
		stop_threads(tp);
		destroy(tp);
		errno = err;
		return NULL;
	}
	return tp;
}

/*
 * Queued jobs are taken before the threads are told to stop, so none of them
 * starts; running ones finish.  Then every accepted job gets its done call:
 * finished ones as completed, queued ones as cancelled.
 */
void keel_threadpool_free(keel_threadpool_t *tp)
{
	if (!tp)
		return;
	tp->freeing = true;
	pthread_mutex_lock(&tp->lock);
	struct job *cancelled = tp->head;
	tp->head = NULL;
	tp->queued = 0;
	pthread_mutex_unlock(&tp->lock);
	stop_threads(tp);
	run_done(tp, reverse(tp->finished), false);
	tp->finished = NULL;
	run_done(tp, cancelled, true);
	destroy(tp);
}

int keel_threadpool_submit(keel_threadpool_t *tp,
                           keel_threadpool_work_fn_t *work,
                           keel_threadpool_done_fn_t *done, void *arg)
{
	if (!tp || !work)
		return KEEL_EINVAL;
	if (tp->freeing)
		return KEEL_ESTATE;
	struct job *job = malloc(sizeof(*job));
	if (!job)
		return KEEL_ENOMEM;
	*job = (struct job){NULL, work, done, arg};
	pthread_mutex_lock(&tp->lock);
	if (tp->queued >= tp->max_queued) {
		pthread_mutex_unlock(&tp->lock);
		free(job);
		return KEEL_ELIMIT;
	}
	if (tp->head)
		tp->tail->next = job;
	else
		tp->head = job;
	tp->tail = job;
	tp->queued++;
	pthread_cond_signal(&tp->wake);
	pthread_mutex_unlock(&tp->lock);
	tp->pending++;
	return KEEL_OK;
}

int keel_threadpool_fd(const keel_threadpool_t *tp)
{
	return tp ? tp->efd : KEEL_EINVAL;
}

/* Empties the finished list and the eventfd in one step under the lock. */
int keel_threadpool_complete(keel_threadpool_t *tp)
{
	if (!tp)
		return KEEL_EINVAL;
	pthread_mutex_lock(&tp->lock);
	struct job *list = tp->finished;
	tp->finished = NULL;
	if (list) {
		uint64_t count;
		ssize_t n = read(tp->efd, &count, sizeof(count));
		(void)n; /* non-blocking, and readable: a job was pushed */
	}
	pthread_mutex_unlock(&tp->lock);
	return run_done(tp, reverse(list), false);
}

size_t keel_threadpool_pending(const keel_threadpool_t *tp)
{
	return tp ? tp->pending : 0;
}
