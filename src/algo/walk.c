/*
 * Directory walk: depth-first keeps a stack of open folders and opens each
 * child relative to its parent (openat), breadth-first keeps the next level's
 * folder paths in one buffer and a set of the folders already entered.  Both
 * read a folder's names at once, so sorting is one qsort per folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keel/walk.h"

/* One name read from a folder; `name` is set once the buffer stops moving. */
struct walk_ent {
	size_t off;
	const char *name;
	unsigned char dtype;
};

/* Every name of one folder, NUL-terminated one after the other in `buf`. */
struct walk_list {
	char *buf;
	size_t len, cap;
	struct walk_ent *ents;
	size_t n, ents_cap;
};

/* A folder being walked: its stream, identity, names and place in the path. */
struct walk_dir {
	DIR *dir;
	dev_t dev;
	ino_t ino;
	struct walk_list list;
	size_t next;     /* depth-first: next entry to visit */
	size_t path_len; /* bytes of this folder's path in walker.path */
	unsigned depth;
};

struct walker {
	keel_walk_opts_t o;
	keel_walk_visit_t visit;
	keel_walk_error_t on_error;
	void *ctx;
	char *path; /* path of the current entry, NUL-terminated */
	size_t len, cap;
};

/* Depth-first: the open folders from the root down to the current one. */
struct walk_stack {
	struct walk_dir *v;
	size_t n, cap;
};

/* Breadth-first: folders of one level, paths packed in `buf`. */
struct bfs_item {
	size_t off, len;
	dev_t dev;
	ino_t ino;
};

struct bfs_level {
	char *buf;
	size_t len, cap;
	struct bfs_item *v;
	size_t n, vcap;
};

/* Breadth-first: (st_dev, st_ino) of every folder entered so far. */
struct walk_key {
	dev_t dev;
	ino_t ino;
	bool used;
};

struct walk_set {
	struct walk_key *slots;
	size_t n, cap;
};

/*
 * Grow `*p` (of `*cap` elements of `size` bytes) to hold at least `need`;
 * doubling keeps a long run of appends linear.  Refuses sizes that overflow.
 */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return KEEL_ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / size)
		return KEEL_ENOMEM;
	q = realloc(*p, n * size);
	if (!q)
		return KEEL_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static keel_walk_type_t type_of_mode(mode_t m)
{
	if (S_ISREG(m))
		return KEEL_WALK_FILE;
	if (S_ISDIR(m))
		return KEEL_WALK_DIR;
	if (S_ISLNK(m))
		return KEEL_WALK_SYMLINK;
	return KEEL_WALK_OTHER;
}

/* ---------------------------------------------------------------- path */

/* Replace the path with the `n` bytes at `s`. */
static int path_set(struct walker *w, const char *s, size_t n)
{
	if (grow((void **)&w->path, &w->cap, n + 1, 1) != 0)
		return KEEL_ENOMEM;
	memcpy(w->path, s, n);
	w->path[n] = '\0';
	w->len = n;
	return 0;
}

/*
 * Make the path "<first dir_len bytes>/name".  The whole path is built even
 * when it exceeds max_path, so the error callback can be shown what failed;
 * it is at most max_path + NAME_MAX + 2 bytes, never an unbounded copy.
 */
static int path_join(struct walker *w, size_t dir_len, const char *name)
{
	size_t n = strlen(name);
	size_t sep = dir_len > 0 && w->path[dir_len - 1] == '/' ? 0 : 1;

	if (grow((void **)&w->path, &w->cap, dir_len + sep + n + 1, 1) != 0)
		return KEEL_ENOMEM;
	if (sep)
		w->path[dir_len] = '/';
	memcpy(w->path + dir_len + sep, name, n + 1);
	w->len = dir_len + sep + n;
	return 0;
}

/* Tell the error callback about `err` at the current path; 0 goes on. */
static int walk_report(struct walker *w, int err)
{
	return w->on_error ? w->on_error(w->path, err, w->ctx) : 0;
}

/* ---------------------------------------------------------------- names */

static int list_add(struct walk_list *l, const char *name, unsigned char t)
{
	size_t n = strlen(name) + 1;

	if (grow((void **)&l->buf, &l->cap, l->len + n, 1) != 0 ||
	    grow((void **)&l->ents, &l->ents_cap, l->n + 1, sizeof *l->ents))
		return KEEL_ENOMEM;
	memcpy(l->buf + l->len, name, n);
	l->ents[l->n++] = (struct walk_ent){.off = l->len, .dtype = t};
	l->len += n;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct walk_ent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Read every name of `d` but "." and "..".  A read error keeps the names read
 * so far: KEEL_EIO with errno set; KEEL_ENOMEM leaves the list unusable.
 */
static int list_read(struct walk_list *l, DIR *d, bool sorted)
{
	struct dirent *de;
	int err;

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (list_add(l, de->d_name, de->d_type) != 0)
			return KEEL_ENOMEM;
	}
	err = errno;
	for (size_t i = 0; i < l->n; i++)
		l->ents[i].name = l->buf + l->ents[i].off;
	if (sorted && l->n > 1)
		qsort(l->ents, l->n, sizeof *l->ents, ent_cmp);
	errno = err;
	return err ? KEEL_EIO : 0;
}

