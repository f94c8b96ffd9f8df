/*
 * Opening a file named by a URL without ever leaving the served folder.
 * The path has already been decoded and normalised, but a string check
 * cannot see symlinks: "docs/latest" may point at "/etc".  So the kernel
 * resolves the path relative to the root's descriptor and refuses any
 * step that would end up outside it (openat2 with RESOLVE_BENEATH, which
 * also stops ".." and absolute symlinks, and RESOLVE_NO_MAGICLINKS, which
 * stops /proc-style links).  Where openat2 is missing (Linux before 5.6,
 * or a seccomp filter that rejects it) the path is walked one component
 * at a time with O_NOFOLLOW: stricter, since even symlinks that stay
 * inside are refused, but never less safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "static_int.h"

/* No blocking on a FIFO, no controlling terminal, no leak across exec. */
#define BASE_FLAGS (O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
#define RETRIES    4

static int with_base(int flags)
{
	/* O_PATH admits only O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW. */
	return (flags & O_PATH) ? flags | O_CLOEXEC : flags | BASE_FLAGS;
}

/*
 * The kernel answers EAGAIN when a concurrent rename made it unsure that
 * ".." stayed beneath the root; that race is rare and retrying settles it.
 */
static int open_kernel(int dir_fd, const char *rel, int flags)
{
	struct open_how how = {
	        .flags = (uint64_t)with_base(flags),
	        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0; i < RETRIES; i++) {
		long fd = syscall(SYS_openat2, dir_fd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return -1;
}

bool keel__static_has_openat2(int dir_fd)
{
	int fd = open_kernel(dir_fd, ".", O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENOSYS && errno != EPERM;
}

/*
 * One component `name[0..n)` opened at `at`: intermediate ones as O_PATH
 * directories, the last with the caller's flags; symlinks refused by
 * O_NOFOLLOW either way ("." and ".." never reach here from a normalised
 * path, and are refused as escapes if they do).
 */
static int open_step(int at, const char *name, size_t n, int flags, bool last)
{
	char comp[NAME_MAX + 1];
	if (n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, name, n);
	comp[n] = '\0';
	if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
		errno = EXDEV;
		return -1;
	}
	int f = last ? with_base(flags) | O_NOFOLLOW
	             : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	return openat(at, comp, f);
}

/* The walk: empty components ("a//b") are skipped; a trailing '/' asks
 * for a directory, as it does to the kernel. */
static int open_walk(int dir_fd, const char *rel, int flags)
{
	size_t len = strlen(rel), i = 0;
	if (len > 0 && rel[len - 1] == '/')
		flags |= O_DIRECTORY;
	while (i < len && rel[i] == '/')
		i++;
	if (i == len)
		return openat(dir_fd, ".", with_base(flags));
	int cur = -1; /* intermediate directory we own */
	for (;;) {
		size_t end = i;
		while (end < len && rel[end] != '/')
			end++;
		size_t next = end;
		while (next < len && rel[next] == '/')
			next++;
		bool last = next == len;
		int at = cur >= 0 ? cur : dir_fd;
		int fd = open_step(at, rel + i, end - i, flags, last);
		int saved = errno;
		if (cur >= 0)
			close(cur);
		errno = saved;
		if (fd < 0 || last)
			return fd;
		cur = fd;
		i = next;
	}
}

int keel__static_open(int dir_fd, const char *rel, int flags, bool openat2)
{
	if (rel[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	return openat2 ? open_kernel(dir_fd, rel[0] ? rel : ".", flags)
	               : open_walk(dir_fd, rel, flags);
}
