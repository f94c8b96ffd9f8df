/*
 * Rate limiting: the token-bucket math, limiters (a policy over a
 * backend), the RateLimit headers, the middleware and the stricter login
 * budget.  The shared-memory backend is in shm.c.
 *
 * A token bucket is kept as the instant it will be full again.  With T
 * the refill time of one token and tau = limit * T the time to refill an
 * empty bucket, the bucket at time `now` lacks (full_at - now) / T tokens;
 * taking c tokens moves full_at c*T later, and is allowed while full_at
 * stays within tau of now.  One word of state, exact to the nanosecond,
 * and a stale word simply means "full".
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/clock.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/ratelimit.h"
#include "keel/req.h"
#include "keel/res.h"

struct keel_ratelimit {
	keel_ratelimit_policy_t policy;
	const keel_ratelimit_backend_t *be;
	void *self;
};

struct keel_ratelimit_login {
	keel_ratelimit_t *addr, *account;
	unsigned char key[crypto_generichash_KEYBYTES];
};

/* -------------------------------------------------------- bucket math */

bool keel_ratelimit_policy_valid(const keel_ratelimit_policy_t *p)
{
	return p && p->limit >= 1 && p->limit <= KEEL_RATELIMIT_MAX_LIMIT &&
	       p->window_ms >= 1 && p->window_ms <= KEEL_RATELIMIT_MAX_WINDOW;
}

static int64_t ceil_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (ns + KEEL_NS_PER_MS - 1) / KEEL_NS_PER_MS;
}

/*
 * Why clamp: full_at more than tau ahead of now can only mean this
 * process's clock reading is older than the one that wrote it (or a clock
 * that went backwards).  Treating it as an empty bucket, and storing that,
 * bounds the damage to one window instead of however far the clocks
 * disagree.  T is rounded down, so the bucket refills at most `limit`
 * nanoseconds per window early: far below anything measurable.
 */
int keel_ratelimit_bucket_take(int64_t *full_at,
                               const keel_ratelimit_policy_t *p, uint32_t cost,
                               int64_t now_ns, keel_ratelimit_result_t *out)
{
	if (!full_at || !out || !keel_ratelimit_policy_valid(p) || now_ns < 0 ||
	    now_ns > INT64_MAX / 2)
		return KEEL_EINVAL;
	if (cost > p->limit)
		return KEEL_ERANGE;
	int64_t t = p->window_ms * KEEL_NS_PER_MS / p->limit;
	int64_t tau = t * p->limit;
	int64_t base = *full_at > now_ns ? *full_at : now_ns;
	if (base - now_ns > tau)
		base = now_ns + tau;
	int64_t next = base + (int64_t)cost * t;
	out->limit = p->limit;
	out->allowed = next - now_ns <= tau;
	if (!out->allowed)
		next = base;
	out->remaining = (uint32_t)((tau - (next - now_ns)) / t);
	out->reset_ms = ceil_ms(next - now_ns);
	out->retry_ms =
	        out->allowed ? 0
	                     : ceil_ms(base + (int64_t)cost * t - tau - now_ns);
	/* Peeks and refusals store nothing, except a clamp. */
	if (cost > 0 && (out->allowed || base != *full_at))
		*full_at = next;
	return 0;
}

/* ------------------------------------------------------------ limiters */

void keel_ratelimit_opts_init(keel_ratelimit_opts_t *opts)
{
	*opts = (keel_ratelimit_opts_t){
	        .limit = 60,
	        .window_ms = 60000,
	        .slots = 65536,
	};
}

keel_ratelimit_t *keel_ratelimit_new_backend(const keel_ratelimit_opts_t *opts,
                                             const keel_ratelimit_backend_t *be,
                                             void *self)
{
	keel_ratelimit_opts_t def;
	if (!opts) {
		keel_ratelimit_opts_init(&def);
		opts = &def;
	}
	keel_ratelimit_policy_t p = {opts->limit, opts->window_ms};
	keel_ratelimit_t *rl = NULL;
	if (be && be->take && keel_ratelimit_policy_valid(&p))
		rl = malloc(sizeof(*rl));
	if (!rl) {
		if (be && be->free)
			be->free(self);
		return NULL;
	}
	*rl = (keel_ratelimit_t){.policy = p, .be = be, .self = self};
	return rl;
}

