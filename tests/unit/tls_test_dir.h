/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests that write certificates (sg_sbx_certgen) at test time: a
 * temporary directory under $TMPDIR (or /tmp), paths in it, and its removal
 * with the files in it.
 */
#ifndef SG_TLS_TEST_DIR_H
#define SG_TLS_TEST_DIR_H

#include "harness.h"

#include <dirent.h>
#include <unistd.h>

#include "core/sg_mem.h"

/* A new directory $TMPDIR/<name>.XXXXXX; sg_tls_test_dir_rm removes it. */
static inline char *sg_tls_test_dir_new(const char *name) {
  const char *base = getenv("TMPDIR");
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "%s/%s.XXXXXX", base && base[0] ? base : "/tmp", name);
  ASSERT_NOT_NULL(mkdtemp(b.data));
  return sg_buf_steal(&b, NULL);
}

/* Removes |dir| and the files in it, and frees |dir|. */
static inline void sg_tls_test_dir_rm(char *dir) {
  DIR *d = opendir(dir);
  ASSERT_NOT_NULL(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    sg_buf p = SG_BUF_INIT;
    sg_buf_printf(&p, "%s/%s", dir, e->d_name);
    ASSERT_OK(unlink(p.data));
    sg_buf_free(&p);
  }
  closedir(d);
  ASSERT_OK(rmdir(dir));
  sg_free(dir);
}

/* "<dir>/<file>", to be freed with sg_free. */
static inline char *sg_tls_test_path(const char *dir, const char *file) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "%s/%s", dir, file);
  return sg_buf_steal(&b, NULL);
}

#endif
