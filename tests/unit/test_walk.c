#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/walk.h"

/* What a walk saw, as "depth type relative-path;" items, plus its errors. */
struct walk_rec {
	const char *base;  /* root path, stripped from recorded paths */
	char seen[131072]; /* deep-path tests record long paths */
	size_t len;
	unsigned visits;
	const char *skip;    /* relative path to answer KEEL_WALK_SKIP */
	unsigned stop_after; /* answer 99 on this visit number (0: never) */
	char errs[16384];
	size_t errs_len;
	int err_rc;          /* what the error callback answers */
	const char *swap_on; /* walk_swap_visit: replace "a" on this visit */
	bool swap_link;      /* ... by a link (else by a new folder) */
};

static const char *walk_rel(const struct walk_rec *r, const char *path)
{
	size_t n = strlen(r->base);

	if (strncmp(path, r->base, n) != 0)
		return path; /* recorded whole: the test will notice */
	if (path[n] == '\0')
		return ".";
	return path[n] == '/' ? path + n + 1 : path;
}

static int walk_rec_visit(const char *path, unsigned depth,
                          keel_walk_type_t type, void *ctx)
{
	struct walk_rec *r = ctx;
	const char *rel = walk_rel(r, path);
	int n = snprintf(r->seen + r->len, sizeof r->seen - r->len, "%u%c %s;",
	                 depth, "fdlo"[type], rel);

	cr_assert(n > 0 && (size_t)n < sizeof r->seen - r->len);
	r->len += (size_t)n;
	r->visits++;
	if (r->stop_after && r->visits == r->stop_after)
		return 99;
	if (r->skip && !strcmp(rel, r->skip))
		return KEEL_WALK_SKIP;
	return KEEL_WALK_CONTINUE;
}

static int walk_rec_error(const char *path, int err, void *ctx)
{
	struct walk_rec *r = ctx;
	int n = snprintf(r->errs + r->errs_len, sizeof r->errs - r->errs_len,
	                 "%s=%s;", walk_rel(r, path), strerrorname_np(err));

	cr_assert(n > 0 && (size_t)n < sizeof r->errs - r->errs_len);
	r->errs_len += (size_t)n;
	return r->err_rc;
}

/* ------------------------------------------------------------ tree helpers */

static char walk_tmp[64];

static void mk_dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof p, "%s/%s", walk_tmp, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
}

static void mk_file(const char *rel)
{
	char p[512];
	int fd;

	snprintf(p, sizeof p, "%s/%s", walk_tmp, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert(fd >= 0, "create %s: %s", p, strerror(errno));
	close(fd);
}

static void mk_link(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof p, "%s/%s", walk_tmp, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s", p);
}

/* rm -rf through descriptors, so trees deeper than PATH_MAX go too. */
static void rm_tree_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *d;
	struct dirent *de;

	if (fd < 0) {
		unlinkat(dfd, name, 0);
		return;
	}
	fchmod(fd, 0755);
	d = fdopendir(fd);
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rm_tree_at(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static void walk_setup(void)
{
	snprintf(walk_tmp, sizeof walk_tmp, "/tmp/keel-walk-XXXXXX");
	cr_assert_not_null(mkdtemp(walk_tmp));
	chmod(walk_tmp, 0755); /* the unprivileged child must get in */
}

static void walk_teardown(void)
{
	rm_tree_at(AT_FDCWD, walk_tmp);
}

/*
 * The tree most tests walk:
 *   a/ a/a1 a/a2/ a/a2/deep  b  c/ c/c1
 */
static void mk_basic_tree(void)
{
	mk_dir("a");
	mk_file("a/a1");
	mk_dir("a/a2");
	mk_file("a/a2/deep");
	mk_file("b");
	mk_dir("c");
	mk_file("c/c1");
}

static int walk_run(struct walk_rec *r, const keel_walk_opts_t *o)
{
	r->base = walk_tmp;
	return keel_walk(walk_tmp, o, walk_rec_visit, walk_rec_error, r);
}

TestSuite(walk, .init = walk_setup, .fini = walk_teardown);

/* ------------------------------------------------------------ orders */

Test(walk, dfs_sorted_is_preorder)
{
	keel_walk_opts_t o = {.order = KEEL_WALK_DFS, .sorted = true};
	struct walk_rec r = {0};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d a;2f a/a1;2d a/a2;3f a/a2/deep;"
	                         "1f b;1d c;2f c/c1;");
	cr_assert_str_eq(r.errs, "");
}

Test(walk, bfs_sorted_is_level_order)
{
	keel_walk_opts_t o = {.order = KEEL_WALK_BFS, .sorted = true};
	struct walk_rec r = {0};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d a;1f b;1d c;2f a/a1;2d a/a2;"
	                         "2f c/c1;3f a/a2/deep;");
	cr_assert_str_eq(r.errs, "");
}

