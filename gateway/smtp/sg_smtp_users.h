/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP users: the users file that `sendgate smtp-user` writes and
 * `sendgate smtpd` reads. One user per line; the file holds salted slow
 * password hashes (yescrypt via libcrypt), never passwords:
 *
 *   <name>:<hash>:<allow-from,...>:<account>
 *
 * <allow-from> is a comma-separated list of addresses or "@domain"; an empty
 * <account> means the default account. Lines starting with '#' and blank
 * lines are ignored. Parsing and the allow-from check are pure.
 */
#ifndef SG_SMTP_USERS_H
#define SG_SMTP_USERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sg_smtp_user {
  char *name;
  char *hash;        /* crypt(3) string, "$y$..." */
  char **allow_from; /* addresses or "@domain", lower-cased */
  size_t nallow;
  char *account; /* "" = the default account */
} sg_smtp_user;

typedef struct sg_smtp_users sg_smtp_users;

/* Loads |path|. Returns 0, or SG_ERR_IO / SG_ERR_PARSE with |err| filled. */
int sg_smtp_users_load(const char *path, sg_smtp_users **out, char *err, size_t errcap);
void sg_smtp_users_free(sg_smtp_users *u);

/* The user called |name| (exact, case-sensitive), or NULL. */
const sg_smtp_user *sg_smtp_users_find(const sg_smtp_users *u, const char *name);

/* True when |u| may send as |addr| (an address of allow_from, compared
 * case-insensitively, or an address in one of its "@domain"s). */
bool sg_smtp_user_may_send_as(const sg_smtp_user *u, const char *addr);

/* ---- additions: parsing from memory, validation, editing (for the CLI) ---- */

/* Limits of the file format. */
#define SG_SMTP_USER_NAME_MAX 128    /* bytes of a user name */
#define SG_SMTP_USER_ACCOUNT_MAX 64  /* bytes of an account name */
#define SG_SMTP_USERS_LINE_MAX 16384 /* bytes of one line */
#define SG_SMTP_USERS_FILE_MAX (16u * 1024u * 1024u)

/*
 * Parses |len| bytes of users-file text (|data| need not be NUL-terminated)
 * into a new set. Strict: every line is blank, a '#' comment, or exactly four
 * ':'-separated fields, each valid (see the sg_smtp_users_check_* functions),
 * names unique; CRLF line ends are accepted. Returns 0, or SG_ERR_PARSE with
 * "line N: reason" in |err| (|*out| NULL).
 */
int sg_smtp_users_parse(const char *data, size_t len, sg_smtp_users **out, char *err,
                        size_t errcap);

/* An empty set (for a file that does not exist yet). */
sg_smtp_users *sg_smtp_users_new(void);

/* Number of users, and the |i|-th in file order (i < count). */
size_t sg_smtp_users_count(const sg_smtp_users *u);
const sg_smtp_user *sg_smtp_users_at(const sg_smtp_users *u, size_t i);

/*
 * Field checks, each returning 0 or SG_ERR_INVAL with a reason in |err|:
 * a name is 1..SG_SMTP_USER_NAME_MAX bytes of letters, digits and ". _ - + @",
 * not starting with '-' or '.'; a hash is a crypt(3) string of a supported,
 * non-legacy method ("$y$...", "$7$...", "$2b$...", "$6$..."), with no ':';
 * an allow-from entry is an address or "@domain" (sg_addr syntax; lower-cased
 * into |norm| of |normcap| bytes); an account is empty or 1..64 letters,
 * digits, '_' or '-' (the config's account names).
 */
int sg_smtp_users_check_name(const char *name, char *err, size_t errcap);
int sg_smtp_users_check_hash(const char *hash, char *err, size_t errcap);
int sg_smtp_users_check_allow(const char *entry, char *norm, size_t normcap, char *err,
                              size_t errcap);
int sg_smtp_users_check_account(const char *account, char *err, size_t errcap);

/*
 * Adds a user, or replaces the one of the same name when |replace| (keeping
 * its place in the file). Every field is checked and copied; |allow| holds
 * |nallow| >= 1 entries. Returns 0, SG_ERR_EXISTS (the name is taken and
 * |replace| is false) or SG_ERR_INVAL, with a reason in |err|.
 */
int sg_smtp_users_put(sg_smtp_users *u, const char *name, const char *hash,
                      const char *const *allow, size_t nallow, const char *account, bool replace,
                      char *err, size_t errcap);

/* Removes |name| (with the comment lines just above it). Returns 0 or SG_ERR_NOTFOUND. */
int sg_smtp_users_del(sg_smtp_users *u, const char *name);

/* Sets the hash of |name| (checked, copied). Returns 0, SG_ERR_NOTFOUND or SG_ERR_INVAL. */
int sg_smtp_users_set_hash(sg_smtp_users *u, const char *name, const char *hash);

/*
 * Writes |u| in the file format (comment and blank lines kept where they
 * were, LF line ends) into |out| (a NUL-terminated buffer the caller frees
 * with sg_free) and its length into |*len|. What it writes parses back to the
 * same set.
 */
char *sg_smtp_users_format(const sg_smtp_users *u, size_t *len);

/*
 * Replaces the file at |path| with |u| atomically: a temporary file in the
 * same directory (mode 0600, the old file's owner kept when allowed), written,
 * fsync'ed and renamed over |path|, then the directory fsync'ed. Returns 0 or
 * SG_ERR_IO with a reason in |err|.
 */
int sg_smtp_users_save(const sg_smtp_users *u, const char *path, char *err, size_t errcap);

#endif
