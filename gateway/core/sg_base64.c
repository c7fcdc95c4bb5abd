/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 and base64url encoding, strict base64 decoding; see sg_base64.h.
 *
 * Decisions: sg_base64_encode_wrapped puts CRLF between lines only, never
 * after the last line (the caller adds what follows, e.g. the CRLF before a
 * MIME boundary), so the output does not depend on whether the last line is
 * full. Decoding requires padding to a multiple of four characters and '='
 * only at the end; non-zero bits in the padding position of the last
 * character ("Zh==" for "f") are accepted, as most decoders (OpenSSL's
 * EVP_DecodeBlock among them) do. Empty input is valid and decodes to
 * nothing.
 */
#include "core/sg_base64.h"

#include "core/sg_err.h"

static const char enc_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char enc_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decoding classes: 0..63 a sextet, PAD '=', WS skippable blank, BAD other. */
enum { PAD = 64, WS = 65, BAD = 66 };

/* clang-format off */
static const unsigned char dec[256] = {
    /* 0x00 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, WS,  WS,  BAD, BAD, WS,  BAD, BAD,
    /* 0x10 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0x20 */ WS,  BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, 62,  BAD, BAD, BAD, 63,
    /* 0x30 */ 52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  BAD, BAD, BAD, PAD, BAD, BAD,
    /* 0x40 */ BAD, 0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,
    /* 0x50 */ 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  BAD, BAD, BAD, BAD, BAD,
    /* 0x60 */ BAD, 26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
    /* 0x70 */ 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  BAD, BAD, BAD, BAD, BAD,
    /* 0x80 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0x90 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xa0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xb0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xc0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xd0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xe0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    /* 0xf0 */ BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};
/* clang-format on */

size_t sg_base64_len(size_t n) {
  return (n + 2) / 3 * 4;
}

/* Writes the encoding of |n| bytes to |o| (room checked by the caller);
 * returns the number of characters written. */
static size_t encode(char *o, const unsigned char *p, size_t n, const char *tab, bool pad) {
  char *start = o;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    o[0] = tab[v >> 18];
    o[1] = tab[(v >> 12) & 63];
    o[2] = tab[(v >> 6) & 63];
    o[3] = tab[v & 63];
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    if (pad) {
      *o++ = '=';
      *o++ = '=';
    }
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = tab[(v >> 6) & 63];
    if (pad)
      *o++ = '=';
  }
  return (size_t)(o - start);
}

static void append_encoded(sg_buf *out, const void *p, size_t n, const char *tab, bool pad) {
  sg_buf_reserve(out, sg_base64_len(n));
  size_t k = encode(out->data + out->len, p, n, tab, pad);
  out->len += k;
  out->data[out->len] = '\0';
}

void sg_base64_encode(sg_buf *out, const void *p, size_t n) {
  append_encoded(out, p, n, enc_std, true);
}

void sg_base64url_encode(sg_buf *out, const void *p, size_t n) {
  append_encoded(out, p, n, enc_url, false);
}

void sg_base64_encode_wrapped(sg_buf *out, const void *p, size_t n, size_t wrap) {
  /* Whole lines are encoded from whole groups when |wrap| is a multiple of
   * four (76, 64); other widths go through a per-line copy. */
  if (wrap == 0 || sg_base64_len(n) <= wrap) {
    sg_base64_encode(out, p, n);
    return;
  }
  size_t total = sg_base64_len(n);
  sg_buf_reserve(out, total + (total / wrap) * 2);
  if (wrap % 4 == 0) {
    const unsigned char *b = p;
    size_t in_line = wrap / 4 * 3;
    for (size_t i = 0; i < n; i += in_line) {
      if (i > 0)
        sg_buf_append(out, "\r\n", 2);
      size_t k = n - i < in_line ? n - i : in_line;
      append_encoded(out, b + i, k, enc_std, true);
    }
    return;
  }
  sg_buf tmp = SG_BUF_INIT;
  sg_base64_encode(&tmp, p, n);
  for (size_t i = 0; i < tmp.len; i += wrap) {
    if (i > 0)
      sg_buf_append(out, "\r\n", 2);
    sg_buf_append(out, tmp.data + i, tmp.len - i < wrap ? tmp.len - i : wrap);
  }
  sg_buf_free(&tmp);
}

/* The decoder behind both entry points; |out| NULL only validates. */
static int decode(sg_buf *out, const char *s, size_t n, bool allow_ws) {
  const unsigned char *p = (const unsigned char *)s;
  unsigned char q[4] = {0, 0, 0, 0};
  size_t nq = 0;
  size_t pads = 0; /* '=' seen; only more '=' (and blanks) may follow */
  if (out != NULL)
    sg_buf_reserve(out, n / 4 * 3 + 3);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = dec[p[i]];
    if (c < 64) {
      if (pads > 0)
        return SG_ERR_PARSE;
      q[nq++] = c;
      if (nq == 4) {
        if (out != NULL) {
          char b[3] = {(char)(q[0] << 2 | q[1] >> 4), (char)(q[1] << 4 | q[2] >> 2),
                       (char)(q[2] << 6 | q[3])};
          sg_buf_append(out, b, 3);
        }
        nq = 0;
      }
    } else if (c == PAD) {
      /* "xx==" or "xxx=": at least two sextets before, at most two pads. */
      if (nq < 2 || nq + pads >= 4)
        return SG_ERR_PARSE;
      pads++;
    } else if (c == WS && allow_ws) {
      continue;
    } else {
      return SG_ERR_PARSE;
    }
  }
  if (pads > 0) {
    if (nq + pads != 4)
      return SG_ERR_PARSE;
    if (out != NULL) {
      char b[2] = {(char)(q[0] << 2 | q[1] >> 4), (char)(q[1] << 4 | q[2] >> 2)};
      sg_buf_append(out, b, nq - 1);
    }
    return 0;
  }
  return nq == 0 ? 0 : SG_ERR_PARSE;
}

int sg_base64_decode(sg_buf *out, const char *s, size_t n, bool allow_ws) {
  return decode(out, s, n, allow_ws);
}

bool sg_base64_valid(const char *s, size_t n, bool allow_ws) {
  return decode(NULL, s, n, allow_ws) == 0;
}
