/*
 * keel/walk.h - walk a directory tree breadth-first or depth-first, the way
 * static file serving builds its index and migrations discover their files.
 *
 * The root is visited first at depth 0, its entries at depth 1, and so on.
 * Depth-first is pre-order: a directory is visited, then everything under it,
 * then its next sibling.  Breadth-first visits every entry of depth d before
 * any of depth d + 1.  Entries of one directory come in readdir order, or in
 * byte order of their names when `sorted` is set (deterministic output).
 *
 * Symbolic links below the root are reported as links and never entered,
 * unless `follow_symlinks` is set: then a link is reported as what it points
 * to, and only a dangling link is reported as KEEL_WALK_SYMLINK.  The root
 * itself is always resolved, since the caller named it.  A directory is never
 * entered twice on one path (depth-first: not inside itself; breadth-first:
 * not twice at all), so link loops and bind-mount loops end: each is reported
 * to the error callback with ELOOP and skipped.
 *
 * Problems below the root (a folder that cannot be opened, an entry that
 * vanished, a path longer than `max_path`) go to the error callback with the
 * errno value, and the walk goes on unless that callback says stop.  Depth
 * first opens each folder relative to its parent's descriptor (openat), so it
 * holds one descriptor per level; breadth first holds one at a time and keeps
 * the paths of the next level's folders in memory instead.
 */
#ifndef KEEL_WALK_H
#define KEEL_WALK_H

#include <stdbool.h>

#include "keel/common.h"

/** Visit-callback answers; any other value stops the walk (see keel_walk). */
#define KEEL_WALK_CONTINUE 0 /* go on; enter this entry if a directory */
#define KEEL_WALK_SKIP     1 /* go on, but do not enter this directory */
#define KEEL_WALK_STOP     2 /* a ready-made stop value */

/** Order of the walk; zero (the default) is depth-first. */
typedef enum keel_walk_order {
	KEEL_WALK_DFS = 0, /* pre-order: a folder, then all below it */
	KEEL_WALK_BFS = 1  /* level by level */
} keel_walk_order_t;

/** What an entry is (for a followed link: what the link points to). */
typedef enum keel_walk_type {
	KEEL_WALK_FILE,    /* regular file */
	KEEL_WALK_DIR,     /* directory */
	KEEL_WALK_SYMLINK, /* link not followed, or dangling */
	KEEL_WALK_OTHER    /* fifo, socket, device */
} keel_walk_type_t;

/** Walk options; `{0}` (or a NULL pointer) means DFS, no limits, no links. */
typedef struct keel_walk_opts {
	keel_walk_order_t order;
	unsigned max_depth;   /* 0: no limit; N: visit depths <= N only */
	bool follow_symlinks; /* enter linked folders, report link targets */
	bool sorted;          /* entries of a folder in strcmp order */
	size_t max_path;      /* longest path in bytes; 0: PATH_MAX - 1 */
} keel_walk_opts_t;

/**
 * Called once per entry with its NUL-terminated path (valid only during the
 * call) and depth.  Returns KEEL_WALK_CONTINUE, KEEL_WALK_SKIP or a stop value.
 */
typedef int (*keel_walk_visit_t)(const char *path, unsigned depth,
                                 keel_walk_type_t type, void *ctx);

/**
 * Called with the path and errno value of a problem below the root.  Returns
 * 0 to go on without that entry, anything else to stop the walk.
 */
typedef int (*keel_walk_error_t)(const char *path, int err, void *ctx);

/**
 * Walk `root` as `opts` says, calling `visit` for each entry and `on_error`
 * (may be NULL: problems are skipped) for each problem.  Returns 0 when the
 * walk ends; the stop value a callback returned; KEEL_ENOENT when the root
 * does not exist; KEEL_EIO (errno set) when it cannot be opened; KEEL_ENOMEM;
 * KEEL_EINVAL for a NULL root or visit.  A non-directory root is visited
 * alone.  Everything the walk allocates is freed before it returns.
 */
KEEL_API int keel_walk(const char *root, const keel_walk_opts_t *opts,
                       keel_walk_visit_t visit, keel_walk_error_t on_error,
                       void *ctx);

#endif
