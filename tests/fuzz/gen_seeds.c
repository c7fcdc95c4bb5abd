/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the committed seed corpora of the fuzz targets:
 *   job_decode/  MailJobs encoded with sg_job_encode, valid and invalid, plus junk
 *   sbx_graph/   selector byte + sendMail bodies (JSON, MIME, refusals)
 *   sbx_acs/     selector byte + emails:send bodies
 *   h2_client/   what an HTTP/2 server (an nghttp2 server session) sends back
 *                to the three requests fuzz_h2_client submits, per scenario
 * Each file is named by the SHA-256 of its content (nghttp2 fuzz/ layout), so
 * running it again rewrites the same files. Built as fuzz_gen_seeds, not run
 * by ctest:  build/tests/fuzz/fuzz_gen_seeds tests/fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "core/sg_base64.h"
#include "core/sg_mem.h"
#include "h2/nghttp2_compat.h"
#include "job/sg_job_codec.h"

static const char *out_root;
static int written;

static void put(const char *target, const void *p, size_t n) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(p, n, md);
  sg_buf path = SG_BUF_INIT;
  sg_buf_printf(&path, "%s/%s", out_root, target);
  if (mkdir(path.data, 0755) != 0 && errno != EEXIST) {
    perror(path.data);
    exit(1);
  }
  sg_buf_append_char(&path, '/');
  for (size_t i = 0; i < sizeof md; i++)
    sg_buf_printf(&path, "%02x", md[i]);
  FILE *f = fopen(path.data, "wb");
  if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
    perror(path.data);
    exit(1);
  }
  sg_buf_free(&path);
  written++;
}

static void put_str(const char *target, const char *s) {
  put(target, s, strlen(s));
}

/* ---- job_decode ---- */

static sg_job_addr to1[] = {{"a@example.com", "Ann"}};

static sg_job base_job(void) {
  sg_job j;
  memset(&j, 0, sizeof j);
  j.id = "job-1";
  j.backend = SG_BACKEND_GRAPH;
  j.account = "";
  j.sender = "sender@contoso.com";
  j.to = to1;
  j.n_to = 1;
  j.subject = "Hello";
  j.text_body = "Body";
  j.html_body = "";
  j.reply_stream = "";
  j.campaign_id = "";
  return j;
}

static void put_job(const sg_job *j) {
  sg_buf b = SG_BUF_INIT;
  sg_job_encode(j, &b);
  put("job_decode", b.data ? b.data : "", b.len);
  sg_buf_free(&b);
}

