/*
 * The database handle: URL parsing, the connection pool, and lending
 * connections to requests.
 *
 * The pool is small and bounded: a worker serves many requests at once on
 * coroutines, but only a few can usefully talk to one SQLite file at a
 * time, and every open connection costs memory and a statement cache.
 * Connections are opened on demand up to pool_size and kept.  When all
 * are lent out, a borrower queues (first come, first served) and waits on
 * its own eventfd with keel_wait_fd, so a coroutine yields to the event
 * loop instead of blocking the worker; keel_db_release hands the
 * connection straight to the oldest waiter and wakes it.  The mutex makes
 * the same pool safe for plain threads (tools, tests); in a worker it is
 * never contended and never held across a wait.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "data/driver.h"
#include "http/conn.h"
#include "keel/clock.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/server.h"

#define POOL_MAX 1024

struct keel__db_waiter {
	keel__db_waiter_t *next;
	keel_db_conn_t *conn; /* set by the releasing side */
	int fd;
};

/* ------------------------------------------------------------ errors */

void keel__db_set_error(keel_db_conn_t *c, const char *msg)
{
	if (!msg)
		msg = c->db->drv->errmsg(c->h);
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg);
}

int keel__db_fail(keel_db_conn_t *c, int rc)
{
	if (rc >= 0)
		return rc;
	keel__db_set_error(c, NULL);
	if (rc == KEEL_AGAIN) {
		c->retryable = true;
		return KEEL_ETIMEDOUT;
	}
	return rc;
}

const char *keel_db_errmsg(const keel_db_conn_t *conn)
{
	return conn ? conn->errmsg : "";
}

/* --------------------------------------------------------- URL, opts */

static int fail_open(keel_db_error_t *err, const char *msg)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return KEEL_EINVAL;
}

/*
 * What the driver opens.  A private in-memory database must be shared by
 * the pool's connections (each plain ":memory:" connection would see its
 * own empty database), so it becomes a named shared-cache URI, unique per
 * keel_db_open so two handles never see each other's tables.  Relative
 * paths get "./" so SQLite never takes a path for a "file:" URI.
 */
static int parse_url(const char *url, char **target, keel_db_error_t *err)
{
	static atomic_uint memdb_counter;
	char buf[4096];
	if (!url)
		return fail_open(err, "no database URL");
	if (strcmp(url, "sqlite::memory:") == 0) {
		snprintf(buf, sizeof(buf),
		         "file:keelmem-%ld-%u?mode=memory&cache=shared",
		         (long)getpid(), atomic_fetch_add(&memdb_counter, 1));
	} else if (strncmp(url, "sqlite://", 9) == 0) {
		const char *path = url + 9;
		if (!*path)
			return fail_open(err, "sqlite URL without a path");
		int n = snprintf(buf, sizeof(buf), "%s%s",
		                 path[0] == '/' ? "" : "./", path);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return fail_open(err, "sqlite path too long");
	} else if (strncmp(url, "postgres://", 11) == 0 ||
	           strncmp(url, "postgresql://", 13) == 0) {
		return fail_open(err, "PostgreSQL driver not built yet");
	} else {
		/* The URL is not echoed: it may carry a password. */
		return fail_open(err, "unknown database URL scheme (use "
		                      "sqlite:///path or sqlite::memory:)");
	}
	*target = strdup(buf);
	return *target ? KEEL_OK : KEEL_ENOMEM;
}

static int64_t pick(int64_t v, int64_t dflt)
{
	return v ? v : dflt;
}

static int resolve_opts(const keel_db_opts_t *in, keel_db_opts_t *o)
{
	*o = in ? *in : (keel_db_opts_t){0};
	if (o->pool_size < 0 || o->pool_size > POOL_MAX ||
	    o->pool_wait_ms < 0 || o->busy_timeout_ms < 0 ||
	    o->busy_timeout_ms > INT32_MAX || o->tx_attempts < 0 ||
	    o->stmt_cache < 0 || o->busy_retry_ms < 0 ||
	    (o->sync != KEEL_DB_SYNC_FULL && o->sync != KEEL_DB_SYNC_NORMAL) ||
	    (o->commit != KEEL_DB_COMMIT_GROUP &&
	     o->commit != KEEL_DB_COMMIT_EACH))
		return KEEL_EINVAL;
	o->pool_size = (int)pick(o->pool_size, 16);
	o->pool_wait_ms = pick(o->pool_wait_ms, 5000);
	o->busy_timeout_ms = pick(o->busy_timeout_ms, 50);
	o->tx_attempts = (int)pick(o->tx_attempts, 5);
	o->stmt_cache = (int)pick(o->stmt_cache, 64);
	o->slow_ms = pick(o->slow_ms, 200);
	o->busy_retry_ms = pick(o->busy_retry_ms, 2000);
	return KEEL_OK;
}

