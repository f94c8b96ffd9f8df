/*
 * keel/model.h - models: what the application's tables look like, written
 * once as `static const` tables and read by everything that needs to know
 * (validation, the admin, OpenAPI, the SQL generators below).
 *
 * A keel_model_t names a table, its fields (type, primary key, NULL,
 * UNIQUE, maximum length, default, label, help text, the field another
 * model's key it references and what ON DELETE does) and its relations
 * (belongs-to, has-many, many-to-many through a join table).  Models are
 * collected in a registry (keel_models_t) built at start-up, before the
 * workers fork; after that each worker reads it from one thread.
 *
 * Generated SQL.  For the admin, the registry writes the usual CRUD
 * statements of a model: SELECT by primary key, a paged list with ORDER BY,
 * INSERT and UPDATE of chosen columns, DELETE by primary key.  Every value
 * is a $N placeholder; every identifier comes from the model (a column
 * asked for by name is looked up among the model's fields first) and is
 * quoted.  Statements are generated on first use and cached in the
 * registry, so the returned text lives as long as the registry.
 *
 * Relations without N+1.  keel_model_select_related fetches rows together
 * with the row they belong to in one JOIN; keel_model_prefetch loads the
 * children (or many-to-many partners) of a whole list of parents with one
 * `... IN ($1, $2, ...)` query per KEEL_MODEL_PREFETCH_CHUNK parents and
 * hands each row to a callback together with the parent it belongs to.
 * A page of 20 articles with their authors and tags is three queries,
 * not forty-one.
 */
#ifndef KEEL_MODEL_H
#define KEEL_MODEL_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/db.h"
#include "keel/str.h"

/** Most fields one model may declare. */
#define KEEL_MODEL_FIELDS_MAX     64
/** Longest table, field or relation name (bytes). */
#define KEEL_MODEL_IDENT_MAX      63
/** Most distinct generated statements cached per model. */
#define KEEL_MODEL_SQL_CACHE_MAX  256
/** Parent ids bound per prefetch query (well under every driver's limit). */
#define KEEL_MODEL_PREFETCH_CHUNK 500

/** Storage type of a field (0 is invalid on purpose). */
typedef enum keel_model_type {
	KEEL_FIELD_INTEGER = 1, /* int64_t */
	KEEL_FIELD_REAL,        /* double */
	KEEL_FIELD_TEXT,        /* UTF-8; max_len counts characters */
	KEEL_FIELD_BLOB,        /* bytes; max_len counts bytes */
	KEEL_FIELD_BOOL,        /* stored as INTEGER 0 / 1 */
	KEEL_FIELD_TIMESTAMP,   /* RFC 3339 text in UTC */
} keel_model_type_t;

/** What the database does to referencing rows when the referenced row is
 * deleted. */
typedef enum keel_on_delete {
	KEEL_ON_DELETE_NO_ACTION = 0, /* refuse the delete at commit */
	KEEL_ON_DELETE_RESTRICT,      /* refuse the delete at once */
	KEEL_ON_DELETE_CASCADE,       /* delete the referencing rows too */
	KEEL_ON_DELETE_SET_NULL, /* clear the key (field must be nullable) */
} keel_on_delete_t;

/** One column.  Only `name` and `type` are required. */
typedef struct keel_model_field {
	const char *name; /* column name: [A-Za-z_][A-Za-z0-9_]* */
	keel_model_type_t type;
	bool pk;       /* part of the primary key */
	bool nullable; /* NULL allowed (never for a primary key) */
	bool unique;   /* UNIQUE constraint */
	int max_len;   /* TEXT / BLOB length limit; 0: none */
	const char
	        *def; /* default as SQL literal text ("0", "'draft'"); NULL */
	const char *label;     /* human name for forms and docs; NULL: name */
	const char *help;      /* one sentence for forms and docs; NULL */
	const char *ref_model; /* model this column references; NULL: none */
	const char *ref_field; /* field of ref_model; NULL: its primary key */
	keel_on_delete_t on_delete;
} keel_model_field_t;

/** How two models are related, seen from the model declaring it. */
typedef enum keel_rel_kind {
	KEEL_REL_BELONGS_TO = 1, /* our `fk` field holds the other's key */
	KEEL_REL_HAS_MANY,       /* the other model's `fk` holds our key */
	KEEL_REL_MANY_TO_MANY, /* join table `through`(fk -> us, to_fk -> it) */
} keel_rel_kind_t;