static void job_seeds(void) {
  sg_job j = base_job();
  put_job(&j);

  /* Everything set. */
  static sg_job_addr cc[] = {{"cc1@example.org", ""}, {"cc2@example.org", "C \"2\" \\ x"}};
  static sg_job_addr bcc[] = {{"audit@contoso.com", ""}};
  static sg_job_addr rt[] = {{"support@contoso.com", "Support"}};
  static sg_job_header hs[] = {{"X-Ticket", "42"}, {"x-campaign", "spring \xc3\xa9t\xc3\xa9"}};
  static const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, 'a', '\n'};
  static sg_job_attachment at[] = {
      {"report.bin", "application/octet-stream", bin, sizeof bin, "", false},
      {"logo.png", "image/png", (const uint8_t *)"\x89PNG\r\n", 6, "logo", true},
      {"empty.txt", "", NULL, 0, "", false}};
  static sg_job_kv md[] = {{"tenant", "t1"}, {"k", ""}};
  j = base_job();
  j.id = "job-\"full\"-\xc3\xa9"; /* not printable ASCII: BAD_ID */
  put_job(&j);
  j.id = "full-1";
  j.account = "marketing";
  j.cc = cc;
  j.n_cc = 2;
  j.bcc = bcc;
  j.n_bcc = 1;
  j.reply_to = rt;
  j.n_reply_to = 1;
  j.subject = "Quarterly \xe2\x82\xac report \"Q1\" <b>";
  j.text_body = "Line 1\r\nLine 2\ttab \\ backslash";
  j.html_body = "<p>Hello <b>\xf0\x9f\x98\x80</b></p>\n<script>x</script>";
  j.headers = hs;
  j.n_headers = 2;
  j.attachments = at;
  j.n_attachments = 3;
  j.metadata = md;
  j.n_metadata = 2;
  j.save_to_sent_items = true;
  j.reply_stream = "results:marketing";
  j.campaign_id = "spring";
  j.max_attempts = 7;
  j.deadline_unix_ms = 1900000000000;
  j.created_unix_ms = 1700000000000;
  put_job(&j);
  j.backend = SG_BACKEND_ACS;
  put_job(&j);
  j.backend = SG_BACKEND_UNSPECIFIED;
  j.save_to_sent_items = false;
  put_job(&j);

  /* MIME. */
  static const char mime[] = "From: Sender <sender@contoso.com>\r\nTo: a@example.com\r\n"
                             "Subject: MIME\r\nMIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n";
  j = base_job();
  j.to = NULL;
  j.n_to = 0;
  j.subject = "";
  j.text_body = "";
  j.mime = (const uint8_t *)mime;
  j.mime_len = sizeof mime - 1;
  put_job(&j);
  j.backend = SG_BACKEND_ACS; /* valid job, refused by the ACS check */
  put_job(&j);
  j.subject = "x"; /* MIME_AND_CONTENT */
  put_job(&j);

  /* Senders that need percent-encoding in the path, or are object ids. */
  j = base_job();
  j.sender = "first.last+tag@contoso.com";
  put_job(&j);
  j.sender = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  put_job(&j);
  j.sender = "\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
             "cole.fr";
  put_job(&j);
  j.sender = ".";
  put_job(&j);
  j.sender = "a/b@contoso.com"; /* BAD_ADDRESS */
  put_job(&j);

  /* 60 recipients: over ACS's 50. */
  static sg_job_addr many[60];
  static char names[60][32];
  for (int i = 0; i < 60; i++) {
    snprintf(names[i], sizeof names[i], "r%d@example.com", i);
    many[i].address = names[i];
    many[i].name = "";
  }
  j = base_job();
  j.to = many;
  j.n_to = 60;
  put_job(&j);

  /* Invalid kinds. */
  j = base_job();
  j.id = "";
  put_job(&j);
  j = base_job();
  j.id = "a\x01";
  put_job(&j);
  j = base_job();
  j.backend = (sg_backend)7;
  put_job(&j);
  j = base_job();
  j.sender = "";
  put_job(&j);
  j = base_job();
  j.to = NULL;
  j.n_to = 0;
  put_job(&j);
  static sg_job_addr bad[] = {{"not an address", ""}};
  j = base_job();
  j.to = bad;
  put_job(&j);
  static sg_job_header six[] = {{"X-1", "1"}, {"X-2", "2"}, {"X-3", "3"},
                                {"X-4", "4"}, {"X-5", "5"}, {"X-6", "6"}};
  j = base_job();
  j.headers = six;
  j.n_headers = 6;
  put_job(&j);
  static sg_job_header nonx[] = {{"Subject", "x"}};
  j = base_job();
  j.headers = nonx;
  j.n_headers = 1;
  put_job(&j);
  static sg_job_header crlf[] = {{"X-A", "a\r\nBcc: x@y.com"}};
  j = base_job();
  j.headers = crlf;
  j.n_headers = 1;
  put_job(&j);
  static sg_job_attachment noname[] = {{"", "text/plain", (const uint8_t *)"x", 1, "", false}};
  j = base_job();
  j.attachments = noname;
  j.n_attachments = 1;
  put_job(&j);
  j = base_job();
  j.subject = "a\r\nBcc: x@y.com";
  put_job(&j);
  j = base_job();
  j.subject = "bad \xff\xfe utf8";
  put_job(&j);
  j = base_job();
  j.backend = SG_BACKEND_ACS;
  j.subject = "";
  put_job(&j);

  /* Not a MailJob at all. */
  static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
  put("job_decode", junk, sizeof junk);
  put("job_decode", "", 0);
}

