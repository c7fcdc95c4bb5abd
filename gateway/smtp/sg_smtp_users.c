/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP users file in memory: strict parsing (one reason per refusal,
 * with its line number), the field checks, the allow-from check, and the
 * edits and formatting `sendgate smtp-user` needs. Pure: no files here
 * (sg_smtp_users_io.c reads and writes them) and no hashing (sg_smtp_passwd.c).
 * Comment and blank lines are kept with the user below them, so an edit
 * rewrites the file without losing the operator's notes.
 */
#include "smtp/sg_smtp_users.h"

#include <crypt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"

/* Longest crypt(3) string we take; yescrypt's are about 73 bytes. */
#define HASH_MAX 512

typedef struct entry {
  sg_smtp_user user;
  char *pre; /* the comment and blank lines above the user, each ending in '\n' */
} entry;

struct sg_smtp_users {
  entry *v;
  size_t n, cap;
  char *tail; /* comment and blank lines after the last user */
};

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...) {
  if (err != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return SG_ERR_INVAL;
}

static bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int sg_smtp_users_check_name(const char *name, char *err, size_t errcap) {
  size_t n = strlen(name);
  if (n == 0)
    return fail(err, errcap, "empty user name");
  if (n > SG_SMTP_USER_NAME_MAX)
    return fail(err, errcap, "user name longer than %d bytes", SG_SMTP_USER_NAME_MAX);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (!is_alnum(*p) && strchr("._-+@", *p) == NULL)
      return fail(err, errcap, "user name: use letters, digits and . _ - + @ only");
  if (name[0] == '-' || name[0] == '.')
    return fail(err, errcap, "user name must not start with '-' or '.'");
  return 0;
}

int sg_smtp_users_check_hash(const char *hash, char *err, size_t errcap) {
  size_t n = strlen(hash);
  if (n == 0)
    return fail(err, errcap, "empty password hash");
  if (n > HASH_MAX || hash[0] != '$')
    return fail(err, errcap, "password hash is not a crypt(3) string (\"$y$...\")");
  for (const unsigned char *p = (const unsigned char *)hash; *p; p++)
    if (!is_alnum(*p) && strchr("./$=", *p) == NULL)
      return fail(err, errcap, "password hash has a character crypt(3) never writes");
  /* Refuses unknown methods and the legacy ones (DES, MD5, ...). */
  if (crypt_checksalt(hash) != CRYPT_SALT_OK)
    return fail(err, errcap, "password hash method is unknown or too weak (use yescrypt)");
  return 0;
}

int sg_smtp_users_check_allow(const char *entry_s, char *norm, size_t normcap, char *err,
                              size_t errcap) {
  size_t n = strlen(entry_s);
  if (n == 0)
    return fail(err, errcap, "empty allow-from entry");
  if (n + 2 > normcap || n > 254)
    return fail(err, errcap, "allow-from entry too long");
  if (entry_s[0] == '@') {
    char probe[260] = "x"; /* "@domain" is valid when "x@domain" is */
    memcpy(probe + 1, entry_s, n + 1);
    if (!sg_addr_valid(probe, n + 1))
      return fail(err, errcap, "allow-from '%s' is not a valid @domain", entry_s);
  } else if (!sg_addr_valid(entry_s, n)) {
    return fail(err, errcap, "allow-from '%s' is not an address or @domain", entry_s);
  }
  for (size_t i = 0; i <= n; i++) {
    char c = entry_s[i];
    norm[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  return 0;
}

int sg_smtp_users_check_account(const char *account, char *err, size_t errcap) {
  size_t n = strlen(account);
  if (n > SG_SMTP_USER_ACCOUNT_MAX)
    return fail(err, errcap, "account name longer than %d bytes", SG_SMTP_USER_ACCOUNT_MAX);
  for (const unsigned char *p = (const unsigned char *)account; *p; p++)
    if (!is_alnum(*p) && *p != '_' && *p != '-')
      return fail(err, errcap, "account name: use letters, digits, '_' or '-'");
  return 0;
}

static void user_free(sg_smtp_user *u) {
  sg_free(u->name);
  sg_free(u->hash);
  for (size_t i = 0; i < u->nallow; i++)
    sg_free(u->allow_from[i]);
  sg_free(u->allow_from);
  sg_free(u->account);
  memset(u, 0, sizeof *u);
}

sg_smtp_users *sg_smtp_users_new(void) {
  sg_smtp_users *u = sg_xcalloc(1, sizeof *u);
  u->tail = sg_xstrdup("");
  return u;
}

void sg_smtp_users_free(sg_smtp_users *u) {
  if (u == NULL)
    return;
  for (size_t i = 0; i < u->n; i++) {
    user_free(&u->v[i].user);
    sg_free(u->v[i].pre);
  }
  sg_free(u->v);
  sg_free(u->tail);
  sg_free(u);
}

size_t sg_smtp_users_count(const sg_smtp_users *u) {
  return u->n;
}

const sg_smtp_user *sg_smtp_users_at(const sg_smtp_users *u, size_t i) {
  return i < u->n ? &u->v[i].user : NULL;
}

static entry *find(const sg_smtp_users *u, const char *name) {
  for (size_t i = 0; i < u->n; i++)
    if (strcmp(u->v[i].user.name, name) == 0)
      return &u->v[i];
  return NULL;
}

const sg_smtp_user *sg_smtp_users_find(const sg_smtp_users *u, const char *name) {
  entry *e = (u && name) ? find(u, name) : NULL;
  return e ? &e->user : NULL;
}

bool sg_smtp_user_may_send_as(const sg_smtp_user *u, const char *addr) {
  if (u == NULL || addr == NULL)
    return false;
  size_t n = strlen(addr);
  if (!sg_addr_valid(addr, n))
    return false;
  const char *domain = sg_addr_domain(addr);
  for (size_t i = 0; i < u->nallow; i++) {
    const char *a = u->allow_from[i];
    if (a[0] == '@' ? (domain && strcasecmp(a + 1, domain) == 0) : strcasecmp(a, addr) == 0)
      return true;
  }
  return false;
}

/* Checks and copies the fields into |out| (zeroed). */
static int user_fill(sg_smtp_user *out, const char *name, const char *hash,
                     const char *const *allow, size_t nallow, const char *account, char *err,
                     size_t errcap) {
  int rv;
  if ((rv = sg_smtp_users_check_name(name, err, errcap)) != 0 ||
      (rv = sg_smtp_users_check_hash(hash, err, errcap)) != 0 ||
      (rv = sg_smtp_users_check_account(account, err, errcap)) != 0)
    return rv;
  if (nallow == 0)
    return fail(err, errcap, "no allow-from address or @domain");
  out->allow_from = sg_xcalloc(nallow, sizeof *out->allow_from);
  for (size_t i = 0; i < nallow; i++) {
    char norm[260];
    if ((rv = sg_smtp_users_check_allow(allow[i], norm, sizeof norm, err, errcap)) != 0) {
      user_free(out);
      return rv;
    }
    out->allow_from[out->nallow++] = sg_xstrdup(norm);
  }
  out->name = sg_xstrdup(name);
  out->hash = sg_xstrdup(hash);
  out->account = sg_xstrdup(account);
  return 0;
}

static entry *push(sg_smtp_users *u) {
  if (u->n == u->cap) {
    u->cap = u->cap ? 2 * u->cap : 16;
    u->v = sg_xrealloc(u->v, u->cap * sizeof *u->v);
  }
  entry *e = &u->v[u->n++];
  memset(e, 0, sizeof *e);
  return e;
}

int sg_smtp_users_put(sg_smtp_users *u, const char *name, const char *hash,
                      const char *const *allow, size_t nallow, const char *account, bool replace,
                      char *err, size_t errcap) {
  sg_smtp_user nu;
  memset(&nu, 0, sizeof nu);
  int rv = user_fill(&nu, name, hash, allow, nallow, account, err, errcap);
  if (rv != 0)
    return rv;
  entry *old = find(u, name);
  if (old != NULL && !replace) {
    user_free(&nu);
    snprintf(err, errcap, "user %s exists", name);
    return SG_ERR_EXISTS;
  }
  if (old != NULL) {
    user_free(&old->user);
    old->user = nu;
    return 0;
  }
  entry *e = push(u);
  e->user = nu;
  e->pre = sg_xstrdup("");
  return 0;
}

int sg_smtp_users_del(sg_smtp_users *u, const char *name) {
  entry *e = find(u, name);
  if (e == NULL)
    return SG_ERR_NOTFOUND;
  user_free(&e->user);
  sg_free(e->pre);
  size_t i = (size_t)(e - u->v);
  memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof *u->v);
  u->n--;
  return 0;
}

int sg_smtp_users_set_hash(sg_smtp_users *u, const char *name, const char *hash) {
  entry *e = find(u, name);
  if (e == NULL)
    return SG_ERR_NOTFOUND;
  if (sg_smtp_users_check_hash(hash, NULL, 0) != 0)
    return SG_ERR_INVAL;
  sg_free(e->user.hash);
  e->user.hash = sg_xstrdup(hash);
  return 0;
}

char *sg_smtp_users_format(const sg_smtp_users *u, size_t *len) {
  sg_buf b = SG_BUF_INIT;
  for (size_t i = 0; i < u->n; i++) {
    const sg_smtp_user *x = &u->v[i].user;
    sg_buf_append_str(&b, u->v[i].pre);
    sg_buf_printf(&b, "%s:%s:", x->name, x->hash);
    for (size_t k = 0; k < x->nallow; k++)
      sg_buf_printf(&b, "%s%s", k ? "," : "", x->allow_from[k]);
    sg_buf_printf(&b, ":%s\n", x->account);
  }
  sg_buf_append_str(&b, u->tail);
  return sg_buf_steal(&b, len);
}

/* ---- parsing ---- */

/* Splits |s| at ',' into |out| (NUL-terminating the pieces in place). */
static size_t split_commas(char *s, char ***out) {
  size_t n = 1;
  for (const char *p = s; *p; p++)
    n += *p == ',';
  char **v = sg_xcalloc(n, sizeof *v);
  size_t k = 0;
  v[k++] = s;
  for (char *p = s; *p; p++)
    if (*p == ',') {
      *p = '\0';
      v[k++] = p + 1;
    }
  *out = v;
  return n;
}

/* One user line (|line| is a writable NUL-terminated copy) appended to |u|. */
static int parse_user(sg_smtp_users *u, char *line, char *pre, char *err, size_t errcap) {
  char *f[4];
  size_t nf = 0;
  f[nf++] = line;
  for (char *p = line; *p; p++)
    if (*p == ':') {
      if (nf == 4)
        return fail(err, errcap, "more than four ':'-separated fields");
      *p = '\0';
      f[nf++] = p + 1;
    }
  if (nf != 4)
    return fail(err, errcap, "expected name:hash:allow-from:account, found %zu field%s", nf,
                nf == 1 ? "" : "s");
  int rv = sg_smtp_users_check_name(f[0], err, errcap);
  if (rv != 0)
    return rv;
  if (find(u, f[0]) != NULL)
    return fail(err, errcap, "user %s appears twice", f[0]);
  if (f[2][0] == '\0')
    return fail(err, errcap, "user %s: no allow-from address or @domain", f[0]);
  char **allow;
  size_t nallow = split_commas(f[2], &allow);
  sg_smtp_user nu;
  memset(&nu, 0, sizeof nu);
  char why[300];
  rv = user_fill(&nu, f[0], f[1], (const char *const *)allow, nallow, f[3], why, sizeof why);
  sg_free(allow);
  if (rv != 0)
    return fail(err, errcap, "user %s: %s", f[0], why);
  entry *e = push(u);
  e->user = nu;
  e->pre = pre;
  return 0;
}

/* Blank: only spaces and tabs. */
static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return false;
  return true;
}

int sg_smtp_users_parse(const char *data, size_t len, sg_smtp_users **out, char *err,
                        size_t errcap) {
  *out = NULL;
  if (len > SG_SMTP_USERS_FILE_MAX) {
    snprintf(err, errcap, "larger than %u bytes", SG_SMTP_USERS_FILE_MAX);
    return SG_ERR_PARSE;
  }
  sg_smtp_users *u = sg_smtp_users_new();
  sg_buf pre = SG_BUF_INIT; /* comment lines waiting for their user */
  sg_buf_append(&pre, "", 0);
  char why[400];
  size_t lineno = 0, pos = 0;
  int rv = 0;
  while (pos < len && rv == 0) {
    lineno++;
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - data) : len;
    size_t n = end - pos;
    const char *line = data + pos;
    pos = nl ? end + 1 : len;
    if (n > 0 && line[n - 1] == '\r')
      n--;
    if (n > SG_SMTP_USERS_LINE_MAX) {
      rv = fail(why, sizeof why, "longer than %d bytes", SG_SMTP_USERS_LINE_MAX);
      break;
    }
    if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n) != NULL) {
      rv = fail(why, sizeof why, "NUL or CR inside the line");
      break;
    }
    if (blank(line, n) || line[0] == '#') {
      sg_buf_append(&pre, line, n);
      sg_buf_append_char(&pre, '\n');
      continue;
    }
    if (sg_has_ctl(line, n, false)) {
      rv = fail(why, sizeof why, "control character in a user line");
      break;
    }
    char *copy = sg_xstrndup(line, n);
    size_t plen;
    char *p = sg_buf_steal(&pre, &plen);
    rv = parse_user(u, copy, p, why, sizeof why);
    sg_free(copy);
    if (rv != 0)
      sg_free(p);
    sg_buf_append(&pre, "", 0);
  }
  if (rv != 0) {
    snprintf(err, errcap, "line %zu: %s", lineno, why);
    sg_buf_free(&pre);
    sg_smtp_users_free(u);
    return SG_ERR_PARSE;
  }
  sg_free(u->tail);
  size_t tlen;
  u->tail = sg_buf_steal(&pre, &tlen);
  *out = u;
  return 0;
}