/** One relation of a model. */
typedef struct keel_relation {
	const char *name; /* "author", "comments", "tags" */
	keel_rel_kind_t kind;
	const char *model;   /* name of the related model */
	const char *fk;      /* see keel_rel_kind_t */
	const char *through; /* many-to-many: join table name */
	const char *to_fk;   /* many-to-many: join column -> related model */
} keel_relation_t;

/** A model: a table with its fields and relations, usually static const. */
typedef struct keel_model {
	const char *name;  /* registry key, e.g. "article" */
	const char *table; /* SQL table, e.g. "articles" */
	const keel_model_field_t *fields;
	size_t nfields;
	const keel_relation_t *relations; /* may be NULL when nrelations is 0 */
	size_t nrelations;
	const char *label; /* human name; NULL: name */
} keel_model_t;

/** The application's models; opaque, built with keel_models_register. */
typedef struct keel_models keel_models_t;

/** Create an empty registry; NULL when out of memory. */
KEEL_API keel_models_t *keel_models_new(void);
/** Free the registry and every cached statement (models are not owned);
 * NULL is ignored. */
KEEL_API void keel_models_free(keel_models_t *reg);
/**
 * Add `m` (borrowed: it must outlive the registry).  The model is checked
 * on its own: names are valid identifiers, fields and relations unique, at
 * least one primary-key field, SET NULL only on nullable fields.  Returns
 * 0, KEEL_EINVAL (reason in keel_models_errmsg), KEEL_EEXIST for a name
 * already registered, KEEL_ELIMIT past KEEL_MODEL_FIELDS_MAX, KEEL_ENOMEM.
 */
KEEL_API int keel_models_register(keel_models_t *reg, const keel_model_t *m);
/**
 * Check what single models cannot: every referenced model and field and
 * every relation target exists.  Call once all models are registered.
 * 0 or KEEL_EINVAL with the first problem in keel_models_errmsg.
 */
KEEL_API int keel_models_check(keel_models_t *reg);
/** Why the last register or check failed ("" when none did). */
KEEL_API const char *keel_models_errmsg(const keel_models_t *reg);
/** The model registered under `name`, or NULL. */
KEEL_API const keel_model_t *keel_models_find(const keel_models_t *reg,
                                              keel_str_t name);
/** Number of registered models. */
KEEL_API size_t keel_models_count(const keel_models_t *reg);
/** The i-th model in registration order, NULL past the end. */
KEEL_API const keel_model_t *keel_models_at(const keel_models_t *reg, size_t i);

/** True when `s` is a name keel will quote into SQL: 1..63 bytes of
 * [A-Za-z_][A-Za-z0-9_]*. */
KEEL_API bool keel_model_ident_valid(keel_str_t s);
/** The field of `m` named `name` (ASCII case-insensitive), or NULL. */
KEEL_API const keel_model_field_t *keel_model_field(const keel_model_t *m,
                                                    keel_str_t name);
/** Index of the field named `name` in m->fields, or -1. */
KEEL_API int keel_model_field_index(const keel_model_t *m, keel_str_t name);
/** The relation of `m` named `name`, or NULL. */
KEEL_API const keel_relation_t *keel_model_relation(const keel_model_t *m,
                                                    keel_str_t name);
/** SQL type name of a field type ("INTEGER", "TEXT" ...); "?" if invalid. */
KEEL_API const char *keel_model_type_name(keel_model_type_t type);

/*
 * Generated statements.  Each writes into `*sql` a statement owned by the
 * registry (valid until keel_models_free) and returns 0; KEEL_ENOENT when
 * `m` is not registered, KEEL_EINVAL for a column that is not a field of
 * `m` (or repeated, or a primary key given to UPDATE), KEEL_ELIMIT when
 * the model already has KEEL_MODEL_SQL_CACHE_MAX statements cached,
 * KEEL_ENOMEM.  Columns are selected in field order.  Where a statement
 * says "by primary key", its last placeholders are the primary-key fields
 * in field order.
 */

/** SELECT every field WHERE pk = $1 [AND pk2 = $2]. */
KEEL_API int keel_model_sql_get(keel_models_t *reg, const keel_model_t *m,
                                const char **sql);