/* ------------------------------------------------------- connections */

void keel__db_conn_free(keel_db_conn_t *c)
{
	keel__db_rows_close_all(c);
	keel__db_rows_free_spare(c);
	keel__db_cache_deinit(&c->cache, c->db->drv);
	if (c->h)
		c->db->drv->close(c->h);
	free(c);
}

int keel__db_conn_open(keel_db_t *db, keel_db_conn_t **out, char *err,
                       size_t errlen)
{
	keel_db_conn_t *c = calloc(1, sizeof(*c));
	if (!c)
		return KEEL_ENOMEM;
	c->db = db;
	c->rng = (uint64_t)(uintptr_t)c ^ (uint64_t)keel_clock_now_ns();
	int rc = keel__db_cache_init(&c->cache, db->opts.stmt_cache);
	if (rc == KEEL_OK)
		rc = db->drv->open(db->target, &db->opts, &c->h, err, errlen);
	if (rc < 0) {
		keel__db_conn_free(c);
		return rc;
	}
	c->seen_changes = db->drv->total_changes(c->h);
	*out = c;
	return KEEL_OK;
}

void keel_db_on_commit(keel_db_t *db, void (*fn)(void *ud), void *ud)
{
	if (!db)
		return;
	db->on_commit = fn;
	db->on_commit_ud = ud;
}

void keel__db_settled(keel_db_conn_t *c)
{
	keel_db_t *db = c->db;
	if (c->tx_depth > 0 || db->drv->in_tx(c->h))
		return;
	int64_t total = db->drv->total_changes(c->h);
	if (total == c->seen_changes)
		return;
	c->seen_changes = total;
	if (db->on_commit)
		db->on_commit(db->on_commit_ud);
}

static void db_free(keel_db_t *db)
{
	free(db->conns);
	free(db->target);
	free(db);
}

/* The first connection is opened now: a bad path fails here, and a
 * memory database lives as long as one connection holds it. */
static int db_start(keel_db_t *db, keel_db_error_t *err)
{
	db->conns = calloc((size_t)db->opts.pool_size, sizeof(*db->conns));
	if (!db->conns)
		return KEEL_ENOMEM;
	int rc = keel__db_conn_open(db, &db->conns[0], err->msg,
	                            sizeof(err->msg));
	if (rc < 0)
		return rc;
	if (pthread_mutex_init(&db->mu, NULL) != 0) {
		keel__db_conn_free(db->conns[0]);
		return KEEL_ENOMEM;
	}
	db->free = db->conns[0];
	db->nconns = 1;
	return KEEL_OK;
}

keel_db_t *keel_db_open(const char *url, const keel_db_opts_t *opts,
                        keel_db_error_t *err)
{
	keel_db_error_t scratch;
	if (!err)
		err = &scratch;
	err->msg[0] = '\0';
	keel_db_t *db = calloc(1, sizeof(*db));
	if (!db) {
		fail_open(err, "out of memory");
		return NULL;
	}
	db->drv = &keel__db_sqlite;
	keel__db_group_init(db);
	int rc = resolve_opts(opts, &db->opts);
	if (rc < 0)
		fail_open(err, "bad database options");
	else
		rc = parse_url(url, &db->target, err);
	if (rc == KEEL_OK)
		rc = db_start(db, err);
	if (rc < 0) {
		if (!err->msg[0])
			fail_open(err, keel_strerror(rc));
		db_free(db);
		return NULL;
	}
	return db;
}

void keel_db_close(keel_db_t *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->nconns; i++) {
		if (db->conns[i]->borrowed)
			KEEL_LOG_WARN(
			        "db: closing a connection still lent out");
		keel__db_conn_free(db->conns[i]);
	}
	keel__db_group_close(db);
	pthread_mutex_destroy(&db->mu);
	db_free(db);
}

