#include "keel/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What `data` points at before the first growth, so that data[len] is a
 * NUL from the start without a malloc.  Never written: every write path
 * grows the buffer first, and cap == 0 marks this state.
 */
static char buf_empty[1];

/* The largest allocation (content + NUL) stays within what malloc allows. */
#define BUF_NO_LIMIT ((size_t)PTRDIFF_MAX - 1)
#define BUF_MIN_CAP  64

void keel_buf_init(keel_buf_t *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = (max == 0 || max > BUF_NO_LIMIT) ? BUF_NO_LIMIT : max;
}

void keel_buf_deinit(keel_buf_t *b)
{
	if (b->cap != 0)
		free(b->data);
	keel_buf_init(b, b->max);
}

void keel_buf_reset(keel_buf_t *b)
{
	b->len = 0;
	if (b->cap != 0)
		b->data[0] = '\0';
}

/*
 * Doubling keeps a run of appends amortised O(1).  The new size is clamped
 * to max so that the limit itself is reachable, and *b is touched only
 * after realloc has succeeded, which is what "unchanged on failure" needs.
 * cap <= max <= PTRDIFF_MAX keeps cap * 2 and cap + 1 from wrapping.
 */
int keel_buf_reserve(keel_buf_t *b, size_t n)
{
	if (n <= b->cap - b->len)
		return KEEL_OK;
	if (n > b->max - b->len)
		return KEEL_ELIMIT;
	size_t want = b->len + n;
	size_t cap = b->cap < BUF_MIN_CAP / 2 ? BUF_MIN_CAP : b->cap * 2;
	if (cap < want)
		cap = want;
	if (cap > b->max)
		cap = b->max;
	char *p = realloc(b->cap != 0 ? b->data : NULL, cap + 1);
	if (p == NULL)
		return KEEL_ENOMEM;
	if (b->cap == 0)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return KEEL_OK;
}

/*
 * Appending a piece of the buffer to itself is allowed, so a source inside
 * the content is remembered as an offset across the realloc that may move
 * it.  Addresses are compared as integers: comparing pointers into
 * different objects is undefined.
 */
int keel_buf_append(keel_buf_t *b, const void *p, size_t n)
{
	if (n == 0)
		return KEEL_OK;
	uintptr_t at = (uintptr_t)p, base = (uintptr_t)b->data;
	bool inside = b->cap != 0 && at >= base && at - base < b->len;
	size_t off = (size_t)(at - base);
	int rc = keel_buf_reserve(b, n);
	if (rc != KEEL_OK)
		return rc;
	if (inside)
		p = b->data + off;
	memmove(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return KEEL_OK;
}

int keel_buf_append_str(keel_buf_t *b, keel_str_t s)
{
	return keel_buf_append(b, s.ptr, s.len);
}

int keel_buf_append_char(keel_buf_t *b, char c)
{
	return keel_buf_append(b, &c, 1);
}

/*
 * Formats straight into the free room first, which is enough most of the
 * time; only when the output is longer does it grow to the exact size
 * vsnprintf reported and format a second time.  A too-short first attempt
 * leaves a truncated tail past len, so the terminating NUL is put back
 * before any failure return.
 */
int keel_buf_vappendf(keel_buf_t *b, const char *fmt, va_list ap)
{
	size_t room = b->cap - b->len;
	va_list first;
	va_copy(first, ap);
	int n = vsnprintf(b->cap != 0 ? b->data + b->len : NULL,
	                  b->cap != 0 ? room + 1 : 0, fmt, first);
	va_end(first);
	if (n >= 0 && (size_t)n <= room) {
		b->len += (size_t)n;
		return KEEL_OK;
	}
	if (b->cap != 0)
		b->data[b->len] = '\0';
	if (n < 0)
		return KEEL_EINVAL;
	int rc = keel_buf_reserve(b, (size_t)n);
	if (rc != KEEL_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return KEEL_OK;
}

int keel_buf_appendf(keel_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = keel_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Read buffers drop what the parser has used and keep the unparsed tail
 * (a pipelined request, half a header) at the front for the next read.
 */
void keel_buf_consume(keel_buf_t *b, size_t n)
{
	if (n >= b->len) {
		keel_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/*
 * An empty, never-grown buffer owns no heap memory, so detaching it
 * allocates the one-byte "" the caller is promised it can free().
 */
char *keel_buf_detach(keel_buf_t *b, size_t *len)
{
	char *r = b->data;
	if (b->cap == 0) {
		r = malloc(1);
		if (r == NULL)
			return NULL;
		r[0] = '\0';
	}
	if (len != NULL)
		*len = b->len;
	keel_buf_init(b, b->max);
	return r;
}
