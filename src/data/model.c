/*
 * The model registry and the CRUD statements generated from it.
 *
 * Models are static tables the registry only points at; what the registry
 * owns is per-model state: the statements generated so far.  Each is keyed
 * by what shaped it (kind, sort column and direction, the columns in the
 * order given) and kept until the registry is freed, so a pointer handed
 * out stays valid.  Identifiers are written into SQL only after they were
 * found among the model's fields, and always double-quoted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/buf.h"
#include "keel/model.h"
#include "data/sqlbuf.h"

enum sql_kind { SQL_GET = 1, SQL_LIST, SQL_INSERT, SQL_UPDATE, SQL_DELETE };

/* One cached statement and the key that produced it. */
struct sql_entry {
	enum sql_kind kind;
	int order; /* SQL_LIST: field index, -1 for the primary key */
	bool desc; /* SQL_LIST */
	size_t n;  /* SQL_INSERT / SQL_UPDATE: columns in cols */
	uint8_t cols[KEEL_MODEL_FIELDS_MAX];
	char *sql;
};

struct model_slot {
	const keel_model_t *m;
	struct sql_entry *sqls;
	size_t nsql, capsql;
};

struct keel_models {
	struct model_slot *v;
	size_t n, cap;
	char err[256];
};

/* The shape of one statement request, before it is looked up. */
struct sql_key {
	enum sql_kind kind;
	int order;
	bool desc;
	size_t n;
	uint8_t cols[KEEL_MODEL_FIELDS_MAX];
};

KEEL_PRINTF(2, 3)
static int fail(keel_models_t *reg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reg->err, sizeof(reg->err), fmt, ap);
	va_end(ap);
	return KEEL_EINVAL;
}

bool keel_model_ident_valid(keel_str_t s)
{
	if (s.len == 0 || s.len > KEEL_MODEL_IDENT_MAX || !s.ptr)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             c == '_';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return true;
}

static bool ident_ok(const char *s)
{
	return s && keel_model_ident_valid(keel_str_from_cstr(s));
}

static bool same_name(const char *a, const char *b)
{
	return keel_str_eq_nocase(keel_str_from_cstr(a), keel_str_from_cstr(b));
}

const keel_model_field_t *keel_model_field(const keel_model_t *m,
                                           keel_str_t name)
{
	int i = keel_model_field_index(m, name);
	return i < 0 ? NULL : &m->fields[i];
}

int keel_model_field_index(const keel_model_t *m, keel_str_t name)
{
	if (!m || !name.ptr)
		return -1;
	for (size_t i = 0; i < m->nfields; i++)
		if (keel_str_eq_nocase(keel_str_from_cstr(m->fields[i].name),
		                       name))
			return (int)i;
	return -1;
}

const keel_relation_t *keel_model_relation(const keel_model_t *m,
                                           keel_str_t name)
{
	if (!m || !name.ptr)
		return NULL;
	for (size_t i = 0; i < m->nrelations; i++)
		if (keel_str_eq_nocase(keel_str_from_cstr(m->relations[i].name),
		                       name))
			return &m->relations[i];
	return NULL;
}

const char *keel_model_type_name(keel_model_type_t type)
{
	switch (type) {
	case KEEL_FIELD_INTEGER: return "INTEGER";
	case KEEL_FIELD_REAL: return "REAL";
	case KEEL_FIELD_TEXT: return "TEXT";
	case KEEL_FIELD_BLOB: return "BLOB";
	case KEEL_FIELD_BOOL: return "BOOLEAN";
	case KEEL_FIELD_TIMESTAMP: return "TIMESTAMP";
	}
	return "?";
}

/* ------------------------------------------------------------ validation */

/* A field on its own: a quotable name, a known type, and constraints that
 * can be true together. */