const char *keel_db_driver(const keel_db_t *db)
{
	return db ? db->drv->name : "";
}

/* ------------------------------------------------------------- pool */

static int lend(keel_db_conn_t *c, keel_db_conn_t **out)
{
	c->borrowed = true;
	c->retryable = false;
	c->errmsg[0] = '\0';
	memset(&c->stats, 0, sizeof(c->stats));
	*out = c;
	return KEEL_OK;
}

static void waiter_unlink(keel_db_t *db, keel__db_waiter_t *w)
{
	keel__db_waiter_t *prev = NULL;
	for (keel__db_waiter_t *p = db->wait_head; p; prev = p, p = p->next) {
		if (p != w)
			continue;
		if (prev)
			prev->next = p->next;
		else
			db->wait_head = p->next;
		if (db->wait_tail == p)
			db->wait_tail = prev;
		return;
	}
}

/* Called with the mutex held; returns with it released.  The waiter
 * lives on this stack frame, which stays put while the coroutine sleeps. */
static int wait_for_conn(keel_db_t *db, keel_db_conn_t **out)
{
	keel__db_waiter_t w = {.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
	if (w.fd < 0) {
		pthread_mutex_unlock(&db->mu);
		return KEEL_EIO;
	}
	if (db->wait_tail)
		db->wait_tail->next = &w;
	else
		db->wait_head = &w;
	db->wait_tail = &w;
	pthread_mutex_unlock(&db->mu);
	int64_t deadline =
	        keel_clock_now_ns() + db->opts.pool_wait_ms * KEEL_NS_PER_MS;
	for (;;) {
		int64_t left = deadline - keel_clock_now_ns();
		int rc = left > 0 ? keel_wait_fd(w.fd, KEEL_IO_READ,
		                                 left / KEEL_NS_PER_MS + 1)
		                  : KEEL_ETIMEDOUT;
		pthread_mutex_lock(&db->mu);
		if (w.conn || rc < 0) {
			if (!w.conn)
				waiter_unlink(db, &w);
			pthread_mutex_unlock(&db->mu);
			close(w.fd);
			return w.conn ? lend(w.conn, out) : KEEL_ELIMIT;
		}
		pthread_mutex_unlock(&db->mu);
	}
}

int keel_db_acquire(keel_db_t *db, keel_db_conn_t **out)
{
	if (!db || !out)
		return KEEL_EINVAL;
	*out = NULL;
	pthread_mutex_lock(&db->mu);
	keel_db_conn_t *c = db->free;
	if (c) {
		db->free = c->next_free;
		pthread_mutex_unlock(&db->mu);
		return lend(c, out);
	}
	if (db->nconns >= db->opts.pool_size)
		return wait_for_conn(db, out);
	char err[256];
	int rc = keel__db_conn_open(db, &c, err, sizeof(err));
	if (rc == KEEL_OK)
		db->conns[db->nconns++] = c;
	pthread_mutex_unlock(&db->mu);
	if (rc < 0) {
		KEEL_LOG_ERROR("db: cannot open a pool connection: %s", err);
		return rc;
	}
	return lend(c, out);
}

/*
 * Whatever the borrower left behind is undone here, so the next borrower
 * starts clean: cursors closed (their statements reset), an open
 * transaction rolled back.  Then the oldest waiter gets the connection
 * directly, so a newcomer cannot overtake it.
 */
void keel_db_release(keel_db_conn_t *c)
{
	if (!c || !c->borrowed)
		return;
	keel_db_t *db = c->db;
	keel__db_rows_close_all(c);
	if (c->tx_depth > 0 || db->drv->in_tx(c->h))
		db->drv->exec(c->h, "ROLLBACK");
	c->tx_depth = 0;
	keel__db_settled(c);
	c->borrowed = false;
	pthread_mutex_lock(&db->mu);
	keel__db_waiter_t *w = db->wait_head;
	if (w) {
		db->wait_head = w->next;
		if (!db->wait_head)
			db->wait_tail = NULL;
		w->conn = c;
		c->borrowed = true;
		uint64_t one = 1;
		if (write(w->fd, &one, sizeof(one)) < 0)
			KEEL_LOG_ERROR("db: cannot wake a pool waiter");
	} else {
		c->next_free = db->free;
		db->free = c;
	}
	pthread_mutex_unlock(&db->mu);
}

int64_t keel_db_last_id(const keel_db_conn_t *conn)
{
	return conn ? conn->last_id : 0;
}

keel_db_stats_t keel_db_conn_stats(const keel_db_conn_t *conn)
{
	return conn ? conn->stats : (keel_db_stats_t){0};
}

/* ------------------------------------------------------ per request */

/* What one request borrowed, in its arena, found through req->db_conn. */
typedef struct req_binding {
	struct req_binding *next;
	keel_db_t *db;
	keel_db_conn_t *conn;  /* NULL once given back */
	keel_db_stats_t spent; /* of connections already given back */
} req_binding_t;

typedef struct req_db {
	keel_req_t *req;
	req_binding_t *list;
	uint64_t reported; /* queries already in Server-Timing */
	int64_t reported_ns;
} req_db_t;

void keel__db_stats_add(keel_db_stats_t *to, const keel_db_stats_t *s)
{
	to->queries += s->queries;
	to->total_ns += s->total_ns;
	to->cache_hits += s->cache_hits;
	to->cache_misses += s->cache_misses;
}

static void give_back(req_binding_t *b)
{
	if (!b->conn)
		return;
	keel__db_stats_add(&b->spent, &b->conn->stats);
	keel_db_release(b->conn);
	b->conn = NULL;
}

/* Arena cleanup: the request is over, whatever it still holds goes back
 * (also when the client vanished mid-request). */
static void req_db_end(void *arg)
{
	req_db_t *r = arg;
	for (req_binding_t *b = r->list; b; b = b->next)
		give_back(b);
	r->req->db_conn = NULL;
}

static req_db_t *req_db_get(keel_req_t *req)
{
	if (req->db_conn)
		return req->db_conn;
	keel_arena_t *a = keel_req_arena(req);
	req_db_t *r = keel_arena_calloc(a, 1, sizeof(*r));
	if (!r || keel_arena_defer(a, req_db_end, r) < 0)
		return NULL;
	r->req = req;
	req->db_conn = r;
	return r;
}

/* The binding is registered before the connection is borrowed, so the
 * cleanup that gives it back is in place whatever happens next. */
keel_db_conn_t *keel_req_db(keel_req_t *req, keel_db_t *db)
{
	req_db_t *r = req && db ? req_db_get(req) : NULL;
	if (!r)
		return NULL;
	req_binding_t *b = r->list;
	while (b && b->db != db)
		b = b->next;
	if (b && b->conn)
		return b->conn;
	if (!b) {
		b = keel_arena_calloc(keel_req_arena(req), 1, sizeof(*b));
		if (!b)
			return NULL;
		b->db = db;
		b->next = r->list;
		r->list = b;
	}
	if (keel_db_acquire(db, &b->conn) < 0) {
		KEEL_LOG_WARN("db: no connection for request %s",
		              keel_req_id(req));
		return NULL;
	}
	return b->conn;
}

keel_db_stats_t keel_req_db_stats(const keel_req_t *req)
{
	keel_db_stats_t s = {0};
	const req_db_t *r = req ? req->db_conn : NULL;
	for (req_binding_t *b = r ? r->list : NULL; b; b = b->next) {
		keel__db_stats_add(&s, &b->spent);
		if (b->conn)
			keel__db_stats_add(&s, &b->conn->stats);
	}
	return s;
}

void keel_req_db_release(keel_req_t *req)
{
	req_db_t *r = req ? req->db_conn : NULL;
	if (!r)
		return;
	for (req_binding_t *b = r->list; b; b = b->next)
		give_back(b);
	keel_db_stats_t s = keel_req_db_stats(req);
	if (s.queries == r->reported)
		return;
	char desc[48];
	uint64_t n = s.queries - r->reported;
	snprintf(desc, sizeof(desc), "%llu %s", (unsigned long long)n,
	         n == 1 ? "query" : "queries");
	keel_timing_add(req, "db", s.total_ns - r->reported_ns, desc);
	r->reported = s.queries;
	r->reported_ns = s.total_ns;
}

static void db_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)res;
	(void)ud;
	keel_req_db_release(req);
}

keel_middleware_t keel_mw_db(void)
{
	return (keel_middleware_t){.name = "db", .after = db_after};
}
