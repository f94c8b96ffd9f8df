/*
 * Relation loading without N+1 queries.
 *
 * Walking a list and asking the database for each row's author, children
 * or tags costs one round trip per row: the N+1 problem.  Two shapes fix
 * it.  A belongs-to partner is at most one row, so it can ride along in
 * the same query as a JOIN (select_related).  Children and many-to-many
 * partners multiply rows, so they are fetched in a second query for all
 * parents at once, `WHERE fk IN (...)`, and handed back tagged with the
 * parent they belong to (prefetch).
 *
 * The statements are assembled from model names that the registry checked
 * and from programmer-written fragments; values are always bound.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/buf.h"
#include "keel/model.h"
#include "data/sqlbuf.h"

/* A parent id and where it sits in the caller's array, sorted by id so a
 * row's key finds its parent by binary search. */
struct id_pos {
	int64_t id;
	size_t pos;
};

static int put(keel_buf_t *b, const char *s)
{
	return keel_buf_append_str(b, keel_str_from_cstr(s));
}

/* "table"."column": both names come from registered models. */
static int put_col(keel_buf_t *b, const char *table, const char *col)
{
	int rc = keel__sql_ident(b, table);
	rc = rc ? rc : keel_buf_append_char(b, '.');
	return rc ? rc : keel__sql_ident(b, col);
}

/* Every field of `m`, qualified by `qual`, comma-separated. */
static int put_fields(keel_buf_t *b, const keel_model_t *m, const char *qual)
{
	int rc = 0;
	for (size_t i = 0; i < m->nfields && !rc; i++) {
		rc = i ? put(b, ", ") : 0;
		rc = rc ? rc : put_col(b, qual, m->fields[i].name);
	}
	return rc;
}

/* The single primary-key field of `m`, or NULL for a composite key. */
static const char *single_pk(const keel_model_t *m)
{
	const char *pk = NULL;
	for (size_t i = 0; i < m->nfields; i++) {
		if (!m->fields[i].pk)
			continue;
		if (pk)
			return NULL;
		pk = m->fields[i].name;
	}
	return pk;
}

/* `m` as registered (so its names were checked), `name` one of its
 * relations of kind `kind` (0: any), and the registered target model. */
static const keel_relation_t *resolve(const keel_models_t *reg,
                                      const keel_model_t *m, const char *name,
                                      int kind, const keel_model_t **target)
{
	if (!m || !name ||
	    keel_models_find(reg, keel_str_from_cstr(m->name)) != m)
		return NULL;
	const keel_relation_t *r =
	        keel_model_relation(m, keel_str_from_cstr(name));
	if (!r || (kind && (int)r->kind != kind))
		return NULL;
	*target = keel_models_find(reg, keel_str_from_cstr(r->model));
	return *target ? r : NULL;
}

/* The target column a belongs-to key points at: the field's ref_field if
 * it names one of the target's fields, else the target's primary key. */
static const char *belongs_target_col(const keel_model_t *m,
                                      const keel_relation_t *r,
                                      const keel_model_t *t)
{
	const keel_model_field_t *f =
	        keel_model_field(m, keel_str_from_cstr(r->fk));
	if (!f)
		return NULL;
	if (f->ref_field) {
		const keel_model_field_t *tf =
		        keel_model_field(t, keel_str_from_cstr(f->ref_field));
		return tf ? tf->name : NULL;
	}
	return single_pk(t);
}

/* SELECT m.*, rel.* FROM m [LEFT] JOIN t AS rel ON rel.col = m.fk */
static int write_join(keel_buf_t *b, const keel_model_t *m,
                      const keel_relation_t *r, const keel_model_t *t,
                      const char *tcol)
{
	const keel_model_field_t *fk =
	        keel_model_field(m, keel_str_from_cstr(r->fk));
	int rc = put(b, "SELECT ");
	rc = rc ? rc : put_fields(b, m, m->table);
	rc = rc ? rc : put(b, ", ");
	rc = rc ? rc : put_fields(b, t, r->name);
	rc = rc ? rc : put(b, " FROM ");
	rc = rc ? rc : keel__sql_ident(b, m->table);
	rc = rc ? rc : put(b, fk->nullable ? " LEFT JOIN " : " INNER JOIN ");
	rc = rc ? rc : keel__sql_ident(b, t->table);
	rc = rc ? rc : put(b, " AS ");
	rc = rc ? rc : keel__sql_ident(b, r->name);
	rc = rc ? rc : put(b, " ON ");
	rc = rc ? rc : put_col(b, r->name, tcol);
	rc = rc ? rc : put(b, " = ");
	return rc ? rc : put_col(b, m->table, fk->name);
}

