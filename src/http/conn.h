/*
 * src/http/conn.h - internal: one worker's state and one connection's state
 * machine, shared by the connection, response, access-log and worker code.
 * Not installed.
 */
#ifndef KEEL_HTTP_CONN_H
#define KEEL_HTTP_CONN_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "keel/arena.h"
#include "keel/buf.h"
#include "keel/coro.h"
#include "keel/http.h"
#include "keel/ip.h"
#include "keel/loop.h"
#include "keel/server.h"
#include "keel/threadpool.h"

/* Largest single read of body bytes; the body buffer may hold this much
 * raw chunked input beyond the decoded body limit. */
#define KEEL_CONN_READ_MAX (64 * 1024)

typedef struct keel_worker keel_worker_t;
typedef struct keel_conn keel_conn_t;

struct keel_req {
	keel_conn_t *conn;
	keel_http_request_t head; /* slices into conn->in (stable meanwhile) */
	keel_str_t path;          /* decoded, in the arena */
	keel_buf_t body;          /* decoded body; raw chunked bytes follow */
	keel_arena_t arena;
	keel_ip_t client;
	int64_t start_ns;
	char id[40];
	/* Set by the app's dispatcher (src/web/dispatch.c) for the length of
	 * one dispatch; NULL/0 otherwise. */
	const struct keel_route *route;   /* the matched route */
	const keel_http_header_t *params; /* path parameters: name, value */
	size_t nparams;
	void *valid_params; /* structs filled by the route's declared spec */
	void *valid_body;
	const struct keel_jwt_claims *auth; /* verified API token, or NULL */
	void *db_conn; /* src/data/db.c: connections borrowed by keel_req_db */
	void *session; /* src/security/session.c: the request's session */
	void *timing;  /* src/web/mw_timing.c: Server-Timing entries */
	void *cache;   /* src/web/mw_cache.c: the lookup, for the after hook */
};

struct keel_res {
	int status;
	keel_buf_t headers; /* "Name: value\r\n" lines added by the handler */
	keel_buf_t body;
	bool close;  /* the handler asked for Connection: close */
	int file_fd; /* body read from this file instead (-1: none) */
	uint64_t file_off, file_len;
	keel_conn_t *conn; /* NULL outside a server connection (test client) */
	bool streaming;    /* head already sent, body goes out in chunks */
	bool stream_ended, stream_broken;
	uint64_t stream_bytes;
};

enum keel_conn_state {
	KEEL_CONN_IDLE,    /* keep-alive: waiting for a request's first byte */
	KEEL_CONN_HEAD,    /* receiving a request head */
	KEEL_CONN_BODY,    /* receiving its body */
	KEEL_CONN_HANDLER, /* handler coroutine suspended, waiting */
	KEEL_CONN_CLOSING, /* writing the last response, then closing */
	KEEL_CONN_LINGER,  /* write side shut; discarding input until EOF */
	KEEL_CONN_CLOSED,
};

struct keel_conn {
	keel_io_t io;
	keel_timer_t timer;
	keel_task_t task;
	keel_worker_t *w;
	keel_conn_t *prev, *next; /* the worker's open connections */
	enum keel_conn_state state;
	bool readable, writable; /* edge-triggered readiness not yet used */
	bool req_active;         /* req/res hold a request being served */
	unsigned requests;
	char *in; /* request bytes: [in_pos, in_len) not yet consumed */
	size_t in_len, in_pos, in_cap;
	keel_http_scan_t scan;
	keel_buf_t out; /* responses not yet written: [out_pos, out.len) */
	size_t out_pos;
	int file_fd; /* file body sent after `out` with sendfile, -1: none */
	off_t file_off;
	uint64_t file_left;
	bool write_stalled;  /* the write timeout replaced the state's timer */
	bool shrink_pending; /* idle timer: release buffers when it fires */
	bool peer_hup;       /* EPOLLRDHUP seen: read until EOF */
	bool stream_wait;    /* handler waits for the socket to drain */
	keel_http_chunked_t chunked;
	size_t body_raw; /* undecoded chunked bytes after req.body.len */
	char *pend;      /* bytes after a chunked body, for the next request */
	size_t pend_len;
	keel_coro_t *co;
	keel_ip_t peer;
	size_t linger_bytes;
	keel_req_t req;
	keel_res_t res;
};

