/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inbox's JSON: the list the page polls and one message in full. Every
 * string goes through the escaping writer (core/sg_json_write.h), so any
 * byte a sender put in a subject or header arrives as data. Bodies are sent
 * as they are kept (bounded by the store). The HTML itself is not in the
 * JSON: the page loads it into a sandboxed frame from its own path.
 */
#include "sandbox/sg_sbx_inbox.h"

#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_json_write.h"

static void kv_str(sg_buf *b, const char *key, const char *v) {
  sg_jw_key(b, key);
  sg_jw_cstr(b, v);
  sg_buf_append_char(b, ',');
}

static void kv_int(sg_buf *b, const char *key, int64_t v) {
  sg_jw_key(b, key);
  sg_jw_int(b, v);
  sg_buf_append_char(b, ',');
}

/* The summary fields, each followed by a comma. */
static void summary(sg_buf *b, const sg_sbx_inbox_msg *m) {
  char ts[32];
  sg_time_rfc3339(m->ts_ms, ts);
  kv_int(b, "id", (int64_t)m->id);
  kv_str(b, "ts", ts);
  kv_str(b, "api", m->api);
  kv_str(b, "mailbox", m->mailbox);
  kv_str(b, "from", m->from);
  kv_str(b, "to", m->to);
  kv_str(b, "cc", m->cc);
  kv_str(b, "bcc", m->bcc);
  kv_str(b, "subject", m->subject);
  kv_int(b, "size", (int64_t)m->size);
  kv_int(b, "attachments", (int64_t)m->n_atts);
  sg_jw_key(b, "has_html");
  sg_jw_bool(b, m->html[0] != '\0');
  sg_buf_append_char(b, ',');
}

static void end_object(sg_buf *b) {
  if (b->len && b->data[b->len - 1] == ',')
    b->len--;
  sg_buf_append_char(b, '}');
}

static void on_list_item(const sg_sbx_inbox_msg *m, void *ud) {
  sg_buf *b = ud;
  sg_buf_append_char(b, '{');
  summary(b, m);
  end_object(b);
  sg_buf_append_char(b, ',');
}

void sg_sbx_inbox_list_json(const sg_sbx_inbox *ib, const sg_sbx_inbox_filter *f, sg_buf *out) {
  sg_buf_printf(out, "{\"latest\":%llu,\"total\":%zu,\"messages\":[",
                (unsigned long long)sg_sbx_inbox_last_id(ib), sg_sbx_inbox_count(ib));
  size_t start = out->len;
  size_t matched = sg_sbx_inbox_each(ib, f, on_list_item, out);
  if (out->len > start)
    out->len--; /* the last comma */
  sg_buf_printf(out, "],\"count\":%zu}", matched);
}

static void on_event(const sg_sbx_inbox_event *ev, void *ud) {
  sg_buf *b = ud;
  char ts[32];
  sg_time_rfc3339(ev->ts_ms, ts);
  sg_buf_append_char(b, '{');
  kv_str(b, "ts", ts);
  kv_str(b, "api", ev->api);
  kv_str(b, "mailbox", ev->mailbox);
  kv_int(b, "status", ev->status);
  kv_str(b, "code", ev->code);
  kv_int(b, "retry_after_ms", (int64_t)ev->retry_ms);
  end_object(b);
  sg_buf_append_char(b, ',');
}

static void end_array(sg_buf *b) {
  if (b->data[b->len - 1] == ',')
    b->len--;
  sg_buf_append_str(b, "],");
}

void sg_sbx_inbox_msg_json(const sg_sbx_inbox *ib, const sg_sbx_inbox_msg *m, sg_buf *out) {
  sg_buf_append_char(out, '{');
  summary(out, m);
  kv_str(out, "request_id", m->request_id);
  kv_str(out, "key", m->key);
  sg_jw_key(out, "content_cut");
  sg_jw_bool(out, m->content_cut);
  sg_buf_append_str(out, ",\"headers\":[");
  for (size_t i = 0; i < m->n_hdrs; i++) {
    sg_buf_append_char(out, '{');
    kv_str(out, "name", m->hdrs[i].name);
    kv_str(out, "value", m->hdrs[i].value);
    end_object(out);
    sg_buf_append_char(out, ',');
  }
  end_array(out);
  kv_str(out, "text", m->text);
  if (m->html[0])
    sg_buf_printf(out, "\"html_url\":\"/inbox/messages/%llu/html\",", (unsigned long long)m->id);
  sg_buf_append_str(out, "\"attachment_list\":[");
  for (size_t i = 0; i < m->n_atts; i++) {
    const sg_sbx_inbox_att *a = &m->atts[i];
    char fname[128];
    sg_sbx_inbox_file_name(fname, sizeof fname, a->name, i);
    sg_buf_append_char(out, '{');
    kv_str(out, "name", a->name);
    kv_str(out, "file_name", fname);
    kv_str(out, "content_type", a->content_type);
    kv_str(out, "content_id", a->content_id);
    sg_jw_key(out, "inline");
    sg_jw_bool(out, a->is_inline);
    sg_buf_append_char(out, ',');
    kv_int(out, "size", (int64_t)a->size);
    if (a->data)
      sg_buf_printf(out, "\"url\":\"/inbox/messages/%llu/attachments/%zu\",",
                    (unsigned long long)m->id, i);
    end_object(out);
    sg_buf_append_char(out, ',');
  }
  end_array(out);
  sg_buf_append_str(out, "\"history\":[");
  sg_sbx_inbox_history(ib, m, on_event, out);
  end_array(out);
  end_object(out);
}