Test(walk, null_opts_is_unsorted_dfs_of_everything)
{
	struct walk_rec r = {0};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, NULL), 0);
	cr_assert_eq(r.visits, 8);
	cr_assert(strstr(r.seen, "3f a/a2/deep;"));
	/* pre-order: a folder's entries come right after it */
	cr_assert(strstr(r.seen, "2d a/a2;3f a/a2/deep;"));
}

Test(walk, bfs_handles_many_folders_per_level)
{
	keel_walk_opts_t o = {.order = KEEL_WALK_BFS, .sorted = true};
	struct walk_rec r = {0};
	char name[32];

	for (int i = 0; i < 150; i++) { /* grows the level and the set */
		snprintf(name, sizeof name, "d%03d", i);
		mk_dir(name);
		snprintf(name, sizeof name, "d%03d/f", i);
		mk_file(name);
	}
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_eq(r.visits, 301);
	cr_assert(strstr(r.seen, "1d d149;2f d000/f;2f d001/f;"));
	cr_assert(strstr(r.seen, "2f d149/f;") == r.seen + r.len - 10);
}

/* ------------------------------------------------------------ controls */

Test(walk, max_depth_visits_but_does_not_enter)
{
	keel_walk_opts_t o = {.sorted = true, .max_depth = 1};
	struct walk_rec r = {0}, r2 = {0};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d a;1f b;1d c;");
	o.max_depth = 2;
	o.order = KEEL_WALK_BFS;
	cr_assert_eq(walk_run(&r2, &o), 0);
	cr_assert_str_eq(r2.seen,
	                 "0d .;1d a;1f b;1d c;2f a/a1;2d a/a2;2f c/c1;");
}

Test(walk, skip_leaves_out_children_in_both_orders)
{
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {.skip = "a"}, r2 = {.skip = "a"};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d a;1f b;1d c;2f c/c1;");
	o.order = KEEL_WALK_BFS;
	cr_assert_eq(walk_run(&r2, &o), 0);
	cr_assert_str_eq(r2.seen, "0d .;1d a;1f b;1d c;2f c/c1;");
}

Test(walk, skip_on_root_visits_only_root)
{
	struct walk_rec r = {.skip = "."};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, NULL), 0);
	cr_assert_str_eq(r.seen, "0d .;");
}

Test(walk, stop_returns_value_and_visits_nothing_more)
{
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {.stop_after = 4}, r2 = {.stop_after = 4};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, &o), 99);
	cr_assert_str_eq(r.seen, "0d .;1d a;2f a/a1;2d a/a2;");
	o.order = KEEL_WALK_BFS;
	cr_assert_eq(walk_run(&r2, &o), 99);
	cr_assert_str_eq(r2.seen, "0d .;1d a;1f b;1d c;");
}

Test(walk, stop_on_root_is_returned)
{
	struct walk_rec r = {.stop_after = 1};

	mk_basic_tree();
	cr_assert_eq(walk_run(&r, NULL), 99);
	cr_assert_eq(r.visits, 1);
}

/* ------------------------------------------------------------ links */

Test(walk, symlinks_are_reported_not_entered_by_default)
{
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {0}, r2 = {0};

	mk_dir("d");
	mk_file("d/f");
	mk_link("d", "ld");
	mk_link("nowhere", "dangling");
	mk_link("..", "d/up");
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d d;2f d/f;2l d/up;1l dangling;1l ld;");
	cr_assert_str_eq(r.errs, "");
	o.order = KEEL_WALK_BFS;
	cr_assert_eq(walk_run(&r2, &o), 0);
	cr_assert_str_eq(r2.seen,
	                 "0d .;1d d;1l dangling;1l ld;2f d/f;2l d/up;");
}

