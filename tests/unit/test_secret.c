/*
 * The app secret: configured secrets are length-checked in both modes,
 * production refuses to start without one, development generates one
 * into <dir>/secret.key (0600) and reuses it, and unsafe or damaged files
 * are refused instead of trusted or replaced.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/secret.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/keel-secret-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

/* tmpdir + "/" + rel */
static const char *in_tmp(const char *rel, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", tmpdir, rel);
	return buf;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static const char strong[] = "an-app-secret-of-exactly-32-byte";

Test(secret, configured_secret_is_used_as_given)
{
	keel_secret_t s;
	keel_secret_source_t src = 0;
	cr_assert_eq(sizeof(strong) - 1, 32);
	cr_assert_eq(keel_secret_load(&s, strong, true, "/nonexistent", &src),
	             0);
	cr_assert_eq(src, KEEL_SECRET_CONFIGURED);
	cr_assert_eq(s.len, 32);
	cr_assert_eq(memcmp(s.bytes, strong, 32), 0);
	keel_str_t k = keel_secret_str(&s);
	cr_assert_eq(k.len, 32);
	cr_assert_eq(memcmp(k.ptr, strong, 32), 0);
	cr_assert_eq(keel_secret_load(&s, strong, false, NULL, NULL), 0);
	cr_assert_eq(s.len, 32);
}

Test(secret, short_configured_secret_is_refused_in_both_modes)
{
	keel_secret_t s;
	char short_one[32];
	memcpy(short_one, strong, 31);
	short_one[31] = '\0';
	cr_assert_eq(keel_secret_load(&s, short_one, true, NULL, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(s.len, 0);
	cr_assert_eq(keel_secret_load(&s, short_one, false, NULL, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(keel_secret_load(&s, "changeme", true, NULL, NULL),
	             KEEL_EINVAL);
}

Test(secret, overlong_configured_secret_is_refused)
{
	keel_secret_t s;
	static char big[KEEL_SECRET_MAX + 2];
	memset(big, 'x', KEEL_SECRET_MAX);
	cr_assert_eq(keel_secret_load(&s, big, true, NULL, NULL), 0);
	cr_assert_eq(s.len, KEEL_SECRET_MAX);
	big[KEEL_SECRET_MAX] = 'x';
	cr_assert_eq(keel_secret_load(&s, big, true, NULL, NULL), KEEL_ELIMIT);
	cr_assert_eq(s.len, 0);
}

Test(secret, production_without_secret_refuses_and_writes_nothing,
     .init = make_tmpdir, .fini = remove_tmpdir)
{
	keel_secret_t s;
	char path[128];
	cr_assert_eq(keel_secret_load(&s, NULL, true, tmpdir, NULL),
	             KEEL_ENOENT);
	cr_assert_eq(keel_secret_load(&s, "", true, tmpdir, NULL), KEEL_ENOENT);
	cr_assert_eq(access(in_tmp("secret.key", path, sizeof(path)), F_OK),
	             -1);
}

Test(secret, development_generates_persists_and_reuses, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t a, b;
	keel_secret_source_t src = 0;
	char dir[128], path[128], text[128];
	struct stat st;

	in_tmp("var", dir, sizeof(dir));
	cr_assert_eq(keel_secret_load(&a, NULL, false, dir, &src), 0);
	cr_assert_eq(src, KEEL_SECRET_GENERATED);
	cr_assert_eq(a.len, 32);

	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	in_tmp("var/secret.key", path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 65);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(text, sizeof(text), f));
	fclose(f);
	cr_assert_eq(strspn(text, "0123456789abcdef"), 64);
	cr_assert_eq(text[64], '\n');

	cr_assert_eq(keel_secret_load(&b, "", false, dir, &src), 0);
	cr_assert_eq(src, KEEL_SECRET_LOADED);
	cr_assert_eq(b.len, 32);
	cr_assert_eq(memcmp(a.bytes, b.bytes, 32), 0);
	/* no temporary files left behind */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(secret, each_directory_gets_its_own_random_secret, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t a, b;
	char d1[128], d2[128];
	cr_assert_eq(keel_secret_load(&a, NULL, false,
	                              in_tmp("one", d1, sizeof(d1)), NULL),
	             0);
	cr_assert_eq(keel_secret_load(&b, NULL, false,
	                              in_tmp("two", d2, sizeof(d2)), NULL),
	             0);
	cr_assert_neq(memcmp(a.bytes, b.bytes, 32), 0);
	static const unsigned char zeros[32];
	cr_assert_neq(memcmp(a.bytes, zeros, 32), 0);
}

Test(secret, default_directory_is_var, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t s;
	char path[128];
	cr_assert_eq(chdir(tmpdir), 0);
	cr_assert_eq(keel_secret_load(&s, NULL, false, NULL, NULL), 0);
	cr_assert_eq(access(in_tmp("var/secret.key", path, sizeof(path)), R_OK),
	             0);
}

Test(secret, readable_by_others_is_refused, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t s;
	char path[128];
	const char *hex = "00112233445566778899aabbccddeeff"
	                  "00112233445566778899aabbccddeeff\n";
	in_tmp("secret.key", path, sizeof(path));
	write_text(path, hex, 0644);
	cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(s.len, 0);
	chmod(path, 0640);
	cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL),
	             KEEL_EINVAL);
	chmod(path, 0400);
	cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL), 0);
	cr_assert_eq(s.len, 32);
	cr_assert_eq(s.bytes[1], 0x11);
	cr_assert_eq(s.bytes[31], 0xff);
}

Test(secret, damaged_files_are_refused_not_replaced, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	const char *bad[] = {
	        "",
	        "0011\n",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeef\n",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeeff0\n",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeefg\n",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeeff\n\n",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeeff ",
	        " 00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeeff",
	};
	keel_secret_t s;
	char path[128];
	struct stat st;
	in_tmp("secret.key", path, sizeof(path));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i], 0600);
		cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL),
		             KEEL_EINVAL, "#%zu", i);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq((size_t)st.st_size, strlen(bad[i]),
		             "#%zu was replaced", i);
	}
	/* uppercase hex and no final newline are fine */
	write_text(path,
	           "00112233445566778899AABBCCDDEEFF"
	           "00112233445566778899AABBCCDDEEFF",
	           0600);
	cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL), 0);
	cr_assert_eq(s.bytes[10], 0xaa);
}

