/* SPDX-License-Identifier: Apache-2.0 */
/* The inbox's message store and event ring; see sg_sbx_inbox.h. */
#include "sandbox/sg_sbx_inbox.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct sg_sbx_inbox {
  sg_list msgs; /* oldest first */
  size_t count, bytes;
  uint64_t last_id;
  sg_sbx_inbox_event *ev;         /* ring of ev_cap */
  size_t ev_cap, ev_len, ev_head; /* head: the oldest */
};

/* What one message costs besides its strings and contents (a rough fixed
 * share for the struct and allocator overhead). */
#define MSG_OVERHEAD 256

sg_sbx_inbox *sg_sbx_inbox_new(void) {
  sg_sbx_inbox *ib = sg_xcalloc(1, sizeof *ib);
  sg_list_init(&ib->msgs);
  return ib;
}

static void drop_oldest(sg_sbx_inbox *ib) {
  sg_list *n = sg_list_pop_front(&ib->msgs);
  sg_sbx_inbox_msg *m = sg_container_of(n, sg_sbx_inbox_msg, link);
  ib->count--;
  ib->bytes -= m->bytes;
  sg_sbx_inbox_msg_del(m);
}

void sg_sbx_inbox_clear(sg_sbx_inbox *ib) {
  while (ib->count)
    drop_oldest(ib);
  ib->last_id = 0;
  ib->ev_len = ib->ev_head = 0;
}

void sg_sbx_inbox_del(sg_sbx_inbox *ib) {
  if (ib == NULL)
    return;
  sg_sbx_inbox_clear(ib);
  sg_free(ib->ev);
  sg_free(ib);
}

sg_sbx_inbox_msg *sg_sbx_inbox_msg_new(void) {
  sg_sbx_inbox_msg *m = sg_xcalloc(1, sizeof *m);
  sg_list_node_init(&m->link);
  m->api = "graph";
  m->mailbox = sg_xstrdup("");
  m->from = sg_xstrdup("");
  m->to = sg_xstrdup("");
  m->cc = sg_xstrdup("");
  m->bcc = sg_xstrdup("");
  m->subject = sg_xstrdup("");
  m->request_id = sg_xstrdup("");
  m->key = sg_xstrdup("");
  m->text = sg_xstrdup("");
  m->html = sg_xstrdup("");
  return m;
}

void sg_sbx_inbox_msg_del(sg_sbx_inbox_msg *m) {
  if (m == NULL)
    return;
  char **strs[] = {&m->mailbox, &m->from,       &m->to,  &m->cc,   &m->bcc,
                   &m->subject, &m->request_id, &m->key, &m->text, &m->html};
  for (size_t i = 0; i < SG_ARRAY_LEN(strs); i++)
    sg_free(*strs[i]);
  for (size_t i = 0; i < m->n_hdrs; i++) {
    sg_free(m->hdrs[i].name);
    sg_free(m->hdrs[i].value);
  }
  sg_free(m->hdrs);
  for (size_t i = 0; i < m->n_atts; i++) {
    sg_free(m->atts[i].name);
    sg_free(m->atts[i].content_type);
    sg_free(m->atts[i].content_id);
    sg_free(m->atts[i].data);
  }
  sg_free(m->atts);
  sg_free(m);
}

void sg_sbx_inbox_msg_add_att(sg_sbx_inbox_msg *m, const char *name, const char *content_type,
                              const char *content_id, bool is_inline, const void *data, size_t size,
                              bool keep) {
  m->atts = sg_xrealloc(m->atts, (m->n_atts + 1) * sizeof *m->atts);
  sg_sbx_inbox_att *a = &m->atts[m->n_atts++];
  a->name = sg_xstrdup(name ? name : "");
  a->content_type =
      sg_xstrdup(content_type && content_type[0] ? content_type : "application/octet-stream");
  a->content_id = sg_xstrdup(content_id ? content_id : "");
  a->is_inline = is_inline;
  a->size = size;
  a->data = NULL;
  if (keep && data) {
    a->data = sg_xmalloc(size ? size : 1);
    memcpy(a->data, data, size);
  } else {
    m->content_cut = true;
  }
}

