#include "keel/server.h"

/*
 * Defaults chosen like nginx's where it has one: timeouts short enough
 * that slow or idle clients cannot hold descriptors for long, long enough
 * for real clients on bad networks.
 */
void keel_server_config_init(keel_server_config_t *cfg)
{
	*cfg = (keel_server_config_t){
	        .name = "keel",
	        .host = "127.0.0.1",
	        .port = 8080,
	        .workers = 0,
	        .backlog = 4096,
	        .limits = KEEL_HTTP_LIMITS_DEFAULT,
	        .header_timeout_ms = 10000,
	        .body_timeout_ms = 10000,
	        .idle_timeout_ms = 60000,
	        .write_timeout_ms = 10000,
	        .shutdown_timeout_ms = 10000,
	        .max_connections = 20000,
	        .max_requests_per_conn = 10000,
	        .max_output = 1024 * 1024,
	        .coro_stack = 0,
	        .pool_threads = 1,
	        .pool_queue = 256,
	        .access_log = NULL,
	        .access_format = KEEL_ACCESS_COMBINED,
	        .trusted_proxies = "",
	        .ready_file = NULL,
	};
}
