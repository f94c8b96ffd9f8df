#include "keel/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One block taken from malloc; `size` counts the header too. */
struct keel_arena_chunk {
	struct keel_arena_chunk *next;
	size_t size;
	max_align_t data[];
};

/* A registered cleanup; the record itself lives in the arena. */
struct keel_arena_defer {
	struct keel_arena_defer *next;
	keel_arena_cleanup_t fn;
	void *arg;
};

#define ARENA_ALIGN alignof(max_align_t)
#define CHUNK_HDR   offsetof(struct keel_arena_chunk, data)

void keel_arena_init(keel_arena_t *a, size_t chunk_size, size_t byte_cap)
{
	memset(a, 0, sizeof(*a));
	if (chunk_size == 0)
		chunk_size = KEEL_ARENA_CHUNK_DEFAULT;
	if (chunk_size < KEEL_ARENA_CHUNK_MIN)
		chunk_size = KEEL_ARENA_CHUNK_MIN;
	a->chunk_size = chunk_size;
	a->cap = byte_cap ? byte_cap : SIZE_MAX;
}

/* Makes `c` the chunk that bump() serves from. */
static void use_chunk(keel_arena_t *a, struct keel_arena_chunk *c)
{
	a->cur = (char *)c->data;
	a->end = (char *)c + c->size;
}

/*
 * The fast path every allocation tries first: round the cursor up to
 * `align` and move it past `n` bytes.  Works on addresses as integers so
 * that a huge `n` or `align` fails the comparisons instead of overflowing
 * a pointer.
 */
static void *bump(keel_arena_t *a, size_t n, size_t align)
{
	if (a->head == NULL)
		return NULL;
	uintptr_t cur = (uintptr_t)a->cur;
	uintptr_t end = (uintptr_t)a->end;
	uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
	if (p < cur || p > end || n > end - p)
		return NULL;
	char *r = a->cur + (p - cur);
	a->cur = r + n;
	return r;
}

/* malloc wrapper that keeps the byte count the cap is checked against. */
static struct keel_arena_chunk *chunk_new(keel_arena_t *a, size_t size)
{
	struct keel_arena_chunk *c = malloc(size);
	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	a->taken += size;
	return c;
}

/*
 * A request larger than a regular chunk gets a chunk of its own.  It is
 * linked behind the current chunk rather than in front, so the free tail
 * of the current chunk keeps serving the small requests that follow.
 */
static void *alloc_own_chunk(keel_arena_t *a, size_t size, size_t align)
{
	struct keel_arena_chunk *c = chunk_new(a, size);
	if (c == NULL)
		return NULL;
	if (a->head != NULL) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		a->head = c;
		a->cur = a->end = (char *)c + size; /* nothing left to bump */
	}
	uintptr_t d = (uintptr_t)c->data;
	return (char *)c->data + ((align - (d & (align - 1))) & (align - 1));
}

/*
 * The current chunk cannot hold the request: take a new chunk without
 * letting the bytes held from malloc pass the cap.  Near the cap a regular
 * chunk shrinks to what is left, so the cap is usable to the byte.  Every
 * sum is checked against the room left before it is formed, so no size
 * can wrap around.
 */
static void *alloc_slow(keel_arena_t *a, size_t n, size_t align)
{
	size_t pad = align > ARENA_ALIGN ? align - 1 : 0;
	size_t room = a->cap - a->taken;
	if (n > room || pad > room - n || CHUNK_HDR > room - n - pad)
		return NULL;
	size_t need = CHUNK_HDR + n + pad;
	if (need > a->chunk_size)
		return alloc_own_chunk(a, need, align);
	size_t size = room < a->chunk_size ? room : a->chunk_size;
	struct keel_arena_chunk *c = chunk_new(a, size);
	if (c == NULL)
		return NULL;
	c->next = a->head;
	a->head = c;
	use_chunk(a, c);
	return bump(a, n, align);
}

void *keel_arena_alloc_aligned(keel_arena_t *a, size_t n, size_t align)
{
	if (align == 0 || (align & (align - 1)) != 0)
		return NULL;
	if (n == 0)
		n = 1;
	void *p = bump(a, n, align);
	if (p == NULL)
		p = alloc_slow(a, n, align);
	if (p != NULL)
		a->used += n;
	return p;
}

void *keel_arena_alloc(keel_arena_t *a, size_t n)
{
	return keel_arena_alloc_aligned(a, n, ARENA_ALIGN);
}

void *keel_arena_calloc(keel_arena_t *a, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	void *p = keel_arena_alloc(a, count * size);
	if (p != NULL && count * size != 0)
		memset(p, 0, count * size);
	return p;
}

void *keel_arena_memdup(keel_arena_t *a, const void *p, size_t n)
{
	void *r = keel_arena_alloc(a, n);
	if (r != NULL && n != 0)
		memcpy(r, p, n);
	return r;
}

/* Strings need no alignment, so they are packed byte to byte. */
char *keel_arena_strndup(keel_arena_t *a, keel_str_t s)
{
	if (s.len == SIZE_MAX)
		return NULL;
	char *r = keel_arena_alloc_aligned(a, s.len + 1, 1);
	if (r == NULL)
		return NULL;
	if (s.len != 0)
		memcpy(r, s.ptr, s.len);
	r[s.len] = '\0';
	return r;
}

int keel_arena_defer(keel_arena_t *a, keel_arena_cleanup_t fn, void *arg)
{
	if (fn == NULL)
		return KEEL_EINVAL;
	struct keel_arena_defer *d = keel_arena_alloc(a, sizeof(*d));
	if (d == NULL)
		return KEEL_ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
	return KEEL_OK;
}

/*
 * Cleanups run newest first, while every chunk is still alive, so a
 * cleanup may read arena memory.  Each record is unlinked before its call:
 * a cleanup runs exactly once, and one registered by another cleanup still
 * runs in this same pass.
 */
static void run_defers(keel_arena_t *a)
{
	while (a->defers != NULL) {
		struct keel_arena_defer *d = a->defers;
		a->defers = d->next;
		d->fn(d->arg);
	}
}

/*
 * Keeps the oldest regular chunk (the one the previous request started
 * with) and frees the rest, so a steady stream of requests that each fit
 * one chunk costs no malloc at all.
 */
void keel_arena_reset(keel_arena_t *a)
{
	run_defers(a);
	struct keel_arena_chunk *keep = NULL, *next;
	for (struct keel_arena_chunk *c = a->head; c != NULL; c = next) {
		next = c->next;
		if (c->size <= a->chunk_size) {
			free(keep);
			keep = c;
		} else {
			free(c);
		}
	}
	a->head = keep;
	a->used = 0;
	a->taken = 0;
	a->cur = a->end = NULL;
	if (keep != NULL) {
		keep->next = NULL;
		a->taken = keep->size;
		use_chunk(a, keep);
	}
}

void keel_arena_deinit(keel_arena_t *a)
{
	keel_arena_reset(a);
	free(a->head);
	a->head = NULL;
	a->cur = a->end = NULL;
	a->taken = 0;
}

size_t keel_arena_used(const keel_arena_t *a)
{
	return a->used;
}
