/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP replies to job outcomes; see sg_smtpc_classify.h. */
#include "smtpc/sg_smtpc_classify.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"

const char *sg_smtpc_stage_name(sg_smtpc_stage s) {
  static const char *const names[] = {"connect", "greeting", "EHLO",        "STARTTLS",
                                      "AUTH",    "RSET",     "MAIL",        "RCPT",
                                      "DATA",    "body",     "end of data", "QUIT"};
  return (unsigned)s < SG_ARRAY_LEN(names) ? names[s] : "?";
}

/* Copies |s| into |dst| (|cap| bytes), control characters as spaces. */
static void copy_clean(char *dst, size_t cap, const char *s) {
  size_t i = 0;
  for (; s[i] && i + 1 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    dst[i] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
  }
  dst[i] = '\0';
}

static bool enh_class_subject(const char *enh, char cls, const char *subject) {
  size_t n = strlen(subject);
  return enh[0] == cls && enh[1] == '.' && strncmp(enh + 2, subject, n) == 0 && enh[2 + n] == '.';
}

void sg_smtpc_classify_reply(sg_smtpc_stage stage, const sg_smtpc_reply *r, bool xoauth2,
                             sg_outcome *out) {
  memset(out, 0, sizeof *out);
  out->http_status = r->code;
  if (r->enh[0])
    snprintf(out->code, sizeof out->code, "%s", r->enh);
  else
    snprintf(out->code, sizeof out->code, "SMTP%d", r->code);
  char msg[SG_OUTCOME_MESSAGE_MAX];
  snprintf(msg, sizeof msg, "%s: %d%s%s %.440s", sg_smtpc_stage_name(stage), r->code,
           r->enh[0] ? " " : "", r->enh, r->text);
  copy_clean(out->message, sizeof out->message, msg);

  int cls = sg_smtpc_reply_class(r);
  if (cls == 2 || cls == 3) {
    out->kind = SG_OUTCOME_SENT;
    out->code[0] = '\0';
    return;
  }
  if (cls == 4) {
    out->kind = SG_OUTCOME_RETRY;
    /* 4.7.x: policy, e.g. Exchange's "4.7.0 ... too many messages"; 421 is
     * the server shedding load or going away. */
    out->throttled = enh_class_subject(r->enh, '4', "7") || r->code == 421;
    return;
  }
  if (strcmp(r->enh, "5.2.0") == 0 && strstr(r->text, "SubmissionQuotaExceeded")) {
    out->kind = SG_OUTCOME_RETRY;
    out->throttled = true;
    out->quota_exceeded = true;
    return;
  }
  if (stage == SG_SMTPC_STAGE_AUTH && xoauth2 && r->code == 535 && strcmp(r->enh, "5.7.3") == 0) {
    out->kind = SG_OUTCOME_AUTH_REFRESH;
    return;
  }
  out->kind = SG_OUTCOME_FAILED;
}

void sg_smtpc_classify_transport(sg_smtpc_stage stage, int err, sg_outcome *out) {
  memset(out, 0, sizeof *out);
  out->kind = SG_OUTCOME_RETRY;
  out->transport_err = err;
  out->ambiguous = stage == SG_SMTPC_STAGE_DOT;
  snprintf(out->code, sizeof out->code, "%s", sg_err_name(err));
  char msg[SG_OUTCOME_MESSAGE_MAX];
  snprintf(msg, sizeof msg, "%s: %s%s", sg_smtpc_stage_name(stage), sg_strerror(err),
           out->ambiguous ? " (after the message was sent: it may have been accepted)" : "");
  copy_clean(out->message, sizeof out->message, msg);
}

void sg_smtpc_classify_local(sg_outcome_kind kind, const char *code, const char *message,
                             sg_outcome *out) {
  memset(out, 0, sizeof *out);
  out->kind = kind;
  snprintf(out->code, sizeof out->code, "%s", code);
  copy_clean(out->message, sizeof out->message, message);
}
