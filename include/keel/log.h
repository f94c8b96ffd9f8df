/*
 * keel/log.h - the process-wide logger.  Records go to stderr or to a file
 * opened with O_APPEND, as one line of text
 *   2026-11-22T10:11:12.345Z info [pid 1234] message key=value
 * or one JSON object per line
 *   {"ts":"2026-11-22T10:11:12.345Z","level":"info","pid":1234,"msg":"..."}.
 * Each record is formatted into a bounded stack buffer (KEEL_LOG_LINE_MAX)
 * and handed to the kernel with a single write(2), so the master and its
 * workers can share one file without tearing each other's lines; a record
 * that does not fit is cut and marked.  Control characters are escaped in
 * both formats, so a logged request path can never forge a second line.
 * A record below the level threshold costs a call and one relaxed atomic
 * load: nothing is formatted, and the KEEL_LOG_* macros do not even evaluate
 * their arguments.  The level may change while other threads log; the
 * destination (keel_log_open/close) only while none do.  Not
 * async-signal-safe; about 8.5 KiB of stack per record.
 */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "keel/common.h"
#include "keel/str.h"

/** Largest record, newline included; a write this size is atomic on pipes. */
#define KEEL_LOG_LINE_MAX 4096

/** Severity of a record; the threshold drops everything below it. */
typedef enum keel_log_level {
	KEEL_LOG_LEVEL_DEBUG = 0,
	KEEL_LOG_LEVEL_INFO,
	KEEL_LOG_LEVEL_WARN,
	KEEL_LOG_LEVEL_ERROR,
	KEEL_LOG_LEVEL_OFF, /* as a threshold: log nothing */
} keel_log_level_t;

/** Shape of a record on the wire. */
typedef enum keel_log_format {
	KEEL_LOG_FORMAT_TEXT = 0, /* for people and grep */
	KEEL_LOG_FORMAT_JSON,     /* for log shippers: one object per line */
} keel_log_format_t;

/** Kind of value a structured field carries. */
typedef enum keel_log_kind {
	KEEL_LOG_KIND_CSTR,  /* NUL-terminated string (NULL prints as null) */
	KEEL_LOG_KIND_SLICE, /* keel_str_t */
	KEEL_LOG_KIND_INT,   /* int64_t */
	KEEL_LOG_KIND_FLOAT, /* double; NaN and infinities print as null */
	KEEL_LOG_KIND_BOOL,  /* bool */
} keel_log_kind_t;

/** One key=value pair of a structured record; build it with KEEL_KV_*. */
typedef struct keel_log_field {
	const char *key;
	keel_log_kind_t kind;
	union {
		const char *cstr;
		keel_str_t slice;
		int64_t i;
		double f;
		bool b;
	} as;
} keel_log_field_t;

/** Field constructors for KEEL_LOG_KV and keel_log_kv(). */
#define KEEL_KV_STR(k, v)                                                      \
	((keel_log_field_t){                                                   \
	        .key = (k), .kind = KEEL_LOG_KIND_CSTR, .as.cstr = (v)})
#define KEEL_KV_SLICE(k, v)                                                    \
	((keel_log_field_t){                                                   \
	        .key = (k), .kind = KEEL_LOG_KIND_SLICE, .as.slice = (v)})
#define KEEL_KV_INT(k, v)                                                      \
	((keel_log_field_t){                                                   \
	        .key = (k), .kind = KEEL_LOG_KIND_INT, .as.i = (int64_t)(v)})
#define KEEL_KV_FLOAT(k, v)                                                    \
	((keel_log_field_t){                                                   \
	        .key = (k), .kind = KEEL_LOG_KIND_FLOAT, .as.f = (double)(v)})
#define KEEL_KV_BOOL(k, v)                                                     \
	((keel_log_field_t){                                                   \
	        .key = (k), .kind = KEEL_LOG_KIND_BOOL, .as.b = (v)})

