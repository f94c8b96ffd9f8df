/*
 * The master process: opens one listening socket per worker slot, forks the
 * workers, restarts any that die (with backoff), replaces them all on
 * SIGHUP and drains them on SIGTERM/SIGINT.  It never serves requests, so
 * a crashing handler can only take one worker down.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/log.h"
#include "net.h"
#include "worker.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  5000
#define STABLE_AFTER_MS 10000 /* a worker up this long resets backoff */
#define MAX_RETIRED     256

typedef struct slot {
	int fd;    /* this slot's listener, kept open across workers */
	pid_t pid; /* current worker, 0 when none */
	int64_t started_ms;
	int64_t restart_at_ms; /* pending restart time, 0 when none */
	int64_t backoff_ms;
} slot_t;

typedef struct master {
	const keel_server_config_t *cfg;
	keel_handler_fn *handler;
	void *ud;
	slot_t *slots;
	int nslots;
	pid_t retired[MAX_RETIRED]; /* old generation, draining */
	int nretired;
	int sigfd;
	bool stopping;
} master_t;

static int64_t now_ms(void)
{
	return keel_clock_now_ns() / KEEL_NS_PER_MS;
}

static pid_t spawn(master_t *m, int i)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(m->sigfd);
		for (int j = 0; j < m->nslots; j++)
			if (j != i)
				close(m->slots[j].fd);
		_exit(keel__worker_main(m->cfg, m->handler, m->ud, i + 1,
		                        m->slots[i].fd));
	}
	if (pid < 0) {
		KEEL_LOG_ERROR("fork: %s", strerror(errno));
		m->slots[i].restart_at_ms = now_ms() + BACKOFF_MAX_MS;
		return 0;
	}
	m->slots[i].pid = pid;
	m->slots[i].started_ms = now_ms();
	m->slots[i].restart_at_ms = 0;
	return pid;
}

static void describe_exit(int status, char *out, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(out, cap, "exited with status %d",
		         WEXITSTATUS(status));
}

static bool forget_retired(master_t *m, pid_t pid)
{
	for (int i = 0; i < m->nretired; i++) {
		if (m->retired[i] == pid) {
			m->retired[i] = m->retired[--m->nretired];
			return true;
		}
	}
	return false;
}

/* A worker that dies soon after starting doubles its slot's backoff, so a
 * handler crashing on every request cannot turn the master into a fork
 * loop; one that ran for a while restarts at once. */
static void on_worker_exit(master_t *m, pid_t pid, int status)
{
	if (forget_retired(m, pid))
		return;
	for (int i = 0; i < m->nslots; i++) {
		slot_t *s = &m->slots[i];
		if (s->pid != pid)
			continue;
		s->pid = 0;
		if (m->stopping)
			return;
		char why[96];
		describe_exit(status, why, sizeof(why));
		int64_t t = now_ms();
		if (t - s->started_ms >= STABLE_AFTER_MS)
			s->backoff_ms = 0;
		else
			s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2
			                              : BACKOFF_MIN_MS;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		KEEL_LOG_ERROR("worker %d (pid %d) %s; restarting in %lld ms",
		               i + 1, (int)pid, why, (long long)s->backoff_ms);
		s->restart_at_ms = t + s->backoff_ms;
		return;
	}
}

static void reap(master_t *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		on_worker_exit(m, pid, status);
}

/*
 * Reload: a new generation takes over every slot, then the old one is told
 * to drain.  Both share the slot's socket meanwhile, so no connection is
 * refused: whatever the old worker stops accepting waits in the backlog
 * for the new one.
 */
static void reload(master_t *m)
{
	KEEL_LOG_INFO("reload: starting %d fresh workers", m->nslots);
	for (int i = 0; i < m->nslots; i++) {
		pid_t old = m->slots[i].pid;
		if (!spawn(m, i))
			continue;
		if (old > 0 && m->nretired < MAX_RETIRED) {
			m->retired[m->nretired++] = old;
			kill(old, SIGTERM);
		}
	}
}

static int64_t next_restart(const master_t *m)
{
	int64_t next = -1;
	for (int i = 0; i < m->nslots; i++) {
		int64_t t = m->slots[i].restart_at_ms;
		if (t && (next < 0 || t < next))
			next = t;
	}
	return next;
}

static void run_restarts(master_t *m)
{
	int64_t t = now_ms();
	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].restart_at_ms && m->slots[i].restart_at_ms <= t)
			spawn(m, i);
}

static int live_workers(const master_t *m)
{
	int n = m->nretired;
	for (int i = 0; i < m->nslots; i++)
		n += m->slots[i].pid > 0;
	return n;
}