static int check_field(keel_models_t *reg, const keel_model_t *m,
                       const keel_model_field_t *f)
{
	if (!ident_ok(f->name))
		return fail(reg, "model %s: bad field name", m->name);
	if (f->type < KEEL_FIELD_INTEGER || f->type > KEEL_FIELD_TIMESTAMP)
		return fail(reg, "%s.%s: bad type", m->name, f->name);
	if (f->pk && f->nullable)
		return fail(reg, "%s.%s: a primary key cannot be NULL", m->name,
		            f->name);
	if (f->max_len < 0)
		return fail(reg, "%s.%s: negative max_len", m->name, f->name);
	if (f->on_delete < KEEL_ON_DELETE_NO_ACTION ||
	    f->on_delete > KEEL_ON_DELETE_SET_NULL)
		return fail(reg, "%s.%s: bad on_delete", m->name, f->name);
	if (!f->ref_model && (f->ref_field || f->on_delete))
		return fail(reg, "%s.%s: ref_field/on_delete without ref_model",
		            m->name, f->name);
	if (f->ref_model && !ident_ok(f->ref_model))
		return fail(reg, "%s.%s: bad ref_model", m->name, f->name);
	if (f->ref_field && !ident_ok(f->ref_field))
		return fail(reg, "%s.%s: bad ref_field", m->name, f->name);
	if (f->on_delete == KEEL_ON_DELETE_SET_NULL && !f->nullable)
		return fail(reg,
		            "%s.%s: ON DELETE SET NULL needs a nullable field",
		            m->name, f->name);
	return 0;
}

/* Every field valid, no name twice, at least one primary-key field. */
static int check_fields(keel_models_t *reg, const keel_model_t *m)
{
	size_t pks = 0;
	if (!m->fields || m->nfields == 0)
		return fail(reg, "model %s has no fields", m->name);
	for (size_t i = 0; i < m->nfields; i++) {
		int rc = check_field(reg, m, &m->fields[i]);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (same_name(m->fields[i].name, m->fields[j].name))
				return fail(reg, "%s.%s declared twice",
				            m->name, m->fields[i].name);
		pks += m->fields[i].pk;
	}
	if (pks == 0)
		return fail(reg, "model %s has no primary key", m->name);
	return 0;
}

/* The names a relation needs for its kind, all quotable. */
static int check_relation(keel_models_t *reg, const keel_model_t *m,
                          const keel_relation_t *r)
{
	const char *n = r->name ? r->name : "?";
	if (!ident_ok(r->name) || !ident_ok(r->model) || !ident_ok(r->fk))
		return fail(reg, "%s.%s: relation needs name, model and fk",
		            m->name, n);
	if (same_name(r->name, m->table) ||
	    keel_model_field(m, keel_str_from_cstr(r->name)))
		return fail(reg,
		            "%s.%s: relation name clashes with the table "
		            "or a field",
		            m->name, n);
	switch (r->kind) {
	case KEEL_REL_BELONGS_TO:
		if (!keel_model_field(m, keel_str_from_cstr(r->fk)))
			return fail(reg, "%s.%s: fk %s is not a field", m->name,
			            n, r->fk);
		return 0;
	case KEEL_REL_HAS_MANY: return 0;
	case KEEL_REL_MANY_TO_MANY:
		if (!ident_ok(r->through) || !ident_ok(r->to_fk))
			return fail(reg,
			            "%s.%s: many-to-many needs through and "
			            "to_fk",
			            m->name, n);
		return 0;
	}
	return fail(reg, "%s.%s: bad relation kind", m->name, n);
}

static int check_model(keel_models_t *reg, const keel_model_t *m)
{
	if (!ident_ok(m->name) || !ident_ok(m->table))
		return fail(reg, "model needs a valid name and table");
	if (m->nfields > KEEL_MODEL_FIELDS_MAX) {
		fail(reg, "model %s: more than %d fields", m->name,
		     KEEL_MODEL_FIELDS_MAX);
		return KEEL_ELIMIT;
	}
	int rc = check_fields(reg, m);
	if (rc)
		return rc;
	if (m->nrelations && !m->relations)
		return fail(reg, "model %s: relations missing", m->name);
	for (size_t i = 0; i < m->nrelations; i++) {
		if ((rc = check_relation(reg, m, &m->relations[i])))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (same_name(m->relations[i].name,
			              m->relations[j].name))
				return fail(reg, "%s.%s declared twice",
				            m->name, m->relations[i].name);
	}
	return 0;
}

/* -------------------------------------------------------------- registry */

keel_models_t *keel_models_new(void)
{
	return calloc(1, sizeof(keel_models_t));
}

