/*
 * keel/ratelimit.h - rate limiting with token buckets that every worker of
 * a host shares.
 *
 * A bucket holds up to `limit` tokens and refills evenly, one full bucket
 * per `window_ms`; a request takes `cost` tokens (1) or is refused with 429.
 * A bucket is stored as one 64-bit number, the monotonic instant at which
 * it will be full again: the tokens are that distance to now, counted in
 * nanoseconds of refill time (a fixed-point count where one token is
 * window/limit ns), so refilling is exact, nothing accumulates rounding,
 * and a bucket whose instant has passed is full, i.e. the same as no
 * bucket at all (GCRA, the "virtual scheduling" form of a token bucket).
 *
 * Buckets live in a backend (strategy, keel_ratelimit_backend_t).  The
 * built-in one is a fixed-size open-addressing table in shared memory:
 * keel_ratelimit_new maps it MAP_SHARED|MAP_ANONYMOUS, so it must run in
 * main() before keel_app_run forks the workers; every worker (restarted
 * ones too) then inherits the same table and updates a bucket with a
 * compare-and-swap loop, so N workers never grant N times the budget.
 * Keys are hashed with a keyed SipHash (libsodium crypto_shorthash) under a
 * random per-server key, so clients cannot aim collisions at one slot; a
 * key that finds no free slot replaces a full (stale) bucket, or failing
 * that the one closest to full.  A Redis backend (several hosts) fits the
 * same vtable.
 *
 * Headers follow draft-ietf-httpapi-ratelimit-headers-06: RateLimit-Limit,
 * RateLimit-Remaining, RateLimit-Reset (seconds until the bucket is full
 * again) and RateLimit-Policy ("<limit>;w=<window seconds>"); a 429 adds
 * Retry-After (seconds until the request's tokens are back).
 */
#ifndef KEEL_RATELIMIT_H
#define KEEL_RATELIMIT_H

#include <stdbool.h>

#include "keel/ip.h"
#include "keel/middleware.h"
#include "keel/str.h"

/** Largest `limit` of a policy. */
#define KEEL_RATELIMIT_MAX_LIMIT  1000000u
/** Longest `window_ms` of a policy: 30 days. */
#define KEEL_RATELIMIT_MAX_WINDOW (INT64_C(30) * 24 * 3600 * 1000)
/** Bytes keel_ratelimit_addr_key writes at most. */
#define KEEL_RATELIMIT_ADDR_KEY   9

/** One quota: a burst of `limit` tokens, refilled evenly over window_ms. */
typedef struct keel_ratelimit_policy {
	uint32_t limit;    /* 1..KEEL_RATELIMIT_MAX_LIMIT */
	int64_t window_ms; /* 1..KEEL_RATELIMIT_MAX_WINDOW */
} keel_ratelimit_policy_t;

/** What one take decided and what the headers report. */
typedef struct keel_ratelimit_result {
	bool allowed;
	uint32_t limit;     /* the policy's limit */
	uint32_t remaining; /* whole tokens left after this take */
	int64_t reset_ms;   /* until the bucket is full again */
	int64_t retry_ms;   /* refused: until `cost` tokens are back; else 0 */
} keel_ratelimit_result_t;

/**
 * The bucket math alone: take `cost` tokens at `now_ns` from the bucket
 * whose state is *full_at (0: never used), updating it when allowed.  A
 * `now_ns` earlier than a previous one grants nothing and never leaves more
 * than one empty bucket of debt.  0 with *out filled; KEEL_EINVAL for a bad
 * policy; KEEL_ERANGE when cost > limit (could never succeed).
 */
KEEL_API int keel_ratelimit_bucket_take(int64_t *full_at,
                                        const keel_ratelimit_policy_t *policy,
                                        uint32_t cost, int64_t now_ns,
                                        keel_ratelimit_result_t *out);

/** True when `policy` is within the limits above. */
KEEL_API bool
keel_ratelimit_policy_valid(const keel_ratelimit_policy_t *policy);

/* ------------------------------------------------------------ backends */

/** Where buckets live: the vtable a backend (shared memory, Redis) fills. */
typedef struct keel_ratelimit_backend {
	const char *name;
	/**
	 * Take `cost` tokens from the bucket of `key` under `policy`; cost 0
	 * only looks (and creates nothing).  0 with *out filled, or a
	 * negative KEEL_E* (the middleware then lets the request through).
	 */
	int (*take)(void *self, keel_str_t key,
	            const keel_ratelimit_policy_t *policy, uint32_t cost,
	            int64_t now_ns, keel_ratelimit_result_t *out);
	/** Release `self`; may be NULL. */
	void (*free)(void *self);
} keel_ratelimit_backend_t;