keel_ratelimit_t *keel_ratelimit_new(const keel_ratelimit_opts_t *opts)
{
	keel_ratelimit_opts_t def;
	if (!opts) {
		keel_ratelimit_opts_init(&def);
		opts = &def;
	}
	keel_ratelimit_policy_t p = {opts->limit, opts->window_ms};
	if (!keel_ratelimit_policy_valid(&p))
		return NULL;
	keel_ratelimit_shm_t *t = keel_ratelimit_shm_new(opts->slots);
	if (!t)
		return NULL;
	return keel_ratelimit_new_backend(opts, keel_ratelimit_shm_backend(),
	                                  t);
}

void keel_ratelimit_free(keel_ratelimit_t *rl)
{
	if (!rl)
		return;
	if (rl->be->free)
		rl->be->free(rl->self);
	free(rl);
}

const keel_ratelimit_policy_t *keel_ratelimit_policy(const keel_ratelimit_t *rl)
{
	return &rl->policy;
}

int keel_ratelimit_take(keel_ratelimit_t *rl, keel_str_t key, uint32_t cost,
                        int64_t now_ns, keel_ratelimit_result_t *out)
{
	if (!rl || !out)
		return KEEL_EINVAL;
	return rl->be->take(rl->self, key, &rl->policy, cost, now_ns, out);
}

/* A byte for the family keeps an IPv4 key from ever equalling an IPv6
 * prefix that happens to start with the same bytes. */
size_t keel_ratelimit_addr_key(const keel_ip_t *ip,
                               uint8_t out[KEEL_RATELIMIT_ADDR_KEY])
{
	keel_ip_t a = keel_ip_unmap(ip);
	size_t n = a.family == KEEL_IP_V4 ? 4 : 8;
	out[0] = a.family;
	memcpy(out + 1, a.bytes, n);
	return n + 1;
}

/* ------------------------------------------------------------- headers */

static int64_t ceil_s(int64_t ms)
{
	return ms <= 0 ? 0 : (ms + 999) / 1000;
}

static int set_header(keel_res_t *res, const char *name, const char *fmt,
                      long long a, long long b)
{
	char v[64];
	snprintf(v, sizeof(v), fmt, a, b);
	keel_res_header_remove(res, name);
	return keel_res_header(res, name, v);
}

int keel_ratelimit_headers(keel_res_t *res, const keel_ratelimit_policy_t *p,
                           const keel_ratelimit_result_t *r)
{
	int rc = set_header(res, "RateLimit-Limit", "%lld", r->limit, 0);
	if (!rc)
		rc = set_header(res, "RateLimit-Remaining", "%lld",
		                r->remaining, 0);
	if (!rc)
		rc = set_header(res, "RateLimit-Reset", "%lld",
		                ceil_s(r->reset_ms), 0);
	if (!rc)
		rc = set_header(res, "RateLimit-Policy", "%lld;w=%lld",
		                p->limit, ceil_s(p->window_ms));
	if (!rc && !r->allowed) {
		int64_t s = ceil_s(r->retry_ms);
		rc = set_header(res, "Retry-After", "%lld", s > 0 ? s : 1, 0);
	}
	return rc;
}

int keel_ratelimit_refuse(keel_req_t *req, keel_res_t *res,
                          const keel_ratelimit_policy_t *p,
                          const keel_ratelimit_result_t *r)
{
	keel_errors_write(req, res, 429, "rate_limit", "too many requests");
	keel_ratelimit_headers(res, p, r);
	return 429;
}

/* ---------------------------------------------------------- middleware */

static uint32_t cost_of(const keel_mw_ratelimit_opts_t *o)
{
	return o->cost ? o->cost : 1;
}

/*
 * Fail open on errors: a limiter that cannot answer (a contended slot, a
 * backend outage later) would otherwise refuse every request to the site.
 */
static int rl_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	const keel_mw_ratelimit_opts_t *o = ud;
	uint8_t buf[KEEL_RATELIMIT_ADDR_KEY];
	keel_str_t key;
	keel_ratelimit_result_t r;
	if (!o || !o->limiter)
		return KEEL_NEXT;
	int rc = 0;
	if (o->key)
		rc = o->key(req, &key, o->key_ud);
	else
		key = (keel_str_t){
		        (const char *)buf,
		        keel_ratelimit_addr_key(keel_req_client(req), buf)};
	if (rc == 0)
		rc = keel_ratelimit_take(o->limiter, key, cost_of(o),
		                         keel_clock_now_ns(), &r);
	if (rc < 0) {
		if (rc != KEEL_ENOENT)
			KEEL_LOG_WARN("request %s: rate limit skipped: %s",
			              keel_req_id(req), keel_strerror(rc));
		return KEEL_NEXT;
	}
	const keel_ratelimit_policy_t *p = keel_ratelimit_policy(o->limiter);
	if (!r.allowed)
		return keel_ratelimit_refuse(req, res, p, &r);
	keel_ratelimit_headers(res, p, &r);
	return KEEL_NEXT;
}

