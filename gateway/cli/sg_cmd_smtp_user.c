/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate smtp-user add|passwd|del|list`: edits the users file that
 * `sendgate smtpd` reads. The password is the first line of standard input
 * (typed without echo on a terminal), hashed with yescrypt and wiped; the
 * file holds only hashes. Edits hold an exclusive lock on FILE.lock so two
 * runs never lose each other's change, and replace the file atomically
 * (sg_smtp_users_save), so smtpd reads either the old or the new one.
 */
#include "cli/sg_cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "smtp/sg_smtp_passwd.h"
#include "smtp/sg_smtp_users.h"

#define PROG "sendgate smtp-user"
/* --allow-from entries per user on the command line. */
#define MAX_ALLOW 256

static const char usage[] =
    "usage: sendgate smtp-user add NAME --allow-from ADDR|@DOMAIN [--allow-from ...]\n"
    "                              [--account NAME] [--users-file FILE]\n"
    "       sendgate smtp-user passwd NAME [--users-file FILE]\n"
    "       sendgate smtp-user del NAME [--users-file FILE]\n"
    "       sendgate smtp-user list [--users-file FILE]\n"
    "Edits the users file of `sendgate smtpd` (SMTP AUTH users and who each may send as).\n"
    "  add      adds NAME; its password is the first line of standard input\n"
    "  passwd   sets the password of NAME from the first line of standard input\n"
    "  del      deletes NAME\n"
    "  list     prints NAME, allowed senders and account, one user a line\n"
    "  --users-file FILE   the file (default SENDGATE_SMTP_USERS_FILE)\n"
    "  --allow-from X      an address or @domain NAME may send as (repeatable, or comma-separated)\n"
    "  --account NAME      the gateway account its mail goes through (default: the default one)\n"
    "The file holds yescrypt hashes, never passwords; it is written with mode 0600.\n";

typedef struct opts {
  const char *cmd, *name, *file, *account;
  const char *allow[MAX_ALLOW];
  size_t nallow;
  char *allow_copy[MAX_ALLOW]; /* strings split at commas */
  size_t ncopies;
  bool help;
} opts;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, PROG ": %s (see sendgate smtp-user --help)\n", msg);
  return 2;
}

static int add_allow(opts *o, const char *arg) {
  if (o->ncopies == MAX_ALLOW)
    return -1;
  char *copy = sg_xstrdup(arg);
  o->allow_copy[o->ncopies++] = copy;
  for (char *p = copy, *next; p != NULL; p = next) {
    next = strchr(p, ',');
    if (next != NULL)
      *next++ = '\0';
    if (o->nallow == MAX_ALLOW)
      return -1;
    o->allow[o->nallow++] = p;
  }
  return 0;
}

static int parse(opts *o, int argc, char **argv, char **envp) {
  static const struct option longopts[] = {{"users-file", required_argument, NULL, 'u'},
                                           {"allow-from", required_argument, NULL, 'a'},
                                           {"account", required_argument, NULL, 'c'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
    case 'u':
      o->file = optarg;
      break;
    case 'a':
      if (add_allow(o, optarg) != 0)
        return usage_error("too many --allow-from entries");
      break;
    case 'c':
      o->account = optarg;
      break;
    case 'h':
      o->help = true;
      return 0;
    case ':':
      return usage_error("%s needs a value", argv[optind - 1]);
    default:
      return usage_error("unknown option %s", argv[optind - 1]);
    }
  }
  if (optind < argc)
    o->cmd = argv[optind++];
  if (o->cmd == NULL)
    return usage_error("no subcommand (add, passwd, del or list)");
  bool named = strcmp(o->cmd, "add") == 0 || strcmp(o->cmd, "passwd") == 0 ||
               strcmp(o->cmd, "del") == 0;
  if (!named && strcmp(o->cmd, "list") != 0)
    return usage_error("unknown subcommand '%s'", o->cmd);
  if (named) {
    if (optind == argc)
      return usage_error("%s needs a user NAME", o->cmd);
    o->name = argv[optind++];
  }
  if (optind < argc)
    return usage_error("unexpected argument %s", argv[optind]);
  if (strcmp(o->cmd, "add") != 0 && (o->nallow > 0 || o->account != NULL))
    return usage_error("--allow-from and --account go with add, not %s", o->cmd);
  if (strcmp(o->cmd, "add") == 0 && o->nallow == 0)
    return usage_error("add needs at least one --allow-from");
  if (o->file == NULL)
    for (char **e = envp; e && *e; e++)
      if (strncmp(*e, "SENDGATE_SMTP_USERS_FILE=", 25) == 0)
        o->file = *e + 25;
  if (o->file == NULL || o->file[0] == '\0')
    return usage_error("no users file: give --users-file or set SENDGATE_SMTP_USERS_FILE");
  return 0;
}

/*
 * The first line of standard input into |pw| (|cap| bytes), without its line
 * end. On a terminal, prompts on stderr and turns echo off. Returns the length,
 * or -1 with a reason printed.
 */
static ssize_t read_password(char *pw, size_t cap) {
  struct termios old, quiet;
  bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    fputs("Password: ", stderr);
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  size_t n = 0;
  bool too_long = false, nul = false, eol = false;
  while (!eol) {
    char ch;
    ssize_t r = read(STDIN_FILENO, &ch, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    if (ch == '\n')
      eol = true;
    else if (ch == '\0')
      nul = true;
    else if (n + 1 < cap)
      pw[n++] = ch;
    else
      too_long = true;
  }
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputs("\n", stderr);
  }
  if (n > 0 && pw[n - 1] == '\r')
    n--;
  pw[n] = '\0';
  const char *why = too_long ? "the password is longer than 511 bytes"
                    : nul    ? "the password holds a NUL byte"
                    : n == 0 ? "empty password (it is the first line of standard input)"
                             : NULL;
  if (why != NULL) {
    fprintf(stderr, PROG ": %s\n", why);
    return -1;
  }
  return (ssize_t)n;
}

/* Reads a password and hashes it into |hash|. Returns 0 or -1 (reason printed). */
static int new_hash(char *hash, size_t cap) {
  char pw[SG_SMTP_PASSWD_MAX + 2];
  ssize_t n = read_password(pw, sizeof pw);
  int rv = n < 0 ? -1 : sg_smtp_passwd_hash(pw, (size_t)n, hash, cap);
  OPENSSL_cleanse(pw, sizeof pw);
  if (rv != 0 && n >= 0)
    fprintf(stderr, PROG ": cannot hash the password: %s\n", sg_strerror(rv));
  return rv == 0 ? 0 : -1;
}

/* An exclusive lock on FILE.lock, held until the process exits or the fd closes. */
static int lock_file(const char *file) {
  sg_buf p = SG_BUF_INIT;
  sg_buf_printf(&p, "%s.lock", file);
  int fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    fprintf(stderr, PROG ": cannot lock %s: %s\n", p.data, strerror(errno));
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
  sg_buf_free(&p);
  return fd;
}

static int list(const opts *o) {
  char err[600];
  sg_smtp_users *u;
  if (sg_smtp_users_load(o->file, &u, err, sizeof err) != 0) {
    fprintf(stderr, PROG ": %s\n", err);
    return 1;
  }
  for (size_t i = 0; i < sg_smtp_users_count(u); i++) {
    const sg_smtp_user *x = sg_smtp_users_at(u, i);
    printf("%s\t", x->name);
    for (size_t k = 0; k < x->nallow; k++)
      printf("%s%s", k ? "," : "", x->allow_from[k]);
    printf("\t%s\n", x->account[0] ? x->account : "-");
  }
  sg_smtp_users_free(u);
  return 0;
}

/* add, passwd and del: read-modify-write under the lock. */
static int edit(const opts *o) {
  char err[600], hash[SG_SMTP_PASSWD_HASH_CAP];
  bool add = strcmp(o->cmd, "add") == 0, del = strcmp(o->cmd, "del") == 0;
  if (add) { /* checked before the password is asked for */
    char norm[300];
    if (sg_smtp_users_check_name(o->name, err, sizeof err) != 0 ||
        sg_smtp_users_check_account(o->account ? o->account : "", err, sizeof err) != 0) {
      fprintf(stderr, PROG ": %s\n", err);
      return 2;
    }
    for (size_t i = 0; i < o->nallow; i++)
      if (sg_smtp_users_check_allow(o->allow[i], norm, sizeof norm, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
      }
  }
  int lock = lock_file(o->file);
  if (lock < 0)
    return 1;
  int rc = 1;
  sg_smtp_users *u = NULL;
  int rv = sg_smtp_users_load(o->file, &u, err, sizeof err);
  if (rv == SG_ERR_IO && add && access(o->file, F_OK) != 0 && errno == ENOENT) {
    u = sg_smtp_users_new(); /* the first user makes the file */
  } else if (rv != 0) {
    fprintf(stderr, PROG ": %s\n", err);
    goto out;
  }
  if (!add && sg_smtp_users_find(u, o->name) == NULL) {
    fprintf(stderr, PROG ": no user %s in %s\n", o->name, o->file);
    goto out;
  }
  if (add && sg_smtp_users_find(u, o->name) != NULL) {
    fprintf(stderr, PROG ": user %s exists in %s (passwd changes its password)\n", o->name,
            o->file);
    goto out;
  }
  if (!del && new_hash(hash, sizeof hash) != 0)
    goto out;
  if (add)
    rv = sg_smtp_users_put(u, o->name, hash, o->allow, o->nallow, o->account ? o->account : "",
                           false, err, sizeof err);
  else if (del)
    rv = sg_smtp_users_del(u, o->name);
  else
    rv = sg_smtp_users_set_hash(u, o->name, hash);
  if (rv != 0) {
    fprintf(stderr, PROG ": %s\n", add ? err : sg_strerror(rv));
    goto out;
  }
  if (sg_smtp_users_save(u, o->file, err, sizeof err) != 0) {
    fprintf(stderr, PROG ": %s\n", err);
    goto out;
  }
  printf("%s %s\n", add ? "added" : del ? "deleted" : "new password for", o->name);
  rc = 0;
out:
  OPENSSL_cleanse(hash, sizeof hash);
  sg_smtp_users_free(u);
  close(lock);
  return rc;
}

int sg_cmd_smtp_user(int argc, char **argv, char **envp) {
  opts o;
  memset(&o, 0, sizeof o);
  int rc = parse(&o, argc, argv, envp);
  if (rc == 0 && o.help)
    fputs(usage, stdout);
  else if (rc == 0)
    rc = strcmp(o.cmd, "list") == 0 ? list(&o) : edit(&o);
  for (size_t i = 0; i < o.ncopies; i++)
    sg_free(o.allow_copy[i]);
  return rc;
}