void keel_models_free(keel_models_t *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		for (size_t j = 0; j < reg->v[i].nsql; j++)
			free(reg->v[i].sqls[j].sql);
		free(reg->v[i].sqls);
	}
	free(reg->v);
	free(reg);
}

int keel_models_register(keel_models_t *reg, const keel_model_t *m)
{
	if (!reg || !m)
		return KEEL_EINVAL;
	reg->err[0] = '\0';
	int rc = check_model(reg, m);
	if (rc)
		return rc;
	if (keel_models_find(reg, keel_str_from_cstr(m->name))) {
		fail(reg, "model %s registered twice", m->name);
		return KEEL_EEXIST;
	}
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 8;
		struct model_slot *v = realloc(reg->v, cap * sizeof(*v));
		if (!v)
			return KEEL_ENOMEM;
		reg->v = v;
		reg->cap = cap;
	}
	reg->v[reg->n++] = (struct model_slot){.m = m};
	return 0;
}

const char *keel_models_errmsg(const keel_models_t *reg)
{
	return reg ? reg->err : "";
}

const keel_model_t *keel_models_find(const keel_models_t *reg, keel_str_t name)
{
	if (!reg || !name.ptr)
		return NULL;
	for (size_t i = 0; i < reg->n; i++)
		if (keel_str_eq_nocase(keel_str_from_cstr(reg->v[i].m->name),
		                       name))
			return reg->v[i].m;
	return NULL;
}

size_t keel_models_count(const keel_models_t *reg)
{
	return reg ? reg->n : 0;
}

const keel_model_t *keel_models_at(const keel_models_t *reg, size_t i)
{
	return reg && i < reg->n ? reg->v[i].m : NULL;
}

/* A field's reference names a registered model and one of its fields. */
static int check_reference(keel_models_t *reg, const keel_model_t *m,
                           const keel_model_field_t *f)
{
	const keel_model_t *t =
	        keel_models_find(reg, keel_str_from_cstr(f->ref_model));
	if (!t)
		return fail(reg, "%s.%s references unknown model %s", m->name,
		            f->name, f->ref_model);
	if (f->ref_field &&
	    !keel_model_field(t, keel_str_from_cstr(f->ref_field)))
		return fail(reg, "%s.%s references unknown field %s.%s",
		            m->name, f->name, t->name, f->ref_field);
	return 0;
}

/* A relation's target is registered and, for has-many, holds the key. */
static int check_target(keel_models_t *reg, const keel_model_t *m,
                        const keel_relation_t *r)
{
	const keel_model_t *t =
	        keel_models_find(reg, keel_str_from_cstr(r->model));
	if (!t)
		return fail(reg, "%s.%s: unknown model %s", m->name, r->name,
		            r->model);
	if (r->kind == KEEL_REL_HAS_MANY &&
	    !keel_model_field(t, keel_str_from_cstr(r->fk)))
		return fail(reg, "%s.%s: %s has no field %s", m->name, r->name,
		            t->name, r->fk);
	return 0;
}

