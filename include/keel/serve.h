/*
 * keel/serve.h - the one call a program's main() needs to become a server,
 * with the standard flags and environment variables (--port / KEEL_PORT,
 * --workers / KEEL_WORKERS, timeouts, limits, logs; `--help` lists them).
 */
#ifndef KEEL_SERVE_H
#define KEEL_SERVE_H

#include "keel/config.h"
#include "keel/server.h"

/**
 * Parse argv and the environment into a fresh server configuration, set up
 * the error log, and serve `handler` until SIGTERM/SIGINT.  Returns the
 * exit status for main: 0 (also after printing --help), 2 for bad flags,
 * 1 when the server could not start.
 */
KEEL_API int keel_serve(int argc, char **argv, keel_handler_fn *handler,
                        void *ud);

/**
 * The parsing half of keel_serve, for programs that adjust `cfg` before
 * keel_server_run: 0, KEEL_CONFIG_HELP (help printed), or KEEL_EINVAL
 * (message printed to stderr).
 */
KEEL_API int keel_serve_config(keel_server_config_t *cfg, int argc,
                               char **argv);

/** The settings table behind the flags, for docs and `check` commands. */
KEEL_API const keel_setting_t *keel_serve_settings(size_t *n);

#endif
