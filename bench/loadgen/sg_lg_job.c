/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-loadgen's job builder; see sg_lg_job.h. */
#include "sg_lg_job.h"

#include <math.h>
#include <string.h>

#include "core/sg_fmt.h"
#include "core/sg_rand.h"
#include "job/sg_job_codec.h"

/* Recipient addresses cycle through this many mailboxes. */
#define RCPT_POOL 100000u
#define SALT_INVALID 0x5bd1e9955bd1e995ull
#define SALT_ACS 0xc2b2ae3d27d4eb4full

static const char filler[] = "The quick brown fox jumps over the lazy dog. 0123456789\n";

uint32_t sg_lg_pct_to_ppm(double pct) {
  if (!(pct > 0))
    return 0;
  if (pct >= 100)
    return 1000000;
  return (uint32_t)floor(pct * 10000.0 + 0.5);
}

void sg_lg_builder_init(sg_lg_builder *b, const sg_lg_opts *o) {
  memset(b, 0, sizeof *b);
  b->o = o;
  b->acs_ppm = sg_lg_pct_to_ppm(o->acs_pct);
  b->invalid_ppm = sg_lg_pct_to_ppm(o->invalid_pct);
  b->to = sg_xcalloc(o->recipients, sizeof *b->to);
  /* The body's filler, made once: each job's body is its first line and the
   * head of this (what appending the filler line by line would give). */
  for (size_t i = 0; i < o->size; i += sizeof filler - 1)
    sg_buf_append(&b->fill, filler,
                  o->size - i < sizeof filler - 1 ? o->size - i : sizeof filler - 1);
  if (o->attachments) {
    b->att = sg_xcalloc(o->attachments, sizeof *b->att);
    b->att_data = sg_xmalloc(o->attachment_size);
    for (uint32_t i = 0; i < o->attachment_size; i++)
      b->att_data[i] = (uint8_t)filler[i % (sizeof filler - 1)];
  }
}

void sg_lg_builder_free(sg_lg_builder *b) {
  sg_buf_free(&b->text);
  sg_buf_free(&b->fill);
  sg_buf_free(&b->subject);
  sg_buf_free(&b->id);
  sg_buf_free(&b->sender);
  sg_buf_free(&b->rcpt);
  sg_free(b->to);
  sg_free(b->att);
  sg_free(b->att_data);
  memset(b, 0, sizeof *b);
}

sg_lg_kind sg_lg_job_kind(const sg_lg_builder *b, uint64_t seq) {
  uint64_t h = sg_rand_mix(seq ^ SALT_INVALID);
  if (h % 1000000u >= b->invalid_ppm)
    return SG_LG_VALID;
  return (h >> 40) & 1u ? SG_LG_BAD_ADDRESS : SG_LG_NO_RECIPIENTS;
}

sg_backend sg_lg_job_backend(const sg_lg_builder *b, uint64_t seq) {
  if (sg_rand_mix(seq ^ SALT_ACS) % 1000000u < b->acs_ppm)
    return SG_BACKEND_ACS;
  return b->o->default_backend || b->o->account[0] ? SG_BACKEND_UNSPECIFIED : SG_BACKEND_GRAPH;
}

/* Appends |s| then |v| in decimal (printf took a fifth of the loadgen's CPU). */
static void put_str_u64(sg_buf *b, const char *s, uint64_t v) {
  char d[SG_FMT_U64_MAX];
  sg_buf_append_str(b, s);
  sg_buf_append(b, d, sg_fmt_u64(d, v));
}

static void build_recipients(sg_lg_builder *b, uint64_t seq, sg_lg_kind kind, sg_job *j) {
  const sg_lg_opts *o = b->o;
  if (kind == SG_LG_NO_RECIPIENTS)
    return;
  size_t offs[SG_LG_MAX_RECIPIENTS];
  sg_buf_reset(&b->rcpt);
  for (uint32_t k = 0; k < o->recipients; k++) {
    offs[k] = b->rcpt.len;
    if (kind == SG_LG_BAD_ADDRESS && k == 0) {
      put_str_u64(&b->rcpt, "not an address ", seq); /* spaces, no '@' */
    } else {
      put_str_u64(&b->rcpt, "r-", (seq * o->recipients + k) % RCPT_POOL);
      sg_buf_append_char(&b->rcpt, '@');
      sg_buf_append_str(&b->rcpt, o->domain);
    }
    sg_buf_append_char(&b->rcpt, '\0');
  }
  for (uint32_t k = 0; k < o->recipients; k++) {
    b->to[k].address = b->rcpt.data + offs[k];
    b->to[k].name = "";
  }
  j->to = b->to;
  j->n_to = o->recipients;
}

static void build_content(sg_lg_builder *b, sg_job *j) {
  const sg_lg_opts *o = b->o;
  sg_buf_reset(&b->subject);
  sg_buf_append(&b->subject, "sendgate-loadgen ", 17);
  sg_buf_append(&b->subject, b->id.data, b->id.len);
  sg_buf_reset(&b->text);
  sg_buf_append(&b->text, "Load test message ", 18);
  sg_buf_append(&b->text, b->id.data, b->id.len);
  sg_buf_append(&b->text, ".\n", 2);
  if (b->text.len < o->size)
    sg_buf_append(&b->text, b->fill.data, o->size - b->text.len);
  j->subject = b->subject.data;
  j->text_body = b->text.data;
  if (o->attachments == 0)
    return;
  /* Stamp the id at the front of the shared content so each job's differs. */
  size_t n = b->id.len < o->attachment_size ? b->id.len : o->attachment_size;
  memcpy(b->att_data, b->id.data, n);
  for (uint32_t k = 0; k < o->attachments; k++) {
    b->att[k].name = "attachment.bin";
    b->att[k].content_type = "application/octet-stream";
    b->att[k].content = b->att_data;
    b->att[k].content_len = o->attachment_size;
    b->att[k].content_id = "";
    b->att[k].is_inline = false;
  }
  j->attachments = b->att;
  j->n_attachments = o->attachments;
}

void sg_lg_job_build(sg_lg_builder *b, uint64_t seq, int64_t created_unix_ms, sg_buf *out) {
  const sg_lg_opts *o = b->o;
  sg_lg_kind kind = sg_lg_job_kind(b, seq);
  sg_job j;
  memset(&j, 0, sizeof j);
  sg_buf_reset(&b->id);
  sg_buf_append_str(&b->id, o->run_id);
  put_str_u64(&b->id, "-", seq);
  sg_buf_reset(&b->sender);
  put_str_u64(&b->sender, "sender-", seq % o->senders);
  sg_buf_append_char(&b->sender, '@');
  sg_buf_append_str(&b->sender, o->domain);
  j.id = b->id.data;
  j.backend = sg_lg_job_backend(b, seq);
  j.sender = b->sender.data;
  j.account = o->account;
  build_recipients(b, seq, kind, &j);
  build_content(b, &j);
  j.reply_stream = o->reply_stream ? o->reply_stream : "";
  j.campaign_id = o->run_id;
  j.created_unix_ms = created_unix_ms;
  sg_job_encode(&j, out);
}
