/*
 * src/net/park.h - internal: handlers that wait for one another.  A
 * handler coroutine parks until another part of the worker (a coroutine
 * or a loop callback) unparks it; the database's group commit is built on
 * it.  Wakes are delivered after the current loop iteration, so either
 * side may call from a coroutine or from loop context.  Not installed.
 */
#ifndef KEEL_NET_PARK_H
#define KEEL_NET_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/loop.h"

typedef struct keel__park {
	void *conn; /* the parked handler's connection */
	keel_task_t task;
	intptr_t value;
	bool woken;
} keel__park_t;

/** True when the caller is a worker's handler coroutine (it may park). */
bool keel__park_possible(void);
/** True while this process's worker is serving (false after teardown). */
bool keel__park_worker_alive(void);
/** True when `p` was parked by the handler that is running now. */
bool keel__park_is_mine(const keel__park_t *p);
/**
 * Suspend the calling handler until keel__unpark(p, v), and return v.
 * `p` lives on the caller's stack.  Only where keel__park_possible().
 */
intptr_t keel__park(keel__park_t *p);
/** Resume `p`'s handler with `value` after the current loop iteration. */
void keel__unpark(keel__park_t *p, intptr_t value);
/**
 * Resume `p`'s handler with `value` now, returning when it parks again,
 * waits for something else or ends.  Loop context only (a task or timer
 * callback), never from a coroutine.
 */
void keel__unpark_now(keel__park_t *p, intptr_t value);
/**
 * Run cb after the current loop iteration (keel_loop_defer on this
 * worker's loop); `task` must stay valid until then.  Only in a worker.
 */
void keel__defer(keel_task_t *task, keel_task_cb_t cb, void *data);

/*
 * A side thread: a private one-thread pool whose completions run on this
 * worker's loop, for blocking work that must not queue behind the
 * worker's shared pool (password hashing) - the database's fsync.
 */
typedef struct keel__side keel__side_t;

/** A side thread for this worker; NULL outside a worker or on failure. */
keel__side_t *keel__side_new(void);
/** Run work(arg) on the side thread, then done(arg, cancelled) on the
 * loop; 0 or a KEEL_E* code (nothing will run). */
int keel__side_submit(keel__side_t *s, void (*work)(void *arg),
                      void (*done)(void *arg, bool cancelled), void *arg);
/** Join the thread (a queued job is cancelled) and free; NULL ignored. */
void keel__side_free(keel__side_t *s);

#endif
