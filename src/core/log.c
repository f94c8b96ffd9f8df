#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/log.h"
#include "keel/utf8.h"

/*
 * The logger's whole state.  Atomics because worker threads (the hashing
 * pool) may log while the loop thread changes the level; changing the
 * destination while other threads log is not supported (see the header).
 */
static _Atomic int log_fd = STDERR_FILENO;
static _Atomic int log_level = KEEL_LOG_LEVEL_INFO;
static _Atomic int log_format = KEEL_LOG_FORMAT_TEXT;
static int log_file_fd = -1; /* the file we opened and must close, or -1 */

/* Room kept back at the end of a record for the truncation marker. */
#define LOG_RESERVE 24

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

/*
 * A record under construction.  Every append either fits whole below `cap`
 * or sets `cut` and is refused, and so is everything after it; the reserve
 * between `cap` and the buffer's end is for the marker and the closing
 * bytes, so a cut record is still one well-formed line.
 */
typedef struct log_line {
	size_t len;
	size_t cap;
	bool cut;
	bool in_str; /* JSON: cut inside a string, which must be closed */
	keel_log_format_t format;
	char buf[KEEL_LOG_LINE_MAX];
} log_line_t;

static bool put(log_line_t *l, const char *p, size_t n)
{
	if (l->cut || n > l->cap - l->len) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	return true;
}

static bool put_cstr(log_line_t *l, const char *s)
{
	return put(l, s, strlen(s));
}

/* printf into a record; used for numbers and the timestamp only. */
KEEL_PRINTF(2, 3)
static bool put_fmt(log_line_t *l, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return put_cstr(l, "?");
	return put(l, tmp, (size_t)n);
}

/* The two-character escape both formats use for a control byte, or 0. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	case '\b': return 'b';
	case '\f': return 'f';
	default: return 0;
	}
}

/*
 * One byte of a JSON string.  Control bytes and DEL become escapes so a
 * record stays one line and cannot drive a terminal; '"' and '\' as JSON
 * demands.  Multi-byte UTF-8 is handled by the caller.
 */
static bool put_json_byte(log_line_t *l, unsigned char c)
{
	char esc[8] = {'\\', 0};

	if (c == '"' || c == '\\') {
		esc[1] = (char)c;
		return put(l, esc, 2);
	}
	if (c >= 0x20 && c != 0x7F)
		return put(l, (const char *)&c, 1);
	esc[1] = short_escape(c);
	if (esc[1])
		return put(l, esc, 2);
	return put_fmt(l, "\\u%04x", c);
}

/* The body of a JSON string; bytes that are not UTF-8 become U+FFFD. */
static bool put_json_chars(log_line_t *l, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			if (!put_json_byte(l, p[i++]))
				return false;
			continue;
		}
		size_t k = keel_utf8_seq(p + i, n - i);
		if (!(k ? put(l, s + i, k) : put_cstr(l, "\\ufffd")))
			return false;
		i += k ? k : 1;
	}
	return true;
}

/* A whole JSON string; a cut inside it is remembered so it gets closed. */
static bool put_json_str(log_line_t *l, const char *s, size_t n)
{
	if (!put(l, "\"", 1))
		return false;
	l->in_str = true;
	if (!put_json_chars(l, s, n) || !put(l, "\"", 1))
		return false;
	l->in_str = false;
	return true;
}

/*
 * Text-format bytes: control bytes and DEL escaped (\n, \x1b) so a value
 * cannot start a forged line; inside a quoted value '"' and '\' as well.
 * Other bytes, UTF-8 or not, pass through for the human reading them.
 */
static bool put_text_chars(log_line_t *l, const char *s, size_t n, bool quoted)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[2] = {'\\', (char)c};
		bool ok;

		if (c < 0x20 || c == 0x7F) {
			esc[1] = short_escape(c);
			ok = esc[1] ? put(l, esc, 2) : put_fmt(l, "\\x%02x", c);
		} else if (quoted && (c == '"' || c == '\\')) {
			ok = put(l, esc, 2);
		} else {
			ok = put(l, s + i, 1);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* logfmt convention: quote a value only when it would be ambiguous bare. */
static bool text_needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F)
			return true;
	}
	return false;
}