/* ---- sbx_graph ---- */

#define TO1 "\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@fabrikam.com\"}}]"

static const char graph_sdk[] =
    "{\"message\":{\"subject\":\"Meet for lunch?\","
    "\"body\":{\"contentType\":\"html\",\"content\":\"<b>Hi</b>\"},"
    "\"toRecipients\":[{\"emailAddress\":{\"address\":\"frannis@contoso.com\",\"name\":\"Fran\"}},"
    "{\"emailAddress\":{\"address\":\"x@Fabrikam.COM\"}}],"
    "\"ccRecipients\":[{\"emailAddress\":{\"address\":\"danas@fabrikam.com\"}}],"
    "\"bccRecipients\":[],"
    "\"replyTo\":[{\"emailAddress\":{\"address\":\"reply@contoso.com\"}}],"
    "\"from\":{\"emailAddress\":{\"address\":\"sender@contoso.com\"}},"
    "\"importance\":\"High\",\"isReadReceiptRequested\":false,\"categories\":[\"c1\"],"
    "\"internetMessageHeaders\":[{\"name\":\"x-custom-header-group-name\",\"value\":\"Nevada\"},"
    "{\"name\":\"X-Custom-Header-Group-Id\",\"value\":\"NV001\"}],"
    "\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\","
    "\"name\":\"attachment.txt\",\"contentType\":\"text/plain\","
    "\"contentBytes\":\"SGVsbG8gV29ybGQh\",\"isInline\":false}]},"
    "\"saveToSentItems\":false}";

static const char graph_mime[] = "From: Sender <sender@contoso.com>\r\n"
                                 "To: Ann <a@fabrikam.com>, b@fabrikam.com\r\n"
                                 "Cc: c@fabrikam.com\r\nBcc: d@fabrikam.com\r\n"
                                 "Subject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\n"
                                 "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                                 "--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
                                 "--b1\r\nContent-Type: application/pdf\r\n"
                                 "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n";

static void put_sel(const char *target, char sel, const char *body) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_char(&b, sel);
  sg_buf_append_str(&b, body);
  put(target, b.data, b.len);
  sg_buf_free(&b);
}

static void graph_seeds(void) {
  put_sel("sbx_graph", 'j', graph_sdk);
  put_sel("sbx_graph", 'J', graph_sdk); /* 3 recipients, 2 headers: at the small limits */
  put_sel(
      "sbx_graph", 'j',
      "{\"message\":{\"subject\":\"s\",\"body\":{\"contentType\":\"Text\",\"content\":\"x\"}," TO1
      ",\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\","
      "\"name\":\"logo.png\",\"contentType\":\"image/png\",\"contentId\":\"logo\","
      "\"isInline\":true,\"contentBytes\":\"iVBORw0KGgo=\"}]}}");
  put_sel("sbx_graph", 'j', "{\"message\":{\"subject\":\"s\"," TO1 "},\"saveToSentItems\":\"no\"}");
  put_sel("sbx_graph", 'j',
          "{\"message\":{\"toRecipients\":[{\"emailAddress\":{\"address\":"
          "\"bad\"}}]}}");
  put_sel("sbx_graph", 'j',
          "{\"message\":{\"subject\":\"s\"," TO1
          ",\"internetMessageHeaders\":[{\"name\":\"Subject\",\"value\":\"v\"}]}}");
  put_sel("sbx_graph", 'j',
          "{\"message\":{\"subject\":\"s\"," TO1 ",\"internetMessageHeaders\":[]}}");
  put_sel("sbx_graph", 'j', "{\"message\":{}, \"foo\":1}");
  put_sel("sbx_graph", 'j', "{\"message\":");
  put_sel("sbx_graph", 'j', "");
  put_sel("sbx_graph", 'm', graph_mime);
  put_sel("sbx_graph", 'M', graph_mime);
  put_sel("sbx_graph", 'm', "Subject: no recipients\r\n\r\nbody");
  put_sel("sbx_graph", 'm', "no header section");
  sg_buf b64 = SG_BUF_INIT;
  sg_base64_encode_wrapped(&b64, graph_mime, sizeof graph_mime - 1, 76);
  put_sel("sbx_graph", 'p', b64.data);
  put_sel("sbx_graph", 'p', "!!not base64!!");
  sg_buf_free(&b64);
  put_sel("sbx_graph", 1, graph_sdk);  /* application/json; charset=utf-8 */
  put_sel("sbx_graph", 4, graph_sdk);  /* charset=iso-8859-1 */
  put_sel("sbx_graph", 7, graph_sdk);  /* text/html */
  put_sel("sbx_graph", 12, graph_sdk); /* no Content-Type */
}

