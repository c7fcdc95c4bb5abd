/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarative settings: a table describes each setting (section, key, type,
 * where it lives in a struct, default). The same table is filled from an INI
 * file (inih), from the environment (SENDGATE_<SECTION>_<KEY>, which wins over
 * the file), and from "section.key=value" strings (command-line --set, the
 * sandbox's control endpoint). Secrets can come from <VAR>_FILE.
 *
 * Used by the gateway's config and by the sandbox, so both parse and report
 * errors the same way: one line naming the setting and what was wrong.
 */
#ifndef SG_SETTINGS_H
#define SG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SG_SET_STR,    /* char *, owned by the struct (freed by sg_settings_free) */
  SG_SET_INT,    /* int64_t */
  SG_SET_BOOL,   /* bool: true/false/yes/no/on/off/1/0 */
  SG_SET_DOUBLE, /* double */
} sg_set_type;

/* Flags. */
#define SG_SET_SECRET 1u /* never printed; may be read from <VAR>_FILE */

typedef struct sg_setting {
  const char *section; /* "" for none */
  const char *key;
  sg_set_type type;
  size_t offset;    /* offsetof(struct, field) */
  const char *def;  /* default as text, or NULL (empty string / 0 / false) */
  int64_t min, max; /* INT bounds (inclusive); ignored when min == max */
  unsigned flags;
  const char *env; /* environment variable, or NULL for SENDGATE_<SECTION>_<KEY> */
  const char *help;
} sg_setting;

typedef struct sg_settings {
  const sg_setting *tbl;
  size_t n;
  const char *env_prefix; /* "SENDGATE_" */
} sg_settings;

/*
 * Sets every field of |obj| to its default. |obj| must be zeroed or filled by
 * these functions before (string fields are freed before being replaced).
 * Returns 0 or SG_ERR_CONFIG.
 */
int sg_settings_defaults(const sg_settings *s, void *obj, char *err, size_t errcap);

/*
 * Sets one setting from text. |section| may be "" for settings without one.
 * Returns 0, SG_ERR_NOTFOUND for an unknown setting, or SG_ERR_CONFIG for a
 * bad value (|err| says which and why).
 */
int sg_settings_set(const sg_settings *s, void *obj, const char *section, const char *key,
                    const char *value, char *err, size_t errcap);

/* Same, from "section.key=value" (or "key=value"). */
int sg_settings_set_kv(const sg_settings *s, void *obj, const char *kv, char *err, size_t errcap);

/*
 * Called for INI sections the table does not know (e.g. "[account.sales]").
 * Return 0 to accept the line, or SG_ERR_* with |err| filled.
 */
typedef int (*sg_settings_unknown_cb)(void *ud, const char *section, const char *key,
                                      const char *value, char *err, size_t errcap);

/*
 * Reads an INI file. Unknown keys in known sections are errors; unknown
 * sections go to |unknown| (an error when NULL). Returns 0, SG_ERR_IO (file
 * unreadable) or SG_ERR_CONFIG, with "<file>:<line>: reason" in |err|.
 */
int sg_settings_load_ini(const sg_settings *s, void *obj, const char *path,
                         sg_settings_unknown_cb unknown, void *ud, char *err, size_t errcap);

/* The value of |name| in |envp| (NULL-terminated "NAME=value" strings), or NULL. */
const char *sg_settings_env(char *const *envp, const char *name);

/*
 * Applies the environment (|envp|, NULL-terminated "NAME=value" strings).
 * For SG_SET_SECRET settings, NAME_FILE names a file whose content (trailing
 * newline stripped) is the value. Returns 0 or SG_ERR_CONFIG.
 */
int sg_settings_load_env(const sg_settings *s, void *obj, char *const *envp, char *err,
                         size_t errcap);

/* Name of the environment variable for |st| (written into |out|). */
void sg_settings_env_name(const sg_settings *s, const sg_setting *st, char *out, size_t cap);

/* Frees the SG_SET_STR fields. */
void sg_settings_free(const sg_settings *s, void *obj);

/* Reads a whole small file (secrets); strips one trailing newline. Caller frees. */
int sg_settings_read_file(const char *path, char **out, size_t max);

#endif
