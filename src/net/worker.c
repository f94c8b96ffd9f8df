/*
 * A worker process: one epoll loop accepting from its slot's listening
 * socket and serving every connection it accepts, until SIGTERM/SIGINT
 * makes it drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keel/log.h"
#include "../http/conn.h"
#include "net.h"
#include "worker.h"

#define ACCEPT_PAUSE_MS     100
#define DRAIN_POLL_MS       50
#define TRIM_DELAY_MS       1000 /* see keel__worker_trim_soon */
#define DRAIN_IDLE_GRACE_MS 1000 /* see keel__conn_drain */

keel_worker_t *keel__worker_self;

static void accept_pause(keel_worker_t *w, int64_t ms);

static void on_trim(keel_loop_t *loop, keel_timer_t *t)
{
	(void)loop;
	(void)t;
	malloc_trim(0);
}

/*
 * Idle keep-alive connections release their buffers, but glibc keeps the
 * freed pages mapped, so a burst of connections would leave the worker's
 * RSS at its peak.  At most once a second, hand the free pages back.
 */
void keel__worker_keep(keel_worker_t *w, void *slab)
{
	void **grown = realloc(w->slabs, (w->nslabs + 1) * sizeof(*grown));
	if (!grown)
		return; /* only the exit-time free is lost */
	grown[w->nslabs++] = slab;
	w->slabs = grown;
}

void keel__worker_trim_soon(keel_worker_t *w)
{
	if (!keel_loop_timer_active(&w->trim_timer))
		keel_loop_timer_start(w->loop, &w->trim_timer, TRIM_DELAY_MS,
		                      on_trim, w);
}

static void accept_resume(keel_loop_t *loop, keel_timer_t *t)
{
	keel_worker_t *w = t->data;
	(void)loop;
	if (w->draining || w->accepting || w->listen_fd < 0)
		return;
	if (w->nconns >= w->cfg->max_connections) {
		accept_pause(w, ACCEPT_PAUSE_MS);
		return;
	}
	w->accepting = true;
	/* Re-arming reports connections that queued meanwhile. */
	keel_loop_io_modify(w->loop, &w->listen_io, KEEL_IO_READ);
}

static void accept_pause(keel_worker_t *w, int64_t ms)
{
	w->accepting = false;
	keel_loop_io_modify(w->loop, &w->listen_io, 0);
	if (ms > 0)
		keel_loop_timer_start(w->loop, &w->accept_timer, ms,
		                      accept_resume, w);
}

/*
 * Out of descriptors: the pending connection would make every epoll_wait
 * return at once (level of the backlog never drops).  Give up the spare
 * descriptor, accept and close the connection (the client sees a reset
 * rather than a hang), take the spare back, and stop accepting briefly.
 */
static void accept_shed(keel_worker_t *w)
{
	if (w->reserve_fd >= 0) {
		close(w->reserve_fd);
		int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	KEEL_LOG_WARN("worker %d: out of file descriptors, pausing accept",
	              w->index);
	accept_pause(w, ACCEPT_PAUSE_MS);
}

static void on_accept(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	keel_worker_t *w = io->data;
	(void)loop;
	(void)events;
	while (w->accepting) {
		if (w->nconns >= w->cfg->max_connections) {
			accept_pause(w, 0);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(w->listen_fd, (struct sockaddr *)&ss, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				accept_shed(w);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				KEEL_LOG_ERROR("accept: %s", strerror(errno));
			return;
		}
		keel__net_nodelay(fd);
		keel__conn_open(w, fd, (struct sockaddr *)&ss);
	}
}

static void on_pool(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	keel_worker_t *w = io->data;
	(void)loop;
	(void)events;
	keel_threadpool_complete(w->pool);
}

static void drain_check(keel_loop_t *loop, keel_timer_t *t)
{
	keel_worker_t *w = t->data;
	if (w->nconns == 0) {
		keel_loop_stop(loop);
		return;
	}
	keel_loop_timer_start(loop, t, DRAIN_POLL_MS, drain_check, w);
}

static void drain_deadline(keel_loop_t *loop, keel_timer_t *t)
{
	keel_worker_t *w = t->data;
	KEEL_LOG_WARN("worker %d: drain deadline passed, closing %d "
	              "connections",
	              w->index, w->nconns);
	keel_loop_stop(loop);
}

/* Stop accepting, close idle keep-alive connections, let the rest finish. */
static void drain_start(keel_worker_t *w)
{
	if (w->draining)
		return;
	w->draining = true;
	if (w->listen_fd >= 0) {
		keel_loop_io_stop(w->loop, &w->listen_io);
		close(w->listen_fd);
		w->listen_fd = -1;
	}
	keel_loop_timer_stop(w->loop, &w->accept_timer);
	keel__conn_drain(w, DRAIN_IDLE_GRACE_MS);
	keel_loop_timer_start(w->loop, &w->drain_timer, 0, drain_check, w);
	keel_loop_timer_start(w->loop, &w->deadline_timer,
	                      w->cfg->shutdown_timeout_ms, drain_deadline, w);
}

static void on_signal(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	keel_worker_t *w = io->data;
	struct signalfd_siginfo si;
	(void)loop;
	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGHUP)
			drain_start(w);
}

static int worker_signals(keel_worker_t *w)
{
	int fd = keel__net_signalfd(false, SFD_NONBLOCK);
	if (fd < 0)
		return KEEL_EIO;
	return keel_loop_io_start(w->loop, &w->signal_io, fd, KEEL_IO_READ,
	                          on_signal, w);
}

static int worker_trusted(keel_worker_t *w)
{
	const char *list = w->cfg->trusted_proxies;
	keel_str_t rest = keel_str_from_cstr(list);
	size_t n = 0;
	for (size_t i = 0; i < rest.len; i++)
		n += rest.ptr[i] == ',';
	w->trusted = calloc(n + 1, sizeof(*w->trusted));
	if (!w->trusted)
		return KEEL_ENOMEM;
	while (rest.len > 0) {
		keel_str_t item = keel_str_trim(keel_str_cut(&rest, ','));
		if (item.len == 0)
			continue;
		if (keel_cidr_parse(item, &w->trusted[w->ntrusted]) < 0) {
			KEEL_LOG_ERROR("trusted proxy '%.*s' is not an address "
			               "or CIDR",
			               KEEL_STR_FMT(item));
			return KEEL_EINVAL;
		}
		w->ntrusted++;
	}
	return KEEL_OK;
}

/* Descriptors for connections stay below the limit, leaving headroom
 * for listeners, log files, database and pool descriptors. */
static int connection_cap(const keel_server_config_t *cfg)
{
	struct rlimit rl;
	int cap = cfg->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)cap + 64)
		cap = rl.rlim_cur > 128 ? (int)rl.rlim_cur - 64 : 64;
	return cap;
}