/** The shared-memory bucket table; opaque. */
typedef struct keel_ratelimit_shm keel_ratelimit_shm_t;

/** Counters of a shared-memory table (shared by all processes). */
typedef struct keel_ratelimit_shm_stats {
	size_t slots;           /* capacity */
	uint64_t used;          /* slots that ever held a key */
	uint64_t evicted_stale; /* full buckets replaced by a new key */
	uint64_t evicted_live;  /* non-full buckets replaced: table too small */
	uint64_t contended;     /* takes given up after too many retries */
} keel_ratelimit_shm_stats_t;

/**
 * A table of `slots` buckets (rounded up to a power of two, at least 64,
 * at most 2^26; 0 means 65536, 16 bytes each) in a shared anonymous
 * mapping, with a fresh random hash key.  Create it before forking.  NULL
 * when the arguments are out of range, mmap fails or libsodium cannot start.
 */
KEEL_API keel_ratelimit_shm_t *keel_ratelimit_shm_new(size_t slots);
/** Unmap the table (in this process); NULL is ignored. */
KEEL_API void keel_ratelimit_shm_free(keel_ratelimit_shm_t *t);
/**
 * keel_ratelimit_bucket_take on the bucket of `key`, atomically with
 * respect to every process sharing the table.  Errors as the bucket math,
 * plus KEEL_AGAIN when the slot stayed contended past the retry bound.
 */
KEEL_API int keel_ratelimit_shm_take(keel_ratelimit_shm_t *t, keel_str_t key,
                                     const keel_ratelimit_policy_t *policy,
                                     uint32_t cost, int64_t now_ns,
                                     keel_ratelimit_result_t *out);
/** Read the table's counters into *out. */
KEEL_API void keel_ratelimit_shm_stats(const keel_ratelimit_shm_t *t,
                                       keel_ratelimit_shm_stats_t *out);
/** The vtable for a keel_ratelimit_shm_t `self` (free unmaps it). */
KEEL_API const keel_ratelimit_backend_t *keel_ratelimit_shm_backend(void);

/* ------------------------------------------------------------ limiters */

/** A policy bound to a backend; opaque. */
typedef struct keel_ratelimit keel_ratelimit_t;

/** How a limiter is built; fill with keel_ratelimit_opts_init. */
typedef struct keel_ratelimit_opts {
	uint32_t limit;    /* tokens in a full bucket (the burst): 60 */
	int64_t window_ms; /* time to refill it from empty: 60000 */
	size_t slots;      /* shared-memory table size: 65536 */
} keel_ratelimit_opts_t;

/** Defaults: 60 requests a minute, 65536 buckets. */
KEEL_API void keel_ratelimit_opts_init(keel_ratelimit_opts_t *opts);

/**
 * A limiter with its own shared-memory table; call in main() before
 * keel_app_run (the workers must inherit the mapping).  NULL opts: the
 * defaults.  NULL on a bad policy or when the table cannot be made.
 */
KEEL_API keel_ratelimit_t *
keel_ratelimit_new(const keel_ratelimit_opts_t *opts);
/**
 * A limiter over another backend; takes ownership of `self` (be->free runs
 * at keel_ratelimit_free, also when this call fails).  NULL on failure.
 */
KEEL_API keel_ratelimit_t *
keel_ratelimit_new_backend(const keel_ratelimit_opts_t *opts,
                           const keel_ratelimit_backend_t *be, void *self);
/** Free the limiter and its backend; NULL is ignored. */
KEEL_API void keel_ratelimit_free(keel_ratelimit_t *rl);
/** The limiter's policy. */
KEEL_API const keel_ratelimit_policy_t *
keel_ratelimit_policy(const keel_ratelimit_t *rl);
/**
 * Take `cost` tokens for `key` (any bytes) at `now_ns` (keel_clock_now_ns:
 * monotonic, the same clock in every process).  0 with *out filled, or the
 * backend's error.
 */
KEEL_API int keel_ratelimit_take(keel_ratelimit_t *rl, keel_str_t key,
                                 uint32_t cost, int64_t now_ns,
                                 keel_ratelimit_result_t *out);

