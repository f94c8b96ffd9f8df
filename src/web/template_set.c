/*
 * Template sets: creation, adding sources (one at a time or a whole
 * directory), lookups, and the small allocation helpers the parser uses.
 * A source is copied and parsed at once, so syntax errors surface where
 * the template is added; cross-template checks wait for compile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keel/walk.h"
#include "template_int.h"

int keel__tpl_grow(void *arr, uint32_t *cap, size_t size, uint32_t need)
{
	if (need <= *cap)
		return 0;
	uint32_t n = *cap < 8 ? 8 : *cap;
	while (n < need)
		n = n > UINT32_MAX / 2 ? need : n * 2;
	void **p = arr;
	void *q = realloc(*p, (size_t)n * size);
	if (q == NULL)
		return KEEL_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

uint32_t keel__tpl_pool_add(tpl_t *t, const char *s, size_t n)
{
	if (n > TPL_MAX_SOURCE ||
	    keel__tpl_grow(&t->pool, &t->cap_pool, 1,
	                   t->n_pool + (uint32_t)n + 1) != 0)
		return TPL_NONE;
	uint32_t off = t->n_pool;
	memcpy(t->pool + off, s, n);
	t->pool[off + n] = '\0';
	t->n_pool += (uint32_t)n + 1;
	return off;
}

void keel__tpl_free(tpl_t *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->src);
	free(t->nodes);
	free(t->exprs);
	free(t->segs);
	free(t->pool);
	free(t->slots);
	free(t);
}

keel_tpl_set_t *keel_tpl_set_new(const keel_tpl_opts_t *opts)
{
	keel_tpl_set_t *set = calloc(1, sizeof *set);
	if (set == NULL)
		return NULL;
	if (opts != NULL)
		set->opts = *opts;
	if (set->opts.max_depth == 0)
		set->opts.max_depth = KEEL_TPL_MAX_DEPTH_DEFAULT;
	if (set->opts.max_iterations == 0)
		set->opts.max_iterations = KEEL_TPL_MAX_ITERATIONS_DEFAULT;
	return set;
}

void keel_tpl_set_free(keel_tpl_set_t *set)
{
	if (set == NULL)
		return;
	keel__tpl_names_free(&set->by_name);
	keel__tpl_names_free(&set->blocks);
	for (uint32_t i = 0; i < set->n; i++)
		keel__tpl_free(set->tpls[i]);
	free(set->tpls);
	free(set);
}

bool keel_tpl_set_has(const keel_tpl_set_t *set, const char *name)
{
	return set != NULL && name != NULL &&
	       keel__tpl_names_get(&set->by_name, name) != TPL_NONE;
}

/* Offset of the first byte that breaks UTF-8 (overlong forms, surrogates
 * and values past U+10FFFF included), or n when all is well. */
static size_t utf8_bad(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80                 ? 1
		             : c >= 0xc2 && c <= 0xdf ? 2
		             : c >= 0xe0 && c <= 0xef ? 3
		             : c >= 0xf0 && c <= 0xf4 ? 4
		                                      : 0;
		if (len == 0 || n - i < len)
			return i;
		unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		for (size_t k = 1; k < len; k++) {
			unsigned char b = s[i + k];
			if (b < (k == 1 ? lo : 0x80) ||
			    b > (k == 1 ? hi : 0xbf))
				return i;
		}
		i += len;
	}
	return n;
}

static int check_add(keel_tpl_set_t *set, const char *name, const char *src,
                     size_t len, keel_tpl_error_t *err)
{
	if (set == NULL || name == NULL || (src == NULL && len != 0))
		return keel__tpl_fail(err, KEEL_EINVAL, NULL, TPL_NONE,
		                      "missing argument");
	if (set->compiled)
		return keel__tpl_fail(
		        err, KEEL_ESTATE, NULL, TPL_NONE,
		        "templates cannot be added after compile");
	size_t n = strlen(name);
	if (n == 0 || n > TPL_MAX_NAME)
		return keel__tpl_fail(err, KEEL_EINVAL, NULL, TPL_NONE,
		                      "a template name has 1 to %d bytes",
		                      TPL_MAX_NAME);
	if (keel__tpl_names_get(&set->by_name, name) != TPL_NONE)
		return keel__tpl_fail(err, KEEL_EEXIST, NULL, TPL_NONE,
		                      "template '%s' already added", name);
	if (len > TPL_MAX_SOURCE)
		return keel__tpl_fail(err, KEEL_ELIMIT, NULL, TPL_NONE,
		                      "template '%s' is larger than 16 MiB",
		                      name);
	return 0;
}

static tpl_t *tpl_new(const char *name, const char *src, size_t len)
{
	tpl_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->name = strdup(name);
	t->src = malloc(len + 1);
	if (t->name == NULL || t->src == NULL) {
		keel__tpl_free(t);
		return NULL;
	}
	if (len != 0)
		memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->len = (uint32_t)len;
	t->extends = t->parent = t->root = TPL_NONE;
	keel__tpl_html_init(&t->end);
	return t;
}

