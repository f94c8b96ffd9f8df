/*
 * keel/coro.h - stackful coroutines, so a request handler reads top to
 * bottom: where it would block it yields to the event loop, and the loop
 * resumes it with the reason it woke (ready, timed out, cancelled).
 *
 * Each coroutine runs on its own mmap'd stack with a PROT_NONE guard region
 * below it, so an overflow faults instead of overwriting a neighbour.  The
 * context switch is a few hand-written instructions on x86-64 (callee-saved
 * registers, x87 control word, MXCSR) and ucontext elsewhere.  A pool keeps
 * finished stacks for reuse, so starting a request costs no system call.
 *
 * Threads: a pool and its coroutines belong to the thread that created the
 * pool (one per worker).  Resuming a coroutine from another thread is refused
 * with KEEL_ESTATE; everything else is simply not thread-safe.
 */
#ifndef KEEL_CORO_H
#define KEEL_CORO_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/common.h"

/**
 * Stack size used when 0 is asked for: 128 KiB of address space, of which
 * only touched pages cost memory.  Builds with AddressSanitizer double it.
 */
#define KEEL_CORO_STACK_DEFAULT ((size_t)128 * 1024)
/** Smallest stack accepted; smaller requests are rounded up to it. */
#define KEEL_CORO_STACK_MIN     ((size_t)16 * 1024)
/** Largest stack accepted by keel_coro_pool_new (1 GiB). */
#define KEEL_CORO_STACK_MAX     ((size_t)1 << 30)

/** keel_coro_resume's result when the coroutine yielded. */
#define KEEL_CORO_YIELDED  0
/** keel_coro_resume's result when the coroutine's function returned. */
#define KEEL_CORO_FINISHED 1

/** A per-thread source of coroutine stacks; opaque. */
typedef struct keel_coro_pool keel_coro_pool_t;
/** One coroutine; opaque. */
typedef struct keel_coro keel_coro_t;

/** Body of a coroutine; its return value is later read by keel_coro_value. */
typedef intptr_t keel_coro_fn_t(void *arg);

/** Counters of a pool, for metrics and tests. */
typedef struct keel_coro_pool_stats {
	size_t live;   /* coroutines created and not yet freed */
	size_t cached; /* finished stacks kept for reuse */
	size_t mapped; /* stacks ever mmap'd by this pool */
} keel_coro_pool_stats_t;

/**
 * New pool whose stacks hold `stack_size` bytes (0: the default; rounded up to
 * whole pages and at least KEEL_CORO_STACK_MIN), keeping up to `max_cached`
 * freed stacks mapped.  NULL with errno EINVAL or ENOMEM on failure.
 */
KEEL_API keel_coro_pool_t *keel_coro_pool_new(size_t stack_size,
                                              size_t max_cached);
/**
 * Unmaps the cached stacks and frees the pool; with coroutines still live
 * the pool goes away when the last of them is freed.  NULL is ignored.
 */
KEEL_API void keel_coro_pool_free(keel_coro_pool_t *pool);
/** Usable stack bytes of each coroutine of `pool`, after rounding. */
KEEL_API size_t keel_coro_pool_stack_size(const keel_coro_pool_t *pool);
/** Current counters of `pool`. */
KEEL_API keel_coro_pool_stats_t
keel_coro_pool_stats(const keel_coro_pool_t *pool);

/**
 * New suspended coroutine that will run fn(arg) on its first resume; takes a
 * cached stack or maps one.  NULL on failure (errno EINVAL, ENOMEM, EPERM for
 * another thread's pool).  Free it with keel_coro_free.
 */
KEEL_API keel_coro_t *keel_coro_new(keel_coro_pool_t *pool, keel_coro_fn_t *fn,
                                    void *arg);
/**
 * Runs `co` until it yields or returns; `value` becomes the result of the
 * keel_coro_yield it is waiting in (ignored on the first resume).  Returns
 * KEEL_CORO_YIELDED or KEEL_CORO_FINISHED; KEEL_EINVAL for NULL; KEEL_ESTATE
 * when `co` finished, is running, or belongs to another thread.
 */
KEEL_API int keel_coro_resume(keel_coro_t *co, intptr_t value);
/**
 * From inside a coroutine: hands `value` to whoever resumed it (see
 * keel_coro_value) and suspends; returns the value of the next resume.
 * Outside any coroutine returns KEEL_ESTATE at once.
 */
KEEL_API intptr_t keel_coro_yield(intptr_t value);
/** The coroutine running on this thread, or NULL on the thread's own stack. */
KEEL_API keel_coro_t *keel_coro_current(void);
/** True once the coroutine's function has returned. */
KEEL_API bool keel_coro_done(const keel_coro_t *co);
/** The value last passed to keel_coro_yield, or the function's result. */
KEEL_API intptr_t keel_coro_value(const keel_coro_t *co);
/**
 * Gives the coroutine's stack back to its pool.  A suspended coroutine is
 * dropped without unwinding: resume it to completion first if it owns
 * anything.  Returns 0, or KEEL_ESTATE (nothing done) when `co` is running
 * or belongs to another thread.  NULL is ignored.
 */
KEEL_API int keel_coro_free(keel_coro_t *co);

#endif