/**
 * The bucket key of a client address: the IPv4 address, or the /64 prefix
 * of an IPv6 one (one host usually owns a whole /64), IPv4-mapped IPv6
 * folded to IPv4.  Writes at most KEEL_RATELIMIT_ADDR_KEY bytes; returns
 * how many.
 */
KEEL_API size_t keel_ratelimit_addr_key(const keel_ip_t *ip,
                                        uint8_t out[KEEL_RATELIMIT_ADDR_KEY]);

/**
 * Add RateLimit-Limit, -Remaining, -Reset and -Policy for `r` to `res`,
 * replacing earlier ones; when `r` refused, also Retry-After.  0 or the
 * first keel_res_header error.
 */
KEEL_API int keel_ratelimit_headers(keel_res_t *res,
                                    const keel_ratelimit_policy_t *policy,
                                    const keel_ratelimit_result_t *r);
/**
 * Answer 429: the app's error body (keel_errors_write, field
 * "rate_limit"), the headers above and Retry-After.  Returns 429.
 */
KEEL_API int keel_ratelimit_refuse(keel_req_t *req, keel_res_t *res,
                                   const keel_ratelimit_policy_t *policy,
                                   const keel_ratelimit_result_t *r);

/* ---------------------------------------------------------- middleware */

/**
 * A request's bucket key: 0 with *key set (bytes valid for the request,
 * e.g. in keel_req_arena), or KEEL_ENOENT to leave the request unlimited.
 */
typedef int keel_ratelimit_key_fn(keel_req_t *req, keel_str_t *key, void *ud);

/** The middleware's settings; must outlive the app. */
typedef struct keel_mw_ratelimit_opts {
	keel_ratelimit_t *limiter;  /* required */
	keel_ratelimit_key_fn *key; /* NULL: keel_ratelimit_addr_key */
	void *key_ud;
	uint32_t cost; /* tokens per request; 0 means 1 */
} keel_mw_ratelimit_opts_t;

/**
 * Before: take the request's tokens; refused -> 429 via
 * keel_ratelimit_refuse; admitted -> the RateLimit headers are added and
 * the request goes on (a handler answering with keel_res_error drops
 * them; keel_errors_write keeps them).  The default key is the client
 * address as keel_req_client reports it (X-Forwarded-For only from a
 * trusted proxy).  A backend error lets the request through (fail
 * open, logged as a warning): an outage of the limiter must not become an
 * outage of the site.  Register it after keel_mw_cors, so preflights are
 * not charged and 429s carry CORS headers.
 */
KEEL_API keel_middleware_t
keel_mw_ratelimit(const keel_mw_ratelimit_opts_t *opts);

/* --------------------------------------------------- login, registration */

/** A stricter pair of budgets for credential endpoints; opaque. */
typedef struct keel_ratelimit_login keel_ratelimit_login_t;

/** Budgets per client address and per account name. */
typedef struct keel_ratelimit_login_opts {
	keel_ratelimit_opts_t addr;    /* 10 per minute */
	keel_ratelimit_opts_t account; /* 5 per 5 minutes */
} keel_ratelimit_login_opts_t;

/** Defaults: 10 attempts a minute per address, 5 per 5 minutes per account. */
KEEL_API void keel_ratelimit_login_opts_init(keel_ratelimit_login_opts_t *opts);
/**
 * Two shared-memory limiters and a random key for hashing account names;
 * call before keel_app_run.  NULL opts: the defaults.  NULL on failure.
 */
KEEL_API keel_ratelimit_login_t *
keel_ratelimit_login_new(const keel_ratelimit_login_opts_t *opts);
/** Free both limiters; NULL is ignored. */
KEEL_API void keel_ratelimit_login_free(keel_ratelimit_login_t *l);
/**
 * Charge one attempt for the client's address, then for `account` (the
 * submitted user name or email: trimmed, ASCII-lowercased and hashed with
 * a keyed BLAKE2b, so the table never sees it).  Call it BEFORE looking
 * the account up: the answer depends only on the request, never on whether
 * the account exists.  KEEL_NEXT (admitted; headers of the tighter budget
 * added) or 429 (answer written: return it).
 */
KEEL_API int keel_ratelimit_login_check(keel_ratelimit_login_t *l,
                                        keel_req_t *req, keel_res_t *res,
                                        keel_str_t account);

#endif