/* ---------------------------------------------------------------- folders */

static int open_flags(const struct walker *w)
{
	int f = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

	return w->o.follow_symlinks ? f : f | O_NOFOLLOW;
}

/*
 * Wrap an open folder descriptor: its identity for the loop checks and a
 * stream for its names.  Returns 0 or an errno value (the fd is then closed).
 */
static int dir_open_fd(struct walk_dir *d, int fd)
{
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0 || !(d->dir = fdopendir(fd))) {
		err = errno;
		close(fd);
		return err;
	}
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	return 0;
}

/* Read the folder's names; a read error is reported, the partial list kept. */
static int dir_read(struct walker *w, struct walk_dir *d)
{
	int rc = list_read(&d->list, d->dir, w->o.sorted);

	return rc == KEEL_EIO ? walk_report(w, errno) : rc;
}

static void dir_close(struct walk_dir *d)
{
	if (d->dir)
		closedir(d->dir);
	free(d->list.buf);
	free(d->list.ents);
	memset(d, 0, sizeof *d);
}

/*
 * The type to report.  d_type saves a stat per entry on most file systems;
 * only DT_UNKNOWN and followed links need one.  Returns 0 or an errno value.
 */
static int entry_type(const struct walker *w, int dfd, const struct walk_ent *e,
                      keel_walk_type_t *type)
{
	struct stat st;

	switch (e->dtype) {
	case DT_REG: *type = KEEL_WALK_FILE; break;
	case DT_DIR: *type = KEEL_WALK_DIR; break;
	case DT_LNK: *type = KEEL_WALK_SYMLINK; break;
	case DT_UNKNOWN:
		if (fstatat(dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno;
		*type = type_of_mode(st.st_mode);
		break;
	default: *type = KEEL_WALK_OTHER; break;
	}
	/* a dangling (or self-looping) link stays a link */
	if (*type == KEEL_WALK_SYMLINK && w->o.follow_symlinks &&
	    fstatat(dfd, e->name, &st, 0) == 0)
		*type = type_of_mode(st.st_mode);
	return 0;
}

/*
 * Visit entry `e` of the folder open at `dfd` whose path is the first
 * `dir_len` bytes of w->path.  Sets *enter when the caller should descend.
 * Returns 0 to go on, else the stop value (or KEEL_ENOMEM).
 */
static int walk_entry(struct walker *w, int dfd, size_t dir_len, unsigned depth,
                      const struct walk_ent *e, bool *enter)
{
	keel_walk_type_t type = KEEL_WALK_OTHER;
	int rc, err;

	*enter = false;
	if (path_join(w, dir_len, e->name) != 0)
		return KEEL_ENOMEM;
	if (w->len > w->o.max_path)
		return walk_report(w, ENAMETOOLONG);
	err = entry_type(w, dfd, e, &type);
	if (err)
		return walk_report(w, err);
	rc = w->visit(w->path, depth, type, w->ctx);
	if (rc != KEEL_WALK_CONTINUE && rc != KEEL_WALK_SKIP)
		return rc;
	*enter = type == KEEL_WALK_DIR && rc == KEEL_WALK_CONTINUE &&
	         (w->o.max_depth == 0 || depth < w->o.max_depth);
	return 0;
}

/* ---------------------------------------------------------------- DFS */

static bool dfs_on_path(const struct walk_stack *s, const struct walk_dir *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == d->dev && s->v[i].ino == d->ino)
			return true;
	return false;
}

/*
 * Open the folder just visited (w->path, `name` in the top folder) and push
 * it.  Opening relative to the parent's descriptor keeps working when the
 * full path is longer than the kernel's PATH_MAX, and with O_NOFOLLOW a
 * folder swapped for a link meanwhile is refused rather than followed.
 */
static int dfs_descend(struct walker *w, struct walk_stack *s, const char *name)
{
	struct walk_dir *top = &s->v[s->n - 1];
	struct walk_dir child = {0};
	int fd = openat(dirfd(top->dir), name, open_flags(w));
	int err = fd < 0 ? errno : dir_open_fd(&child, fd);

	if (err)
		return walk_report(w, err);
	if (dfs_on_path(s, &child)) {
		dir_close(&child);
		return walk_report(w, ELOOP);
	}
	child.path_len = w->len;
	child.depth = top->depth + 1;
	if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) != 0) {
		dir_close(&child);
		return KEEL_ENOMEM;
	}
	s->v[s->n++] = child;
	return dir_read(w, &s->v[s->n - 1]);
}

