/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tool modes of the test_acs binary, for tests/integration/test_acs_sdk.sh:
 * the gateway's own svc/sg_acs code builds, signs and classifies requests
 * that curl then carries to a real sandbox. Files are written, never read
 * back by anything but the script; everything is freed before returning.
 *
 *   --acs-request SPEC.json CONNSTR API_VERSION OUTDIR
 *       builds the message described by SPEC.json (the job fields: id,
 *       sender, subject, text_body, html_body, to/cc/bcc/reply_to
 *       [{address,name}], headers [{name,value}], attachments [{name,
 *       content_type, content_b64, content_id, inline}], tracking_disabled)
 *       into OUTDIR/body.json, the signed request headers into
 *       OUTDIR/headers.txt ("name: value" lines, for curl -H @file) and the
 *       path into OUTDIR/path.txt; prints the Operation-Id.
 *   --acs-poll-request CONNSTR API_VERSION OPERATION_ID OUTDIR
 *       the same for GET /emails/operations/{id} (headers.txt, path.txt).
 *   --acs-classify send|poll HEADER_DUMP BODY_FILE
 *       classifies a response saved by curl -D HEADER_DUMP -o BODY_FILE and
 *       prints "KIND http=N op=ID retry_ms=N code=CODE location=URL".
 */
#ifndef SG_TEST_ACS_TOOL_H
#define SG_TEST_ACS_TOOL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "json/sg_json.h"
#include "svc/sg_acs.h"

/* Files the tool reads are small test inputs. */
#define ACS_TOOL_MAX_FILE (16u * 1024u * 1024u)

static int tool_read(const char *path, sg_buf *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len + n <= ACS_TOOL_MAX_FILE)
    sg_buf_append(out, chunk, n);
  int bad = ferror(f) || n > 0;
  fclose(f);
  if (bad)
    fprintf(stderr, "%s: read error or over %u bytes\n", path, ACS_TOOL_MAX_FILE);
  return bad ? -1 : 0;
}

static int tool_write(const char *dir, const char *name, const void *p, size_t n) {
  sg_buf path = SG_BUF_INIT;
  sg_buf_printf(&path, "%s/%s", dir, name);
  FILE *f = fopen(path.data, "wb");
  int rv = f != NULL && fwrite(p, 1, n, f) == n ? 0 : -1;
  if (f != NULL && fclose(f) != 0)
    rv = -1;
  if (rv != 0)
    perror(path.data);
  sg_buf_free(&path);
  return rv;
}

static const char *tool_str(const sg_json *obj, const char *key) {
  const char *s = sg_json_str(sg_json_get(obj, key));
  return s ? s : "";
}

/* Everything one spec needs kept alive while its job is used. */
typedef struct tool_job {
  sg_job j;
  sg_job_addr *addrs[4];
  sg_job_header *hdrs;
  sg_job_attachment *atts;
  sg_buf *contents;
} tool_job;

static sg_job_addr *tool_addrs(const sg_json *arr, size_t *n) {
  *n = arr != NULL && arr->type == SG_JSON_ARRAY ? arr->count : 0;
  sg_job_addr *v = sg_xcalloc(*n ? *n : 1, sizeof *v);
  size_t i = 0;
  for (const sg_json *e = *n ? arr->child : NULL; e != NULL; e = e->next, i++)
    v[i] = (sg_job_addr){tool_str(e, "address"), tool_str(e, "name")};
  return v;
}

