/*
 * keel/threadpool.h - a few threads per worker for CPU-heavy work (argon2
 * hashing) that must not stall the event loop.
 *
 * The loop thread submits a job; a pool thread runs its work function; the
 * pool then makes an eventfd readable, and the loop, seeing that, calls
 * keel_threadpool_complete to run the job's done function on the loop thread,
 * where it may resume the coroutine that waits for the result.  The queue is
 * bounded: a full queue refuses the job (the caller answers 503) instead of
 * letting latency grow without limit.
 *
 * Every accepted job's done function runs exactly once, on the loop thread:
 * with cancelled=false after its work ran, or with cancelled=true when the
 * pool was freed before a thread took it (its work never runs).  A refused
 * job's done function never runs.
 *
 * Create the pool in each worker after fork, never in the master: fork keeps
 * only the calling thread.  Pool threads block all signals, so signals reach
 * the loop thread.  Every function but the work functions must be called from
 * the thread that owns the loop.
 */
#ifndef KEEL_THREADPOOL_H
#define KEEL_THREADPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "keel/common.h"

/** Largest thread count keel_threadpool_new accepts. */
#define KEEL_THREADPOOL_MAX_THREADS 256

/** A fixed set of threads with a bounded FIFO queue; opaque. */
typedef struct keel_threadpool keel_threadpool_t;

/** Runs on a pool thread; must not touch loop-owned state. */
typedef void keel_threadpool_work_fn_t(void *arg);
/** Runs on the loop thread after the job; `cancelled`: work never ran. */
typedef void keel_threadpool_done_fn_t(void *arg, bool cancelled);

/**
 * Starts `nthreads` threads (1..KEEL_THREADPOOL_MAX_THREADS) with room for
 * `max_queued` (>= 1) jobs waiting for a thread.  NULL on failure with errno
 * set (EINVAL, ENOMEM, or what eventfd/pthread_create reported).
 */
KEEL_API keel_threadpool_t *keel_threadpool_new(unsigned nthreads,
                                                size_t max_queued);
/**
 * Cancels the queued jobs, waits for running ones, joins the threads, runs
 * every outstanding done function (see above) and frees the pool.  NULL is
 * ignored.  Must not be called from inside a done function.
 */
KEEL_API void keel_threadpool_free(keel_threadpool_t *tp);
/**
 * Queues work(arg), then done(arg, cancelled) (done may be NULL).  Returns 0;
 * KEEL_ELIMIT when max_queued jobs already wait; KEEL_ENOMEM; KEEL_EINVAL
 * for NULL tp or work; KEEL_ESTATE while the pool is being freed.
 */
KEEL_API int keel_threadpool_submit(keel_threadpool_t *tp,
                                    keel_threadpool_work_fn_t *work,
                                    keel_threadpool_done_fn_t *done, void *arg);
/**
 * The eventfd to watch for reading (non-blocking, close-on-exec; owned by the
 * pool): readable exactly while finished jobs await keel_threadpool_complete.
 */
KEEL_API int keel_threadpool_fd(const keel_threadpool_t *tp);
/**
 * Runs the done functions of all finished jobs, in the order they finished,
 * and resets the eventfd.  Returns how many ran (0 if none), KEEL_EINVAL for
 * NULL.  Done functions may submit new jobs.
 */
KEEL_API int keel_threadpool_complete(keel_threadpool_t *tp);
/** Accepted jobs whose done function has not run yet (any stage). */
KEEL_API size_t keel_threadpool_pending(const keel_threadpool_t *tp);

#endif
