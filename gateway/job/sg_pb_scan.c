/* SPDX-License-Identifier: Apache-2.0 */
/* NUL bytes in protobuf string fields; see sg_pb_scan.h. */
#include "job/sg_pb_scan.h"

#include <string.h>

/* Reads a varint at |*p| (< |end|); false when it runs past the end or 10 bytes. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

static bool scan(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                 unsigned depth) {
  while (p < end) {
    uint64_t key, n;
    if (!varint(&p, end, &key))
      return false;
    switch (key & 7) {
    case 0: /* varint */
      if (!varint(&p, end, &n))
        return false;
      break;
    case 1: /* 64-bit */
      if (end - p < 8)
        return false;
      p += 8;
      break;
    case 5: /* 32-bit */
      if (end - p < 4)
        return false;
      p += 4;
      break;
    case 2: { /* length-delimited: string, bytes, message, packed */
      if (!varint(&p, end, &n) || n > (uint64_t)(end - p))
        return false;
      const ProtobufCFieldDescriptor *f =
          key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                                 : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)n) != NULL)
        return true;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < SG_PB_SCAN_MAX_DEPTH &&
          scan(f->descriptor, p, p + n, depth + 1))
        return true;
      p += n;
      break;
    }
    default: /* groups (3, 4) are not in this schema: malformed for us */
      return false;
    }
  }
  return false;
}

bool sg_pb_has_nul_string(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len) {
  return d != NULL && p != NULL && scan(d, p, p + len, 0);
}
