#include "keel/common.h"

const char *keel_strerror(int code)
{
	switch (code) {
	case KEEL_OK: return "success";
	case KEEL_NEXT: return "continue with next layer";
	case KEEL_AGAIN: return "try again";
	case KEEL_ENOMEM: return "out of memory or byte cap reached";
	case KEEL_EINVAL: return "invalid input";
	case KEEL_ERANGE: return "value out of range";
	case KEEL_ELIMIT: return "limit exceeded";
	case KEEL_ENOENT: return "not found";
	case KEEL_EEXIST: return "already exists";
	case KEEL_EIO: return "system error";
	case KEEL_ETIMEDOUT: return "timed out";
	case KEEL_ECLOSED: return "closed";
	case KEEL_ESTATE: return "not allowed in this state";
	default: return "unknown error";
	}
}