int keel_tpl_set_add(keel_tpl_set_t *set, const char *name, const char *src,
                     size_t len, keel_tpl_error_t *err)
{
	int rc = check_add(set, name, src, len, err);
	if (rc != 0)
		return rc;
	tpl_t *t = tpl_new(name, src, len);
	if (t == NULL)
		return keel__tpl_fail(err, KEEL_ENOMEM, NULL, TPL_NONE,
		                      "out of memory");
	size_t bad = utf8_bad((const unsigned char *)t->src, len);
	if (bad != len)
		rc = keel__tpl_fail(err, KEEL_EINVAL, t, (uint32_t)bad,
		                    "template source is not valid UTF-8");
	if (rc == 0)
		rc = keel__tpl_parse(t, err);
	if (rc == 0 && (keel__tpl_grow(&set->tpls, &set->cap, sizeof *set->tpls,
	                               set->n + 1) != 0 ||
	                keel__tpl_names_put(&set->by_name, t->name, set->n)))
		rc = keel__tpl_fail(err, KEEL_ENOMEM, NULL, TPL_NONE,
		                    "out of memory");
	if (rc != 0) {
		keel__tpl_free(t);
		return rc;
	}
	t->idx = set->n;
	set->tpls[set->n++] = t;
	keel__tpl_fail(err, 0, NULL, TPL_NONE, "%s", "");
	return 0;
}

/* ------------------------------------------------------------ load_dir */

typedef struct load {
	keel_tpl_set_t *set;
	keel_tpl_error_t *err;
	size_t root_len;
	int rc;
} load_t;

static int read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return KEEL_EIO;
		got += (size_t)n;
	}
	return 0;
}

static int load_file(load_t *l, const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return keel__tpl_fail(l->err, KEEL_EIO, NULL, TPL_NONE,
		                      "cannot open '%s': %s", path,
		                      strerror(errno));
	}
	if ((uint64_t)st.st_size > TPL_MAX_SOURCE) {
		close(fd);
		return keel__tpl_fail(l->err, KEEL_ELIMIT, NULL, TPL_NONE,
		                      "'%s' is larger than 16 MiB", path);
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	int rc = buf == NULL ? KEEL_ENOMEM : read_all(fd, buf, len);
	close(fd);
	if (rc != 0)
		rc = keel__tpl_fail(l->err, rc, NULL, TPL_NONE,
		                    "cannot read '%s'", path);
	else
		rc = keel_tpl_set_add(l->set, name, buf, len, l->err);
	free(buf);
	return rc;
}

static int load_visit(const char *path, unsigned depth, keel_walk_type_t type,
                      void *ctx)
{
	load_t *l = ctx;
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (depth == 0) {
		if (type == KEEL_WALK_DIR)
			return KEEL_WALK_CONTINUE;
		l->rc = keel__tpl_fail(l->err, KEEL_EINVAL, NULL, TPL_NONE,
		                       "'%s' is not a directory", path);
		return KEEL_WALK_STOP;
	}
	if (base[0] == '.')
		return KEEL_WALK_SKIP;
	if (type != KEEL_WALK_FILE)
		return KEEL_WALK_CONTINUE;
	const char *name = path + l->root_len;
	while (*name == '/')
		name++;
	l->rc = load_file(l, path, name);
	return l->rc != 0 ? KEEL_WALK_STOP : KEEL_WALK_CONTINUE;
}

static int load_error(const char *path, int e, void *ctx)
{
	load_t *l = ctx;
	l->rc = keel__tpl_fail(l->err, KEEL_EIO, NULL, TPL_NONE,
	                       "cannot read '%s': %s", path, strerror(e));
	return 1;
}

int keel_tpl_set_load_dir(keel_tpl_set_t *set, const char *dir,
                          keel_tpl_error_t *err)
{
	if (set == NULL || dir == NULL)
		return keel__tpl_fail(err, KEEL_EINVAL, NULL, TPL_NONE,
		                      "missing argument");
	load_t l = {set, err, strlen(dir), 0};
	while (l.root_len > 1 && dir[l.root_len - 1] == '/')
		l.root_len--;
	keel_walk_opts_t opts = {.order = KEEL_WALK_DFS, .sorted = true};
	int rc = keel_walk(dir, &opts, load_visit, load_error, &l);
	if (l.rc != 0)
		return l.rc;
	if (rc < 0)
		return keel__tpl_fail(err, rc, NULL, TPL_NONE,
		                      "cannot read '%s': %s", dir,
		                      keel_strerror(rc));
	keel__tpl_fail(err, 0, NULL, TPL_NONE, "%s", "");
	return 0;
}
