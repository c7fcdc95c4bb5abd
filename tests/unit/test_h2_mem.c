/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for h2/sg_h2_mem: reuse by size class, the per-class bound,
 * realloc and calloc semantics, and a real nghttp2 client/server exchange on it. */
#include "harness.h"

#include <stdint.h>
#include <string.h>

#include "h2/sg_h2_mem.h"

static void *M(sg_h2_mem *m, size_t n) {
  return m->mem.malloc(n, m->mem.mem_user_data);
}
static void F(sg_h2_mem *m, void *p) {
  m->mem.free(p, m->mem.mem_user_data);
}

static void t_reuse(void) {
  sg_h2_mem m;
  sg_h2_mem_init(&m);
  void *a = M(&m, 100); /* class 128 */
  ASSERT(a != NULL);
  ASSERT_EQ(0, (uintptr_t)a % sizeof(max_align_t));
  memset(a, 0xab, 128); /* the whole class is usable */
  F(&m, a);
  ASSERT_EQ(1, sg_h2_mem_cached(&m));
  void *b = M(&m, 65); /* same class: the same block comes back */
  ASSERT(b == a);
  ASSERT_EQ(0, sg_h2_mem_cached(&m));
  void *c = M(&m, 129); /* next class: a new block */
  ASSERT(c != a);
  F(&m, b);
  F(&m, c);
  F(&m, NULL);
  ASSERT_EQ(2, sg_h2_mem_cached(&m));
  void *big = M(&m, 100000); /* above the classes: malloc and free */
  ASSERT(big != NULL);
  memset(big, 1, 100000);
  F(&m, big);
  ASSERT_EQ(2, sg_h2_mem_cached(&m));
  ASSERT_EQ(1, m.hits);
  sg_h2_mem_free(&m);
  ASSERT_EQ(0, sg_h2_mem_cached(&m));
  /* Each class edge: the largest size of a class reuses its smallest's block
   * (0 and 1 are in the first), one byte more does not; above 4096 nothing is
   * cached. */
  static const size_t lo[] = {0, 1, 33, 65, 129, 257, 513, 1025, 2049};
  static const size_t hi[] = {32, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  for (size_t i = 0; i < sizeof lo / sizeof lo[0]; i++) {
    void *x = M(&m, lo[i]);
    F(&m, x);
    void *y = M(&m, hi[i]);
    ASSERT(y == x);
    F(&m, y);
    void *z = M(&m, hi[i] + 1); /* the cached block is too small */
    ASSERT(z != x);
    F(&m, z);
    sg_h2_mem_free(&m);
  }
  F(&m, M(&m, 4097));
  ASSERT_EQ(0, sg_h2_mem_cached(&m));
}

/* A class keeps at most SG_H2_MEM_CLASS_BYTES of free blocks. */
static void t_bound(void) {
  sg_h2_mem m;
  sg_h2_mem_init(&m);
  enum { N = 3000 };
  static void *p[N];
  for (int i = 0; i < N; i++)
    p[i] = M(&m, 200); /* class 256 */
  for (int i = 0; i < N; i++)
    F(&m, p[i]);
  ASSERT_EQ(SG_H2_MEM_CLASS_BYTES / 256, sg_h2_mem_cached(&m));
  sg_h2_mem_free(&m);
}

static void t_realloc_calloc(void) {
  sg_h2_mem m;
  sg_h2_mem_init(&m);
  char *p = m.mem.realloc(NULL, 10, &m); /* NULL: malloc */
  ASSERT(p != NULL);
  memcpy(p, "0123456789", 10);
  char *q = m.mem.realloc(p, 30, &m); /* still within the 32-byte class */
  ASSERT(q == p);
  char *r = m.mem.realloc(q, 5000, &m); /* larger: moved, contents kept */
  ASSERT(r != NULL);
  ASSERT_MEM_EQ("0123456789", r, 10);
  ASSERT(m.mem.realloc(r, 0, &m) == NULL); /* 0: freed */
  unsigned char *z = m.mem.calloc(10, 30, &m);
  ASSERT(z != NULL);
  for (int i = 0; i < 300; i++)
    ASSERT_EQ(0, z[i]);
  F(&m, z);
  z = m.mem.calloc(10, 30, &m); /* a reused block is zeroed too */
  for (int i = 0; i < 300; i++)
    ASSERT_EQ(0, z[i]);
  F(&m, z);
  ASSERT(m.mem.calloc(SIZE_MAX / 2, 4, &m) == NULL); /* overflow */
  sg_h2_mem_free(&m);
}

/* nghttp2 on the cache: a client and a server session exchange a request and
 * a response in memory, many times, and every block goes back. */
typedef struct pipe_end {
  nghttp2_session *s;
  int closed;
} pipe_end;

static ssize_t pump(nghttp2_session *from, nghttp2_session *to) {
  ssize_t total = 0;
  for (int i = 0; i < 1000; i++) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(from, &data);
    if (n <= 0)
      break;
    ssize_t r = nghttp2_session_mem_recv(to, data, (size_t)n);
    if (r != n)
      return -1;
    total += n;
  }
  return total;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud) {
  (void)s, (void)id, (void)code;
  ((pipe_end *)ud)->closed++;
  return 0;
}

