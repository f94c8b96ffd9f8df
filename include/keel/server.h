/*
 * keel/server.h - the HTTP/1.1 server: a master process supervising N
 * worker processes, each with its own SO_REUSEPORT listener, epoll loop and
 * timer heap, running every request handler on a coroutine.
 *
 * The master opens one listening socket per worker slot before forking and
 * keeps it open, so a worker that crashes or is replaced on reload hands
 * its slot's queued connections to its successor instead of resetting
 * them.  SIGTERM/SIGINT drain (stop accepting, finish in-flight requests
 * within the shutdown deadline, close idle connections, exit 0); SIGHUP
 * starts a fresh generation of workers and lets the old one drain.
 */
#ifndef KEEL_SERVER_H
#define KEEL_SERVER_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/http.h"

typedef struct keel_req keel_req_t;
typedef struct keel_res keel_res_t;

/**
 * A request handler: fills `res` and returns the HTTP status to send (a
 * negative value or anything outside 100..599 becomes 500).  Runs on a
 * coroutine: it may wait (keel_wait_fd, keel_sleep_ms, keel_offload)
 * without blocking other connections.
 */
typedef int keel_handler_fn(keel_req_t *req, keel_res_t *res, void *ud);

/** Access log line formats. */
typedef enum keel_access_format {
	KEEL_ACCESS_COMBINED = 0, /* Apache/nginx combined + id and µs */
	KEEL_ACCESS_JSON,         /* one JSON object per line */
} keel_access_format_t;

/** Everything the server can be told; fill with keel_server_config_init. */
typedef struct keel_server_config {
	const char *name; /* process title prefix: "<name>: worker 2" */
	const char *host; /* listen address; NULL/"" = 0.0.0.0 */
	int port;         /* 0 picks a free port (printed at start) */
	int workers;      /* worker processes; 0 = number of CPUs */
	int backlog;      /* listen(2) backlog */
	keel_http_limits_t limits;
	int64_t header_timeout_ms;   /* whole head must arrive within this */
	int64_t body_timeout_ms;     /* longest silence while reading a body */
	int64_t idle_timeout_ms;     /* keep-alive wait for the next request */
	int64_t write_timeout_ms;    /* longest stall writing to the client */
	int64_t shutdown_timeout_ms; /* drain deadline on SIGTERM / reload */
	int max_connections;         /* per worker; excess are refused */
	int max_requests_per_conn;   /* then Connection: close */
	size_t max_output;           /* queued response bytes before reading
	                                pauses (pipelining backpressure) */
	size_t coro_stack;           /* handler stack bytes; 0 = default */
	int pool_threads;            /* per-worker thread pool for offload */
	int pool_queue;              /* offload jobs queued before 503 */
	const char *access_log;      /* path, "-" for stderr, NULL: off */
	keel_access_format_t access_format;
	const char *trusted_proxies; /* CIDRs whose X-Forwarded-For counts */
	const char *ready_file;      /* written with the port once serving */
} keel_server_config_t;

/** Fill `cfg` with the documented defaults (see docs/configuration.md). */
KEEL_API void keel_server_config_init(keel_server_config_t *cfg);

/**
 * Serve `handler` until SIGTERM/SIGINT: opens the listeners, forks the
 * workers, supervises them and returns the exit status for main (0 after a
 * clean drain, 1 when the server could not start; the reason is logged).
 * `argc`/`argv` let workers rename themselves for ps; both may be 0/NULL.
 */
KEEL_API int keel_server_run(const keel_server_config_t *cfg,
                             keel_handler_fn *handler, void *ud, int argc,
                             char **argv);

/**
 * From a handler's coroutine: wait until `fd` is readable (KEEL_IO_READ)
 * or writable (KEEL_IO_WRITE), at most `timeout_ms` (-1: no limit).
 * 0 when ready, KEEL_ETIMEDOUT, KEEL_ECLOSED when the worker is shutting
 * down.  Outside a coroutine it blocks the caller in poll(2).
 */
KEEL_API int keel_wait_fd(int fd, uint32_t events, int64_t timeout_ms);

/** From a handler's coroutine: let others run for `ms` milliseconds. */
KEEL_API int keel_sleep_ms(int64_t ms);

/**
 * Run fn(arg) on the worker's thread pool and resume when it returned: the
 * way to do CPU-heavy work (password hashing) without stalling the worker.
 * KEEL_ELIMIT when the pool's queue is full (answer 503).  Outside a
 * coroutine, fn runs on the caller's thread.
 */
KEEL_API int keel_offload(void (*fn)(void *arg), void *arg);

#endif
