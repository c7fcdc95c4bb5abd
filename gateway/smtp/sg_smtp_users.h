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

#endif