struct keel_worker {
	const keel_server_config_t *cfg;
	keel_handler_fn *handler;
	void *ud;
	int index; /* slot number, from 1 */
	keel_loop_t *loop;
	keel_coro_pool_t *coros;
	keel_threadpool_t *pool;
	keel_io_t pool_io;
	int listen_fd;
	keel_io_t listen_io;
	bool accepting;
	keel_timer_t accept_timer; /* retry after EMFILE */
	int reserve_fd;            /* spare descriptor for EMFILE shedding */
	keel_io_t signal_io;
	keel_conn_t *conns;
	int nconns;
	bool draining;
	keel_timer_t drain_timer;
	keel_timer_t deadline_timer;
	keel_timer_t trim_timer;    /* returns freed heap to the kernel */
	union conn_slot *conn_free; /* free connection structs (slabs) */
	void **slabs;               /* every slab, freed at exit */
	size_t nslabs;
	keel_conn_t *current; /* connection whose handler is running */
	uint64_t req_counter;
	char id_prefix[16]; /* "<pid hex>-" for request ids */
	size_t id_prefix_len;
	keel_cidr_t *trusted;
	size_t ntrusted;
	keel_http_header_t *scratch_headers; /* parse target, max_fields */
	struct keel_access_log *access;
};

/** Take ownership of an accepted socket; closes it on failure. */
void keel__conn_open(keel_worker_t *w, int fd, const struct sockaddr *peer);
/** Resume the handler coroutine of `c` with `value`, then drive `c` on. */
void keel__conn_resume(keel_conn_t *c, intptr_t value);
/** Draining: give idle keep-alive connections `grace_ms` to close. */
void keel__conn_drain(keel_worker_t *w, int64_t grace_ms);
/** Close every connection at once (drain deadline passed). */
void keel__conn_close_all(keel_worker_t *w);

/** Remember a slab of connections, to free it when the worker exits. */
void keel__worker_keep(keel_worker_t *w, void *slab);
/** Buffers were freed: give unused heap pages back to the kernel soon. */
void keel__worker_trim_soon(keel_worker_t *w);

/** Arm the connection's one timer for `ms` from now. */
void keel__conn_arm(keel_conn_t *c, int64_t ms);
/** Arm the keep-alive wait (buffers released after a short while). */
void keel__conn_arm_idle(keel_conn_t *c);
/** Make room at the end of the read buffer; 0, KEEL_ENOMEM, KEEL_ELIMIT. */
int keel__conn_make_room(keel_conn_t *c);
/** recv into dst: bytes (>0), 0 at EOF, KEEL_AGAIN, or KEEL_EIO. */
ssize_t keel__conn_recv(keel_conn_t *c, char *dst, size_t cap);
/** Write queued output and any file body: 0, KEEL_AGAIN or KEEL_EIO. */
int keel__conn_flush(keel_conn_t *c);

/**
 * Read the active request's body: 0 when complete, KEEL_AGAIN, KEEL_ECLOSED
 * (peer gone), or an HTTP status (> 0) to refuse the request with.
 */
int keel__body_read(keel_conn_t *c);
/** After the request: hand bytes read past its body back to the input. */
int keel__body_release(keel_conn_t *c);

/** Reset a response for a new request (status 200, no headers, no body). */
void keel__res_reset(keel_res_t *res);
/** Free the response's buffers and close its file, if any. */
void keel__res_deinit(keel_res_t *res);
/** Close the response's file body, if any (the buffer body stays). */
void keel__res_drop_file(keel_res_t *res);
/**
 * Serialise `c`'s response into c->out (status line, headers, body) for
 * the request's method; returns the body bytes sent (0 for HEAD/204/304).
 * A file body moves to c->file_fd, to be sent once `out` is written.
 */
size_t keel__res_serialize(keel_conn_t *c, bool keep_alive);
/** Queue the head of a streamed response (chunked, or close-delimited). */
void keel__res_stream_head(keel_conn_t *c);
/** After the handler: finish a streamed response; false: must close. */
bool keel__res_stream_done(keel_conn_t *c);
/** Queue a refusal (status, small JSON body, Connection: close). */
void keel__res_reject(keel_conn_t *c, int status);

/** "Sun, 06 Nov 1994 08:49:37 GMT", cached per second; 29 bytes. */
const char *keel__http_date(void);
/** "Server: keel\r\nDate: <date>\r\n", cached per second. */
keel_str_t keel__http_date_lines(void);

/** Open/close the access log configured for `w`; 0 or KEEL_EIO. */
int keel__access_open(keel_worker_t *w);
void keel__access_close(keel_worker_t *w);
/** Record one finished request. */
void keel__access_record(keel_worker_t *w, keel_conn_t *c, size_t bytes);
/** Write buffered access lines now (also done by a timer and at exit). */
void keel__access_flush(keel_worker_t *w);

/** Clear the per-request state of the layers above (auth, validation). */
void keel__req_reset_layers(keel_req_t *req);
/**
 * Set req->path from the parsed head: "*" for the asterisk form, else the
 * percent-decoded path, in the request's arena.  0, or the status to
 * refuse the request with (400 for a path that does not decode, 500).
 */
int keel__req_decode_path(keel_req_t *req);

/** The resolved client address of a request on `c` (X-Forwarded-For). */
keel_ip_t keel__client_addr(keel_worker_t *w, keel_conn_t *c);

#endif
