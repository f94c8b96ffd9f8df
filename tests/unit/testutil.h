/*
 * Helpers shared by the unit tests (linked into the same binary).
 */
#ifndef KEEL_TESTUTIL_H
#define KEEL_TESTUTIL_H

#include <stdbool.h>

/*
 * malloc failure cannot be provoked in-process under AddressSanitizer,
 * which aborts on an impossible request.  So a test re-runs itself in a
 * child runner with allocator_may_return_null=1 and KEEL_TEST_MALLOC_NULL
 * set to a marker file; the child's test body removes the marker as its
 * last step, which proves it really ran (a filter that matched nothing
 * would also exit 0).  True when the child ran and passed.
 */
bool keel_test_passes_with_null_malloc(const char *criterion_filter);

/* Inside the child: call last, after the assertions. */
void keel_test_null_malloc_done(void);

#endif
