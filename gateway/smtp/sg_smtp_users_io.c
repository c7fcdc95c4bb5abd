/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The users file on disk: reading it whole (bounded) for sg_smtp_users_parse,
 * and replacing it atomically (temporary file, fsync, rename, directory
 * fsync) so that `sendgate smtpd`, which re-reads it when it changes, never
 * sees half a file. Blocking I/O: for the command line and for smtpd's
 * reload of a small local file.
 */
#include "smtp/sg_smtp_users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

int sg_smtp_users_load(const char *path, sg_smtp_users **out, char *err, size_t errcap) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errcap, "%s: %s", path, strerror(errno));
    return SG_ERR_IO;
  }
  sg_buf b = SG_BUF_INIT;
  char chunk[65536];
  int rv = 0;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(err, errcap, "%s: %s", path, strerror(errno));
      rv = SG_ERR_IO;
      break;
    }
    if (n == 0)
      break;
    if (b.len + (size_t)n > SG_SMTP_USERS_FILE_MAX) {
      snprintf(err, errcap, "%s: larger than %u bytes", path, SG_SMTP_USERS_FILE_MAX);
      rv = SG_ERR_PARSE;
      break;
    }
    sg_buf_append(&b, chunk, (size_t)n);
  }
  close(fd);
  if (rv == 0) {
    char why[400];
    rv = sg_smtp_users_parse(b.data ? b.data : "", b.len, out, why, sizeof why);
    if (rv != 0)
      snprintf(err, errcap, "%s: %s", path, why);
  }
  sg_buf_free(&b);
  return rv;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fsync of the directory holding |path|, so the rename itself is durable. */
static int sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir =
      slash ? sg_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : sg_xstrdup(".");
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  sg_free(dir);
  if (fd < 0)
    return -1;
  int rv = fsync(fd);
  close(fd);
  return rv;
}

int sg_smtp_users_save(const sg_smtp_users *u, const char *path, char *err, size_t errcap) {
  size_t len;
  char *text = sg_smtp_users_format(u, &len);
  sg_buf tmp = SG_BUF_INIT;
  sg_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
  int rv = SG_ERR_IO;
  int fd = mkstemp(tmp.data); /* mode 0600 */
  if (fd < 0) {
    snprintf(err, errcap, "cannot create a file next to %s: %s", path, strerror(errno));
    goto out;
  }
  struct stat st;
  if (stat(path, &st) == 0 && (st.st_uid != geteuid() || st.st_gid != getegid()))
    (void)!fchown(fd, st.st_uid, st.st_gid); /* keep the owner smtpd reads it as, when allowed */
  if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
    snprintf(err, errcap, "cannot write %s: %s", tmp.data, strerror(errno));
    close(fd);
    unlink(tmp.data);
    goto out;
  }
  if (close(fd) != 0 || rename(tmp.data, path) != 0) {
    snprintf(err, errcap, "cannot replace %s: %s", path, strerror(errno));
    unlink(tmp.data);
    goto out;
  }
  if (sync_dir(path) != 0) {
    snprintf(err, errcap, "cannot sync the directory of %s: %s", path, strerror(errno));
    goto out;
  }
  rv = 0;
out:
  sg_buf_free(&tmp);
  sg_free(text);
  return rv;
}
