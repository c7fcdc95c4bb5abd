/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-lines logger; see sg_log.h. */
#include "core/sg_log.h"

#include <stdarg.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "core/sg_mem.h"

static sg_log_level g_level = SG_LOG_INFO;
static const char *g_service = NULL;
static bool g_show_rcpt = false;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void sg_log_set_level(sg_log_level lvl) {
  g_level = lvl;
}
sg_log_level sg_log_get_level(void) {
  return g_level;
}
bool sg_log_enabled(sg_log_level lvl) {
  return lvl >= g_level && lvl < SG_LOG_OFF;
}
void sg_log_set_service(const char *name) {
  g_service = name;
}
void sg_log_set_show_recipients(bool show) {
  g_show_rcpt = show;
}

int sg_log_parse_level(const char *s, sg_log_level *out) {
  for (int i = 0; i <= SG_LOG_OFF; i++) {
    if (strcasecmp(s, level_names[i]) == 0) {
      *out = (sg_log_level)i;
      return 0;
    }
  }
  if (strcasecmp(s, "warning") == 0) {
    *out = SG_LOG_WARN;
    return 0;
  }
  return SG_ERR_INVAL;
}

static void begin(sg_buf *b, sg_log_level lvl, const char *comp) {
  char ts[32];
  sg_time_rfc3339(sg_wall_ms(), ts);
  sg_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[lvl]);
  if (g_service) {
    sg_buf_append_str(b, ",\"svc\":");
    sg_jw_cstr(b, g_service);
  }
  sg_buf_append_str(b, ",\"comp\":");
  sg_jw_cstr(b, comp);
}

static void finish(sg_buf *b) {
  sg_buf_append(b, "}\n", 2);
  size_t off = 0;
  while (off < b->len) {
    ssize_t n = write(STDERR_FILENO, b->data + off, b->len - off);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  sg_buf_free(b);
}

void sg_log(sg_log_level lvl, const char *comp, const char *fmt, ...) {
  if (!sg_log_enabled(lvl))
    return;
  sg_buf msg = SG_BUF_INIT, line = SG_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  sg_buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  begin(&line, lvl, comp);
  sg_buf_append_str(&line, ",\"msg\":");
  sg_jw_str(&line, msg.data ? msg.data : "", msg.len);
  sg_buf_free(&msg);
  finish(&line);
}

void sg_log_kv(sg_log_level lvl, const char *comp, const char *msg, ...) {
  if (!sg_log_enabled(lvl))
    return;
  sg_buf line = SG_BUF_INIT;
  begin(&line, lvl, comp);
  sg_buf_append_str(&line, ",\"msg\":");
  sg_jw_cstr(&line, msg);
  va_list ap;
  va_start(ap, msg);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (k == NULL)
      break;
    const char *v = va_arg(ap, const char *);
    sg_buf_append_char(&line, ',');
    sg_jw_cstr(&line, k);
    sg_buf_append_char(&line, ':');
    if (v)
      sg_jw_cstr(&line, v);
    else
      sg_buf_append_str(&line, "null");
  }
  va_end(ap);
  finish(&line);
}

/* Characters of an address's local part as they appear in prose (quotes and
 * rarer atext characters end it, so "'jane@x.com'" masks as 'j***@x.com'). */
static bool local_char(unsigned char c) {
  return c >= 0x80 || isalnum(c) || (c != '\0' && strchr("+-_.", c) != NULL);
}

void sg_log_mask_text(const char *in, char *out, size_t cap) {
  if (cap == 0)
    return;
  if (in == NULL)
    in = "";
  size_t n = 0;
  for (const char *p = in; *p && n + 1 < cap; p++) {
    if (*p == '@' && !g_show_rcpt && p > in && local_char((unsigned char)p[-1])) {
      /* Step back over the local part already copied; keep its first character. */
      size_t start = n;
      while (start > 0 && local_char((unsigned char)out[start - 1]))
        start--;
      if (start < n) {
        n = start + 1;
        for (const char *m = "***"; *m && n + 1 < cap; m++)
          out[n++] = *m;
      }
      if (n + 1 >= cap)
        break;
    }
    out[n++] = *p;
  }
  out[n] = '\0';
}

void sg_log_mask_addr(const char *addr, char *out, size_t cap) {
  if (cap == 0)
    return;
  if (addr == NULL)
    addr = "";
  if (g_show_rcpt) {
    snprintf(out, cap, "%s", addr);
    return;
  }
  const char *at = strrchr(addr, '@');
  if (at == NULL || at == addr) {
    snprintf(out, cap, "***");
    return;
  }
  snprintf(out, cap, "%c***%s", addr[0], at);
}
