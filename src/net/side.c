/*
 * Side threads (net/park.h): a one-thread keel_threadpool whose eventfd
 * is watched by the worker's loop, so its done functions run there like
 * those of the worker's own pool.
 */
#include <stdlib.h>

#include "keel/threadpool.h"
#include "../http/conn.h"
#include "park.h"
#include "worker.h"

struct keel__side {
	keel_threadpool_t *tp;
	keel_io_t io;
	keel_loop_t *loop;
};

static void on_done(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	keel__side_t *s = io->data;
	(void)loop;
	(void)events;
	keel_threadpool_complete(s->tp);
}

keel__side_t *keel__side_new(void)
{
	keel_worker_t *w = keel__worker_self;
	if (!w)
		return NULL;
	keel__side_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = w->loop;
	s->tp = keel_threadpool_new(1, 64);
	if (!s->tp ||
	    keel_loop_io_start(s->loop, &s->io, keel_threadpool_fd(s->tp),
	                       KEEL_IO_READ, on_done, s) < 0) {
		keel_threadpool_free(s->tp);
		free(s);
		return NULL;
	}
	return s;
}

int keel__side_submit(keel__side_t *s, void (*work)(void *arg),
                      void (*done)(void *arg, bool cancelled), void *arg)
{
	return keel_threadpool_submit(s->tp, work, done, arg);
}

void keel__side_free(keel__side_t *s)
{
	if (!s)
		return;
	/* After the worker's teardown its loop is gone: nothing to stop. */
	if (keel__worker_self && keel__worker_self->loop == s->loop)
		keel_loop_io_stop(s->loop, &s->io);
	keel_threadpool_free(s->tp);
	free(s);
}