/* ---- sbx_acs ---- */

#define SENDER "\"senderAddress\":\"DoNotReply@0f2c1d.azurecomm.net\""
#define CONTENT "\"content\":{\"subject\":\"s\",\"plainText\":\"t\"}"
#define TO "\"recipients\":{\"to\":[{\"address\":\"a@fabrikam.com\"}]}"
#define BODY(extra) "{" SENDER "," CONTENT "," TO extra "}"

static const char acs_js[] =
    "{\"headers\":{\"x-custom\":\"1\",\"Importance\":\"high\"},"
    "\"senderAddress\":\"DoNotReply@0f2c1d.azurecomm.net\","
    "\"content\":{\"subject\":\"Welcome\",\"plainText\":\"Hello\",\"html\":\"<p>Hello</p>\"},"
    "\"recipients\":{\"to\":[{\"address\":\"customer@Fabrikam.com\",\"displayName\":\"Customer\"}],"
    "\"cc\":[],\"bcc\":[{\"address\":\"audit@contoso.com\"}]},"
    "\"attachments\":[{\"name\":\"report.pdf\",\"contentType\":\"application/pdf\","
    "\"contentInBase64\":\"JVBERi0xLjQK\"}],"
    "\"replyTo\":[{\"address\":\"support@contoso.com\",\"displayName\":\"Support\"}],"
    "\"userEngagementTrackingDisabled\":true}";

static void acs_seeds(void) {
  put_sel("sbx_acs", '2', acs_js);
  put_sel("sbx_acs", '3', acs_js);
  put_sel("sbx_acs", 'B', acs_js); /* small limits: 2 recipients */
  put_sel("sbx_acs", '0', acs_js); /* no api-version */
  put_sel("sbx_acs", '6', acs_js); /* unserved version */
  put_sel("sbx_acs", '2', BODY(""));
  put_sel("sbx_acs", '5',
          BODY(",\"attachments\":[{\"name\":\"logo.png\",\"contentType\":\"image/png\","
               "\"contentInBase64\":\"iVBORw0KGgo=\",\"contentId\":\"logo\"}]"));
  put_sel("sbx_acs", '2',
          BODY(",\"attachments\":[{\"name\":\"logo.png\",\"contentType\":\"image/png\","
               "\"contentInBase64\":\"iVBORw0KGgo=\",\"contentId\":\"logo\"}]"));
  put_sel("sbx_acs", ':',
          BODY(",\"attachments\":[{\"name\":\"x.exe\",\"contentType\":\"application/x-msdownload\","
               "\"contentInBase64\":\"TVo=\"}]"));
  put_sel("sbx_acs", '2',
          BODY(",\"headers\":{\"x-ms-acsemail-suppress-invalid-attachment\":\"true\"},"
               "\"attachments\":[{\"name\":\"x\",\"contentType\":\"text/plain\","
               "\"contentInBase64\":\"*\"}]"));
  put_sel("sbx_acs", '2', "{\"senderAddress\":\"bad\"," CONTENT "," TO "}");
  put_sel("sbx_acs", '2', "{" SENDER "," CONTENT ",\"recipients\":{\"to\":[]}}");
  put_sel("sbx_acs", '2', BODY(",\"zzz\":1"));
  put_sel("sbx_acs", '2', "[1,2");
}

/* ---- h2_client: an in-memory client and server, the server's bytes kept ---- */