/**
 * SELECT every field ORDER BY `order_by` (empty: the primary key), ASC or
 * DESC, then by the primary key so pages are stable, LIMIT $1 OFFSET $2.
 */
KEEL_API int keel_model_sql_list(keel_models_t *reg, const keel_model_t *m,
                                 keel_str_t order_by, bool desc,
                                 const char **sql);
/** INSERT the `n` columns as $1..$n (n == 0: DEFAULT VALUES). */
KEEL_API int keel_model_sql_insert(keel_models_t *reg, const keel_model_t *m,
                                   const keel_str_t *cols, size_t n,
                                   const char **sql);
/** UPDATE SET the `n` (>= 1) columns as $1..$n, by primary key ($n+1...). */
KEEL_API int keel_model_sql_update(keel_models_t *reg, const keel_model_t *m,
                                   const keel_str_t *cols, size_t n,
                                   const char **sql);
/** DELETE by primary key. */
KEEL_API int keel_model_sql_delete(keel_models_t *reg, const keel_model_t *m,
                                   const char **sql);

/*
 * Relation loading.  `tail` arguments are SQL text written by the
 * programmer (WHERE / ORDER BY / LIMIT), never user input: values go in
 * `args` as $N.  Table names qualify columns; a joined model is qualified
 * by the relation's name.
 */

/**
 * One query for rows of `m` and the row each belongs to through the
 * belongs-to `relation`: "SELECT m's fields, then the related model's
 * fields FROM m JOIN related AS relation ON ... <tail>".  A nullable key
 * makes it a LEFT JOIN: rows without a partner come back with NULLs in
 * the related columns.  `*rows` is a cursor as keel_db_query gives; errors
 * as keel_db_query, KEEL_EINVAL for an unknown or wrong relation.
 */
KEEL_API int keel_model_select_related(keel_db_conn_t *conn,
                                       const keel_models_t *reg,
                                       const keel_model_t *m,
                                       const char *relation, const char *tail,
                                       const keel_db_value_t *args,
                                       size_t nargs, keel_db_rows_t **rows);

/** A row handed to a prefetch callback. */
typedef struct keel_prefetch_row {
	keel_db_rows_t *rows; /* cursor on the row; valid during the call */
	int64_t parent_id;    /* the key this row was fetched for */
	size_t parent;        /* index of parent_id in the caller's ids */
} keel_prefetch_row_t;

/** Called once per fetched row; a non-zero return stops and is returned. */
typedef int (*keel_prefetch_cb)(const keel_prefetch_row_t *row, void *ctx);

/** A hand-written batched query for keel_model_prefetch_sql. */
typedef struct keel_prefetch_query {
	const char *head; /* "SELECT ... WHERE c.article_id" (before IN) */
	const char *tail; /* after the IN list, e.g. "ORDER BY ..."; NULL */
	int key_col;      /* result column holding the parent id */
	const keel_db_value_t *args; /* bound first, as $1..$nargs */
	size_t nargs;
} keel_prefetch_query_t;

/**
 * Run `head IN ($k+1, ...) tail` for the `n` ids, KEEL_MODEL_PREFETCH_CHUNK
 * ids per query, calling `cb` for every row.  The last chunk is padded by
 * repeating its last id to a power of two (or the chunk size) so few
 * distinct statements reach the statement cache.  Returns 0 (n == 0 runs
 * nothing), a db error, KEEL_ENOMEM, or cb's non-zero value.
 */
KEEL_API int keel_model_prefetch_sql(keel_db_conn_t *conn,
                                     const keel_prefetch_query_t *q,
                                     const int64_t *ids, size_t n,
                                     keel_prefetch_cb cb, void *ctx);
/**
 * Load what `relation` of `m` points to for the parents whose keys are
 * `ids`: has-many children, many-to-many partners, or (belongs-to, given
 * the key values) the referenced rows.  Row columns are the related
 * model's fields in field order, then the parent key; rows come ordered by
 * parent, then primary key.
 * Errors as keel_model_prefetch_sql, KEEL_EINVAL for a bad relation.
 */
KEEL_API int keel_model_prefetch(keel_db_conn_t *conn, const keel_models_t *reg,
                                 const keel_model_t *m, const char *relation,
                                 const int64_t *ids, size_t n,
                                 keel_prefetch_cb cb, void *ctx);

#endif