int keel_models_check(keel_models_t *reg)
{
	if (!reg)
		return KEEL_EINVAL;
	reg->err[0] = '\0';
	for (size_t i = 0; i < reg->n; i++) {
		const keel_model_t *m = reg->v[i].m;
		int rc = 0;
		for (size_t j = 0; j < m->nfields && !rc; j++)
			if (m->fields[j].ref_model)
				rc = check_reference(reg, m, &m->fields[j]);
		for (size_t j = 0; j < m->nrelations && !rc; j++)
			rc = check_target(reg, m, &m->relations[j]);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------ statement writer */

static int put(keel_buf_t *b, const char *s)
{
	return keel_buf_append_str(b, keel_str_from_cstr(s));
}

/* "a", "b", ... for every field, or for the listed field indexes. */
static int put_columns(keel_buf_t *b, const keel_model_t *m,
                       const uint8_t *cols, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (i)
			rc = put(b, ", ");
		if (!rc)
			rc = keel__sql_ident(
			        b, m->fields[cols ? cols[i] : i].name);
	}
	return rc;
}

/* " WHERE pk1 = $first AND pk2 = $first+1". */
static int put_pk_where(keel_buf_t *b, const keel_model_t *m, size_t first)
{
	int rc = put(b, " WHERE ");
	bool more = false;
	for (size_t i = 0; i < m->nfields && !rc; i++) {
		if (!m->fields[i].pk)
			continue;
		rc = more ? put(b, " AND ") : 0;
		rc = rc ? rc : keel__sql_ident(b, m->fields[i].name);
		rc = rc ? rc : put(b, " = ");
		rc = rc ? rc : keel__sql_param(b, first++);
		more = true;
	}
	return rc;
}

/* SELECT "f1", "f2" FROM "table" */
static int put_select(keel_buf_t *b, const keel_model_t *m)
{
	int rc = put(b, "SELECT ");
	if (!rc)
		rc = put_columns(b, m, NULL, m->nfields);
	if (!rc)
		rc = put(b, " FROM ");
	if (!rc)
		rc = keel__sql_ident(b, m->table);
	return rc;
}

/* ORDER BY the chosen field, then every primary-key field not yet used. */
static int put_order(keel_buf_t *b, const keel_model_t *m, int order, bool desc)
{
	const char *dir = desc ? " DESC" : " ASC";
	int rc = put(b, " ORDER BY ");
	bool first = true;
	if (order >= 0) {
		rc = rc ? rc : keel__sql_ident(b, m->fields[order].name);
		rc = rc ? rc : put(b, dir);
		first = false;
	}
	for (size_t i = 0; i < m->nfields && !rc; i++) {
		if (!m->fields[i].pk || (int)i == order)
			continue;
		rc = first ? 0 : put(b, ", ");
		rc = rc ? rc : keel__sql_ident(b, m->fields[i].name);
		rc = rc ? rc : put(b, dir);
		first = false;
	}
	return rc;
}

static int write_insert(keel_buf_t *b, const keel_model_t *m,
                        const struct sql_key *k)
{
	int rc = put(b, "INSERT INTO ");
	rc = rc ? rc : keel__sql_ident(b, m->table);
	if (k->n == 0)
		return rc ? rc : put(b, " DEFAULT VALUES");
	rc = rc ? rc : put(b, " (");
	rc = rc ? rc : put_columns(b, m, k->cols, k->n);
	rc = rc ? rc : put(b, ") VALUES (");
	for (size_t i = 0; i < k->n && !rc; i++) {
		rc = i ? put(b, ", ") : 0;
		rc = rc ? rc : keel__sql_param(b, i + 1);
	}
	return rc ? rc : put(b, ")");
}

static int write_update(keel_buf_t *b, const keel_model_t *m,
                        const struct sql_key *k)
{
	int rc = put(b, "UPDATE ");
	rc = rc ? rc : keel__sql_ident(b, m->table);
	rc = rc ? rc : put(b, " SET ");
	for (size_t i = 0; i < k->n && !rc; i++) {
		rc = i ? put(b, ", ") : 0;
		rc = rc ? rc : keel__sql_ident(b, m->fields[k->cols[i]].name);
		rc = rc ? rc : put(b, " = ");
		rc = rc ? rc : keel__sql_param(b, i + 1);
	}
	return rc ? rc : put_pk_where(b, m, k->n + 1);
}

/* Render the statement `k` describes into `b`. */
static int write_sql(keel_buf_t *b, const keel_model_t *m,
                     const struct sql_key *k)
{
	int rc;
	switch (k->kind) {
	case SQL_GET:
		rc = put_select(b, m);
		return rc ? rc : put_pk_where(b, m, 1);
	case SQL_LIST:
		rc = put_select(b, m);
		rc = rc ? rc : put_order(b, m, k->order, k->desc);
		return rc ? rc : put(b, " LIMIT $1 OFFSET $2");
	case SQL_INSERT: return write_insert(b, m, k);
	case SQL_UPDATE: return write_update(b, m, k);
	case SQL_DELETE:
		rc = put(b, "DELETE FROM ");
		rc = rc ? rc : keel__sql_ident(b, m->table);
		return rc ? rc : put_pk_where(b, m, 1);
	}
	return KEEL_EINVAL;
}

/* ------------------------------------------------------- statement cache */

static struct model_slot *slot_of(keel_models_t *reg, const keel_model_t *m)
{
	for (size_t i = 0; reg && i < reg->n; i++)
		if (reg->v[i].m == m)
			return &reg->v[i];
	return NULL;
}

static bool key_eq(const struct sql_entry *e, const struct sql_key *k)
{
	return e->kind == k->kind && e->order == k->order &&
	       e->desc == k->desc && e->n == k->n &&
	       memcmp(e->cols, k->cols, k->n) == 0;
}

/* Generate and remember the statement for `k`, or find it remembered. */
static int cached(keel_models_t *reg, const keel_model_t *m,
                  const struct sql_key *k, const char **sql)
{
	struct model_slot *s = slot_of(reg, m);
	if (!s || !sql)
		return s ? KEEL_EINVAL : KEEL_ENOENT;
	for (size_t i = 0; i < s->nsql; i++)
		if (key_eq(&s->sqls[i], k)) {
			*sql = s->sqls[i].sql;
			return 0;
		}
	if (s->nsql == KEEL_MODEL_SQL_CACHE_MAX)
		return KEEL_ELIMIT;
	if (s->nsql == s->capsql) {
		size_t cap = s->capsql ? s->capsql * 2 : 4;
		struct sql_entry *v = realloc(s->sqls, cap * sizeof(*v));
		if (!v)
			return KEEL_ENOMEM;
		s->sqls = v;
		s->capsql = cap;
	}
	keel_buf_t b;
	keel_buf_init(&b, 0);
	int rc = write_sql(&b, m, k);
	char *text = rc ? NULL : keel_buf_detach(&b, NULL);
	keel_buf_deinit(&b);
	if (!text)
		return rc ? rc : KEEL_ENOMEM;
	struct sql_entry *e = &s->sqls[s->nsql++];
	*e = (struct sql_entry){.kind = k->kind,
	                        .order = k->order,
	                        .desc = k->desc,
	                        .n = k->n,
	                        .sql = text};
	memcpy(e->cols, k->cols, k->n);
	*sql = text;
	return 0;
}

/* Turn column names into field indexes: each a field, none twice, and
 * (for UPDATE) no primary key. */
static int resolve_cols(const keel_model_t *m, const keel_str_t *cols, size_t n,
                        bool allow_pk, struct sql_key *k)
{
	if (!m || n > m->nfields || (n && !cols))
		return KEEL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int f = keel_model_field_index(m, cols[i]);
		if (f < 0 || (!allow_pk && m->fields[f].pk))
			return KEEL_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (k->cols[j] == f)
				return KEEL_EINVAL;
		k->cols[i] = (uint8_t)f;
	}
	k->n = n;
	return 0;
}

