/*
 * Password hashing: argon2id through libsodium, PHC strings, a process-wide
 * cost policy with a dummy hash for unknown users, and the offload to the
 * worker's thread pool that keeps a login from stalling the event loop.
 */
#include "keel/password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "keel/server.h"

/* The policy and its dummy hash; `ready` once either was set. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool ready;
	keel_password_params_t params;
	char dummy[KEEL_PASSWORD_HASH_MAX];
} state;

/* One unit of work for the thread pool: inputs, output, result. */
typedef struct pw_job {
	keel_str_t pw;
	const char *phc; /* verify: NUL-terminated, < KEEL_PASSWORD_HASH_MAX */
	char *out;       /* hash: KEEL_PASSWORD_HASH_MAX bytes */
	keel_password_params_t params;
	int rc;
} pw_job_t;

_Static_assert(KEEL_PASSWORD_HASH_MAX == crypto_pwhash_argon2id_STRBYTES,
               "PHC buffer size must match libsodium's");

void keel_password_params_default(keel_password_params_t *p)
{
	p->memory = KEEL_PASSWORD_MIN_MEMORY;
	p->passes = KEEL_PASSWORD_MIN_PASSES;
}

/*
 * The floor is OWASP's minimum; the ceiling keeps a typo (or a tampered
 * stored hash, see phc_bounds_ok) from asking for terabytes.
 */
static bool params_ok(const keel_password_params_t *p)
{
	return p->memory >= KEEL_PASSWORD_MIN_MEMORY &&
	       p->memory <= KEEL_PASSWORD_MAX_MEMORY && p->memory % 1024 == 0 &&
	       p->passes >= KEEL_PASSWORD_MIN_PASSES &&
	       p->passes <= KEEL_PASSWORD_MAX_PASSES;
}

/* sodium_init is idempotent and thread-safe; -1 only if it cannot start. */
static int sodium_ready(void)
{
	return sodium_init() < 0 ? KEEL_ENOMEM : KEEL_OK;
}

static int raw_hash(keel_str_t pw, const keel_password_params_t *p,
                    char out[KEEL_PASSWORD_HASH_MAX])
{
	if (crypto_pwhash_str_alg(out, pw.ptr ? pw.ptr : "", pw.len, p->passes,
	                          (size_t)p->memory,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0)
		return KEEL_ENOMEM; /* libsodium only fails to allocate here */
	return KEEL_OK;
}

/*
 * The dummy hash is of 32 random bytes nobody knows, made with the same
 * parameters as real hashes so verifying against it takes as long.  It is
 * computed outside the lock (tens of ms); `if_unset` makes the lazy default
 * lose against an explicit setup that raced it.
 */
static int setup(const keel_password_params_t *p, bool if_unset)
{
	keel_password_params_t params;
	unsigned char secret[32];
	char dummy[KEEL_PASSWORD_HASH_MAX];

	if (p)
		params = *p;
	else
		keel_password_params_default(&params);
	if (!params_ok(&params))
		return KEEL_EINVAL;
	if (sodium_ready() < 0)
		return KEEL_ENOMEM;
	randombytes_buf(secret, sizeof(secret));
	int rc = raw_hash((keel_str_t){(const char *)secret, sizeof(secret)},
	                  &params, dummy);
	sodium_memzero(secret, sizeof(secret));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&state_lock);
	if (!(if_unset && state.ready)) {
		state.params = params;
		memcpy(state.dummy, dummy, sizeof(dummy));
		state.ready = true;
	}
	pthread_mutex_unlock(&state_lock);
	return KEEL_OK;
}

int keel_password_setup(const keel_password_params_t *p)
{
	return setup(p, false);
}

/* Copy the policy (and the dummy hash when `dummy` is set), lazily set. */
static int state_get(keel_password_params_t *p, char *dummy)
{
	for (;;) {
		pthread_mutex_lock(&state_lock);
		bool ready = state.ready;
		if (ready) {
			*p = state.params;
			if (dummy)
				memcpy(dummy, state.dummy, sizeof(state.dummy));
		}
		pthread_mutex_unlock(&state_lock);
		if (ready)
			return KEEL_OK;
		int rc = setup(NULL, true);
		if (rc < 0)
			return rc;
	}
}

void keel_password_params_get(keel_password_params_t *p)
{
	if (state_get(p, NULL) < 0)
		keel_password_params_default(p);
}

/* ------------------------------------------------------------ PHC strings */

static bool eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* A decimal without sign or leading zero, at most `max`. */
static bool eat_uint(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	*s = p;
	*out = v;
	return true;
}

