/*
 * Server-Timing: how long the request took inside the app, plus entries
 * other layers report (the database: db;dur=2.5;desc="3 queries"), shown
 * by browsers' developer tools next to the network timings.
 *
 * Each request's list lives in its arena, reached through req->timing; an
 * arena cleanup clears that pointer when the request ends.
 */
#include <stdint.h>
#include <string.h>

#include "keel/clock.h"
#include "keel/mw.h"
#include "keel/res.h"
#include "http/conn.h"

#define NAME_MAX_LEN 32
#define DESC_MAX_LEN 128

typedef struct timing_entry {
	struct timing_entry *next;
	const char *name;
	const char *desc; /* NULL: none */
	int64_t dur_ns;   /* < 0: none */
} timing_entry_t;

/* The request's entries, in its arena, found through req->timing. */
typedef struct timing_list {
	keel_req_t *req;
	timing_entry_t *head, **tail;
	size_t count;
} timing_list_t;

/* Arena cleanup: the request is over, its list memory is about to go. */
static void list_forget(void *arg)
{
	timing_list_t *l = arg;
	if (l->req->timing == l)
		l->req->timing = NULL;
}

static timing_list_t *list_get(keel_req_t *req)
{
	if (req->timing)
		return req->timing;
	timing_list_t *l =
	        keel_arena_calloc(keel_req_arena(req), 1, sizeof(*l));
	if (!l || keel_arena_defer(keel_req_arena(req), list_forget, l) < 0)
		return NULL;
	l->req = req;
	l->tail = &l->head;
	req->timing = l;
	return l;
}

static bool is_token(keel_str_t s, size_t max)
{
	if (s.len == 0 || s.len > max)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') ||
		      (ch && strchr("!#$%&'*+-.^_`|~", ch))))
			return false;
	}
	return true;
}

static bool is_text(keel_str_t s, size_t max)
{
	if (s.len > max)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

int keel_timing_add(keel_req_t *req, const char *name, int64_t dur_ns,
                    const char *desc)
{
	keel_str_t n = keel_str_from_cstr(name);
	if (!req || !is_token(n, NAME_MAX_LEN) ||
	    (desc && !is_text(keel_str_from_cstr(desc), DESC_MAX_LEN)))
		return KEEL_EINVAL;
	timing_list_t *l = list_get(req);
	if (!l)
		return KEEL_ENOMEM;
	if (l->count >= KEEL_TIMING_MAX)
		return KEEL_ELIMIT;
	keel_arena_t *a = keel_req_arena(req);
	timing_entry_t *e = keel_arena_calloc(a, 1, sizeof(*e));
	if (!e || !(e->name = keel_arena_strndup(a, n)))
		return KEEL_ENOMEM;
	if (desc &&
	    !(e->desc = keel_arena_strndup(a, keel_str_from_cstr(desc))))
		return KEEL_ENOMEM;
	e->dur_ns = dur_ns;
	*l->tail = e;
	l->tail = &e->next;
	l->count++;
	return KEEL_OK;
}

/* Milliseconds with three decimals, in integers: no locale, no rounding
 * surprises from doubles. */
static void put_dur(keel_buf_t *b, int64_t ns)
{
	int64_t us = ns / 1000;
	keel_buf_appendf(b, ";dur=%lld.%03lld", (long long)(us / 1000),
	                 (long long)(us % 1000));
}

/* desc is a quoted-string: '"' and '\' are escaped, controls were refused. */
static void put_entry(keel_buf_t *b, const timing_entry_t *e)
{
	keel_buf_append_str(b, keel_str_from_cstr(e->name));
	if (e->dur_ns >= 0)
		put_dur(b, e->dur_ns);
	if (!e->desc)
		return;
	keel_buf_append(b, ";desc=\"", 7);
	for (const char *p = e->desc; *p; p++) {
		if (*p == '"' || *p == '\\')
			keel_buf_append_char(b, '\\');
		keel_buf_append_char(b, *p);
	}
	keel_buf_append_char(b, '"');
}

static void timing_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	/* A streamed response's head is already out: nothing to add. */
	if (keel_res_committed(res))
		return;
	(void)ud;
	keel_buf_t b;
	keel_buf_init(&b, 8192);
	const timing_list_t *l = req->timing;
	for (timing_entry_t *e = l ? l->head : NULL; e; e = e->next) {
		put_entry(&b, e);
		keel_buf_append(&b, ", ", 2);
	}
	int64_t dur = keel_clock_now_ns() - req->start_ns;
	keel_buf_append(&b, "app", 3);
	put_dur(&b, dur > 0 ? dur : 0);
	keel_res_header_str(res, KEEL_STR("Server-Timing"),
	                    (keel_str_t){b.data, b.len});
	keel_buf_deinit(&b);
}

keel_middleware_t keel_mw_timing(void)
{
	return (keel_middleware_t){
	        .name = "timing",
	        .after = timing_after,
	};
}