/* Fills |t| from the spec |root| (borrowed: |t| points into it). */
static int tool_job_from_spec(const sg_json *root, tool_job *t) {
  memset(t, 0, sizeof *t);
  sg_job *j = &t->j;
  j->id = tool_str(root, "id");
  j->backend = SG_BACKEND_ACS;
  j->account = j->reply_stream = j->campaign_id = "";
  j->sender = tool_str(root, "sender");
  j->subject = tool_str(root, "subject");
  j->text_body = tool_str(root, "text_body");
  j->html_body = tool_str(root, "html_body");
  j->to = t->addrs[0] = tool_addrs(sg_json_get(root, "to"), &j->n_to);
  j->cc = t->addrs[1] = tool_addrs(sg_json_get(root, "cc"), &j->n_cc);
  j->bcc = t->addrs[2] = tool_addrs(sg_json_get(root, "bcc"), &j->n_bcc);
  j->reply_to = t->addrs[3] = tool_addrs(sg_json_get(root, "reply_to"), &j->n_reply_to);
  const sg_json *h = sg_json_get(root, "headers");
  j->n_headers = h != NULL && h->type == SG_JSON_ARRAY ? h->count : 0;
  t->hdrs = sg_xcalloc(j->n_headers + 1, sizeof *t->hdrs);
  size_t i = 0;
  for (const sg_json *e = j->n_headers ? h->child : NULL; e != NULL; e = e->next, i++)
    t->hdrs[i] = (sg_job_header){tool_str(e, "name"), tool_str(e, "value")};
  j->headers = t->hdrs;
  const sg_json *a = sg_json_get(root, "attachments");
  j->n_attachments = a != NULL && a->type == SG_JSON_ARRAY ? a->count : 0;
  t->atts = sg_xcalloc(j->n_attachments + 1, sizeof *t->atts);
  t->contents = sg_xcalloc(j->n_attachments + 1, sizeof *t->contents);
  i = 0;
  for (const sg_json *e = j->n_attachments ? a->child : NULL; e != NULL; e = e->next, i++) {
    const char *b64 = tool_str(e, "content_b64");
    if (sg_base64_decode(&t->contents[i], b64, strlen(b64), false) != 0) {
      fprintf(stderr, "attachment %zu: bad content_b64\n", i);
      return -1;
    }
    t->atts[i] = (sg_job_attachment){
        tool_str(e, "name"), tool_str(e, "content_type"), (const uint8_t *)t->contents[i].data,
        t->contents[i].len,  tool_str(e, "content_id"),   sg_json_true(sg_json_get(e, "inline"))};
  }
  j->attachments = t->atts;
  return 0;
}

static void tool_job_free(tool_job *t) {
  for (size_t i = 0; i < 4; i++)
    sg_free(t->addrs[i]);
  for (size_t i = 0; t->contents != NULL && i < t->j.n_attachments; i++)
    sg_buf_free(&t->contents[i]);
  sg_free(t->contents);
  sg_free(t->atts);
  sg_free(t->hdrs);
}

/* Writes headers.txt and path.txt for one signed request. */
static int tool_sign(const sg_acs_conn *c, const char *method, const sg_buf *path,
                     const sg_buf *body, const char *opid, const char *dir) {
  char date[32], crid[SG_ACS_UUID_LEN];
  sg_time_imf(sg_wall_ms() / 1000, date);
  if (sg_acs_random_uuid(crid) != 0)
    return -1;
  sg_acs_req r = {method,
                  path->data,
                  c->authority,
                  body ? body->data : NULL,
                  body ? body->len : 0,
                  date,
                  opid,
                  crid,
                  c->key,
                  c->key_len,
                  NULL};
  sg_acs_headers hs;
  int rv = sg_acs_headers_fill(&hs, &r);
  sg_buf out = SG_BUF_INIT;
  for (size_t i = 0; rv == 0 && i < hs.n; i++)
    sg_buf_printf(&out, "%.*s: %.*s\n", (int)hs.h[i].name_len, hs.h[i].name, (int)hs.h[i].value_len,
                  hs.h[i].value);
  if (rv != 0)
    fprintf(stderr, "sg_acs_headers_fill: %s\n", sg_strerror(rv));
  else
    rv = tool_write(dir, "headers.txt", out.data, out.len) ||
         tool_write(dir, "path.txt", path->data, path->len);
  sg_buf_free(&out);
  sg_acs_headers_free(&hs);
  return rv;
}