enum scenario {
  SC_OK,          /* 200/202 with bodies and headers on all three */
  SC_CONTINUE,    /* 100 then 202; a body over the 4096 cap; trailers */
  SC_ERRORS,      /* RST_STREAM REFUSED, 429 Retry-After, GOAWAY */
  SC_BIG_HEADERS, /* 300 response headers (over the cap), a 503 */
  SC_SETTINGS,    /* small server limits, then 200s */
};

typedef struct h2gen {
  enum scenario sc;
  nghttp2_session *srv;
  int answered;
} h2gen;

#define NV(n, v)                                                                                   \
  { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

/* Bytes left per server stream; [0] is the body followed by trailers. */
static size_t body_left[8];

static sg_ng_ssize src_read(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *ud) {
  (void)ud;
  size_t *left = src->ptr;
  size_t n = *left < len ? *left : len;
  memset(buf, 'r', n);
  *left -= n;
  if (*left == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (left == &body_left[0]) { /* the body that ends with trailers */
      nghttp2_nv tr[] = {NV("x-trailer", "done")};
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_submit_trailer(s, sid, tr, 1);
    }
  }
  return (sg_ng_ssize)n;
}

static void respond(h2gen *g, int32_t sid, const char *status, size_t body_len) {
  nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/json"),
                     NV("request-id", "4a1f2c3d-0000-1111-2222-333344445555"),
                     NV("client-request-id", "c0ffee")};
  nv[0].value = (uint8_t *)status;
  nv[0].valuelen = strlen(status);
  sg_ng_data_provider prd;
  memset(&prd, 0, sizeof prd);
  body_left[sid] = body_len;
  prd.source.ptr = &body_left[sid];
  prd.read_callback = src_read;
  nghttp2_submit_response(g->srv, sid, nv, 4, body_len ? (const void *)&prd : NULL);
}

static void answer(h2gen *g, int32_t sid) {
  switch (g->sc) {
  case SC_OK:
  case SC_SETTINGS:
    respond(g, sid, sid == 1 ? "200" : "202", sid == 1 ? 120 : 0);
    break;
  case SC_CONTINUE: {
    nghttp2_nv cont[] = {NV(":status", "100")};
    nghttp2_submit_headers(g->srv, NGHTTP2_FLAG_NONE, sid, NULL, cont, 1, NULL);
    if (sid == 5) {
      nghttp2_nv nv[] = {NV(":status", "202"), NV("operation-location", "https://x/op")};
      sg_ng_data_provider prd;
      memset(&prd, 0, sizeof prd);
      body_left[0] = 6000;
      prd.source.ptr = &body_left[0];
      prd.read_callback = src_read;
      nghttp2_submit_response(g->srv, sid, nv, 2, &prd);
    } else {
      respond(g, sid, "202", 5000);
    }
    break;
  }
  case SC_ERRORS:
    if (sid == 1) {
      nghttp2_submit_rst_stream(g->srv, NGHTTP2_FLAG_NONE, sid, NGHTTP2_REFUSED_STREAM);
    } else if (sid == 3) {
      nghttp2_nv nv[] = {NV(":status", "429"), NV("retry-after", "7"),
                         NV("content-type", "application/json")};
      nghttp2_submit_response(g->srv, sid, nv, 3, NULL);
    } else {
      nghttp2_submit_goaway(g->srv, NGHTTP2_FLAG_NONE, 3, NGHTTP2_NO_ERROR, NULL, 0);
    }
    break;
  case SC_BIG_HEADERS:
    if (sid == 1) {
      static char names[300][16];
      nghttp2_nv nv[301];
      nv[0] = (nghttp2_nv)NV(":status", "200");
      for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "x-h%d", i);
        nv[i + 1] = (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)"v", strlen(names[i]), 1,
                                 NGHTTP2_NV_FLAG_NONE};
      }
      nghttp2_submit_response(g->srv, sid, nv, 301, NULL);
    } else {
      respond(g, sid, "503", 40);
    }
    break;
  }
}

static int srv_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud) {
  (void)s;
  h2gen *g = ud;
  /* Answer once the request is complete, so bodies (and window updates) came first. */
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    answer(g, frame->hd.stream_id);
    g->answered++;
  }
  return 0;
}