/*
 * Standard-alphabet base64 without padding, up to the next '$' or the
 * end, that decodes to exactly `want` bytes and is canonical (libsodium
 * refuses stray low bits, so each byte string has one spelling).  The
 * alphabet is checked here first: libsodium 1.0.18 decodes bytes >= 0x80
 * as if they were valid characters.
 */
static bool eat_b64(const char **s, size_t want)
{
	unsigned char bin[64];
	size_t n = strcspn(*s, "$"), got = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(*s)[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	if (want > sizeof(bin) ||
	    n != sodium_base64_ENCODED_LEN(
	                 want, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) -
	                    1)
		return false;
	if (sodium_base642bin(bin, sizeof(bin), *s, n, NULL, &got, NULL,
	                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    got != want)
		return false;
	*s += n;
	return true;
}

/*
 * Strict reading of the only shape keel writes.  Memory and passes are
 * bounded by the MAX constants: a stored string is data, and data from a
 * database should not be able to make the server allocate gigabytes.
 */
int keel_password_phc_params(const char *phc, keel_password_params_t *p)
{
	const char *s = phc;
	uint64_t m, t;

	if (!phc ||
	    strnlen(phc, KEEL_PASSWORD_HASH_MAX) >= KEEL_PASSWORD_HASH_MAX)
		return KEEL_EINVAL;
	if (!eat(&s, "$argon2id$v=19$m=") ||
	    !eat_uint(&s, KEEL_PASSWORD_MAX_MEMORY / 1024, &m) ||
	    !eat(&s, ",t=") || !eat_uint(&s, KEEL_PASSWORD_MAX_PASSES, &t) ||
	    !eat(&s, ",p=1$") || !eat_b64(&s, crypto_pwhash_SALTBYTES) ||
	    !eat(&s, "$") || !eat_b64(&s, 32) || *s != '\0')
		return KEEL_EINVAL;
	if (m < 8 || t < 1) /* argon2's own floor for one lane */
		return KEEL_EINVAL;
	if (p) {
		p->memory = m * 1024;
		p->passes = (uint32_t)t;
	}
	return KEEL_OK;
}

bool keel_password_needs_rehash(const char *phc,
                                const keel_password_params_t *p)
{
	keel_password_params_t want, have;

	if (p)
		want = *p;
	else
		keel_password_params_get(&want);
	if (keel_password_phc_params(phc, &have) < 0)
		return true;
	return have.memory != want.memory || have.passes != want.passes;
}

/* ---------------------------------------------------------------- workers */

static void job_hash(void *arg)
{
	pw_job_t *job = arg;
	job->rc = raw_hash(job->pw, &job->params, job->out);
}

/*
 * The string was validated and copied into a full-size buffer, since
 * libsodium's prototype promises it STRBYTES readable bytes.
 */
static void job_verify(void *arg)
{
	pw_job_t *job = arg;
	char buf[KEEL_PASSWORD_HASH_MAX] = {0};

	memcpy(buf, job->phc, strlen(job->phc));
	job->rc = crypto_pwhash_argon2id_str_verify(
	                  buf, job->pw.ptr ? job->pw.ptr : "", job->pw.len) == 0
	                  ? KEEL_OK
	                  : KEEL_EINVAL;
}

/*
 * keel_offload fails (queue full, worker closing) without running the job
 * or with its result unknown: its code wins over the job's.
 */
static int run_job(void (*fn)(void *), pw_job_t *job)
{
	job->rc = KEEL_EIO;
	int rc = keel_offload(fn, job);
	return rc < 0 ? rc : job->rc;
}

int keel_password_hash(keel_str_t pw, char out[KEEL_PASSWORD_HASH_MAX])
{
	pw_job_t job = {.pw = pw, .out = out};

	if (pw.len > KEEL_PASSWORD_MAX)
		return KEEL_ELIMIT;
	int rc = state_get(&job.params, NULL);
	if (rc < 0)
		return rc;
	return run_job(job_hash, &job);
}

int keel_password_verify(keel_str_t pw, const char *phc)
{
	pw_job_t job = {.pw = pw, .phc = phc};

	if (pw.len > KEEL_PASSWORD_MAX)
		return KEEL_ELIMIT;
	if (keel_password_phc_params(phc, NULL) < 0 || sodium_ready() < 0)
		return KEEL_EINVAL;
	return run_job(job_verify, &job);
}

int keel_password_dummy_verify(keel_str_t pw)
{
	keel_password_params_t params;
	char dummy[KEEL_PASSWORD_HASH_MAX];

	if (pw.len > KEEL_PASSWORD_MAX)
		return KEEL_ELIMIT;
	int rc = state_get(&params, dummy);
	if (rc < 0)
		return rc;
	rc = keel_password_verify(pw, dummy);
	return rc == KEEL_OK ? KEEL_EINVAL : rc;
}