static bool put_str_value(log_line_t *l, const char *s, size_t n)
{
	if (l->format == KEEL_LOG_FORMAT_JSON)
		return put_json_str(l, s, n);
	if (!text_needs_quotes(s, n))
		return put_text_chars(l, s, n, false);
	return put(l, "\"", 1) && put_text_chars(l, s, n, true) &&
	       put(l, "\"", 1);
}

/* A field's value: strings quoted/escaped per format, the rest bare. */
static bool put_value(log_line_t *l, const keel_log_field_t *f)
{
	switch (f->kind) {
	case KEEL_LOG_KIND_CSTR:
		if (!f->as.cstr)
			return put_cstr(l, "null");
		return put_str_value(l, f->as.cstr, strlen(f->as.cstr));
	case KEEL_LOG_KIND_SLICE:
		return put_str_value(l, f->as.slice.ptr ? f->as.slice.ptr : "",
		                     f->as.slice.ptr ? f->as.slice.len : 0);
	case KEEL_LOG_KIND_INT: return put_fmt(l, "%" PRId64, f->as.i);
	case KEEL_LOG_KIND_FLOAT:
		if (!isfinite(f->as.f))
			return put_cstr(l, "null");
		return put_fmt(l, "%.6g", f->as.f);
	case KEEL_LOG_KIND_BOOL: return put_cstr(l, f->as.b ? "true" : "false");
	}
	return put_cstr(l, "null");
}

/*
 * One field, all or nothing: a field that does not fit is rolled back, so a
 * cut record never ends in half a key.
 */
static void put_field(log_line_t *l, const keel_log_field_t *f)
{
	size_t mark = l->len;
	const char *key = f->key ? f->key : "";
	bool ok;

	if (l->format == KEEL_LOG_FORMAT_JSON)
		ok = put(l, ",", 1) && put_json_str(l, key, strlen(key)) &&
		     put(l, ":", 1);
	else
		ok = put(l, " ", 1) && put_text_chars(l, key, strlen(key), 0) &&
		     put(l, "=", 1);
	if (!ok || !put_value(l, f)) {
		l->len = mark;
		l->in_str = false;
	}
}

/* "2026-11-22T10:11:12.345Z": UTC, millisecond precision, sorts as text. */
static void put_timestamp(log_line_t *l)
{
	int64_t ns = keel_clock_wall_ns();
	time_t secs = (time_t)(ns / KEEL_NS_PER_S);
	int ms = (int)(ns % KEEL_NS_PER_S / KEEL_NS_PER_MS);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		put_cstr(l, "0000-00-00T00:00:00.000Z");
		return;
	}
	put_fmt(l, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	        ms);
}

/* Timestamp, level and pid, then the start of the message. */
static void put_head(log_line_t *l, keel_log_level_t level)
{
	const char *name = level_names[level];
	long pid = (long)getpid(); /* per record: forked children differ */

	if (l->format == KEEL_LOG_FORMAT_JSON) {
		put_cstr(l, "{\"ts\":\"");
		put_timestamp(l);
		put_fmt(l, "\",\"level\":\"%s\",\"pid\":%ld,\"msg\":", name,
		        pid);
		return;
	}
	put_timestamp(l);
	put_fmt(l, " %s [pid %ld] ", name, pid);
}

/*
 * Close what a cut left open and add the marker, using the reserve, then
 * the newline.  A record that fit gets only the closing bytes.
 */
static void put_tail(log_line_t *l)
{
	bool cut = l->cut;

	l->cap = sizeof(l->buf);
	l->cut = false;
	if (l->format == KEEL_LOG_FORMAT_JSON) {
		if (l->in_str)
			put(l, "\"", 1);
		if (cut)
			put_cstr(l, ",\"truncated\":true");
		put_cstr(l, "}\n");
		return;
	}
	if (cut)
		put_cstr(l, "...[truncated]");
	put_cstr(l, "\n");
}

/*
 * write(2) the record in one call.  A signal or a short write (disk full,
 * a pipe's reader slow) gets the rest retried; other errors drop the record,
 * since there is nowhere left to report them.
 */