int keel_model_sql_get(keel_models_t *reg, const keel_model_t *m,
                       const char **sql)
{
	struct sql_key k = {.kind = SQL_GET, .order = -1};
	return cached(reg, m, &k, sql);
}

int keel_model_sql_list(keel_models_t *reg, const keel_model_t *m,
                        keel_str_t order_by, bool desc, const char **sql)
{
	struct sql_key k = {.kind = SQL_LIST, .order = -1, .desc = desc};
	if (order_by.len) {
		k.order = keel_model_field_index(m, order_by);
		if (k.order < 0)
			return slot_of(reg, m) ? KEEL_EINVAL : KEEL_ENOENT;
	}
	return cached(reg, m, &k, sql);
}

int keel_model_sql_insert(keel_models_t *reg, const keel_model_t *m,
                          const keel_str_t *cols, size_t n, const char **sql)
{
	struct sql_key k = {.kind = SQL_INSERT, .order = -1};
	if (!slot_of(reg, m))
		return KEEL_ENOENT;
	int rc = resolve_cols(m, cols, n, true, &k);
	return rc ? rc : cached(reg, m, &k, sql);
}

int keel_model_sql_update(keel_models_t *reg, const keel_model_t *m,
                          const keel_str_t *cols, size_t n, const char **sql)
{
	struct sql_key k = {.kind = SQL_UPDATE, .order = -1};
	if (!slot_of(reg, m))
		return KEEL_ENOENT;
	if (n == 0)
		return KEEL_EINVAL;
	int rc = resolve_cols(m, cols, n, false, &k);
	return rc ? rc : cached(reg, m, &k, sql);
}

int keel_model_sql_delete(keel_models_t *reg, const keel_model_t *m,
                          const char **sql)
{
	struct sql_key k = {.kind = SQL_DELETE, .order = -1};
	return cached(reg, m, &k, sql);
}