Test(walk, followed_links_report_their_target)
{
	keel_walk_opts_t o = {.sorted = true, .follow_symlinks = true};
	struct walk_rec r = {0};

	mk_dir("d");
	mk_file("d/f");
	mk_link("d", "ld");
	mk_link("d/f", "lf");
	mk_link("nowhere", "dangling");
	mk_link("self", "self");
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d d;2f d/f;1l dangling;1d ld;2f ld/f;"
	                         "1f lf;1l self;");
	cr_assert_str_eq(r.errs, "");
}

Test(walk, dfs_link_loop_ends_and_is_reported)
{
	keel_walk_opts_t o = {.sorted = true, .follow_symlinks = true};
	struct walk_rec r = {0};

	mk_dir("x");
	mk_dir("x/y");
	mk_link("../..", "x/y/top"); /* back to the root */
	mk_link("../x", "x/self");   /* to its own folder */
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d x;2d x/self;2d x/y;3d x/y/top;");
	cr_assert_str_eq(r.errs, "x/self=ELOOP;x/y/top=ELOOP;");
}

Test(walk, bfs_link_loop_ends_and_each_folder_is_entered_once)
{
	keel_walk_opts_t o = {.order = KEEL_WALK_BFS,
	                      .sorted = true,
	                      .follow_symlinks = true};
	struct walk_rec r = {0};

	mk_dir("x");
	mk_dir("x/y");
	mk_file("x/y/f");
	mk_link("../..", "x/y/top");
	mk_link("x/y", "ly"); /* a second way into x/y */
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d ly;1d x;2f ly/f;2d ly/top;2d x/y;");
	cr_assert_str_eq(r.errs, "ly/top=ELOOP;x/y=ELOOP;");
}

Test(walk, dfs_loop_check_without_follow_is_harmless)
{
	/* the ancestor check runs always; plain trees never trip it */
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {0};

	mk_dir("s");
	mk_dir("s/s");
	mk_dir("s/s/s");
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d s;2d s/s;3d s/s/s;");
	cr_assert_str_eq(r.errs, "");
}

/* ------------------------------------------------------------ errors */

/*
 * Walk as uid/gid 65534 in a child: root ignores permission bits, so only
 * an unprivileged process meets a mode-000 folder the way a server does.
 * The child answers through its exit status.
 */
static int walk_unreadable_child(keel_walk_order_t order)
{
	keel_walk_opts_t o = {.order = order, .sorted = true};
	struct walk_rec r = {0};

	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
	                       setuid(65534) != 0))
		return 10;
	if (walk_run(&r, &o) != 0)
		return 11;
	if (strcmp(r.errs, "locked=EACCES;"))
		return 12;
	if (order == KEEL_WALK_DFS &&
	    strcmp(r.seen, "0d .;1f a;1d locked;1d z;2f z/f;"))
		return 13;
	if (order == KEEL_WALK_BFS &&
	    strcmp(r.seen, "0d .;1f a;1d locked;1d z;2f z/f;"))
		return 14;
	return 0;
}

static void walk_check_unreadable(keel_walk_order_t order)
{
	char p[256];
	pid_t pid;
	int status;

	mk_file("a");
	mk_dir("locked");
	mk_file("locked/secret");
	mk_dir("z");
	mk_file("z/f");
	snprintf(p, sizeof p, "%s/locked", walk_tmp);
	cr_assert_eq(chmod(p, 0), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(walk_unreadable_child(order));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed",
	             WEXITSTATUS(status));
}

Test(walk, dfs_unreadable_folder_is_reported_and_walk_goes_on)
{
	walk_check_unreadable(KEEL_WALK_DFS);
}

Test(walk, bfs_unreadable_folder_is_reported_and_walk_goes_on)
{
	walk_check_unreadable(KEEL_WALK_BFS);
}

