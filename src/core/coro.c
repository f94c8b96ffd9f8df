/*
 * Stackful coroutines: a pool of guarded mmap'd stacks and a context switch.
 *
 * Layout of one stack mapping, low to high addresses:
 *
 *     [ guard, PROT_NONE ][ stack, grows down <- ][ struct keel_coro ]
 *
 * The coroutine's bookkeeping lives above its own stack, so creating a
 * coroutine from the pool's cache needs neither malloc nor mmap, and freeing
 * it is a list push.
 *
 * The switch saves only what the System V ABI says a callee must preserve:
 * rsp, rbx, rbp, r12-r15, the x87 control word and MXCSR.  Everything else is
 * caller-saved, so the compiler already spilled it around the call.  Other
 * architectures (or -DKEEL_CORO_UCONTEXT) use swapcontext, which is correct
 * but makes a sigprocmask system call on every switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "keel/coro.h"

#if defined(__x86_64__) && !defined(KEEL_CORO_UCONTEXT)
#define CORO_ASM 1
#else
#define CORO_ASM 0
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifndef CORO_ASAN
#define CORO_ASAN 0
#endif
#if CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/*
 * Below the stack: 16 KiB of PROT_NONE.  One page would catch a frame that
 * steps over the end by less than a page; a function with a bigger local
 * array can jump past a single page, so the guard is wider than that (it
 * costs address space only).  -fstack-clash-protection closes the rest.
 */
#define GUARD_BYTES ((size_t)16 * 1024)

enum coro_state { CORO_READY, CORO_SUSPENDED, CORO_RUNNING, CORO_DONE };

#if CORO_ASM
typedef struct coro_ctx {
	void *sp; /* everything else was pushed onto the stack at sp */
} coro_ctx_t;

/* Saves the running context into *from and continues the one in *to. */
__attribute__((visibility("hidden"))) void
keel__coro_switch(coro_ctx_t *from, const coro_ctx_t *to);

/*
 * rdi = from, rsi = to.  The callee-saved registers and the two floating-point
 * control registers go onto the current stack, its rsp into from->sp; then
 * the same is undone from to->sp and `ret` continues where `to` left off.
 * 8 bytes hold MXCSR (low 4) and the x87 control word (next 2).  Loading
 * them is slow-ish (ldmxcsr and fldcw stall the FP pipeline) and their
 * control bits almost never differ between coroutines, so each is loaded
 * only when they do.  MXCSR's low 6 bits are sticky exception flags, which
 * the ABI does not preserve across calls; they are left out of the test.
 */
__asm__(".pushsection .text\n"
        ".globl keel__coro_switch\n"
        ".hidden keel__coro_switch\n"
        ".type keel__coro_switch, @function\n"
        ".p2align 4\n"
        "keel__coro_switch:\n"
        "	pushq %rbp\n"
        "	pushq %rbx\n"
        "	pushq %r12\n"
        "	pushq %r13\n"
        "	pushq %r14\n"
        "	pushq %r15\n"
        "	subq $8, %rsp\n"
        "	stmxcsr (%rsp)\n"
        "	fnstcw 4(%rsp)\n"
        "	movl (%rsp), %eax\n"
        "	movzwl 4(%rsp), %ecx\n"
        "	movq %rsp, (%rdi)\n"
        "	movq (%rsi), %rsp\n"
        "	movl (%rsp), %edx\n"
        "	xorl %eax, %edx\n"
        "	testl $0xffc0, %edx\n"
        "	jz 1f\n"
        "	ldmxcsr (%rsp)\n"
        "1:	cmpw 4(%rsp), %cx\n"
        "	je 2f\n"
        "	fldcw 4(%rsp)\n"
        "2:	addq $8, %rsp\n"
        "	popq %r15\n"
        "	popq %r14\n"
        "	popq %r13\n"
        "	popq %r12\n"
        "	popq %rbx\n"
        "	popq %rbp\n"
        "	ret\n"
        ".size keel__coro_switch, .-keel__coro_switch\n"
        ".popsection\n");
#else
typedef ucontext_t coro_ctx_t;
#endif

struct keel_coro {
	coro_ctx_t ctx;         /* this coroutine while it is not running */
	coro_ctx_t caller;      /* its resumer while it is running */
	keel_coro_pool_t *pool; /* owner of the stack */
	keel_coro_t *resumer; /* current coroutine to restore on the way back */
	keel_coro_t *next_cached; /* link in the pool's cache */
	keel_coro_fn_t *fn;
	void *arg;
	intptr_t in;  /* value of the last resume */
	intptr_t out; /* value of the last yield, then fn's result */
	enum coro_state state;
#if CORO_ASAN
	const void *caller_bottom; /* the resumer's stack, told to ASan */
	size_t caller_size;
#endif
};