/* One step: visit the top folder's next entry, descending into it if asked. */
static int dfs_step(struct walker *w, struct walk_stack *s)
{
	struct walk_dir *top = &s->v[s->n - 1];
	const struct walk_ent *e = &top->list.ents[top->next++];
	bool enter;
	int rc = walk_entry(w, dirfd(top->dir), top->path_len, top->depth + 1,
	                    e, &enter);

	if (rc != 0 || !enter)
		return rc;
	return dfs_descend(w, s, e->name);
}

/*
 * Pre-order walk below `root` (taken over).  Iterative because depth is
 * bounded only by max_path, deeper than the C stack should recurse.
 */
static int dfs_run(struct walker *w, struct walk_dir *root)
{
	struct walk_stack s = {0};
	int rc = 0;

	if (grow((void **)&s.v, &s.cap, 1, sizeof *s.v) != 0) {
		dir_close(root);
		return KEEL_ENOMEM;
	}
	s.v[s.n++] = *root;
	while (s.n > 0 && rc == 0) {
		struct walk_dir *top = &s.v[s.n - 1];

		if (top->next < top->list.n)
			rc = dfs_step(w, &s);
		else
			dir_close(&s.v[--s.n]);
	}
	while (s.n > 0)
		dir_close(&s.v[--s.n]);
	free(s.v);
	return rc;
}

/* ---------------------------------------------------------------- BFS */

/* Spread the pair's bits so that sequential inode numbers do not cluster. */
static size_t key_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15u ^ (uint64_t)dev;

	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9u;
	return (size_t)(h ^ (h >> 29));
}

static int set_grow(struct walk_set *s);

/* Returns 1 when the pair was added, 0 when present, or KEEL_ENOMEM. */
static int set_add(struct walk_set *s, dev_t dev, ino_t ino)
{
	size_t mask;

	if ((s->n + 1) * 2 > s->cap && set_grow(s) != 0)
		return KEEL_ENOMEM;
	mask = s->cap - 1;
	for (size_t i = key_hash(dev, ino) & mask;; i = (i + 1) & mask) {
		struct walk_key *k = &s->slots[i];

		if (!k->used) {
			*k = (struct walk_key){dev, ino, true};
			s->n++;
			return 1;
		}
		if (k->dev == dev && k->ino == ino)
			return 0;
	}
}

/* Double the table (kept at most half full so probes stay short). */
static int set_grow(struct walk_set *s)
{
	struct walk_set old = *s;
	size_t cap = s->cap ? s->cap * 2 : 64;

	if (cap > SIZE_MAX / sizeof *s->slots)
		return KEEL_ENOMEM;
	s->slots = calloc(cap, sizeof *s->slots);
	if (!s->slots) {
		*s = old;
		return KEEL_ENOMEM;
	}
	s->cap = cap;
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].used)
			set_add(s, old.slots[i].dev, old.slots[i].ino);
	free(old.slots);
	return 0;
}

static int level_push(struct bfs_level *l, const char *path, size_t n,
                      const struct stat *st)
{
	if (grow((void **)&l->buf, &l->cap, l->len + n, 1) != 0 ||
	    grow((void **)&l->v, &l->vcap, l->n + 1, sizeof *l->v) != 0)
		return KEEL_ENOMEM;
	memcpy(l->buf + l->len, path, n);
	l->v[l->n++] = (struct bfs_item){l->len, n, st->st_dev, st->st_ino};
	l->len += n;
	return 0;
}

/*
 * Queue the folder just visited for the next level.  Its identity is taken
 * now: the set then holds every folder at most once (loops end, memory stays
 * bounded), and bfs_enter can prove the path still names the same folder.
 */
static int bfs_queue(struct walker *w, int dfd, const char *name,
                     struct bfs_level *next, struct walk_set *seen)
{
	struct stat st;
	int flags = w->o.follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
	int added;

	if (fstatat(dfd, name, &st, flags) < 0)
		return walk_report(w, errno);
	if (!S_ISDIR(st.st_mode))
		return walk_report(w, ENOTDIR);
	added = set_add(seen, st.st_dev, st.st_ino);
	if (added < 0)
		return KEEL_ENOMEM;
	if (added == 0)
		return walk_report(w, ELOOP);
	return level_push(next, w->path, w->len, &st);
}

/* Visit every entry of an open folder, queueing its subfolders. */
static int bfs_dir(struct walker *w, struct walk_dir *d, struct bfs_level *next,
                   struct walk_set *seen)
{
	int dfd = dirfd(d->dir);

