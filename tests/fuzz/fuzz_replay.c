/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The corpus replay runner linked into every fuzz_<target>_replay executable:
 * runs LLVMFuzzerTestOneInput once
 * on each file of the directories or files named on the command line, from an
 * exact-size heap copy so ASan catches reads past the end. Exits 1 on a
 * read error or when no input was found (an empty corpus must not pass).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sg_mem.h"
#include "fuzz_common.h"

/* Inputs larger than this are not corpus seeds; refuse rather than guess. */
#define REPLAY_MAX_BYTES (16u * 1024 * 1024)

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  sg_buf b = SG_BUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + n > REPLAY_MAX_BYTES) {
      fprintf(stderr, "%s: over %u bytes\n", path, REPLAY_MAX_BYTES);
      fclose(f);
      sg_buf_free(&b);
      return -1;
    }
    sg_buf_append(&b, chunk, n);
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "%s: read error\n", path);
    sg_buf_free(&b);
    return -1;
  }
  uint8_t *copy = sg_xmalloc(b.len ? b.len : 1);
  if (b.len > 0)
    memcpy(copy, b.data, b.len);
  LLVMFuzzerTestOneInput(copy, b.len);
  sg_free(copy);
  sg_buf_free(&b);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (run_file(argv[i]) != 0)
        return 1;
      files++;
      continue;
    }
    DIR *dir = opendir(argv[i]);
    if (dir == NULL) {
      perror(argv[i]);
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      sg_buf path = SG_BUF_INIT;
      sg_buf_printf(&path, "%s/%s", argv[i], e->d_name);
      int rv = run_file(path.data);
      sg_buf_free(&path);
      if (rv != 0) {
        closedir(dir);
        return 1;
      }
      files++;
    }
    closedir(dir);
  }
  printf("replayed %d inputs\n", files);
  return files > 0 ? 0 : 1;
}
