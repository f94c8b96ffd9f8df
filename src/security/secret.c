/*
 * The application secret: taken from configuration, or in development
 * generated once and kept in var/secret.key (0600) across restarts.
 */
#include "keel/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keel/log.h"

#define GEN_BYTES 32
#define HEX_LEN   (2 * GEN_BYTES)

keel_str_t keel_secret_str(const keel_secret_t *s)
{
	return (keel_str_t){(const char *)s->bytes, s->len};
}

void keel_secret_wipe(keel_secret_t *s)
{
	sodium_memzero(s, sizeof(*s));
}

static int from_config(keel_secret_t *out, const char *configured)
{
	size_t n = strnlen(configured, KEEL_SECRET_MAX + 1);
	if (n > KEEL_SECRET_MAX) {
		KEEL_LOG_ERROR("secret: configured secret longer than %d bytes",
		               KEEL_SECRET_MAX);
		return KEEL_ELIMIT;
	}
	if (n < KEEL_SECRET_MIN) {
		KEEL_LOG_ERROR("secret: configured secret has %zu bytes, at "
		               "least %d are required",
		               n, KEEL_SECRET_MIN);
		return KEEL_EINVAL;
	}
	memcpy(out->bytes, configured, n);
	out->len = n;
	return KEEL_OK;
}

/* read(2) until `cap` bytes or end of file; the count, or -1. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * ssh's rule for private keys: a secret file others could read (or one
 * that is a symlink, a directory, someone else's) is not used at all.
 */
static int check_file(int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return KEEL_EIO;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		KEEL_LOG_ERROR(
		        "secret: %s must be a regular file owned by this "
		        "user with mode 0600 (is %04o)",
		        path, (unsigned)(st.st_mode & 07777));
		return KEEL_EINVAL;
	}
	return KEEL_OK;
}

/* Exactly 64 hex digits and an optional newline: what write_file wrote. */
static int parse_file(keel_secret_t *out, const char *text, size_t n,
                      const char *path)
{
	size_t bin_len = 0;
	if (n == HEX_LEN + 1 && text[HEX_LEN] == '\n')
		n = HEX_LEN;
	if (n != HEX_LEN ||
	    sodium_hex2bin(out->bytes, sizeof(out->bytes), text, n, NULL,
	                   &bin_len, NULL) != 0 ||
	    bin_len != GEN_BYTES) {
		KEEL_LOG_ERROR("secret: %s does not hold %d hex digits; delete "
		               "it to generate a new secret",
		               path, HEX_LEN);
		return KEEL_EINVAL;
	}
	out->len = GEN_BYTES;
	return KEEL_OK;
}

/* 0 and the secret; KEEL_ENOENT when there is no file yet. */
static int read_file(keel_secret_t *out, const char *path)
{
	char text[HEX_LEN + 2];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return KEEL_ENOENT;
		KEEL_LOG_ERROR("secret: cannot open %s: %s", path,
		               strerror(errno));
		return errno == ELOOP ? KEEL_EINVAL : KEEL_EIO;
	}
	int rc = check_file(fd, path);
	ssize_t n = rc < 0 ? -1 : read_all(fd, text, sizeof(text));
	close(fd);
	if (rc == KEEL_OK && n < 0)
		rc = KEEL_EIO;
	if (rc == KEEL_OK)
		rc = parse_file(out, text, (size_t)n, path);
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Write the hex of `bin` plus a newline to a new 0600 file `tmp`. */
static int write_tmp(const char *tmp, const unsigned char *bin)
{
	char hex[HEX_LEN + 2];
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	              0600);
	if (fd < 0)
		return KEEL_EIO;
	sodium_bin2hex(hex, sizeof(hex), bin, GEN_BYTES);
	hex[HEX_LEN] = '\n';
	bool ok = fchmod(fd, 0600) == 0 &&
	          write(fd, hex, HEX_LEN + 1) == HEX_LEN + 1 && fsync(fd) == 0;
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) < 0)
		ok = false;
	if (!ok)
		unlink(tmp);
	return ok ? KEEL_OK : KEEL_EIO;
}

/*
 * Generate, write under a private temporary name, then link(2) into
 * place: link fails with EEXIST instead of replacing, so when two
 * processes race, the second adopts the first one's secret.
 */
static int create_file(keel_secret_t *out, const char *dir, const char *path,
                       keel_secret_source_t *source)
{
	char tmp[PATH_MAX];
	unsigned char bin[GEN_BYTES];

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, KEEL_SECRET_FILE,
	             (long)getpid()) >= (int)sizeof(tmp))
		return KEEL_ELIMIT;
	randombytes_buf(bin, sizeof(bin));
	int rc = write_tmp(tmp, bin);
	if (rc == KEEL_OK && link(tmp, path) < 0)
		rc = errno == EEXIST ? KEEL_EEXIST : KEEL_EIO;
	int saved = errno;
	unlink(tmp);
	errno = saved;
	if (rc == KEEL_EEXIST) {
		sodium_memzero(bin, sizeof(bin));
		*source = KEEL_SECRET_LOADED;
		return read_file(out, path);
	}
	if (rc == KEEL_OK) {
		memcpy(out->bytes, bin, sizeof(bin));
		out->len = sizeof(bin);
		*source = KEEL_SECRET_GENERATED;
		KEEL_LOG_WARN("secret: generated a development secret in %s; "
		              "configure one in production",
		              path);
	} else {
		KEEL_LOG_ERROR("secret: cannot create %s: %s", path,
		               strerror(saved));
	}
	sodium_memzero(bin, sizeof(bin));
	return rc;
}

static int from_file(keel_secret_t *out, const char *dir,
                     keel_secret_source_t *source)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, KEEL_SECRET_FILE) >=
	    (int)sizeof(path))
		return KEEL_ELIMIT;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		KEEL_LOG_ERROR("secret: cannot create %s: %s", dir,
		               strerror(errno));
		return KEEL_EIO;
	}
	*source = KEEL_SECRET_LOADED;
	int rc = read_file(out, path);
	if (rc != KEEL_ENOENT)
		return rc;
	return create_file(out, dir, path, source);
}

int keel_secret_load(keel_secret_t *out, const char *configured,
                     bool production, const char *dir,
                     keel_secret_source_t *source)
{
	keel_secret_source_t src = KEEL_SECRET_CONFIGURED;
	int rc;

	memset(out, 0, sizeof(*out));
	if (configured && configured[0]) {
		rc = from_config(out, configured);
	} else if (production) {
		KEEL_LOG_ERROR("secret: no secret configured; production mode "
		               "refuses to start without one");
		rc = KEEL_ENOENT;
	} else if (sodium_init() < 0) {
		rc = KEEL_ENOMEM;
	} else {
		rc = from_file(out, dir ? dir : "var", &src);
	}
	if (rc < 0)
		keel_secret_wipe(out);
	else if (source)
		*source = src;
	return rc;
}
