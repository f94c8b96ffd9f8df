#include <criterion/criterion.h>
#include <string.h>

#include "keel/common.h"

Test(error, every_code_has_its_own_text)
{
	int codes[] = {KEEL_OK,     KEEL_NEXT,   KEEL_AGAIN,     KEEL_ENOMEM,
	               KEEL_EINVAL, KEEL_ERANGE, KEEL_ELIMIT,    KEEL_ENOENT,
	               KEEL_EEXIST, KEEL_EIO,    KEEL_ETIMEDOUT, KEEL_ECLOSED,
	               KEEL_ESTATE};
	for (size_t i = 0; i < KEEL_COUNTOF(codes); i++) {
		const char *a = keel_strerror(codes[i]);
		cr_assert(strcmp(a, "unknown error") != 0, "code %d", codes[i]);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(a, keel_strerror(codes[j]));
	}
	cr_assert_str_eq(keel_strerror(-9999), "unknown error");
}
