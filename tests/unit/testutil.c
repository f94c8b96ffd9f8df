#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

bool keel_test_passes_with_null_malloc(const char *filter)
{
	char mark[] = "/tmp/keel-test-oom-XXXXXX";
	int fd = mkstemp(mark);
	cr_assert_geq(fd, 0);
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		unsetenv("BXFI_MAP"); /* a fresh runner, not a sandbox */
		setenv("KEEL_TEST_MALLOC_NULL", mark, 1);
		setenv("ASAN_OPTIONS", "allocator_may_return_null=1", 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		execl("/proc/self/exe", "unit", filter, "--jobs=1",
		      (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	bool ran = unlink(mark) != 0;
	return ran && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void keel_test_null_malloc_done(void)
{
	const char *mark = getenv("KEEL_TEST_MALLOC_NULL");
	if (mark)
		unlink(mark);
}
