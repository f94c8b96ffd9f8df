#include <criterion/criterion.h>
#include <unistd.h>

#include "keel/loop.h"

struct probe {
	keel_io_t io;
	int calls;
	uint32_t last;
	keel_io_t *victim; /* stopped from inside the callback */
};

static void on_io(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	struct probe *p = io->data;
	p->calls++;
	p->last = events;
	if (p->victim)
		keel_loop_io_stop(loop, p->victim);
}

Test(loop, readable_pipe_fires_callback_once_per_edge)
{
	keel_loop_t *loop = keel_loop_new();
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	struct probe p = {0};
	cr_assert_eq(keel_loop_io_start(loop, &p.io, fds[0], KEEL_IO_READ,
	                                on_io, &p),
	             0);
	cr_assert_eq(keel_loop_run_once(loop, 0), 0);
	cr_assert_eq(p.calls, 0);
	cr_assert_eq(write(fds[1], "x", 1), 1);
	keel_loop_run_once(loop, 100);
	cr_assert_eq(p.calls, 1);
	cr_assert(p.last & KEEL_IO_READ);
	/* Edge-triggered: unread data does not fire again. */
	keel_loop_run_once(loop, 0);
	cr_assert_eq(p.calls, 1);
	close(fds[1]);
	keel_loop_run_once(loop, 100);
	cr_assert_eq(p.calls, 2);
	cr_assert(p.last & KEEL_IO_HUP);
	keel_loop_io_stop(loop, &p.io);
	close(fds[0]);
	keel_loop_free(loop);
}

Test(loop, watcher_stopped_in_same_batch_gets_no_event)
{
	keel_loop_t *loop = keel_loop_new();
	int a[2], b[2];
	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	struct probe pa = {0}, pb = {0};
	pa.victim = &pb.io;
	pb.victim = &pa.io;
	keel_loop_io_start(loop, &pa.io, a[0], KEEL_IO_READ, on_io, &pa);
	keel_loop_io_start(loop, &pb.io, b[0], KEEL_IO_READ, on_io, &pb);
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "x", 1), 1);
	keel_loop_run_once(loop, 100);
	/* Whichever ran first stopped the other: exactly one call in all. */
	cr_assert_eq(pa.calls + pb.calls, 1);
	cr_assert(pa.io.fd == -1 || pb.io.fd == -1);
	keel_loop_free(loop);
}

static int order[8];
static int norder;

static void on_timer(keel_loop_t *loop, keel_timer_t *t)
{
	(void)loop;
	order[norder++] = (int)(intptr_t)t->data;
}

Test(loop, timers_fire_in_deadline_then_fifo_order)
{
	keel_loop_t *loop = keel_loop_new();
	keel_timer_t t[4] = {0};
	norder = 0;
	keel_loop_timer_start(loop, &t[0], 30, on_timer, (void *)0);
	keel_loop_timer_start(loop, &t[1], 10, on_timer, (void *)1);
	keel_loop_timer_start(loop, &t[2], 10, on_timer, (void *)2);
	keel_loop_timer_start(loop, &t[3], 20, on_timer, (void *)3);
	keel_loop_timer_stop(loop, &t[3]);
	cr_assert_eq(keel_loop_timer_count(loop), 3);
	while (norder < 3)
		keel_loop_run_once(loop, -1);
	cr_assert_eq(order[0], 1);
	cr_assert_eq(order[1], 2);
	cr_assert_eq(order[2], 0);
	cr_assert_not(keel_loop_timer_active(&t[0]));
	cr_assert_eq(keel_loop_timer_count(loop), 0);
	keel_loop_free(loop);
}

Test(loop, restarting_a_timer_moves_it)
{
	keel_loop_t *loop = keel_loop_new();
	keel_timer_t a = {0}, b = {0};
	norder = 0;
	keel_loop_timer_start(loop, &a, 5, on_timer, (void *)0);
	keel_loop_timer_start(loop, &b, 20, on_timer, (void *)1);
	keel_loop_timer_start(loop, &a, 60, on_timer, (void *)0);
	cr_assert_eq(keel_loop_timer_count(loop), 2);
	while (norder < 2)
		keel_loop_run_once(loop, -1);
	cr_assert_eq(order[0], 1);
	cr_assert_eq(order[1], 0);
	keel_loop_free(loop);
}

static void on_task(keel_loop_t *loop, keel_task_t *task)
{
	int *n = task->data;
	(*n)++;
	keel_loop_stop(loop);
}

Test(loop, deferred_task_runs_once_and_stop_ends_run)
{
	keel_loop_t *loop = keel_loop_new();
	keel_task_t task = {0};
	int n = 0;
	keel_loop_defer(loop, &task, on_task, &n);
	keel_loop_defer(loop, &task, on_task, &n); /* already queued */
	cr_assert_eq(keel_loop_run(loop), 0);
	cr_assert_eq(n, 1);
	cr_assert_not(task.queued);
	keel_loop_free(loop);
}

Test(loop, now_advances_with_iterations)
{
	keel_loop_t *loop = keel_loop_new();
	int64_t t0 = keel_loop_now_ms(loop);
	keel_loop_run_once(loop, 20);
	cr_assert_geq(keel_loop_now_ms(loop) - t0, 19);
	keel_loop_free(loop);
}
