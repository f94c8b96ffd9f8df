/*
 * src/net/net.h - internal helpers shared by the worker and master code:
 * listening sockets, socket options and process titles.  Not installed.
 */
#ifndef KEEL_NET_INTERNAL_H
#define KEEL_NET_INTERNAL_H

#include <stdbool.h>

#include "keel/common.h"

/**
 * Open a non-blocking TCP listener on host:port (numeric address or name;
 * NULL or "" means all IPv4 addresses) with SO_REUSEADDR and, when
 * `reuseport`, SO_REUSEPORT so each worker can own one.  Returns the
 * descriptor, or KEEL_EIO with errno set; `why` names the failing step.
 */
int keel__net_listen(const char *host, int port, int backlog, bool reuseport,
                     const char **why);

/** The port a bound socket listens on (for port 0), or KEEL_EIO. */
int keel__net_local_port(int fd);

/** Set TCP_NODELAY on an accepted socket; errors are ignored by design. */
void keel__net_nodelay(int fd);

/**
 * Block SIGTERM, SIGINT, SIGQUIT, SIGHUP (and SIGCHLD when asked), ignore
 * SIGPIPE, and return a signalfd (with `flags`, e.g. SFD_NONBLOCK) that
 * reports them; KEEL_EIO on failure.
 */
int keel__net_signalfd(bool with_sigchld, int flags);

/**
 * Name this process in ps/top: overwrites the argv area recorded by
 * keel__net_title_init and sets the thread name (prctl PR_SET_NAME).
 */
void keel__net_title_init(int argc, char **argv);
extern char *keel__net_argv_copy;
void keel__net_title_set(const char *title);

#endif
