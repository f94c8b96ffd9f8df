/*
 * Socket I/O of a connection: the read buffer, non-blocking reads, and
 * writing queued responses and file bodies (sendfile), with the write
 * timeout armed while the client does not read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

#define IN_INITIAL 4096
#define FILE_CHUNK ((size_t)1 << 30) /* below sendfile's 2 GiB cap */

/* Make room at the end of `in`: drop consumed bytes, then grow. */
int keel__conn_make_room(keel_conn_t *c)
{
	if (c->in_pos == c->in_len)
		c->in_pos = c->in_len = 0;
	if (!c->in) {
		c->in = malloc(IN_INITIAL);
		if (!c->in)
			return KEEL_ENOMEM;
		c->in_cap = IN_INITIAL;
	}
	if (c->in_len < c->in_cap)
		return KEEL_OK;
	if (c->in_pos > 0) {
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
		return KEEL_OK;
	}
	const keel_http_limits_t *lim = &c->w->cfg->limits;
	size_t max = lim->max_line + lim->max_head + IN_INITIAL;
	if (c->in_cap >= max)
		return KEEL_ELIMIT;
	size_t cap = c->in_cap * 2 < max ? c->in_cap * 2 : max;
	char *p = realloc(c->in, cap);
	if (!p)
		return KEEL_ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return KEEL_OK;
}

/* recv into dst; >0 bytes, 0 at EOF, KEEL_AGAIN, or KEEL_EIO. */
ssize_t keel__conn_recv(keel_conn_t *c, char *dst, size_t cap)
{
	for (;;) {
		ssize_t n = recv(c->io.fd, dst, cap, 0);
		/* A short read drained the socket: another recv would only say
		 * EAGAIN.  New data (or a FIN) raises a new edge-triggered
		 * event, except a FIN that already came with this data:
		 * EPOLLRDHUP told us, so keep reading then until recv sees the
		 * EOF. */
		if (n > 0 && (size_t)n < cap && !c->peer_hup)
			c->readable = false;
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->readable = false;
			return KEEL_AGAIN;
		}
		return KEEL_EIO;
	}
}

/* The socket is full: wait for the client, at most the write timeout. */
static void write_stall(keel_conn_t *c)
{
	c->writable = false;
	keel__conn_arm(c, c->w->cfg->write_timeout_ms);
	c->write_stalled = true;
}

/*
 * Once a stalled write has finished, the timer still holds the write
 * timeout; put back the one the current state is measured by.
 */
static void write_resumed(keel_conn_t *c)
{
	const keel_server_config_t *cfg = c->w->cfg;
	if (c->state == KEEL_CONN_IDLE)
		keel__conn_arm_idle(c);
	else if (c->state == KEEL_CONN_HEAD)
		keel__conn_arm(c, cfg->header_timeout_ms);
	else if (c->state == KEEL_CONN_BODY)
		keel__conn_arm(c, cfg->body_timeout_ms);
}

/* Write `out`; MSG_MORE when a file follows so its head shares packets. */
static int out_flush(keel_conn_t *c)
{
	int flags = MSG_NOSIGNAL | (c->file_fd >= 0 ? MSG_MORE : 0);
	while (c->out_pos < c->out.len) {
		if (!c->writable) {
			/* Still blocked from an earlier try: make sure the
			 * write timeout is running (a state change may have
			 * replaced the timer meanwhile). */
			if (!c->write_stalled ||
			    !keel_loop_timer_active(&c->timer))
				write_stall(c);
			return KEEL_AGAIN;
		}
		ssize_t n = send(c->io.fd, c->out.data + c->out_pos,
		                 c->out.len - c->out_pos, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			write_stall(c);
			return KEEL_AGAIN;
		}
		if (n < 0)
			return KEEL_EIO;
		c->out_pos += (size_t)n;
	}
	c->out_pos = 0;
	keel_buf_reset(&c->out);
	return KEEL_OK;
}

/*
 * The file body goes from the page cache to the socket without passing
 * through user space.  sendfile advances file_off itself.  A file that
 * ends early (truncated after the head promised its length) cannot be
 * framed any more: the connection is closed.
 */
static int file_flush(keel_conn_t *c)
{
	while (c->file_left > 0) {
		if (!c->writable) {
			/* Still blocked from an earlier try: make sure the
			 * write timeout is running (a state change may have
			 * replaced the timer meanwhile). */
			if (!c->write_stalled ||
			    !keel_loop_timer_active(&c->timer))
				write_stall(c);
			return KEEL_AGAIN;
		}
		size_t want = c->file_left < FILE_CHUNK ? (size_t)c->file_left
		                                        : FILE_CHUNK;
		ssize_t n = sendfile(c->io.fd, c->file_fd, &c->file_off, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			write_stall(c);
			return KEEL_AGAIN;
		}
		if (n <= 0)
			return KEEL_EIO;
		c->file_left -= (uint64_t)n;
	}
	close(c->file_fd);
	c->file_fd = -1;
	return KEEL_OK;
}

/* Write queued output, then the pending file body; 0 when all is out,
 * KEEL_AGAIN, or KEEL_EIO. */
int keel__conn_flush(keel_conn_t *c)
{
	int rc = out_flush(c);
	if (rc == KEEL_OK && c->file_fd >= 0)
		rc = file_flush(c);
	if (rc == KEEL_OK && c->write_stalled)
		write_resumed(c);
	return rc;
}