static void signal_all(master_t *m, int sig)
{
	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			kill(m->slots[i].pid, sig);
	for (int i = 0; i < m->nretired; i++)
		kill(m->retired[i], sig);
}

/* Returns the signal received, 0 on timeout. */
static int wait_signal(master_t *m, int64_t timeout_ms)
{
	struct pollfd p = {.fd = m->sigfd, .events = POLLIN};
	int ms = timeout_ms < 0
	                 ? -1
	                 : (int)(timeout_ms > 60000 ? 60000 : timeout_ms);
	if (poll(&p, 1, ms) <= 0)
		return 0;
	struct signalfd_siginfo si;
	if (read(m->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

static void supervise(master_t *m)
{
	while (!m->stopping) {
		int64_t next = next_restart(m);
		int64_t wait = next < 0 ? -1 : next - now_ms();
		int sig = wait_signal(m, wait < 0 && next >= 0 ? 0 : wait);
		if (sig == SIGCHLD)
			reap(m);
		else if (sig == SIGHUP)
			reload(m);
		else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
			m->stopping = true;
		run_restarts(m);
	}
}

/* Workers get the drain deadline plus a second, then SIGKILL. */
static void shutdown_workers(master_t *m)
{
	/* Closing our copies first means the sockets close as soon as every
	 * worker has closed its own: new clients are refused at once instead
	 * of waiting in a backlog nobody will accept from. */
	for (int i = 0; i < m->nslots; i++) {
		close(m->slots[i].fd);
		m->slots[i].fd = -1;
	}
	KEEL_LOG_INFO("shutting down: draining %d workers", live_workers(m));
	signal_all(m, SIGTERM);
	int64_t deadline = now_ms() + m->cfg->shutdown_timeout_ms + 1000;
	reap(m);
	while (live_workers(m) > 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			KEEL_LOG_WARN("workers still running; killing them");
			signal_all(m, SIGKILL);
			deadline = now_ms() + 1000 * 1000;
		}
		wait_signal(m, left > 0 ? left : 100);
		reap(m);
	}
}

static int open_listeners(master_t *m)
{
	const keel_server_config_t *cfg = m->cfg;
	int port = cfg->port;
	for (int i = 0; i < m->nslots; i++) {
		const char *why = "";
		int fd = keel__net_listen(cfg->host, port, cfg->backlog, true,
		                          &why);
		if (fd < 0) {
			KEEL_LOG_ERROR("cannot listen on %s:%d: %s: %s",
			               cfg->host ? cfg->host : "0.0.0.0", port,
			               why, strerror(errno));
			return KEEL_EIO;
		}
		m->slots[i].fd = fd;
		if (port == 0)
			port = keel__net_local_port(fd);
	}
	return port;
}

static void write_ready_file(const char *path, int port)
{
	char tmp[4096];
	if (!path || !*path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%d\n", port);
	fclose(f);
	rename(tmp, path); /* readers never see a half-written file */
}

static int master_signals(master_t *m)
{
	m->sigfd = keel__net_signalfd(true, 0);
	return m->sigfd < 0 ? KEEL_EIO : KEEL_OK;
}

/* Allow as many descriptors as the hard limit permits (nginx's
 * worker_rlimit_nofile): each connection costs one. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int keel_server_run(const keel_server_config_t *cfg, keel_handler_fn *handler,
                    void *ud, int argc, char **argv)
{
	master_t m = {.cfg = cfg, .handler = handler, .ud = ud, .sigfd = -1};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m.nslots = cfg->workers > 0 ? cfg->workers : (cpus > 0 ? (int)cpus : 1);
	m.slots = calloc((size_t)m.nslots, sizeof(*m.slots));
	if (!m.slots)
		return 1;
	keel__net_title_init(argc, argv);
	raise_nofile();
	int port = open_listeners(&m);
	if (port < 0 || master_signals(&m) < 0) {
		free(m.slots);
		return 1;
	}
	char title[64];
	snprintf(title, sizeof(title), "%s: master",
	         cfg->name ? cfg->name : "keel");
	keel__net_title_set(title);
	KEEL_LOG_INFO("listening on http://%s:%d with %d workers",
	              cfg->host && *cfg->host ? cfg->host : "0.0.0.0", port,
	              m.nslots);
	for (int i = 0; i < m.nslots; i++)
		spawn(&m, i);
	write_ready_file(cfg->ready_file, port);
	supervise(&m);
	shutdown_workers(&m);
	close(m.sigfd);
	free(m.slots);
	KEEL_LOG_INFO("stopped");
	return 0;
}
