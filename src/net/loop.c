#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/loop.h"

#define LOOP_MAX_EVENTS 256

struct keel_loop {
	int epfd;
	bool stopping;
	int64_t now_ms;
	uint64_t timer_seq;
	keel_heap_t timers;
	keel_task_t *tasks; /* FIFO of deferred tasks */
	keel_task_t **tasks_tail;
	/* Watchers stopped during the current batch: their events are skipped.
	 */
	struct epoll_event events[LOOP_MAX_EVENTS];
	int nevents;
};

static bool timer_less(const keel_heap_node_t *a, const keel_heap_node_t *b)
{
	const keel_timer_t *x = KEEL_CONTAINER_OF(a, keel_timer_t, node);
	const keel_timer_t *y = KEEL_CONTAINER_OF(b, keel_timer_t, node);
	if (x->deadline_ms != y->deadline_ms)
		return x->deadline_ms < y->deadline_ms;
	return x->seq < y->seq;
}

keel_loop_t *keel_loop_new(void)
{
	keel_loop_t *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	keel_heap_init(&loop->timers, timer_less);
	loop->tasks_tail = &loop->tasks;
	loop->now_ms = keel_clock_update().mono_ns / KEEL_NS_PER_MS;
	return loop;
}

void keel_loop_free(keel_loop_t *loop)
{
	if (!loop)
		return;
	keel_heap_deinit(&loop->timers);
	close(loop->epfd);
	free(loop);
}

static uint32_t to_epoll(uint32_t events)
{
	uint32_t ev = EPOLLET;
	if (events & KEEL_IO_READ)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (events & KEEL_IO_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

static uint32_t from_epoll(uint32_t ev)
{
	uint32_t events = 0;
	if (ev & EPOLLIN)
		events |= KEEL_IO_READ;
	if (ev & EPOLLOUT)
		events |= KEEL_IO_WRITE;
	if (ev & (EPOLLRDHUP | EPOLLHUP))
		events |= KEEL_IO_HUP | KEEL_IO_READ;
	if (ev & EPOLLERR)
		events |= KEEL_IO_ERROR | KEEL_IO_READ | KEEL_IO_WRITE;
	return events;
}

int keel_loop_io_start(keel_loop_t *loop, keel_io_t *io, int fd,
                       uint32_t events, keel_io_cb_t cb, void *data)
{
	struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return KEEL_EIO;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	return KEEL_OK;
}

int keel_loop_io_modify(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
	if (io->fd < 0)
		return KEEL_ESTATE;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return KEEL_EIO;
	io->events = events;
	return KEEL_OK;
}

/*
 * Events for `io` may already sit later in the batch epoll_wait returned;
 * clearing their pointer makes the dispatch loop skip them, so a callback
 * can stop (and later free) any watcher, including ones not its own.
 */
void keel_loop_io_stop(keel_loop_t *loop, keel_io_t *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (int i = 0; i < loop->nevents; i++)
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
	io->fd = -1;
}

int keel_loop_timer_start(keel_loop_t *loop, keel_timer_t *timer,
                          int64_t delay_ms, keel_timer_cb_t cb, void *data)
{
	timer->deadline_ms = loop->now_ms + (delay_ms > 0 ? delay_ms : 0);
	timer->seq = loop->timer_seq++;
	timer->cb = cb;
	timer->data = data;
	if (keel_heap_contains(&timer->node))
		return keel_heap_update(&loop->timers, &timer->node);
	return keel_heap_push(&loop->timers, &timer->node);
}

void keel_loop_timer_stop(keel_loop_t *loop, keel_timer_t *timer)
{
	if (keel_heap_contains(&timer->node))
		keel_heap_remove(&loop->timers, &timer->node);
}

bool keel_loop_timer_active(const keel_timer_t *timer)
{
	return keel_heap_contains(&timer->node);
}

size_t keel_loop_timer_count(const keel_loop_t *loop)
{
	return keel_heap_size(&loop->timers);
}

void keel_loop_defer(keel_loop_t *loop, keel_task_t *task, keel_task_cb_t cb,
                     void *data)
{
	if (task->queued)
		return;
	task->cb = cb;
	task->data = data;
	task->next = NULL;
	task->queued = true;
	*loop->tasks_tail = task;
	loop->tasks_tail = &task->next;
}

void keel_loop_stop(keel_loop_t *loop)
{
	loop->stopping = true;
}

int64_t keel_loop_now_ms(const keel_loop_t *loop)
{
	return loop->now_ms;
}

static int next_timeout(const keel_loop_t *loop, int max_wait_ms)
{
	if (loop->tasks)
		return 0;
	keel_heap_node_t *top = keel_heap_top(&loop->timers);
	if (!top)
		return max_wait_ms;
	int64_t wait = KEEL_CONTAINER_OF(top, keel_timer_t, node)->deadline_ms -
	               loop->now_ms;
	if (wait < 0)
		wait = 0;
	if (max_wait_ms >= 0 && wait > max_wait_ms)
		wait = max_wait_ms;
	return wait > INT32_MAX ? INT32_MAX : (int)wait;
}

/* Timers due now fire in deadline order; one re-armed for 0 ms waits a turn. */
static void run_timers(keel_loop_t *loop)
{
	int64_t now = loop->now_ms;
	keel_heap_node_t *top;
	while ((top = keel_heap_top(&loop->timers)) != NULL) {
		keel_timer_t *t = KEEL_CONTAINER_OF(top, keel_timer_t, node);
		if (t->deadline_ms > now)
			break;
		keel_heap_pop(&loop->timers);
		t->cb(loop, t);
	}
}

/* Tasks queued while running these wait for the next iteration. */
static void run_tasks(keel_loop_t *loop)
{
	keel_task_t *task = loop->tasks;
	loop->tasks = NULL;
	loop->tasks_tail = &loop->tasks;
	while (task) {
		keel_task_t *next = task->next;
		task->queued = false;
		task->cb(loop, task);
		task = next;
	}
}

int keel_loop_run_once(keel_loop_t *loop, int max_wait_ms)
{
	int n = epoll_wait(loop->epfd, loop->events, LOOP_MAX_EVENTS,
	                   next_timeout(loop, max_wait_ms));
	loop->now_ms = keel_clock_update().mono_ns / KEEL_NS_PER_MS;
	if (n < 0 && errno != EINTR)
		return KEEL_EIO;
	loop->nevents = n > 0 ? n : 0;
	for (int i = 0; i < loop->nevents; i++) {
		keel_io_t *io = loop->events[i].data.ptr;
		if (io)
			io->cb(loop, io, from_epoll(loop->events[i].events));
	}
	loop->nevents = 0;
	run_timers(loop);
	run_tasks(loop);
	return KEEL_OK;
}

int keel_loop_run(keel_loop_t *loop)
{
	loop->stopping = false;
	while (!loop->stopping) {
		int rc = keel_loop_run_once(loop, -1);
		if (rc < 0)
			return rc;
	}
	return KEEL_OK;
}
