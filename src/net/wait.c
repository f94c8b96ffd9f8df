/*
 * Waiting without blocking the worker: a handler's coroutine registers what
 * it waits for (a descriptor, a timer, a thread-pool job), yields, and is
 * resumed by the loop when it happens.  The waiter lives on the waiting
 * coroutine's stack, which stays put while it is suspended.
 *
 * Outside a worker's handler (command-line tools, tests) the same calls
 * simply block the calling thread, so library code using them works in
 * both places.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "keel/coro.h"
#include "../http/conn.h"
#include "park.h"
#include "worker.h"

typedef struct waiter {
	keel_io_t io;
	keel_timer_t timer;
	keel_conn_t *conn;
	void (*fn)(void *);
	void *arg;
} waiter_t;

/* The connection whose handler is running right now, if any. */
static keel_conn_t *current_conn(void)
{
	keel_worker_t *w = keel__worker_self;
	if (!w || !w->current || keel_coro_current() == NULL)
		return NULL;
	return w->current;
}

static void on_ready(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	waiter_t *wt = io->data;
	(void)loop;
	(void)events;
	keel__conn_resume(wt->conn, KEEL_OK);
}

static void on_timer(keel_loop_t *loop, keel_timer_t *t)
{
	waiter_t *wt = t->data;
	(void)loop;
	keel__conn_resume(wt->conn, KEEL_ETIMEDOUT);
}

static int poll_blocking(int fd, uint32_t events, int64_t timeout_ms)
{
	struct pollfd p = {.fd = fd};
	p.events = (short)(((events & KEEL_IO_READ) ? POLLIN : 0) |
	                   ((events & KEEL_IO_WRITE) ? POLLOUT : 0));
	int ms = timeout_ms < 0           ? -1
	         : timeout_ms > INT32_MAX ? INT32_MAX
	                                  : (int)timeout_ms;
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n > 0)
			return KEEL_OK;
		if (n == 0)
			return KEEL_ETIMEDOUT;
		if (errno != EINTR)
			return KEEL_EIO;
	}
}

int keel_wait_fd(int fd, uint32_t events, int64_t timeout_ms)
{
	keel_conn_t *c = current_conn();
	if (!c)
		return poll_blocking(fd, events, timeout_ms);
	keel_worker_t *w = c->w;
	waiter_t wt = {.conn = c};
	if (keel_loop_io_start(w->loop, &wt.io, fd, events, on_ready, &wt) < 0)
		return KEEL_EIO;
	if (timeout_ms >= 0 &&
	    keel_loop_timer_start(w->loop, &wt.timer, timeout_ms, on_timer,
	                          &wt) < 0) {
		keel_loop_io_stop(w->loop, &wt.io);
		return KEEL_ENOMEM;
	}
	intptr_t why = keel_coro_yield(0);
	keel_loop_io_stop(w->loop, &wt.io);
	keel_loop_timer_stop(w->loop, &wt.timer);
	return (int)why;
}

int keel_sleep_ms(int64_t ms)
{
	keel_conn_t *c = current_conn();
	if (!c) {
		struct timespec ts = {.tv_sec = ms / 1000,
		                      .tv_nsec = (ms % 1000) * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return KEEL_OK;
	}
	waiter_t wt = {.conn = c};
	if (keel_loop_timer_start(c->w->loop, &wt.timer, ms, on_timer, &wt) < 0)
		return KEEL_ENOMEM;
	keel_coro_yield(0);
	keel_loop_timer_stop(c->w->loop, &wt.timer);
	return KEEL_OK;
}

static void offload_work(void *arg)
{
	waiter_t *wt = arg;
	wt->fn(wt->arg);
}

static void offload_done(void *arg, bool cancelled)
{
	waiter_t *wt = arg;
	if (!keel__worker_self)
		return; /* worker exiting: the waiting handler is gone */
	keel__conn_resume(wt->conn, cancelled ? KEEL_ECLOSED : KEEL_OK);
}

int keel_offload(void (*fn)(void *arg), void *arg)
{
	keel_conn_t *c = current_conn();
	if (!c) {
		fn(arg);
		return KEEL_OK;
	}
	waiter_t wt = {.conn = c, .fn = fn, .arg = arg};
	int rc = keel_threadpool_submit(c->w->pool, offload_work, offload_done,
	                                &wt);
	if (rc < 0)
		return rc;
	return (int)keel_coro_yield(0);
}

/* ------------------------------------------------------------- parking */

bool keel__park_possible(void)
{
	return current_conn() != NULL;
}

bool keel__park_worker_alive(void)
{
	return keel__worker_self != NULL;
}

bool keel__park_is_mine(const keel__park_t *p)
{
	return p->conn && p->conn == current_conn();
}

intptr_t keel__park(keel__park_t *p)
{
	p->conn = current_conn();
	p->woken = false;
	/* Only keel__unpark resumes a parked handler; the loop wakes no
	 * other waiter on this connection meanwhile. */
	while (!p->woken)
		keel_coro_yield(0);
	return p->value;
}

static void unpark_task(keel_loop_t *loop, keel_task_t *task)
{
	keel__park_t *p = task->data;
	(void)loop;
	p->woken = true;
	keel__conn_resume(p->conn, p->value);
}

void keel__unpark_now(keel__park_t *p, intptr_t value)
{
	p->value = value;
	p->woken = true;
	keel__conn_resume(p->conn, value);
}

void keel__unpark(keel__park_t *p, intptr_t value)
{
	p->value = value;
	keel_loop_defer(keel__worker_self->loop, &p->task, unpark_task, p);
}

void keel__defer(keel_task_t *task, keel_task_cb_t cb, void *data)
{
	keel_loop_defer(keel__worker_self->loop, task, cb, data);
}