int keel_model_select_related(keel_db_conn_t *conn, const keel_models_t *reg,
                              const keel_model_t *m, const char *relation,
                              const char *tail, const keel_db_value_t *args,
                              size_t nargs, keel_db_rows_t **rows)
{
	const keel_model_t *t = NULL;
	const keel_relation_t *r =
	        resolve(reg, m, relation, KEEL_REL_BELONGS_TO, &t);
	const char *tcol = r ? belongs_target_col(m, r, t) : NULL;
	if (!tcol || !conn || !rows)
		return KEEL_EINVAL;
	keel_buf_t b;
	keel_buf_init(&b, 0);
	int rc = write_join(&b, m, r, t, tcol);
	if (!rc && tail && *tail) {
		rc = put(&b, " ");
		rc = rc ? rc : put(&b, tail);
	}
	if (!rc)
		rc = keel_db_query(conn, b.data, args, nargs, rows);
	keel_buf_deinit(&b);
	return rc;
}

/* ------------------------------------------------------------- prefetch */

static int cmp_id_pos(const void *a, const void *b)
{
	const struct id_pos *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Position of the first occurrence of `id` in the caller's array. */
static size_t find_pos(const struct id_pos *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].id == id ? v[lo].pos : SIZE_MAX;
}

/* Ids bound for a chunk of `k`: the next power of two, capped at the
 * chunk size, so at most ~10 distinct IN-list lengths are ever prepared. */
static size_t padded(size_t k)
{
	size_t p = 1;
	while (p < k)
		p *= 2;
	return p > KEEL_MODEL_PREFETCH_CHUNK ? KEEL_MODEL_PREFETCH_CHUNK : p;
}

/* head IN ($a+1, ..., $a+k) tail */
static int write_in(keel_buf_t *b, const keel_prefetch_query_t *q, size_t k)
{
	keel_buf_reset(b);
	int rc = put(b, q->head);
	rc = rc ? rc : put(b, " IN (");
	for (size_t i = 0; i < k && !rc; i++) {
		rc = i ? put(b, ", ") : 0;
		rc = rc ? rc : keel__sql_param(b, q->nargs + i + 1);
	}
	rc = rc ? rc : put(b, ")");
	if (!rc && q->tail && *q->tail) {
		rc = put(b, " ");
		rc = rc ? rc : put(b, q->tail);
	}
	return rc;
}

/* State shared by the chunks of one prefetch. */
struct batch {
	keel_db_conn_t *conn;
	const keel_prefetch_query_t *q;
	struct id_pos *index;
	size_t n;
	keel_db_value_t *args;
	keel_buf_t sql;
	keel_prefetch_cb cb;
	void *ctx;
};

/* Run one IN query over ids[0..k) and feed its rows to the callback. */
static int run_chunk(struct batch *bt, const int64_t *ids, size_t k)
{
	size_t p = padded(k);
	for (size_t i = 0; i < p; i++)
		bt->args[bt->q->nargs + i] =
		        KEEL_DB_I64(ids[i < k ? i : k - 1]);
	int rc = write_in(&bt->sql, bt->q, p);
	keel_db_rows_t *rows = NULL;
	if (!rc)
		rc = keel_db_query(bt->conn, bt->sql.data, bt->args,
		                   bt->q->nargs + p, &rows);
	while (!rc && (rc = keel_db_rows_next(rows)) == 1) {
		keel_prefetch_row_t row = {.rows = rows};
		row.parent_id = keel_db_rows_int(rows, bt->q->key_col);
		row.parent = find_pos(bt->index, bt->n, row.parent_id);
		rc = bt->cb(&row, bt->ctx);
	}
	keel_db_rows_close(rows);
	return rc;
}

/* Sort (id, position) pairs once so each row finds its parent in log n. */
static struct id_pos *index_ids(const int64_t *ids, size_t n)
{
	struct id_pos *v = malloc(n * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct id_pos){ids[i], i};
	qsort(v, n, sizeof(*v), cmp_id_pos);
	return v;
}

int keel_model_prefetch_sql(keel_db_conn_t *conn,
                            const keel_prefetch_query_t *q, const int64_t *ids,
                            size_t n, keel_prefetch_cb cb, void *ctx)
{
	if (!conn || !q || !q->head || q->key_col < 0 || !cb ||
	    (q->nargs && !q->args) || (n && !ids))
		return KEEL_EINVAL;
	if (n == 0)
		return 0;
	struct batch bt = {.conn = conn, .q = q, .n = n, .cb = cb, .ctx = ctx};
	keel_buf_init(&bt.sql, 0);
	bt.index = index_ids(ids, n);
	bt.args = malloc((q->nargs + KEEL_MODEL_PREFETCH_CHUNK) *
	                 sizeof(*bt.args));
	int rc = bt.index && bt.args ? 0 : KEEL_ENOMEM;
	if (!rc && q->nargs)
		memcpy(bt.args, q->args, q->nargs * sizeof(*q->args));
	for (size_t off = 0; off < n && !rc; off += KEEL_MODEL_PREFETCH_CHUNK) {
		size_t k = n - off < KEEL_MODEL_PREFETCH_CHUNK
		                   ? n - off
		                   : KEEL_MODEL_PREFETCH_CHUNK;
		rc = run_chunk(&bt, ids + off, k);
	}
	keel_buf_deinit(&bt.sql);
	free(bt.index);
	free(bt.args);
	return rc;
}