Test(secret, symlinks_and_directories_are_refused, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t s;
	char path[128], target[128];
	in_tmp("secret.key", path, sizeof(path));
	in_tmp("elsewhere", target, sizeof(target));
	write_text(target,
	           "00112233445566778899aabbccddeeff"
	           "00112233445566778899aabbccddeeff\n",
	           0600);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(keel_secret_load(&s, NULL, false, tmpdir, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_lt(keel_secret_load(&s, NULL, false, tmpdir, NULL), 0);
}

Test(secret, missing_parent_directory_is_an_error, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	keel_secret_t s;
	char dir[128];
	cr_assert_eq(keel_secret_load(&s, NULL, false,
	                              in_tmp("no/such/dir", dir, sizeof(dir)),
	                              NULL),
	             KEEL_EIO);
	cr_assert_eq(s.len, 0);
}

Test(secret, concurrent_first_starts_agree, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	enum { N = 8 };
	int fds[2];
	pid_t kids[N];
	unsigned char got[N][32];

	cr_assert_eq(pipe(fds), 0);
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		cr_assert_geq(kids[i], 0);
		if (kids[i] == 0) {
			keel_secret_t s;
			int rc =
			        keel_secret_load(&s, NULL, false, tmpdir, NULL);
			if (rc != 0 || s.len != 32)
				_exit(1);
			_exit(write(fds[1], s.bytes, 32) == 32 ? 0 : 1);
		}
	}
	close(fds[1]);
	for (int i = 0; i < N; i++) {
		int st;
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(read(fds[0], got[i], 32), 32);
	close(fds[0]);
	for (int i = 1; i < N; i++)
		cr_assert_eq(memcmp(got[0], got[i], 32), 0, "process %d", i);
}

Test(secret, wipe_zeroes)
{
	keel_secret_t s;
	cr_assert_eq(keel_secret_load(&s, strong, true, NULL, NULL), 0);
	keel_secret_wipe(&s);
	cr_assert_eq(s.len, 0);
	for (size_t i = 0; i < sizeof(s.bytes); i++)
		cr_assert_eq(s.bytes[i], 0);
}
