/* SPDX-License-Identifier: Apache-2.0 */
/* SASL responses for SMTP AUTH; see sg_smtpc_sasl.h. */
#include "smtpc/sg_smtpc_sasl.h"

#include <openssl/crypto.h>
#include <string.h>

#include "core/sg_base64.h"

void sg_smtpc_sasl_xoauth2(sg_buf *out, const char *user, const char *token) {
  sg_buf raw = SG_BUF_INIT;
  sg_buf_append_str(&raw, "user=");
  sg_buf_append_str(&raw, user);
  sg_buf_append_str(&raw, "\x01"
                          "auth=Bearer ");
  sg_buf_append_str(&raw, token);
  sg_buf_append(&raw, "\x01\x01", 2);
  sg_base64_encode(out, raw.data, raw.len);
  sg_smtpc_sasl_wipe(&raw);
}

void sg_smtpc_sasl_plain(sg_buf *out, const char *user, const char *password) {
  sg_buf raw = SG_BUF_INIT;
  sg_buf_append_char(&raw, '\0');
  sg_buf_append_str(&raw, user);
  sg_buf_append_char(&raw, '\0');
  sg_buf_append_str(&raw, password);
  sg_base64_encode(out, raw.data, raw.len);
  sg_smtpc_sasl_wipe(&raw);
}

void sg_smtpc_sasl_login_step(sg_buf *out, const char *s) {
  sg_base64_encode(out, s, strlen(s));
}

void sg_smtpc_sasl_wipe(sg_buf *b) {
  if (b->data)
    OPENSSL_cleanse(b->data, b->cap);
  sg_buf_free(b);
}