struct keel_coro_pool {
	size_t stack_size; /* usable bytes, whole pages */
	size_t guard;      /* PROT_NONE bytes below the stack */
	size_t max_cached;
	keel_coro_t *cached;
	keel_coro_pool_stats_t stats;
	const void *owner; /* the creating thread's tls_tag */
	bool closing;      /* pool_free was called while coroutines lived */
};

/* The coroutine running on this thread; NULL on the thread's own stack. */
static _Thread_local keel_coro_t *tls_current;
/* Its address differs per thread, which makes it a cheap owner check. */
static _Thread_local char tls_tag;

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static char *stack_bottom(const keel_coro_t *co)
{
	return (char *)co - co->pool->stack_size;
}

/* Maps guard + stack + header; the header is the returned coroutine. */
static keel_coro_t *stack_map(keel_coro_pool_t *pool)
{
	size_t head = round_up(sizeof(keel_coro_t), (size_t)getpagesize());
	size_t len = pool->guard + pool->stack_size + head;
	char *base = mmap(
	        NULL, len, PROT_READ | PROT_WRITE,
	        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base, pool->guard, PROT_NONE) != 0) {
		munmap(base, len);
		return NULL;
	}
	pool->stats.mapped++;
	return (keel_coro_t *)(void *)(base + pool->guard + pool->stack_size);
}

static void stack_unmap(keel_coro_pool_t *pool, keel_coro_t *co)
{
	size_t head = round_up(sizeof(keel_coro_t), (size_t)getpagesize());
	munmap(stack_bottom(co) - pool->guard,
	       pool->guard + pool->stack_size + head);
}

/*
 * A stack whose coroutine stopped mid-call still carries ASan's poisoned
 * redzones of the frames that never returned; a later coroutine on the same
 * memory would trip over them, so the shadow is cleared first.
 */
static void stack_release(keel_coro_pool_t *pool, keel_coro_t *co)
{
#if CORO_ASAN
	__asan_unpoison_memory_region(stack_bottom(co), pool->stack_size);
#endif
	if (!pool->closing && pool->stats.cached < pool->max_cached) {
		co->next_cached = pool->cached;
		pool->cached = co;
		pool->stats.cached++;
	} else {
		stack_unmap(pool, co);
	}
}

static void pool_drain(keel_coro_pool_t *pool)
{
	while (pool->cached) {
		keel_coro_t *co = pool->cached;
		pool->cached = co->next_cached;
		stack_unmap(pool, co);
	}
	pool->stats.cached = 0;
}

/*
 * Sanitizers roughly double stack frames (redzones around every local whose
 * address escapes), so the default doubles with them.
 */
static size_t default_stack_size(void)
{
	return CORO_ASAN ? 2 * KEEL_CORO_STACK_DEFAULT
	                 : KEEL_CORO_STACK_DEFAULT;
}

keel_coro_pool_t *keel_coro_pool_new(size_t stack_size, size_t max_cached)
{
	if (stack_size > KEEL_CORO_STACK_MAX) {
		errno = EINVAL;
		return NULL;
	}
	size_t page = (size_t)getpagesize();
	if (stack_size == 0)
		stack_size = default_stack_size();
	if (stack_size < KEEL_CORO_STACK_MIN)
		stack_size = KEEL_CORO_STACK_MIN;
	keel_coro_pool_t *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->stack_size = round_up(stack_size, page);
	pool->guard = round_up(GUARD_BYTES, page);
	pool->max_cached = max_cached;
	pool->owner = &tls_tag;
	return pool;
}

void keel_coro_pool_free(keel_coro_pool_t *pool)
{
	if (!pool)
		return;
	pool->closing = true;
	pool_drain(pool);
	if (pool->stats.live == 0)
		free(pool);
}

size_t keel_coro_pool_stack_size(const keel_coro_pool_t *pool)
{
	return pool ? pool->stack_size : 0;
}

keel_coro_pool_stats_t keel_coro_pool_stats(const keel_coro_pool_t *pool)
{
	keel_coro_pool_stats_t none = {0, 0, 0};
	return pool ? pool->stats : none;
}

/* ---------------------------------------------------------- switching */

/*
 * Each switch is announced to ASan, which otherwise sees the stack pointer
 * jump into memory it does not know as a stack and reports false errors.
 * `fake` keeps the fake stack (use-after-return detection) of the side being
 * left; NULL for a coroutine that will never come back.
 */
static void switch_in(keel_coro_t *co)
{
#if CORO_ASAN
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, stack_bottom(co),
	                               co->pool->stack_size);
#endif
#if CORO_ASM
	keel__coro_switch(&co->caller, &co->ctx);
