/*
 * keel_serve: what a program's main() calls to become a server.  One table
 * of settings gives the flags, the environment variables and --help; the
 * values fill a keel_server_config_t and start the master.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keel/config.h"
#include "keel/log.h"
#include "keel/serve.h"
#include "net.h"

extern char **environ;

typedef struct serve_settings {
	const char *host;
	int64_t port, workers, max_connections, max_requests, pool_threads;
	int64_t header_timeout, body_timeout, idle_timeout, write_timeout;
	int64_t shutdown_timeout;
	size_t max_body;
	const char *access_log, *access_format, *trusted_proxies;
	const char *log_level, *log_format, *ready_file;
} serve_settings_t;

#define S(field) KEEL_SETTING_INT_FIELD(serve_settings_t, field)
#define D(field) KEEL_SETTING_DURATION_FIELD(serve_settings_t, field)
#define T(field) KEEL_SETTING_STRING_FIELD(serve_settings_t, field)

static const keel_setting_t settings[] = {
        {.name = "host",
         .env = "KEEL_HOST",
         T(host),
         .def = "127.0.0.1",
         .help = "address to listen on (0.0.0.0 for all)"},
        {.name = "port",
         .env = "KEEL_PORT",
         S(port),
         .def = "8080",
         .min = 0,
         .max = 65535,
         .help = "TCP port (0 picks a free one)"},
        {.name = "workers",
         .env = "KEEL_WORKERS",
         S(workers),
         .def = "0",
         .min = 0,
         .max = 1024,
         .help = "worker processes (0: one per CPU)"},
        {.name = "max-connections",
         .env = "KEEL_MAX_CONNECTIONS",
         S(max_connections),
         .def = "20000",
         .min = 1,
         .max = 10000000,
         .help = "open connections per worker"},
        {.name = "max-requests",
         .env = "KEEL_MAX_REQUESTS",
         S(max_requests),
         .def = "10000",
         .min = 1,
         .max = INT32_MAX,
         .help = "requests per keep-alive connection"},
        {.name = "max-body",
         .env = "KEEL_MAX_BODY",
         KEEL_SETTING_SIZE_FIELD(serve_settings_t, max_body),
         .def = "1m",
         .help = "largest request body (413 above)"},
        {.name = "header-timeout",
         .env = "KEEL_HEADER_TIMEOUT",
         D(header_timeout),
         .def = "10s",
         .min = 1,
         .max = 86400000,
         .help = "time to receive a whole request head"},
        {.name = "body-timeout",
         .env = "KEEL_BODY_TIMEOUT",
         D(body_timeout),
         .def = "10s",
         .min = 1,
         .max = 86400000,
         .help = "longest pause while reading a body"},
        {.name = "idle-timeout",
         .env = "KEEL_IDLE_TIMEOUT",
         D(idle_timeout),
         .def = "60s",
         .min = 1,
         .max = 86400000,
         .help = "keep-alive wait for the next request"},
        {.name = "write-timeout",
         .env = "KEEL_WRITE_TIMEOUT",
         D(write_timeout),
         .def = "10s",
         .min = 1,
         .max = 86400000,
         .help = "longest stall writing to a client"},
        {.name = "shutdown-timeout",
         .env = "KEEL_SHUTDOWN_TIMEOUT",
         D(shutdown_timeout),
         .def = "10s",
         .min = 1,
         .max = 86400000,
         .help = "drain deadline on SIGTERM and reload"},
        {.name = "pool-threads",
         .env = "KEEL_POOL_THREADS",
         S(pool_threads),
         .def = "1",
         .min = 1,
         .max = 256,
         .help = "threads per worker for CPU-heavy work"},
        {.name = "access-log",
         .env = "KEEL_ACCESS_LOG",
         T(access_log),
         .help = "access log file, '-' for stderr (default: off)"},
        {.name = "access-format",
         .env = "KEEL_ACCESS_FORMAT",
         T(access_format),
         .def = "combined",
         .help = "access log format: combined or json"},
        {.name = "trusted-proxies",
         .env = "KEEL_TRUSTED_PROXIES",
         T(trusted_proxies),
         .def = "",
         .help = "comma-separated CIDRs allowed to set X-Forwarded-For"},
        {.name = "log-level",
         .env = "KEEL_LOG_LEVEL",
         T(log_level),
         .def = "info",
         .help = "debug, info, warn, error or off"},
        {.name = "log-format",
         .env = "KEEL_LOG_FORMAT",
         T(log_format),
         .def = "text",
         .help = "error log format: text or json"},
        {.name = "ready-file",
         .env = "KEEL_READY_FILE",
         T(ready_file),
         .help = "file to write the port to once listening (for scripts)"},
};

const keel_setting_t *keel_serve_settings(size_t *n)
{
	*n = KEEL_COUNTOF(settings);
	return settings;
}

static int apply(const serve_settings_t *s, keel_server_config_t *cfg,
                 const char **bad)
{
	cfg->host = s->host;
	cfg->port = (int)s->port;
	cfg->workers = (int)s->workers;
	cfg->max_connections = (int)s->max_connections;
	cfg->max_requests_per_conn = (int)s->max_requests;
	cfg->pool_threads = (int)s->pool_threads;
	cfg->limits.max_body = s->max_body;
	cfg->header_timeout_ms = s->header_timeout;
	cfg->body_timeout_ms = s->body_timeout;
	cfg->idle_timeout_ms = s->idle_timeout;
	cfg->write_timeout_ms = s->write_timeout;
	cfg->shutdown_timeout_ms = s->shutdown_timeout;
	cfg->access_log = s->access_log;
	cfg->trusted_proxies = s->trusted_proxies;
	cfg->ready_file = s->ready_file;
	if (strcasecmp(s->access_format, "json") == 0)
		cfg->access_format = KEEL_ACCESS_JSON;
	else if (strcasecmp(s->access_format, "combined") == 0)
		cfg->access_format = KEEL_ACCESS_COMBINED;
	else
		return *bad = "--access-format must be combined or json", -1;
	keel_log_level_t level;
	keel_log_format_t format;
	if (keel_log_level_parse(s->log_level, &level) < 0)
		return *bad = "--log-level must be debug, info, warn, error or "
		              "off",
		       -1;
	if (keel_log_format_parse(s->log_format, &format) < 0)
		return *bad = "--log-format must be text or json", -1;
	keel_log_open(NULL, level, format);
	return 0;
}

int keel_serve_config(keel_server_config_t *cfg, int argc, char **argv)
{
	/* Before parsing: values must point at argv copies that survive the
	 * process-title rewrite. */
	keel__net_title_init(argc, argv);
	serve_settings_t s;
	keel_config_error_t err;
	const char *prog = argc > 0 ? argv[0] : "keel";
	int rc = keel_config_load(settings, KEEL_COUNTOF(settings), &s, argc,
	                          argv, environ, NULL, &err);
	if (rc == KEEL_CONFIG_HELP) {
		keel_config_print_help(stdout, prog, settings,
		                       KEEL_COUNTOF(settings));
		return KEEL_CONFIG_HELP;
	}
	const char *bad = err.msg;
	if (rc == 0 && apply(&s, cfg, &bad) == 0)
		return 0;
	fprintf(stderr, "%s: %s (see --help)\n", prog, bad);
	return KEEL_EINVAL;
}

int keel_serve(int argc, char **argv, keel_handler_fn *handler, void *ud)
{
	keel_server_config_t cfg;
	keel_server_config_init(&cfg);
	int rc = keel_serve_config(&cfg, argc, argv);
	if (rc == KEEL_CONFIG_HELP)
		return 0;
	if (rc < 0)
		return 2;
	if (argc > 0 && argv[0]) {
		const char *slash = strrchr(argv[0], '/');
		cfg.name = slash ? slash + 1 : argv[0];
	}
	return keel_server_run(&cfg, handler, ud, argc, argv);
}
