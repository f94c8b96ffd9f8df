/*
 * src/net/worker.h - internal: entry point of a worker process, and the
 * worker the current process runs (for the coroutine wait functions).
 */
#ifndef KEEL_NET_WORKER_H
#define KEEL_NET_WORKER_H

#include "keel/server.h"

struct keel_worker;

/** The worker running in this process, NULL in the master. */
extern struct keel_worker *keel__worker_self;

/** Serve from `listen_fd` until drained; returns the exit status. */
int keel__worker_main(const keel_server_config_t *cfg, keel_handler_fn *handler,
                      void *ud, int index, int listen_fd);

#endif