Test(walk, error_callback_can_stop_the_walk)
{
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {.err_rc = 42};
	char name[200];

	mk_file("short");
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	mk_dir(name);
	o.max_path =
	        strlen(walk_tmp) + 10; /* "/short" fits, the long does not */
	cr_assert_eq(walk_run(&r, &o), 42);
	cr_assert_eq(r.visits, 1); /* only the root: "n..." sorts first */
	cr_assert(strstr(r.errs, "=ENAMETOOLONG;"));
}

Test(walk, too_long_paths_are_reported_and_skipped)
{
	keel_walk_opts_t o = {.sorted = true};
	struct walk_rec r = {0};

	mk_dir("ab");
	mk_file("ab/long-name");
	mk_file("ab/x");
	o.max_path = strlen(walk_tmp) + 5; /* room for "/ab/x" only */
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_str_eq(r.seen, "0d .;1d ab;2f ab/x;");
	cr_assert_str_eq(r.errs, "ab/long-name=ENAMETOOLONG;");
}

/* A chain of 200-byte names, `levels` deep, ending in the file "end". */
static void mk_deep_chain(int levels)
{
	char name[201];
	int fd = open(walk_tmp, O_RDONLY | O_DIRECTORY), next;

	memset(name, 'q', 200);
	name[200] = '\0';
	cr_assert(fd >= 0);
	for (int i = 0; i < levels; i++) {
		cr_assert_eq(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		cr_assert(next >= 0);
		close(fd);
		fd = next;
	}
	next = openat(fd, "end", O_WRONLY | O_CREAT, 0644);
	cr_assert(next >= 0);
	close(next);
	close(fd);
}

Test(walk, dfs_goes_deeper_than_path_max_with_openat)
{
	keel_walk_opts_t o = {.max_path = 16384};
	struct walk_rec r = {0};

	mk_deep_chain(25); /* about 5 KiB of path, over PATH_MAX */
	cr_assert_eq(walk_run(&r, &o), 0);
	cr_assert_eq(r.visits, 27);
	cr_assert(strstr(r.seen, "26f "));
	cr_assert(strstr(r.seen, "/end;"));
	cr_assert_str_eq(r.errs, "");
}

Test(walk, default_limit_reports_paths_over_path_max)
{
	struct walk_rec r = {0};

	mk_deep_chain(25);
	cr_assert_eq(walk_run(&r, NULL), 0);
	cr_assert_eq(r.errs_len > 0, 1);
	cr_assert(strstr(r.errs, "=ENAMETOOLONG;"));
	cr_assert(strstr(r.seen, "/end;") == NULL);
}

Test(walk, other_types_are_reported_as_other)
{
	char p[256];
	struct walk_rec r = {0};

	snprintf(p, sizeof p, "%s/fifo", walk_tmp);
	cr_assert_eq(mkfifo(p, 0644), 0);
	cr_assert_eq(walk_run(&r, NULL), 0);
	cr_assert_str_eq(r.seen, "0d .;1o fifo;");
}

/* ------------------------------------------------------------ the root */

Test(walk, missing_root_is_enoent)
{
	char p[256];
	struct walk_rec r = {0};

	snprintf(p, sizeof p, "%s/missing", walk_tmp);
	cr_assert_eq(keel_walk(p, NULL, walk_rec_visit, walk_rec_error, &r),
	             KEEL_ENOENT);
	mk_file("file");
	snprintf(p, sizeof p, "%s/file/below", walk_tmp);
	cr_assert_eq(keel_walk(p, NULL, walk_rec_visit, walk_rec_error, &r),
	             KEEL_ENOENT);
	cr_assert_eq(keel_walk("", NULL, walk_rec_visit, NULL, &r),
	             KEEL_ENOENT);
	cr_assert_eq(r.visits, 0);
	cr_assert_eq(r.errs_len, 0);
}

Test(walk, unusable_root_is_eio_with_errno)
{
	keel_walk_opts_t o = {.max_path = 4};
	struct walk_rec r = {0};

	cr_assert_eq(keel_walk(walk_tmp, &o, walk_rec_visit, NULL, &r),
	             KEEL_EIO);
	cr_assert_eq(errno, ENAMETOOLONG);
	cr_assert_eq(r.visits, 0);
}

Test(walk, null_arguments_are_einval)
{
	struct walk_rec r = {0};

	cr_assert_eq(keel_walk(NULL, NULL, walk_rec_visit, NULL, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_walk(walk_tmp, NULL, NULL, NULL, &r), KEEL_EINVAL);
}

Test(walk, file_root_is_visited_alone)
{
	char p[256];
	struct walk_rec r = {0};

	mk_file("lone");
	snprintf(p, sizeof p, "%s/lone", walk_tmp);
	r.base = walk_tmp;
	cr_assert_eq(keel_walk(p, NULL, walk_rec_visit, walk_rec_error, &r), 0);
	cr_assert_str_eq(r.seen, "0f lone;");
}

Test(walk, root_link_is_resolved_and_slashes_trimmed)
{
	char p[256];
	struct walk_rec r = {0};
	keel_walk_opts_t o = {.sorted = true};

	mk_dir("real");
	mk_file("real/f");
	mk_link("real", "alias");
	snprintf(p, sizeof p, "%s/alias///", walk_tmp);
	r.base = walk_tmp;
	cr_assert_eq(keel_walk(p, &o, walk_rec_visit, walk_rec_error, &r), 0);
	cr_assert_str_eq(r.seen, "0d alias;1f alias/f;");
}

Test(walk, slash_root_gets_no_double_slash)
{
	keel_walk_opts_t o = {.max_depth = 1, .sorted = true};
	struct walk_rec r = {.base = "#"}; /* record whole paths */

	cr_assert_eq(keel_walk("/", &o, walk_rec_visit, NULL, &r), 0);
	cr_assert(r.visits > 2);
	cr_assert(strncmp(r.seen, "0d /;", 5) == 0);
	cr_assert(strstr(r.seen, "1d /tmp;"), "%s", r.seen);
	cr_assert(strstr(r.seen, "//") == NULL);
}

/* ------------------------------------------------------------ races */

/* Records like walk_rec_visit; on visiting `swap_on` replaces "a". */
static int walk_swap_visit(const char *path, unsigned depth,
                           keel_walk_type_t type, void *ctx)
{
	struct walk_rec *r = ctx;
	char a[256], old[256];

	if (!strcmp(walk_rel(r, path), r->swap_on)) {
		snprintf(a, sizeof a, "%s/a", walk_tmp);
		snprintf(old, sizeof old, "%s/a-old", walk_tmp);
		cr_assert_eq(rename(a, old), 0);
		if (r->swap_link)
			cr_assert_eq(symlink("elsewhere", a), 0);
		else
			cr_assert_eq(mkdir(a, 0755), 0);
	}
	return walk_rec_visit(path, depth, type, ctx);
}

/*
 * Replace folder "a" after the walk decided to enter it but before it is
 * opened: a link must not be followed, a new folder must not be taken for
 * the old one.  Depth-first opens right after the visit of "a", breadth-first
 * only after the whole level, so it is swapped on visiting "elsewhere".
 */
static void walk_check_swap(keel_walk_order_t order, bool link,
                            const char *errs)
{
	keel_walk_opts_t o = {.order = order, .sorted = true};
	struct walk_rec r = {.base = walk_tmp, .swap_link = link};

	r.swap_on = order == KEEL_WALK_BFS ? "elsewhere" : "a";
	mk_dir("a");
	mk_file("a/secret");
	mk_dir("elsewhere");
	mk_file("elsewhere/other");
	cr_assert_eq(
	        keel_walk(walk_tmp, &o, walk_swap_visit, walk_rec_error, &r),
	        0);
	cr_assert_str_eq(r.errs, errs);
	cr_assert(strstr(r.seen, "2f a/") == NULL, "%s", r.seen);
	cr_assert(strstr(r.seen, "2f elsewhere/other;"), "%s", r.seen);
}

/* O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux. */
Test(walk, dfs_folder_swapped_for_link_is_not_followed)
{
	walk_check_swap(KEEL_WALK_DFS, true, "a=ENOTDIR;");
}

Test(walk, bfs_folder_swapped_for_link_is_not_followed)
{
	walk_check_swap(KEEL_WALK_BFS, true, "a=ENOTDIR;");
}

Test(walk, bfs_folder_replaced_while_queued_is_estale)
{
	walk_check_swap(KEEL_WALK_BFS, false, "a=ESTALE;");
}