	for (size_t i = 0; i < d->list.n; i++) {
		const struct walk_ent *e = &d->list.ents[i];
		bool enter;
		int rc = walk_entry(w, dfd, d->path_len, d->depth + 1, e,
		                    &enter);

		if (rc == 0 && enter)
			rc = bfs_queue(w, dfd, e->name, next, seen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Open a queued folder by its path and walk its entries.  The path is no
 * longer anchored to an open parent, so a folder that is not the one queued
 * (renamed or replaced meanwhile) is reported with ESTALE and left alone.
 */
static int bfs_enter(struct walker *w, const struct bfs_level *cur,
                     const struct bfs_item *it, unsigned depth,
                     struct bfs_level *next, struct walk_set *seen)
{
	struct walk_dir d = {0};
	int fd, err, rc;

	if (path_set(w, cur->buf + it->off, it->len) != 0)
		return KEEL_ENOMEM;
	fd = open(w->path, open_flags(w));
	err = fd < 0 ? errno : dir_open_fd(&d, fd);
	if (err)
		return walk_report(w, err);
	if (d.dev != it->dev || d.ino != it->ino) {
		dir_close(&d);
		return walk_report(w, ESTALE);
	}
	d.path_len = it->len;
	d.depth = depth;
	rc = dir_read(w, &d);
	if (rc == 0)
		rc = bfs_dir(w, &d, next, seen);
	dir_close(&d);
	return rc;
}

static void level_free(struct bfs_level *l)
{
	free(l->buf);
	free(l->v);
}

/*
 * Level-order walk below `root` (taken over).  Two level buffers swap roles,
 * so memory holds one level's paths plus the set of folders seen.
 */
static int bfs_run(struct walker *w, struct walk_dir *root)
{
	struct bfs_level cur = {0}, next = {0}, tmp;
	struct walk_set seen = {0};
	unsigned depth = root->depth + 1;
	int rc = set_add(&seen, root->dev, root->ino) < 0 ? KEEL_ENOMEM : 0;

	if (rc == 0)
		rc = bfs_dir(w, root, &next, &seen);
	dir_close(root);
	while (rc == 0 && next.n > 0) {
		tmp = cur;
		cur = next;
		next = tmp;
		next.n = next.len = 0;
		for (size_t i = 0; i < cur.n && rc == 0; i++)
			rc = bfs_enter(w, &cur, &cur.v[i], depth, &next, &seen);
		depth++;
	}
	level_free(&cur);
	level_free(&next);
	free(seen.slots);
	return rc;
}

/* ---------------------------------------------------------------- root */

static int root_error(int err)
{
	errno = err;
	return err == ENOENT || err == ENOTDIR ? KEEL_ENOENT : KEEL_EIO;
}

/* A root that is not a folder is visited alone, like `find file` does. */
static int walk_lone(struct walker *w)
{
	struct stat st;
	int rc;

	if (stat(w->path, &st) < 0)
		return root_error(errno);
	rc = w->visit(w->path, 0, type_of_mode(st.st_mode), w->ctx);
	return rc == KEEL_WALK_SKIP ? 0 : rc;
}

/*
 * Open and visit the root, then walk below it.  Trailing slashes are dropped
 * so children read "dir/a", not "dir//a"; "/" stays "/".
 */
static int walk_root(struct walker *w, const char *root)
{
	struct walk_dir d = {0};
	size_t n = strlen(root);
	int fd, err, rc;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (path_set(w, root, n) != 0)
		return KEEL_ENOMEM;
	if (n > w->o.max_path)
		return root_error(ENAMETOOLONG);
	fd = open(w->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? walk_lone(w) : root_error(errno);
	err = dir_open_fd(&d, fd);
	if (err)
		return root_error(err);
	d.path_len = n;
	rc = w->visit(w->path, 0, KEEL_WALK_DIR, w->ctx);
	if (rc == KEEL_WALK_SKIP)
		rc = 0;
	else if (rc == KEEL_WALK_CONTINUE && (rc = dir_read(w, &d)) == 0)
		return w->o.order == KEEL_WALK_BFS ? bfs_run(w, &d)
		                                   : dfs_run(w, &d);
	dir_close(&d);
	return rc;
}

int keel_walk(const char *root, const keel_walk_opts_t *opts,
              keel_walk_visit_t visit, keel_walk_error_t on_error, void *ctx)
{
	struct walker w = {.visit = visit, .on_error = on_error, .ctx = ctx};
	int rc, err;

	if (!root || !visit)
		return KEEL_EINVAL;
	if (opts)
		w.o = *opts;
	if (w.o.max_path == 0)
		w.o.max_path = PATH_MAX - 1;
	if (w.o.max_path > SIZE_MAX / 4)
		w.o.max_path = SIZE_MAX / 4;
	rc = walk_root(&w, root);
	err = errno;
	free(w.path);
	errno = err;
	return rc;
}
