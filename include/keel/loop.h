/*
 * keel/loop.h - the worker's event loop: epoll for descriptors, a binary
 * heap of timers, and tasks that run at the end of the current iteration.
 *
 * One loop per worker process, driven from one thread.  Descriptors are
 * registered once, edge-triggered, for every event the caller wants; the
 * callback is told which events fired and must read or write until EAGAIN.
 * This keeps epoll_ctl off the request path (no re-arming per request).
 * Watchers and timers are caller-owned structs embedded in bigger objects
 * (a connection holds its keel_io_t and its timers), so the loop allocates
 * nothing per connection.  A watcher stopped inside a callback gets no more
 * events, even ones already collected in the same epoll_wait batch; free its
 * memory from a deferred task (keel_loop_defer) rather than in the callback.
 */
#ifndef KEEL_LOOP_H
#define KEEL_LOOP_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/heap.h"

typedef struct keel_loop keel_loop_t;
typedef struct keel_io keel_io_t;
typedef struct keel_timer keel_timer_t;
typedef struct keel_task keel_task_t;

/** Event bits for keel_io_t. */
#define KEEL_IO_READ  0x1u /* readable, or peer closed its side */
#define KEEL_IO_WRITE 0x2u /* writable */
#define KEEL_IO_HUP   0x4u /* peer hung up (EPOLLRDHUP/EPOLLHUP) */
#define KEEL_IO_ERROR 0x8u /* error pending on the descriptor */

typedef void (*keel_io_cb_t)(keel_loop_t *loop, keel_io_t *io, uint32_t events);
typedef void (*keel_timer_cb_t)(keel_loop_t *loop, keel_timer_t *timer);
typedef void (*keel_task_cb_t)(keel_loop_t *loop, keel_task_t *task);

/** A descriptor watcher; caller storage, zero it before first use. */
struct keel_io {
	int fd; /* -1 when not registered */
	uint32_t events;
	keel_io_cb_t cb;
	void *data;
};

/** A one-shot timer; caller storage, zero it before first use. */
struct keel_timer {
	keel_heap_node_t node;
	int64_t deadline_ms;
	uint64_t seq; /* FIFO among equal deadlines */
	keel_timer_cb_t cb;
	void *data;
};

/** A deferred task: runs once, after the current iteration's events. */
struct keel_task {
	keel_task_t *next;
	keel_task_cb_t cb;
	void *data;
	bool queued;
};

/** Create a loop (epoll instance, empty timer heap); NULL on failure. */
KEEL_API keel_loop_t *keel_loop_new(void);
/** Free the loop; watchers and timers are the caller's to release first. */
KEEL_API void keel_loop_free(keel_loop_t *loop);

/**
 * Watch `fd` for `events` (edge-triggered) calling `cb` with them.
 * KEEL_EIO (errno set) when epoll refuses the descriptor.
 */
KEEL_API int keel_loop_io_start(keel_loop_t *loop, keel_io_t *io, int fd,
                                uint32_t events, keel_io_cb_t cb, void *data);
/** Change the watched events of a started watcher. */
KEEL_API int keel_loop_io_modify(keel_loop_t *loop, keel_io_t *io,
                                 uint32_t events);
/**
 * Stop watching; no further callbacks, not even for events already
 * collected.  Does not close the descriptor.  Safe on a stopped watcher.
 */
KEEL_API void keel_loop_io_stop(keel_loop_t *loop, keel_io_t *io);

/**
 * (Re)arm `timer` to fire once, `delay_ms` from the loop's cached now.
 * Restarting an active timer moves it.  KEEL_ENOMEM when the heap cannot
 * grow.
 */
KEEL_API int keel_loop_timer_start(keel_loop_t *loop, keel_timer_t *timer,
                                   int64_t delay_ms, keel_timer_cb_t cb,
                                   void *data);
/** Disarm `timer`; safe when it is not armed. */
KEEL_API void keel_loop_timer_stop(keel_loop_t *loop, keel_timer_t *timer);
/** True while `timer` is armed. */
KEEL_API bool keel_loop_timer_active(const keel_timer_t *timer);
/** Number of armed timers (tests and metrics). */
KEEL_API size_t keel_loop_timer_count(const keel_loop_t *loop);

/** Queue `task` to run after the current iteration; no-op if queued. */
KEEL_API void keel_loop_defer(keel_loop_t *loop, keel_task_t *task,
                              keel_task_cb_t cb, void *data);

/**
 * Run until keel_loop_stop(): wait for events or the nearest timer, run
 * callbacks, then deferred tasks.  Returns 0, or KEEL_EIO when epoll_wait
 * fails for a reason other than EINTR.
 */
KEEL_API int keel_loop_run(keel_loop_t *loop);
/** Run one iteration, waiting at most `max_wait_ms` (-1: no bound). */
KEEL_API int keel_loop_run_once(keel_loop_t *loop, int max_wait_ms);
/** Make keel_loop_run return after the current iteration. */
KEEL_API void keel_loop_stop(keel_loop_t *loop);
/** The loop's cached monotonic time in milliseconds. */
KEEL_API int64_t keel_loop_now_ms(const keel_loop_t *loop);

#endif