void sg_sbx_inbox_msg_add_hdr(sg_sbx_inbox_msg *m, const char *name, const char *value,
                              size_t max) {
  m->hdrs = sg_xrealloc(m->hdrs, (m->n_hdrs + 1) * sizeof *m->hdrs);
  size_t n = strlen(value);
  m->hdrs[m->n_hdrs].name = sg_xstrdup(name);
  m->hdrs[m->n_hdrs].value = sg_xstrndup(value, n < max ? n : max);
  m->n_hdrs++;
}

static size_t msg_bytes(const sg_sbx_inbox_msg *m) {
  size_t b = MSG_OVERHEAD + strlen(m->mailbox) + strlen(m->from) + strlen(m->to) + strlen(m->cc) +
             strlen(m->bcc) + strlen(m->subject) + strlen(m->request_id) + strlen(m->key) +
             strlen(m->text) + strlen(m->html);
  for (size_t i = 0; i < m->n_hdrs; i++)
    b += 32 + strlen(m->hdrs[i].name) + strlen(m->hdrs[i].value);
  for (size_t i = 0; i < m->n_atts; i++)
    b += 64 + strlen(m->atts[i].name) + strlen(m->atts[i].content_type) +
         strlen(m->atts[i].content_id) + (m->atts[i].data ? m->atts[i].size : 0);
  return b;
}

uint64_t sg_sbx_inbox_add(sg_sbx_inbox *ib, sg_sbx_inbox_msg *m, int64_t ts_ms,
                          const sg_sbx_inbox_limits *lim) {
  m->id = ++ib->last_id;
  m->ts_ms = ts_ms;
  m->bytes = msg_bytes(m);
  if (lim->max_messages == 0 || m->bytes > lim->max_bytes) {
    sg_sbx_inbox_msg_del(m);
    return 0;
  }
  while (ib->count && (ib->count >= lim->max_messages || ib->bytes + m->bytes > lim->max_bytes))
    drop_oldest(ib);
  sg_list_push_back(&ib->msgs, &m->link);
  ib->count++;
  ib->bytes += m->bytes;
  return m->id;
}

void sg_sbx_inbox_event_add(sg_sbx_inbox *ib, const sg_sbx_inbox_event *ev, size_t max_events) {
  if (max_events == 0)
    return;
  if (max_events != ib->ev_cap) { /* the setting changed: keep the latest that fit */
    sg_sbx_inbox_event *nv = sg_xcalloc(max_events, sizeof *nv);
    size_t keep = ib->ev_len < max_events ? ib->ev_len : max_events;
    for (size_t i = 0; i < keep; i++)
      nv[i] = ib->ev[(ib->ev_head + ib->ev_len - keep + i) % ib->ev_cap];
    sg_free(ib->ev);
    ib->ev = nv;
    ib->ev_cap = max_events;
    ib->ev_len = keep;
    ib->ev_head = 0;
  }
  if (ib->ev_len == ib->ev_cap) {
    ib->ev[ib->ev_head] = *ev;
    ib->ev_head = (ib->ev_head + 1) % ib->ev_cap;
  } else {
    ib->ev[(ib->ev_head + ib->ev_len) % ib->ev_cap] = *ev;
    ib->ev_len++;
  }
}

const sg_sbx_inbox_msg *sg_sbx_inbox_get(const sg_sbx_inbox *ib, uint64_t id) {
  for (const sg_list *n = ib->msgs.prev; n != &ib->msgs; n = n->prev) {
    const sg_sbx_inbox_msg *m = sg_container_of(n, const sg_sbx_inbox_msg, link);
    if (m->id == id)
      return m;
    if (m->id < id)
      break;
  }
  return NULL;
}

size_t sg_sbx_inbox_count(const sg_sbx_inbox *ib) {
  return ib->count;
}

size_t sg_sbx_inbox_bytes(const sg_sbx_inbox *ib) {
  return ib->bytes;
}

uint64_t sg_sbx_inbox_last_id(const sg_sbx_inbox *ib) {
  return ib->last_id;
}

size_t sg_sbx_inbox_event_count(const sg_sbx_inbox *ib) {
  return ib->ev_len;
}

/* True when |needle| is empty or occurs in |hay|, ASCII case ignored. */
static bool contains(const char *hay, const char *needle) {
  if (needle == NULL || needle[0] == '\0')
    return true;
  size_t n = strlen(needle);
  for (const char *p = hay; *p; p++) {
    size_t i = 0;
    while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n)
      return true;
  }
  return false;
}