static void h2_seed(enum scenario sc) {
  nghttp2_session_callbacks *ccb, *scb;
  nghttp2_session_callbacks_new(&ccb);
  nghttp2_session_callbacks_new(&scb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(scb, srv_frame_recv);
  h2gen g = {sc, NULL, 0};
  nghttp2_session *cli;
  nghttp2_session_client_new(&cli, ccb, NULL);
  nghttp2_session_server_new(&g.srv, scb, &g);
  nghttp2_settings_entry civ[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                  {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20}};
  nghttp2_submit_settings(cli, NGHTTP2_FLAG_NONE, civ, 2);
  if (sc == SC_SETTINGS) {
    nghttp2_settings_entry siv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 2},
                                    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1000},
                                    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16384},
                                    {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 0}};
    nghttp2_submit_settings(g.srv, NGHTTP2_FLAG_NONE, siv, 4);
  } else {
    nghttp2_settings_entry siv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(g.srv, NGHTTP2_FLAG_NONE, siv, 1);
  }
  /* The same three requests as fuzz_h2_client. */
  nghttp2_nv get[] = {NV(":method", "GET"), NV(":scheme", "https"),
                      NV(":authority", "graph.example.test"),
                      NV(":path", "/v1.0/users/a@b.example/messages")};
  nghttp2_nv post[] = {NV(":method", "POST"),
                       NV(":scheme", "https"),
                       NV(":authority", "graph.example.test"),
                       NV(":path", "/v1.0/users/a@b.example/sendMail"),
                       NV("content-type", "application/json"),
                       NV("content-length", "14")};
  nghttp2_nv big[] = {NV(":method", "POST"),
                      NV(":scheme", "https"),
                      NV(":authority", "graph.example.test"),
                      NV(":path", "/emails:send?api-version=2023-03-31"),
                      NV("content-type", "application/json"),
                      NV("content-length", "70000")};
  static size_t left_small, left_big;
  left_small = 14;
  left_big = 70000;
  sg_ng_data_provider p1, p2;
  memset(&p1, 0, sizeof p1);
  memset(&p2, 0, sizeof p2);
  p1.source.ptr = &left_small;
  p1.read_callback = src_read;
  p2.source.ptr = &left_big;
  p2.read_callback = src_read;
  sg_ng_submit_request(cli, NULL, get, 4, NULL, NULL);
  sg_ng_submit_request(cli, NULL, post, 6, &p1, NULL);
  sg_ng_submit_request(cli, NULL, big, 6, &p2, NULL);

  sg_buf seed = SG_BUF_INIT;
  for (int round = 0; round < 200; round++) {
    bool moved = false;
    const uint8_t *p;
    sg_ng_ssize n;
    while ((n = sg_ng_mem_send(cli, &p)) > 0) {
      sg_ng_mem_recv(g.srv, p, (size_t)n);
      moved = true;
    }
    while ((n = sg_ng_mem_send(g.srv, &p)) > 0) {
      sg_buf_append(&seed, p, (size_t)n);
      sg_ng_mem_recv(cli, p, (size_t)n);
      moved = true;
    }
    if (!moved)
      break;
  }
  put("h2_client", seed.data ? seed.data : "", seed.len);
  sg_buf_free(&seed);
  nghttp2_session_del(cli);
  nghttp2_session_del(g.srv);
  nghttp2_session_callbacks_del(ccb);
  nghttp2_session_callbacks_del(scb);
}

static void h2_seeds(void) {
  h2_seed(SC_OK);
  h2_seed(SC_CONTINUE);
  h2_seed(SC_ERRORS);
  h2_seed(SC_BIG_HEADERS);
  h2_seed(SC_SETTINGS);
  /* A server that is not HTTP/2 at all. */
  put_str("h2_client", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  out_root = argv[1];
  job_seeds();
  graph_seeds();
  acs_seeds();
  h2_seeds();
  printf("wrote %d seeds under %s\n", written, out_root);
  return 0;
}