static void emit(const char *p, size_t n)
{
	int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Format and write one record; `msg_cut` when the message was already cut. */
static void log_record(keel_log_level_t level, const char *msg, size_t msg_len,
                       bool msg_cut, const keel_log_field_t *fields, size_t n)
{
	log_line_t l;

	l.len = 0;
	l.cap = sizeof(l.buf) - LOG_RESERVE;
	l.cut = false;
	l.in_str = false;
	l.format = atomic_load_explicit(&log_format, memory_order_relaxed);
	put_head(&l, level);
	if (l.format == KEEL_LOG_FORMAT_JSON) {
		put_json_str(&l, msg, msg_len);
		if (msg_cut && !l.cut) {
			l.cut = true;
			l.in_str = false;
		}
	} else {
		put_text_chars(&l, msg, msg_len, false);
		l.cut = l.cut || msg_cut;
	}
	for (size_t i = 0; i < n; i++)
		put_field(&l, &fields[i]);
	put_tail(&l);
	emit(l.buf, l.len);
}

bool keel_log_enabled(keel_log_level_t level)
{
	int threshold = atomic_load_explicit(&log_level, memory_order_relaxed);

	return (int)level >= threshold && level < KEEL_LOG_LEVEL_OFF &&
	       (int)level >= 0;
}

void keel_logv(keel_log_level_t level, const char *fmt, va_list ap)
{
	char msg[KEEL_LOG_LINE_MAX];

	if (!keel_log_enabled(level))
		return;
	int n = fmt ? vsnprintf(msg, sizeof(msg), fmt, ap) : 0;
	if (n < 0)
		n = 0;
	bool cut = (size_t)n >= sizeof(msg);
	log_record(level, msg, cut ? sizeof(msg) - 1 : (size_t)n, cut, NULL, 0);
}

void keel_log(keel_log_level_t level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keel_logv(level, fmt, ap);
	va_end(ap);
}

void keel_log_kv(keel_log_level_t level, const char *msg,
                 const keel_log_field_t *fields, size_t n)
{
	if (!keel_log_enabled(level))
		return;
	if (!msg)
		msg = "";
	log_record(level, msg, strlen(msg), false, fields, fields ? n : 0);
}

/*
 * Open the new file before giving up the old one, so a failed reopen (log
 * rotation into a full or vanished directory) keeps logging where it was.
 */
int keel_log_open(const char *path, keel_log_level_t level,
                  keel_log_format_t format)
{
	int fd = STDERR_FILENO;

	if ((int)level < 0 || level > KEEL_LOG_LEVEL_OFF ||
	    (format != KEEL_LOG_FORMAT_TEXT && format != KEEL_LOG_FORMAT_JSON))
		return KEEL_EINVAL;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		          0644);
		if (fd < 0)
			return KEEL_EIO;
	}
	keel_log_close();
	log_file_fd = path ? fd : -1;
	atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
	atomic_store_explicit(&log_format, (int)format, memory_order_relaxed);
	return KEEL_OK;
}

void keel_log_close(void)
{
	atomic_store_explicit(&log_fd, STDERR_FILENO, memory_order_relaxed);
	if (log_file_fd >= 0)
		close(log_file_fd);
	log_file_fd = -1;
}

void keel_log_set_level(keel_log_level_t level)
{
	if ((int)level >= 0 && level <= KEEL_LOG_LEVEL_OFF)
		atomic_store_explicit(&log_level, (int)level,
		                      memory_order_relaxed);
}

keel_log_level_t keel_log_get_level(void)
{
	return (keel_log_level_t)atomic_load_explicit(&log_level,
	                                              memory_order_relaxed);
}

const char *keel_log_level_name(keel_log_level_t level)
{
	if ((int)level < 0 || level > KEEL_LOG_LEVEL_OFF)
		return "unknown";
	return level_names[level];
}

int keel_log_level_parse(const char *s, keel_log_level_t *out)
{
	if (!s || !out)
		return KEEL_EINVAL;
	for (size_t i = 0; i < KEEL_COUNTOF(level_names); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (keel_log_level_t)i;
			return KEEL_OK;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = KEEL_LOG_LEVEL_WARN;
		return KEEL_OK;
	}
	return KEEL_EINVAL;
}

int keel_log_format_parse(const char *s, keel_log_format_t *out)
{
	if (!s || !out)
		return KEEL_EINVAL;
	if (strcasecmp(s, "text") == 0)
		*out = KEEL_LOG_FORMAT_TEXT;
	else if (strcasecmp(s, "json") == 0)
		*out = KEEL_LOG_FORMAT_JSON;
	else
		return KEEL_EINVAL;
	return KEEL_OK;
}
