/*
 * keel/config.h - one table of settings, read from defaults, then the
 * environment, then command-line flags (a later source wins).  Each
 * keel_setting_t names a field of the caller's own settings struct (by
 * offsetof), its type, its long flag and environment variable, its default
 * as text and a line of help; the same table drives parsing, `--help` and a
 * dump of the effective values.  Errors come back as a code plus a message
 * naming the flag or variable and what was wrong with it; the library never
 * prints or exits on its own.
 *
 *   typedef struct { int64_t port; bool debug; size_t max_body; } cfg_t;
 *   static const keel_setting_t settings[] = {
 *     {.name = "port", .env = "APP_PORT", KEEL_SETTING_INT_FIELD(cfg_t, port),
 *      .def = "8080", .min = 1, .max = 65535, .help = "TCP port"},
 *     ...
 *   };
 *   rc = keel_config_load(settings, KEEL_COUNTOF(settings), &cfg, argc,
 *                         argv, environ, &first_arg, &err);
 *
 * Flags are long only: --name value, --name=value; a bool is set by --name
 * or --name=true|false and cleared by --no-name.  --help (or -h) stops
 * parsing with KEEL_CONFIG_HELP.  "--" ends the flags.  Parsing stops at
 * the first positional argument and reports its index, so a subcommand can
 * have flags of its own: for `conduit serve --port 8080`, load stops at
 * "serve", then keel_config_args(..., argc - i, argv + i, ...) parses the
 * rest on top of the values already loaded.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keel/common.h"

/** Returned when --help or -h was given: print help, exit 0.  Positive. */
#define KEEL_CONFIG_HELP 2

/** Type of a setting, and so of its field in the caller's struct. */
typedef enum keel_setting_type {
	KEEL_SETTING_INT = 1, /* int64_t; strict decimal, optional min..max */
	KEEL_SETTING_BOOL,    /* bool; true/false, yes/no, on/off, 1/0 */
	KEEL_SETTING_STRING,  /* const char *; points into argv, envp or .def */
	KEEL_SETTING_SIZE, /* size_t bytes; suffix k, m, g or t (x1024 each) */
	KEEL_SETTING_DURATION, /* int64_t milliseconds; 500ms, 30s, 5m, 1h30m */
} keel_setting_type_t;

/** One row of the settings table; usually `static const`. */
typedef struct keel_setting {
	const char *name; /* flag without dashes: "workers" -> --workers */
	const char *env;  /* environment variable, or NULL for none */
	keel_setting_type_t type;
	size_t offset;    /* offsetof the field in the caller's struct */
	const char *def;  /* default, parsed like input; NULL: 0/false/NULL */
	const char *help; /* one line for --help */
	int64_t min, max; /* inclusive bounds for INT, SIZE, DURATION (in ms);
	                     both 0: unbounded */
	bool secret;      /* keel_config_dump shows "(hidden)", not the value */
} keel_setting_t;

/*
 * Type and offset in one go, checked at compile time: naming a field whose
 * C type does not match the setting type is a compile error.
 */
#define KEEL__SETTING_FIELD(T, m, ctype, kind)                                 \
	.type = (kind), .offset = _Generic(((T *)0)->m, ctype : offsetof(T, m))
/** `.type` and `.offset` for an int64_t field `m` of struct type `T`. */
#define KEEL_SETTING_INT_FIELD(T, m)                                           \
	KEEL__SETTING_FIELD(T, m, int64_t, KEEL_SETTING_INT)
/** `.type` and `.offset` for a bool field. */
#define KEEL_SETTING_BOOL_FIELD(T, m)                                          \
	KEEL__SETTING_FIELD(T, m, bool, KEEL_SETTING_BOOL)
/** `.type` and `.offset` for a const char * field. */
#define KEEL_SETTING_STRING_FIELD(T, m)                                        \
	KEEL__SETTING_FIELD(T, m, const char *, KEEL_SETTING_STRING)
/** `.type` and `.offset` for a size_t field (bytes). */
#define KEEL_SETTING_SIZE_FIELD(T, m)                                          \
	KEEL__SETTING_FIELD(T, m, size_t, KEEL_SETTING_SIZE)
/** `.type` and `.offset` for an int64_t field holding milliseconds. */
#define KEEL_SETTING_DURATION_FIELD(T, m)                                      \
	KEEL__SETTING_FIELD(T, m, int64_t, KEEL_SETTING_DURATION)

/** Why loading failed: one line naming the flag or variable and the fault. */
typedef struct keel_config_error {
	char msg[256];
} keel_config_error_t;

/**
 * Fill `out` from the table: defaults, then `envp` (NULL: none), then the
 * flags in argv[1..argc-1].  `*next` gets the index of the first positional
 * argument (argc when none); with `next` NULL a positional argument is an
 * error.  Returns 0, KEEL_CONFIG_HELP, KEEL_EINVAL (unknown flag, missing
 * or malformed value, bad table) or KEEL_ERANGE (value out of bounds), with
 * the reason in `err` (may be NULL).  `out` may be partly filled on error.
 */
KEEL_API int keel_config_load(const keel_setting_t *table, size_t n, void *out,
                              int argc, char *const argv[], char *const envp[],
                              int *next, keel_config_error_t *err);

/** Only the defaults step of keel_config_load(); same errors. */
KEEL_API int keel_config_defaults(const keel_setting_t *table, size_t n,
                                  void *out, keel_config_error_t *err);

/** Only the environment step: settings whose variable is set in `envp`. */
KEEL_API int keel_config_env(const keel_setting_t *table, size_t n, void *out,
                             char *const envp[], keel_config_error_t *err);

/**
 * Only the flags step, on top of what `out` holds: argv[0] is a program or
 * subcommand name and is skipped; `next` as for keel_config_load().
 */
KEEL_API int keel_config_args(const keel_setting_t *table, size_t n, void *out,
                              int argc, char *const argv[], int *next,
                              keel_config_error_t *err);

/**
 * Print "usage: <prog> [options]" and an aligned table of every setting:
 * flag, environment variable, type, default, help.  0 or KEEL_EIO.
 */
KEEL_API int keel_config_print_help(FILE *f, const char *prog,
                                    const keel_setting_t *table, size_t n);

/**
 * Print each setting's effective value in `cfg` as `name = value`, sizes and
 * durations in the units the parser accepts; secrets hidden.  0 or KEEL_EIO.
 */
KEEL_API int keel_config_dump(FILE *f, const keel_setting_t *table, size_t n,
                              const void *cfg);

#endif