static int tool_request(const char *spec, const char *conn, const char *ver, const char *dir) {
  sg_buf text = SG_BUF_INIT, body = SG_BUF_INIT, path = SG_BUF_INIT;
  sg_json_doc *doc = NULL;
  sg_acs_conn c;
  tool_job t;
  memset(&t, 0, sizeof t);
  char opid[SG_ACS_UUID_LEN];
  int rv = -1;
  if (sg_acs_conn_parse(conn, &c) != 0) {
    fprintf(stderr, "bad connection string\n");
    return 1;
  }
  if (tool_read(spec, &text) == 0 && sg_json_parse(&doc, text.data, text.len, 0, NULL, 0) == 0 &&
      tool_job_from_spec(sg_json_root(doc), &t) == 0) {
    const sg_json *td = sg_json_get(sg_json_root(doc), "tracking_disabled");
    sg_acs_build_opts o = {sg_json_true(td)};
    rv = sg_acs_build(&t.j, ver, &o, &body) || sg_acs_send_path(&path, c.base_path, ver) ||
         sg_acs_operation_id(t.j.id, opid) || tool_write(dir, "body.json", body.data, body.len) ||
         tool_sign(&c, "POST", &path, &body, opid, dir);
    if (rv == 0)
      printf("%s\n", opid);
  }
  tool_job_free(&t);
  sg_json_doc_free(doc);
  sg_acs_conn_free(&c);
  sg_buf_free(&text);
  sg_buf_free(&body);
  sg_buf_free(&path);
  return rv == 0 ? 0 : 1;
}

static int tool_poll_request(const char *conn, const char *ver, const char *opid, const char *dir) {
  sg_acs_conn c;
  if (sg_acs_conn_parse(conn, &c) != 0) {
    fprintf(stderr, "bad connection string\n");
    return 1;
  }
  sg_buf path = SG_BUF_INIT;
  int rv = sg_acs_poll_path(&path, c.base_path, opid, ver) ||
           tool_sign(&c, "GET", &path, NULL, NULL, dir);
  sg_buf_free(&path);
  sg_acs_conn_free(&c);
  return rv == 0 ? 0 : 1;
}

/* Parses a curl -D dump: the last status line wins (after 1xx or redirects). */
static int tool_parse_dump(sg_buf *dump, int *status, sg_http_header *h, size_t cap, size_t *nh) {
  *status = 0;
  *nh = 0;
  char *save = NULL;
  for (char *line = strtok_r(dump->data, "\r\n", &save); line != NULL;
       line = strtok_r(NULL, "\r\n", &save)) {
    if (strncmp(line, "HTTP/", 5) == 0) {
      const char *sp = strchr(line, ' ');
      *status = sp ? atoi(sp + 1) : 0;
      *nh = 0;
      continue;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL || *nh == cap)
      continue;
    *colon = '\0';
    const char *v = colon + 1;
    while (*v == ' ')
      v++;
    h[(*nh)++] = sg_http_hdr(line, v);
  }
  return *status > 0 ? 0 : -1;
}

static int tool_classify(const char *what, const char *dump_path, const char *body_path) {
  sg_buf dump = SG_BUF_INIT, body = SG_BUF_INIT;
  sg_http_header h[64];
  size_t nh = 0;
  int status = 0, rv = 1;
  if (tool_read(dump_path, &dump) == 0 && tool_read(body_path, &body) == 0 && dump.len > 0 &&
      tool_parse_dump(&dump, &status, h, SG_ARRAY_LEN(h), &nh) == 0) {
    sg_acs_outcome o;
    int r = strcmp(what, "poll") == 0
                ? sg_classify_acs_poll(status, h, nh, body.data, body.len, sg_wall_ms(), &o)
                : sg_classify_acs_send(status, h, nh, body.data, body.len, sg_wall_ms(), &o);
    if (r == 0) {
      printf("%s http=%d op=%s retry_ms=%lld code=%s location=%s\n", sg_acs_kind_name(o.kind),
             o.base.http_status, o.operation_id,
             (long long)(o.base.has_retry_after ? o.base.retry_after_ms : -1), o.base.code,
             o.operation_location);
      rv = 0;
    }
  } else {
    fprintf(stderr, "cannot read the response in %s / %s\n", dump_path, body_path);
  }
  sg_buf_free(&dump);
  sg_buf_free(&body);
  return rv;
}

static int acs_tool_main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "--acs-request") == 0)
    return tool_request(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 6 && strcmp(argv[1], "--acs-poll-request") == 0)
    return tool_poll_request(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 5 && strcmp(argv[1], "--acs-classify") == 0)
    return tool_classify(argv[2], argv[3], argv[4]);
  fprintf(stderr,
          "usage: %s --acs-request SPEC CONNSTR API_VERSION OUTDIR\n"
          "       %s --acs-poll-request CONNSTR API_VERSION OPERATION_ID OUTDIR\n"
          "       %s --acs-classify send|poll HEADER_DUMP BODY_FILE\n",
          argv[0], argv[0], argv[0]);
  return 2;
}

#endif