keel_middleware_t keel_mw_ratelimit(const keel_mw_ratelimit_opts_t *opts)
{
	return (keel_middleware_t){
	        .name = "ratelimit",
	        .before = rl_before,
	        .ud = (void *)opts,
	};
}

/* --------------------------------------------------------------- login */

void keel_ratelimit_login_opts_init(keel_ratelimit_login_opts_t *opts)
{
	keel_ratelimit_opts_init(&opts->addr);
	keel_ratelimit_opts_init(&opts->account);
	opts->addr.limit = 10;
	opts->addr.window_ms = 60000;
	opts->account.limit = 5;
	opts->account.window_ms = 300000;
}

keel_ratelimit_login_t *
keel_ratelimit_login_new(const keel_ratelimit_login_opts_t *opts)
{
	keel_ratelimit_login_opts_t def;
	if (!opts) {
		keel_ratelimit_login_opts_init(&def);
		opts = &def;
	}
	keel_ratelimit_login_t *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->addr = keel_ratelimit_new(&opts->addr);
	l->account = keel_ratelimit_new(&opts->account);
	if (!l->addr || !l->account) {
		keel_ratelimit_login_free(l);
		return NULL;
	}
	randombytes_buf(l->key, sizeof(l->key));
	return l;
}

void keel_ratelimit_login_free(keel_ratelimit_login_t *l)
{
	if (!l)
		return;
	keel_ratelimit_free(l->addr);
	keel_ratelimit_free(l->account);
	sodium_memzero(l->key, sizeof(l->key));
	free(l);
}

/*
 * "Alice@Example.com " and "alice@example.com" are one account to most
 * sign-in forms, so they share a bucket; the keyed hash keeps names out of
 * the shared table (and out of a Redis backend later).
 */
static void account_key(const keel_ratelimit_login_t *l, keel_str_t account,
                        unsigned char out[16])
{
	crypto_generichash_state st;
	unsigned char chunk[64];
	keel_str_t s = keel_str_trim(account);
	crypto_generichash_init(&st, l->key, sizeof(l->key), 16);
	for (size_t i = 0; i < s.len;) {
		size_t n = 0;
		for (; n < sizeof(chunk) && i < s.len; n++, i++) {
			unsigned char c = (unsigned char)s.ptr[i];
			chunk[n] = c >= 'A' && c <= 'Z'
			                   ? (unsigned char)(c + 32)
			                   : c;
		}
		crypto_generichash_update(&st, chunk, n);
	}
	crypto_generichash_final(&st, out, 16);
}

/* The budget closer to running out is the one worth reporting. */
static const keel_ratelimit_result_t *tighter(const keel_ratelimit_result_t *a,
                                              const keel_ratelimit_result_t *b)
{
	if (a->remaining != b->remaining)
		return a->remaining < b->remaining ? a : b;
	return a->reset_ms >= b->reset_ms ? a : b;
}

int keel_ratelimit_login_check(keel_ratelimit_login_t *l, keel_req_t *req,
                               keel_res_t *res, keel_str_t account)
{
	uint8_t abuf[KEEL_RATELIMIT_ADDR_KEY];
	unsigned char kbuf[16];
	keel_ratelimit_result_t ra, rk;
	int64_t now = keel_clock_now_ns();
	keel_str_t akey = {(const char *)abuf,
	                   keel_ratelimit_addr_key(keel_req_client(req), abuf)};
	if (keel_ratelimit_take(l->addr, akey, 1, now, &ra) < 0)
		return KEEL_NEXT; /* fail open, as the middleware */
	if (!ra.allowed)
		return keel_ratelimit_refuse(req, res, &l->addr->policy, &ra);
	account_key(l, account, kbuf);
	keel_str_t kkey = {(const char *)kbuf, sizeof(kbuf)};
	if (keel_ratelimit_take(l->account, kkey, 1, now, &rk) < 0)
		rk = ra;
	if (!rk.allowed)
		return keel_ratelimit_refuse(req, res, &l->account->policy,
		                             &rk);
	const keel_ratelimit_result_t *r = tighter(&ra, &rk);
	keel_ratelimit_headers(
	        res, r == &ra ? &l->addr->policy : &l->account->policy, r);
	return KEEL_NEXT;
}