/* head/tail of a has-many or belongs-to prefetch: rows of `t` whose
 * `key` column holds a parent id, the key repeated as the last column. */
static int write_direct(keel_buf_t *head, keel_buf_t *tail,
                        const keel_model_t *t, const char *key)
{
	int rc = put(head, "SELECT ");
	rc = rc ? rc : put_fields(head, t, t->table);
	rc = rc ? rc : put(head, ", ");
	rc = rc ? rc : put_col(head, t->table, key);
	rc = rc ? rc : put(head, " FROM ");
	rc = rc ? rc : keel__sql_ident(head, t->table);
	rc = rc ? rc : put(head, " WHERE ");
	rc = rc ? rc : put_col(head, t->table, key);
	rc = rc ? rc : put(tail, "ORDER BY ");
	rc = rc ? rc : put_col(tail, t->table, key);
	for (size_t i = 0; i < t->nfields && !rc; i++) {
		if (!t->fields[i].pk ||
		    keel_str_eq_nocase(keel_str_from_cstr(t->fields[i].name),
		                       keel_str_from_cstr(key)))
			continue;
		rc = put(tail, ", ");
		rc = rc ? rc : put_col(tail, t->table, t->fields[i].name);
	}
	return rc;
}

/* head/tail of a many-to-many prefetch through the join table. */
static int write_through(keel_buf_t *head, keel_buf_t *tail,
                         const keel_relation_t *r, const keel_model_t *t)
{
	const char *pk = single_pk(t);
	if (!pk || keel_str_eq_nocase(keel_str_from_cstr(r->through),
	                              keel_str_from_cstr(t->table)))
		return KEEL_EINVAL;
	int rc = put(head, "SELECT ");
	rc = rc ? rc : put_fields(head, t, t->table);
	rc = rc ? rc : put(head, ", ");
	rc = rc ? rc : put_col(head, r->through, r->fk);
	rc = rc ? rc : put(head, " FROM ");
	rc = rc ? rc : keel__sql_ident(head, r->through);
	rc = rc ? rc : put(head, " INNER JOIN ");
	rc = rc ? rc : keel__sql_ident(head, t->table);
	rc = rc ? rc : put(head, " ON ");
	rc = rc ? rc : put_col(head, t->table, pk);
	rc = rc ? rc : put(head, " = ");
	rc = rc ? rc : put_col(head, r->through, r->to_fk);
	rc = rc ? rc : put(head, " WHERE ");
	rc = rc ? rc : put_col(head, r->through, r->fk);
	rc = rc ? rc : put(tail, "ORDER BY ");
	rc = rc ? rc : put_col(tail, r->through, r->fk);
	rc = rc ? rc : put(tail, ", ");
	return rc ? rc : put_col(tail, t->table, pk);
}

/* Pick the statement shape for the relation's kind. */
static int write_prefetch(keel_buf_t *head, keel_buf_t *tail,
                          const keel_model_t *m, const keel_relation_t *r,
                          const keel_model_t *t)
{
	const char *key;
	switch (r->kind) {
	case KEEL_REL_HAS_MANY: return write_direct(head, tail, t, r->fk);
	case KEEL_REL_BELONGS_TO:
		key = belongs_target_col(m, r, t);
		return key ? write_direct(head, tail, t, key) : KEEL_EINVAL;
	case KEEL_REL_MANY_TO_MANY: return write_through(head, tail, r, t);
	}
	return KEEL_EINVAL;
}

int keel_model_prefetch(keel_db_conn_t *conn, const keel_models_t *reg,
                        const keel_model_t *m, const char *relation,
                        const int64_t *ids, size_t n, keel_prefetch_cb cb,
                        void *ctx)
{
	const keel_model_t *t = NULL;
	const keel_relation_t *r = resolve(reg, m, relation, 0, &t);
	if (!r)
		return KEEL_EINVAL;
	keel_buf_t head, tail;
	keel_buf_init(&head, 0);
	keel_buf_init(&tail, 0);
	int rc = write_prefetch(&head, &tail, m, r, t);
	if (!rc) {
		keel_prefetch_query_t q = {.head = head.data,
		                           .tail = tail.data,
		                           .key_col = (int)t->nfields};
		rc = keel_model_prefetch_sql(conn, &q, ids, n, cb, ctx);
	}
	keel_buf_deinit(&head);
	keel_buf_deinit(&tail);
	return rc;
}
