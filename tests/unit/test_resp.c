/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for redis/sg_resp: RESP requests written into a buffer, checked
 * byte for byte and against hiredis's own command formatter. */
#include "harness.h"

#include <hiredis/hiredis.h>

#include "core/sg_mem.h"
#include "redis/sg_resp.h"

static void t_shapes(void) {
  sg_buf b = SG_BUF_INIT;
  sg_resp_array(&b, 3);
  sg_resp_bulk(&b, "GET", 3);
  sg_resp_bulk(&b, "", 0);
  sg_resp_bulk_u64(&b, 18446744073709551615ull);
  const char want[] = "*3\r\n$3\r\nGET\r\n$0\r\n\r\n$20\r\n18446744073709551615\r\n";
  ASSERT_EQ(sizeof want - 1, b.len);
  ASSERT_MEM_EQ(want, b.data, b.len);
  ASSERT_EQ('\0', b.data[b.len]); /* sg_buf stays NUL-terminated */
  ASSERT_EQ(9, sg_resp_bulk_size(3));
  ASSERT_EQ(6, sg_resp_bulk_size(0));
  ASSERT_EQ(1 + 2 + 2 + 10 + 2, sg_resp_bulk_size(10));
  sg_buf_free(&b);
}

/* Binary arguments of many sizes come out exactly as redisFormatCommandArgv writes them. */
static void t_same_as_hiredis(void) {
  static char blob[70000];
  for (size_t i = 0; i < sizeof blob; i++)
    blob[i] = (char)(i * 31 + 7); /* includes NUL, CR and LF bytes */
  const size_t sizes[] = {0, 1, 9, 10, 99, 100, 12345, sizeof blob};
  sg_buf b = SG_BUF_INIT;
  for (size_t k = 0; k < SG_ARRAY_LEN(sizes); k++) {
    const char *argv[3] = {"SET", "key", blob};
    size_t lens[3] = {3, 3, sizes[k]};
    char *ref;
    long long n = redisFormatCommandArgv(&ref, 3, argv, lens);
    ASSERT(n > 0);
    sg_buf_reset(&b);
    sg_resp_array(&b, 3);
    for (int i = 0; i < 3; i++)
      sg_resp_bulk(&b, argv[i], lens[i]);
    ASSERT_EQ((size_t)n, b.len);
    ASSERT_MEM_EQ(ref, b.data, b.len);
    redisFreeCommand(ref);
  }
  sg_buf_free(&b);
}

/* Written into a buffer sized exactly with sg_resp_bulk_size, nothing grows. */
static void t_exact_size(void) {
  size_t need = sg_resp_bulk_size(5) + sg_resp_bulk_size(20);
  char *mem = sg_xmalloc(need + 1);
  sg_buf b = {mem, 0, need + 1};
  sg_resp_bulk(&b, "hello", 5);
  sg_resp_bulk_u64(&b, 12345678901234567890ull);
  ASSERT(b.data == mem);
  ASSERT_EQ(need, b.len);
  sg_free(mem);
}

SG_TESTS({"shapes", t_shapes}, {"same_as_hiredis", t_same_as_hiredis}, {"exact_size", t_exact_size})
