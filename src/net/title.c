#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "net.h"

static char *title_area;
static size_t title_cap;
/* Where argv[i] point after init; never freed.  Not static, so the
 * compiler keeps the store and leak checkers see the block as reachable. */
char *keel__net_argv_copy;

/*
 * ps shows a process's argv memory.  The strings of argv are contiguous, so
 * the space from argv[0] to the end of the last one can hold a new title;
 * the environment after it is left alone (it may still be read).  Before
 * taking the space, the strings are copied and argv[i] repointed at the
 * copies, so settings parsed from argv stay intact when the title changes.
 * Runs once; later calls do nothing.
 */
void keel__net_title_init(int argc, char **argv)
{
	if (title_area || argc < 1 || !argv || !argv[0])
		return;
	char *base = argv[0];
	char *end = base + strlen(base);
	for (int i = 1; i < argc; i++)
		if (argv[i] == end + 1)
			end = argv[i] + strlen(argv[i]);
	size_t cap = (size_t)(end - base);
	keel__net_argv_copy = malloc(cap + 1);
	if (!keel__net_argv_copy)
		return;
	memcpy(keel__net_argv_copy, base, cap + 1);
	for (int i = 0; i < argc; i++)
		if (argv[i] >= base && argv[i] <= end)
			argv[i] = keel__net_argv_copy + (argv[i] - base);
	title_area = base;
	title_cap = cap;
}

void keel__net_title_set(const char *title)
{
	prctl(PR_SET_NAME, title, 0, 0, 0);
	if (!title_area || title_cap == 0)
		return;
	size_t n = strlen(title);
	if (n > title_cap)
		n = title_cap;
	memcpy(title_area, title, n);
	memset(title_area + n, 0, title_cap - n + 1);
}
