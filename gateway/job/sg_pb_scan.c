/* SPDX-License-Identifier: Apache-2.0 */
/* NUL bytes in protobuf string fields; see sg_pb_scan.h. */
#include "job/sg_pb_scan.h"

#include <string.h>

/* Reads a varint of two bytes or more at |*p| (< |end|); false when it runs
 * past the end or 10 bytes. */
static bool varint_long(const uint8_t **p, const uint8_t *end, uint64_t *out) {
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

/* Reads a varint at |*p| (< |end|): one byte (tags, most lengths) inline. */
static inline bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  if (*p < end && **p < 0x80) {
    *out = *(*p)++;
    return true;
  }
  return varint_long(p, end, out);
}

/* The field numbered |id| of |d|, or NULL. Fields are sorted by number, so
 * where numbers have no gaps up to |id| it is at index id - 1 (checked);
 * otherwise protobuf-c's own search. */
static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, uint64_t id) {
  if (id >= 1 && id <= d->n_fields && d->fields[id - 1].id == id)
    return &d->fields[id - 1];
  return id <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)id) : NULL;
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
      const ProtobufCFieldDescriptor *f = field(d, key >> 3);
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
