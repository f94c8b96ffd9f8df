/*
 * keel/arena.h - the per-request allocator.  An arena hands out memory by
 * bumping a pointer through chunks taken from malloc and gives it all back
 * in one step, so request code never frees individual objects.  A byte cap
 * bounds what one request can take from the system; cleanups registered
 * with keel_arena_defer() release non-memory resources (statements, files)
 * at the same moment.  keel_arena_reset() keeps one chunk so a keep-alive
 * connection serves request after request without calling malloc.
 *
 * The struct is public only so it can be embedded in request and connection
 * structs; treat its fields as read-only.
 */
#ifndef KEEL_ARENA_H
#define KEEL_ARENA_H

#include <stddef.h>

#include "keel/common.h"
#include "keel/str.h"

/** Default chunk size in bytes (header included) when init is given 0. */
#define KEEL_ARENA_CHUNK_DEFAULT 4096
/** Smallest chunk size accepted; smaller requests are raised to this. */
#define KEEL_ARENA_CHUNK_MIN     256

/** A cleanup run by keel_arena_reset() and keel_arena_deinit(). */
typedef void (*keel_arena_cleanup_t)(void *arg);

struct keel_arena_chunk;
struct keel_arena_defer;

/** An arena in caller storage; set up with keel_arena_init(). */
typedef struct keel_arena {
	struct keel_arena_chunk *head;   /* chunk being bumped, newest first */
	struct keel_arena_defer *defers; /* cleanups, last registered first */
	char *cur;                       /* next free byte in head */
	char *end;                       /* one past head's last byte */
	size_t chunk_size;               /* malloc size of a regular chunk */
	size_t cap;   /* most bytes held from malloc at once */
	size_t taken; /* bytes held from malloc right now */
	size_t used;  /* bytes handed out since last reset */
} keel_arena_t;

/**
 * Prepare `a`; allocates nothing until the first request.  `chunk_size` is
 * the malloc size of a regular chunk (0: KEEL_ARENA_CHUNK_DEFAULT); `byte_cap`
 * bounds the bytes held from malloc at any time, headers included (0: none).
 */
KEEL_API void keel_arena_init(keel_arena_t *a, size_t chunk_size,
                              size_t byte_cap);
/** Run the cleanups, free every chunk and leave `a` empty; safe to repeat. */
KEEL_API void keel_arena_deinit(keel_arena_t *a);
/**
 * Run the cleanups (newest first) and free every chunk but one regular
 * chunk, which the next request reuses.  All pointers handed out die here.
 */
KEEL_API void keel_arena_reset(keel_arena_t *a);

/**
 * `n` bytes aligned to alignof(max_align_t), or NULL when the byte cap or
 * malloc refuses.  n == 0 is served as n == 1: a distinct, valid pointer.
 */
KEEL_API void *keel_arena_alloc(keel_arena_t *a, size_t n);
/** As keel_arena_alloc with a power-of-two `align`; NULL for a bad align. */
KEEL_API void *keel_arena_alloc_aligned(keel_arena_t *a, size_t n,
                                        size_t align);
/** Zeroed room for `count` objects of `size` bytes; NULL on overflow too. */
KEEL_API void *keel_arena_calloc(keel_arena_t *a, size_t count, size_t size);
/** Copy of `n` bytes at `p` (p may be NULL when n is 0); NULL on failure. */
KEEL_API void *keel_arena_memdup(keel_arena_t *a, const void *p, size_t n);
/**
 * NUL-terminated copy of the slice `s` (embedded NULs are copied as they
 * are); NULL on failure.
 */
KEEL_API char *keel_arena_strndup(keel_arena_t *a, keel_str_t s);

/**
 * Register `fn(arg)` to run at the next reset or deinit, newest first.
 * Returns 0, KEEL_EINVAL when fn is NULL, KEEL_ENOMEM when the record cannot
 * be allocated; on failure nothing is registered and the caller still owns
 * the resource.
 */
KEEL_API int keel_arena_defer(keel_arena_t *a, keel_arena_cleanup_t fn,
                              void *arg);

/** Bytes handed out since init or the last reset (requested sizes). */
KEEL_API size_t keel_arena_used(const keel_arena_t *a);

#endif
