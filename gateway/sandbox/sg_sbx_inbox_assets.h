/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web inbox's page, style and script, compiled into the binary: the
 * files of gateway/sandbox/inbox/ turned into a C file at build time by
 * gateway/sandbox/inbox/embed.cmake (no other build step, nothing read from
 * disk at run time).
 */
#ifndef SG_SBX_INBOX_ASSETS_H
#define SG_SBX_INBOX_ASSETS_H

#include <stddef.h>

typedef struct sg_sbx_inbox_asset {
  const char *name;         /* "index.html", "app.js", "app.css" */
  const char *content_type; /* with charset */
  const unsigned char *data;
  size_t len;
} sg_sbx_inbox_asset;

extern const sg_sbx_inbox_asset sg_sbx_inbox_assets[];
extern const size_t sg_sbx_inbox_n_assets;

#endif