/**
 * Send records to the file at `path` (created 0644 if missing, opened
 * O_APPEND|O_CLOEXEC) or to stderr when `path` is NULL, with the given
 * threshold and format.  Calling it again replaces the destination: rename
 * the file, then reopen, to rotate.  Returns 0, KEEL_EINVAL for a bad level
 * or format, KEEL_EIO (errno set) when the file cannot be opened, in which
 * case the previous destination stays in use.
 */
KEEL_API int keel_log_open(const char *path, keel_log_level_t level,
                           keel_log_format_t format);

/** Close the log file, if any, and go back to stderr; keeps level and format.
 */
KEEL_API void keel_log_close(void);

/** Change the threshold; records below `level` are dropped unformatted. */
KEEL_API void keel_log_set_level(keel_log_level_t level);

/** The current threshold. */
KEEL_API keel_log_level_t keel_log_get_level(void);

/** True when a record at `level` would be written; one relaxed load. */
KEEL_API bool keel_log_enabled(keel_log_level_t level);

/**
 * Parse "debug", "info", "warn" (or "warning"), "error" or "off", in any
 * letter case, into `*out`.  Returns 0 or KEEL_EINVAL (`*out` untouched).
 */
KEEL_API int keel_log_level_parse(const char *s, keel_log_level_t *out);

/** Parse "text" or "json" (any case) into `*out`; 0 or KEEL_EINVAL. */
KEEL_API int keel_log_format_parse(const char *s, keel_log_format_t *out);

/** Lower-case name of a level ("info"); "unknown" for a bad value. */
KEEL_API const char *keel_log_level_name(keel_log_level_t level);

/** Write one record with a printf-style message. */
KEEL_API void keel_log(keel_log_level_t level, const char *fmt, ...)
        KEEL_PRINTF(2, 3);

/** keel_log() taking a va_list. */
KEEL_API void keel_logv(keel_log_level_t level, const char *fmt, va_list ap)
        KEEL_PRINTF(2, 0);

/**
 * Write one record with a fixed message and `n` structured fields, shown as
 * key=value in text and as members in JSON.  Keys should not be ts, level,
 * pid, msg or truncated, which the logger writes itself.
 */
KEEL_API void keel_log_kv(keel_log_level_t level, const char *msg,
                          const keel_log_field_t *fields, size_t n);

/** Log at a level; the arguments are not evaluated when it is filtered out. */
#define KEEL_LOG_AT(level, ...)                                                \
	do {                                                                   \
		if (keel_log_enabled(level))                                   \
			keel_log((level), __VA_ARGS__);                        \
	} while (0)

#define KEEL_LOG_DEBUG(...) KEEL_LOG_AT(KEEL_LOG_LEVEL_DEBUG, __VA_ARGS__)
#define KEEL_LOG_INFO(...)  KEEL_LOG_AT(KEEL_LOG_LEVEL_INFO, __VA_ARGS__)
#define KEEL_LOG_WARN(...)  KEEL_LOG_AT(KEEL_LOG_LEVEL_WARN, __VA_ARGS__)
#define KEEL_LOG_ERROR(...) KEEL_LOG_AT(KEEL_LOG_LEVEL_ERROR, __VA_ARGS__)

/**
 * Structured record: KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "request done",
 *   KEEL_KV_STR("path", path), KEEL_KV_INT("status", 200));
 * The fields are not evaluated when the level is filtered out.
 */
#define KEEL_LOG_KV(level, msg, ...)                                           \
	do {                                                                   \
		if (keel_log_enabled(level)) {                                 \
			const keel_log_field_t keel_log_kv_fields_[] = {       \
			        __VA_ARGS__};                                  \
			keel_log_kv((level), (msg), keel_log_kv_fields_,       \
			            KEEL_COUNTOF(keel_log_kv_fields_));        \
		}                                                              \
	} while (0)

#endif