static int on_req_end(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  (void)ud;
  if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    nghttp2_nv nv[] = {{(uint8_t *)":status", (uint8_t *)"202", 7, 3, NGHTTP2_NV_FLAG_NONE},
                       {(uint8_t *)"request-id", (uint8_t *)"0f3c", 10, 4, NGHTTP2_NV_FLAG_NONE}};
    nghttp2_submit_response(s, f->hd.stream_id, nv, 2, NULL);
  }
  return 0;
}

static void t_nghttp2(void) {
  sg_h2_mem cm, sm;
  sg_h2_mem_init(&cm);
  sg_h2_mem_init(&sm);
  nghttp2_session_callbacks *cb;
  ASSERT_OK(nghttp2_session_callbacks_new(&cb));
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_req_end);
  pipe_end c = {0}, s = {0};
  ASSERT_OK(nghttp2_session_client_new3(&c.s, cb, &c, NULL, &cm.mem));
  ASSERT_OK(nghttp2_session_server_new3(&s.s, cb, &s, NULL, &sm.mem));
  ASSERT_OK(nghttp2_submit_settings(c.s, NGHTTP2_FLAG_NONE, NULL, 0));
  ASSERT_OK(nghttp2_submit_settings(s.s, NGHTTP2_FLAG_NONE, NULL, 0));
  nghttp2_nv req[] = {{(uint8_t *)":method", (uint8_t *)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
                      {(uint8_t *)":scheme", (uint8_t *)"https", 7, 5, NGHTTP2_NV_FLAG_NONE},
                      {(uint8_t *)":authority", (uint8_t *)"x", 10, 1, NGHTTP2_NV_FLAG_NONE},
                      {(uint8_t *)":path", (uint8_t *)"/", 5, 1, NGHTTP2_NV_FLAG_NONE}};
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 20; i++)
      ASSERT(nghttp2_submit_request(c.s, NULL, req, 4, NULL, NULL) > 0);
    for (int k = 0; k < 4; k++) {
      ASSERT(pump(c.s, s.s) >= 0);
      ASSERT(pump(s.s, c.s) >= 0);
    }
  }
  ASSERT_EQ(1000, c.closed);   /* every response arrived and closed its stream */
  ASSERT(cm.hits > cm.misses); /* the later rounds ran on reused blocks */
  nghttp2_session_del(c.s);
  nghttp2_session_del(s.s);
  nghttp2_session_callbacks_del(cb);
  sg_h2_mem_free(&cm); /* under ASan: nothing leaked, nothing freed twice */
  sg_h2_mem_free(&sm);
}

SG_TESTS({"reuse", t_reuse}, {"bound", t_bound}, {"realloc_calloc", t_realloc_calloc},
         {"nghttp2", t_nghttp2})
