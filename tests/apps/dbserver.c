/*
 * The server the crash-safety and group-commit tests start: acknowledged
 * writes to SQLite.  DATABASE_URL names the database; each worker opens
 * it on first use.  POST /?v=N[&sleep=MS] inserts N in a transaction that
 * may wait inside; POST /?v=N&plain=1 inserts without one; &returning=1
 * inserts through a cursor; &outer=1 writes through the request's
 * connection instead of the transaction's and &leak=1 leaves a cursor
 * open (mistakes that must fail or be mended, not hang); GET / counts
 * the rows; GET /?stats=1 prints this worker's group-commit counters.
 */
#include <keel/keel.h>
#include <stdlib.h>
#include <unistd.h>

static keel_db_t *db;

static keel_db_t *worker_db(void)
{
	if (db)
		return db;
	const char *url = getenv("DATABASE_URL");
	keel_db_error_t err;
	db = keel_db_open(url ? url : "sqlite::memory:", NULL, &err);
	if (!db) {
		keel_log(KEEL_LOG_LEVEL_ERROR, "database: %s", err.msg);
		return NULL;
	}
	keel_db_conn_t *conn;
	if (keel_db_acquire(db, &conn) == 0) {
		keel_db_exec_script(conn, "CREATE TABLE IF NOT EXISTS items ("
		                          " id INTEGER PRIMARY KEY,"
		                          " v INTEGER NOT NULL UNIQUE)");
		keel_db_release(conn);
	}
	return db;
}

typedef struct insert {
	int64_t v, sleep_ms;
	keel_db_conn_t *outer; /* set: the misuse of writing through it */
	bool returning;        /* insert with a cursor (INSERT ... RETURNING) */
	bool leak;             /* and leave a cursor open (a misuse) */
} insert_t;

static int insert_returning(keel_db_conn_t *conn, insert_t *in)
{
	keel_db_rows_t *rows;
	int rc = keel_db_query(conn,
	                       "INSERT INTO items (v) VALUES ($1) RETURNING id",
	                       KEEL_DB_ARGS(KEEL_DB_I64(in->v)), &rows);
	if (rc == 0)
		rc = keel_db_rows_next(rows) == 1 ? 0 : KEEL_EIO;
	if (rc == 0)
		keel_db_rows_close(rows);
	return rc;
}

static int insert_item(keel_db_conn_t *conn, void *arg)
{
	insert_t *in = arg;
	if (in->leak) {
		keel_db_rows_t *open_rows;
		keel_db_query(conn, "SELECT v FROM items", KEEL_DB_NOARGS,
		              &open_rows);
	}
	if (in->returning)
		return insert_returning(in->outer ? in->outer : conn, in);
	int rc = keel_db_exec(in->outer ? in->outer : conn,
	                      "INSERT INTO items (v) VALUES ($1)",
	                      KEEL_DB_ARGS(KEEL_DB_I64(in->v)), NULL);
	if (rc == 0 && in->sleep_ms > 0)
		keel_sleep_ms(in->sleep_ms); /* a write in flight at SIGTERM */
	return rc;
}

static int64_t query_int(keel_req_t *req, const char *key)
{
	keel_http_query_iter_t it;
	keel_str_t k, v;
	char buf[64];
	int64_t n = 0;
	keel_http_query_init(&it, keel_req_query(req));
	while (keel_http_query_next(&it, buf, sizeof(buf), &k, &v) !=
	       KEEL_ENOENT)
		if (keel_str_eq(k, keel_str_from_cstr(key)) &&
		    keel_str_to_i64(v, &n) == 0)
			return n;
	return 0;
}

static int items(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_db_t *d = worker_db();
	keel_db_conn_t *conn = d ? keel_req_db(req, d) : NULL;
	if (!conn)
		return keel_res_error(res, 503, "database unavailable");
	if (keel_req_method(req) == KEEL_HTTP_POST) {
		insert_t in = {query_int(req, "v"), query_int(req, "sleep"),
		               query_int(req, "outer") ? conn : NULL,
		               query_int(req, "returning") != 0,
		               query_int(req, "leak") != 0};
		int rc =
		        query_int(req, "plain")
		                ? keel_db_exec(
		                          conn,
		                          "INSERT INTO items (v) VALUES ($1)",
		                          KEEL_DB_ARGS(KEEL_DB_I64(in.v)), NULL)
		                : keel_db_tx(conn, insert_item, &in);
		if (rc == KEEL_EEXIST)
			return keel_res_error(res, 409, "exists");
		if (rc < 0)
			return keel_res_error(res, 500, keel_strerror(rc));
		keel_res_printf(res, "%lld\n", (long long)in.v);
		return 201; /* only after COMMIT returned */
	}
	if (query_int(req, "stats")) {
		keel_db_commit_stats_t st = keel_db_commit_stats(d);
		keel_res_printf(res, "%llu %llu %d\n",
		                (unsigned long long)st.batches,
		                (unsigned long long)st.joined, (int)getpid());
		return 200;
	}
	int64_t n = 0;
	keel_db_query_int(conn, "SELECT count(*) FROM items", KEEL_DB_NOARGS,
	                  &n);
	keel_res_printf(res, "%lld\n", (long long)n);
	return 200;
}

int main(int argc, char **argv)
{
	return keel_serve(argc, argv, items, NULL);
}