#else
	swapcontext(&co->caller, &co->ctx);
#endif
#if CORO_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* Back to the resumer; does not return when `finishing`. */
static void switch_out(keel_coro_t *co, bool finishing)
{
#if CORO_ASAN
	void *fake = NULL;
	__sanitizer_start_switch_fiber(finishing ? NULL : &fake,
	                               co->caller_bottom, co->caller_size);
#else
	(void)finishing;
#endif
#if CORO_ASM
	keel__coro_switch(&co->ctx, &co->caller);
#else
	swapcontext(&co->ctx, &co->caller);
#endif
#if CORO_ASAN
	__sanitizer_finish_switch_fiber(fake, &co->caller_bottom,
	                                &co->caller_size);
#endif
}

/*
 * First code on a new stack.  It is reached by the switch's `ret` (or by
 * makecontext), never called, so it finds its coroutine in tls_current, and
 * it must not return: there is nothing to return to.
 */
_Noreturn static void coro_entry(void)
{
	keel_coro_t *co = tls_current;
#if CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &co->caller_bottom,
	                                &co->caller_size);
#endif
	co->out = co->fn(co->arg);
	co->state = CORO_DONE;
	switch_out(co, true);
	abort();
}

/*
 * Builds the stack the first switch_in pops: zeroed callee-saved registers,
 * the creator's floating-point control words, `ret` into coro_entry with the
 * stack aligned as if it had been called, and a zero return address above
 * that to end backtraces.
 */
static void ctx_init(keel_coro_t *co)
{
#if CORO_ASM
	uint32_t mxcsr;
	uint16_t fpucw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fpucw));
	uint64_t *sp = (uint64_t *)((uintptr_t)co & ~(uintptr_t)15);
	*--sp = 0;
	*--sp = (uint64_t)(uintptr_t)coro_entry;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	*--sp = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
	co->ctx.sp = sp;
#else
	getcontext(&co->ctx);
	co->ctx.uc_stack.ss_sp = stack_bottom(co);
	co->ctx.uc_stack.ss_size = co->pool->stack_size;
	co->ctx.uc_link = NULL;
	makecontext(&co->ctx, coro_entry, 0);
#endif
}

/* ---------------------------------------------------------- public API */

keel_coro_t *keel_coro_new(keel_coro_pool_t *pool, keel_coro_fn_t *fn,
                           void *arg)
{
	if (!pool || !fn || pool->closing) {
		errno = EINVAL;
		return NULL;
	}
	if (pool->owner != &tls_tag) {
		errno = EPERM;
		return NULL;
	}
	keel_coro_t *co = pool->cached;
	if (co) {
		pool->cached = co->next_cached;
		pool->stats.cached--;
	} else if (!(co = stack_map(pool))) {
		errno = ENOMEM;
		return NULL;
	}
	*co = (keel_coro_t){.pool = pool, .fn = fn, .arg = arg};
	co->state = CORO_READY;
	ctx_init(co);
	pool->stats.live++;
	return co;
}

/*
 * The resumer stays the "current" coroutine's parent until the coroutine
 * yields or finishes; both come back here, which is the one place that
 * restores tls_current.
 */
int keel_coro_resume(keel_coro_t *co, intptr_t value)
{
	if (!co)
		return KEEL_EINVAL;
	if (co->state == CORO_DONE || co->state == CORO_RUNNING ||
	    co->pool->owner != &tls_tag)
		return KEEL_ESTATE;
	co->in = value;
	co->resumer = tls_current;
	co->state = CORO_RUNNING;
	tls_current = co;
	switch_in(co);
	tls_current = co->resumer;
	return co->state == CORO_DONE ? KEEL_CORO_FINISHED : KEEL_CORO_YIELDED;
}

intptr_t keel_coro_yield(intptr_t value)
{
	keel_coro_t *co = tls_current;
	if (!co)
		return KEEL_ESTATE;
	co->out = value;
	co->state = CORO_SUSPENDED;
	switch_out(co, false);
	return co->in;
}

keel_coro_t *keel_coro_current(void)
{
	return tls_current;
}

bool keel_coro_done(const keel_coro_t *co)
{
	return co && co->state == CORO_DONE;
}

intptr_t keel_coro_value(const keel_coro_t *co)
{
	return co ? co->out : 0;
}

int keel_coro_free(keel_coro_t *co)
{
	if (!co)
		return KEEL_OK;
	keel_coro_pool_t *pool = co->pool;
	if (co->state == CORO_RUNNING || pool->owner != &tls_tag)
		return KEEL_ESTATE;
	pool->stats.live--;
	stack_release(pool, co);
	if (pool->closing && pool->stats.live == 0)
		free(pool);
	return KEEL_OK;
}