bool sg_sbx_inbox_match(const sg_sbx_inbox_msg *m, const sg_sbx_inbox_filter *f) {
  return m->id > f->since && contains(m->subject, f->q) &&
         (contains(m->mailbox, f->mailbox) || contains(m->from, f->mailbox)) &&
         (contains(m->to, f->rcpt) || contains(m->cc, f->rcpt) || contains(m->bcc, f->rcpt));
}

size_t sg_sbx_inbox_each(const sg_sbx_inbox *ib, const sg_sbx_inbox_filter *f,
                         void (*fn)(const sg_sbx_inbox_msg *m, void *ud), void *ud) {
  size_t limit =
      f->limit == 0 || f->limit > SG_SBX_INBOX_LIST_MAX ? SG_SBX_INBOX_LIST_MAX : f->limit;
  size_t matched = 0;
  for (const sg_list *n = ib->msgs.prev; n != &ib->msgs; n = n->prev) {
    const sg_sbx_inbox_msg *m = sg_container_of(n, const sg_sbx_inbox_msg, link);
    if (m->id <= f->since)
      break; /* older ones have lower ids */
    if (!sg_sbx_inbox_match(m, f))
      continue;
    if (matched++ < limit)
      fn(m, ud);
  }
  return matched;
}

/* The service an api belongs to: graph, acs or smtp (both SMTP hosts). */
static size_t service_len(const char *api) {
  return strncmp(api, "smtp", 4) == 0 ? 4 : strlen(api);
}

static bool in_history(const sg_sbx_inbox_event *ev, const sg_sbx_inbox_msg *m) {
  size_t sl = service_len(m->api);
  if (strncmp(ev->api, m->api, sl) != 0 || service_len(ev->api) != sl)
    return false;
  if (ev->mailbox[0] && strcasecmp(ev->mailbox, m->mailbox) != 0)
    return false;
  return ev->ts_ms >= m->ts_ms - SG_SBX_INBOX_HISTORY_BEFORE_MS &&
         ev->ts_ms <= m->ts_ms + SG_SBX_INBOX_HISTORY_AFTER_MS;
}

void sg_sbx_inbox_history(const sg_sbx_inbox *ib, const sg_sbx_inbox_msg *m,
                          void (*fn)(const sg_sbx_inbox_event *ev, void *ud), void *ud) {
  /* Newest first to find where the latest SG_SBX_INBOX_HISTORY_MAX start. */
  size_t found = 0, first = ib->ev_len;
  for (size_t k = ib->ev_len; k-- > 0 && found < SG_SBX_INBOX_HISTORY_MAX;) {
    const sg_sbx_inbox_event *ev = &ib->ev[(ib->ev_head + k) % ib->ev_cap];
    if (in_history(ev, m)) {
      found++;
      first = k;
    }
  }
  for (size_t k = first; k < ib->ev_len && found; k++) {
    const sg_sbx_inbox_event *ev = &ib->ev[(ib->ev_head + k) % ib->ev_cap];
    if (in_history(ev, m)) {
      fn(ev, ud);
      found--;
    }
  }
}

void sg_sbx_inbox_file_name(char *out, size_t cap, const char *name, size_t index) {
  if (cap == 0)
    return;
  size_t n = 0;
  const char *p = name ? name : "";
  /* The last path component only ("../../x" and "C:\\x" included). */
  for (const char *q = p; *q; q++)
    if (*q == '/' || *q == '\\')
      p = q + 1;
  while (*p == '.' || *p == ' ')
    p++;
  for (; *p && n < cap - 1; p++) {
    unsigned char c = (unsigned char)*p;
    out[n++] = (char)(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ' ' ? c : '_');
  }
  out[n] = '\0';
  if (*p && n > 0) { /* cut: keep the extension (up to 10 bytes) at the end */
    const char *dot = strrchr(p, '.');
    size_t el = dot ? strlen(dot) : 0;
    if (el > 1 && el <= 10 && el < n) {
      for (size_t i = 0; i < el; i++) {
        unsigned char c = (unsigned char)dot[i];
        out[n - el + i] = (char)(isalnum(c) || c == '.' ? c : '_');
      }
    }
  }
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.'))
    out[--n] = '\0';
  if (n == 0)
    snprintf(out, cap, "attachment-%zu", index + 1);
}