static int worker_setup(keel_worker_t *w)
{
	const keel_server_config_t *cfg = w->cfg;
	w->loop = keel_loop_new();
	w->coros = keel_coro_pool_new(cfg->coro_stack, 64);
	w->pool = keel_threadpool_new((unsigned)cfg->pool_threads,
	                              (size_t)cfg->pool_queue);
	w->scratch_headers =
	        calloc(cfg->limits.max_fields + 1, sizeof(keel_http_header_t));
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!w->loop || !w->coros || !w->pool || !w->scratch_headers)
		return KEEL_ENOMEM;
	if (worker_trusted(w) < 0 || worker_signals(w) < 0)
		return KEEL_EINVAL;
	if (keel__access_open(w) < 0) {
		KEEL_LOG_ERROR("cannot open access log %s: %s", cfg->access_log,
		               strerror(errno));
		return KEEL_EIO;
	}
	if (keel_loop_io_start(w->loop, &w->pool_io,
	                       keel_threadpool_fd(w->pool), KEEL_IO_READ,
	                       on_pool, w) < 0 ||
	    keel_loop_io_start(w->loop, &w->listen_io, w->listen_fd,
	                       KEEL_IO_READ, on_accept, w) < 0)
		return KEEL_EIO;
	w->accepting = true;
	return KEEL_OK;
}

/*
 * Order matters: jobs still running on the pool may write into the stacks
 * of suspended handlers, so the pool is joined (keel__worker_self is NULL
 * by now, which turns its completions into no-ops) before connections and
 * their coroutines are freed; one last loop turn runs the deferred frees.
 */
static void worker_teardown(keel_worker_t *w)
{
	keel_threadpool_free(w->pool);
	if (w->loop) {
		keel__conn_close_all(w);
		keel_loop_run_once(w->loop, 0);
	}
	keel__access_close(w);
	keel_coro_pool_free(w->coros);
	keel_loop_free(w->loop);
	free(w->scratch_headers);
	free(w->trusted);
	for (size_t i = 0; i < w->nslabs; i++)
		free(w->slabs[i]);
	free(w->slabs);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
}

int keel__worker_main(const keel_server_config_t *cfg, keel_handler_fn *handler,
                      void *ud, int index, int listen_fd)
{
	char title[64];
	snprintf(title, sizeof(title), "%s: worker %d",
	         cfg->name ? cfg->name : "keel", index);
	keel__net_title_set(title);
	/* A worker must not outlive its master (kill -9 of the master). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	keel_worker_t w = {.cfg = cfg,
	                   .handler = handler,
	                   .ud = ud,
	                   .index = index,
	                   .listen_fd = listen_fd,
	                   .reserve_fd = -1};
	keel_server_config_t capped = *cfg;
	capped.max_connections = connection_cap(cfg);
	w.cfg = &capped;
	keel__worker_self = &w;
	int rc = worker_setup(&w);
	if (rc == KEEL_OK)
		rc = keel_loop_run(w.loop);
	keel__worker_self = NULL;
	worker_teardown(&w);
	return rc == KEEL_OK ? 0 : 1;
}
