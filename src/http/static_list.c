/*
 * Directory listings, for mounts that enable them: an HTML page with one
 * link per entry, sorted by name.  Names come from the file system, which
 * allows almost any byte, so each is percent-encoded in the link and
 * HTML-escaped in the text; a name like `"><script>` shows as itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keel/sort.h"
#include "static_int.h"

/* A folder with more entries is listed up to this many: the page and the
 * arena stay bounded. */
#define LIST_MAX 10000

typedef struct entry {
	const char *name;
	bool dir;
} entry_t;

/* The entries read so far, in the request's arena. */
typedef struct entries {
	entry_t *v;
	size_t n, cap;
} entries_t;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

/* Arenas do not realloc: a doubling copy wastes at most what it keeps. */
static int entries_push(keel_arena_t *a, entries_t *es, entry_t e)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		entry_t *v = keel_arena_alloc(a, cap * sizeof(*v));
		if (!v)
			return KEEL_ENOMEM;
		if (es->n)
			memcpy(v, es->v, es->n * sizeof(*v));
		es->v = v;
		es->cap = cap;
	}
	es->v[es->n++] = e;
	return KEEL_OK;
}

static bool entry_is_dir(DIR *d, const struct dirent *de)
{
	struct stat st;
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/*
 * A fresh descriptor for reading, so the caller's is left as it was;
 * "." and "..", and dotfiles unless asked for, are skipped.
 */
static int entries_read(keel_arena_t *a, int dir_fd, bool dotfiles,
                        entries_t *es)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return KEEL_EIO;
	}
	int rc = KEEL_OK;
	struct dirent *de;
	while (rc == KEEL_OK && es->n < LIST_MAX && (de = readdir(d))) {
		if (de->d_name[0] == '.' && !dotfiles)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *name =
		        keel_arena_strndup(a, keel_str_from_cstr(de->d_name));
		entry_t e = {name, entry_is_dir(d, de)};
		rc = name ? entries_push(a, es, e) : KEEL_ENOMEM;
	}
	closedir(d);
	return rc;
}

static int render_entry(keel_buf_t *b, const entry_t *e)
{
	keel_str_t name = keel_str_from_cstr(e->name);
	keel_str_t slash = e->dir ? KEEL_STR("/") : KEEL_STR("");
	if (keel_buf_append_str(b, KEEL_STR("<li><a href=\"")) < 0 ||
	    keel__static_url_encode(b, name, false) < 0 ||
	    keel_buf_append_str(b, slash) < 0 ||
	    keel_buf_append_str(b, KEEL_STR("\">")) < 0 ||
	    keel__static_html_escape(b, name) < 0 ||
	    keel_buf_append_str(b, slash) < 0 ||
	    keel_buf_append_str(b, KEEL_STR("</a></li>\n")) < 0)
		return KEEL_ENOMEM;
	return KEEL_OK;
}

static int render(keel_buf_t *b, keel_str_t url_path, const entries_t *es)
{
	if (keel_buf_append_str(b, KEEL_STR("<!DOCTYPE html>\n<html><head>"
	                                    "<meta charset=\"utf-8\"><title>"
	                                    "Index of ")) < 0 ||
	    keel__static_html_escape(b, url_path) < 0 ||
	    keel_buf_append_str(b, KEEL_STR("</title></head>\n<body><h1>"
	                                    "Index of ")) < 0 ||
	    keel__static_html_escape(b, url_path) < 0 ||
	    keel_buf_append_str(b, KEEL_STR("</h1>\n<ul>\n")) < 0)
		return KEEL_ENOMEM;
	if (url_path.len > 1 &&
	    keel_buf_append_str(
	            b, KEEL_STR("<li><a href=\"../\">../</a></li>\n")) < 0)
		return KEEL_ENOMEM;
	for (size_t i = 0; i < es->n; i++)
		if (render_entry(b, &es->v[i]) < 0)
			return KEEL_ENOMEM;
	return keel_buf_append_str(b, KEEL_STR("</ul></body></html>\n"));
}

int keel__static_list(keel_req_t *req, keel_res_t *res, int dir_fd,
                      keel_str_t url_path, bool dotfiles)
{
	entries_t es = {0};
	int rc = entries_read(keel_req_arena(req), dir_fd, dotfiles, &es);
	if (rc < 0)
		return keel_res_error(res, rc == KEEL_EIO ? 403 : 500,
		                      "cannot list this directory");
	keel_sort(es.v, es.n, sizeof(*es.v), cmp_entry);
	keel_buf_reset(keel_res_buf(res));
	if (render(keel_res_buf(res), url_path, &es) < 0)
		return keel_res_error(res, 500, "listing too large");
	keel_res_header(res, "Content-Type", "text/html; charset=utf-8");
	keel_res_header(res, "X-Content-Type-Options", "nosniff");
	keel_res_header(res, "Cache-Control", "no-cache");
	return 200;
}
