/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate send`: queue one message from the command line, for scripts and
 * cron jobs that used an SMTP password; optionally wait for its result and
 * exit non-zero unless it was SENT. Uses a blocking Redis connection.
 */
#include "cli/sg_cmds.h"

#include <getopt.h>
#include <stdarg.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app/sg_config.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_sync.h"

#define MAX_LIST 512
#define MAX_FILE (64u * 1024u * 1024u)

static const char usage[] =
    "usage: sendgate send --from SENDER --to ADDR [options]\n"
    "Queues one message for the gateway. Options:\n"
    "  --from ADDR           sending mailbox (Graph) or senderAddress (ACS)\n"
    "  --to/--cc/--bcc ADDR  recipients (\"Name <a@b.com>\" or a@b.com; repeatable)\n"
    "  --reply-to ADDR       reply-to address (repeatable)\n"
    "  --subject TEXT        subject\n"
    "  --text TEXT | --text-file FILE   plain-text body\n"
    "  --html TEXT | --html-file FILE   HTML body\n"
    "  --attach FILE[:TYPE]  attachment (repeatable)\n"
    "  --inline FILE:CID[:TYPE]  inline attachment referenced as cid:CID\n"
    "  --header 'X-Name: value'  custom X- header (repeatable, at most 5)\n"
    "  --mime FILE|-         send a complete RFC 5322 message (Graph only; - = stdin)\n"
    "  --backend graph|acs   backend (default: the gateway's default)\n"
    "  --account NAME        named account from the gateway's config\n"
    "  --id ID               job id (default: random)\n"
    "  --campaign ID         campaign id\n"
    "  --meta KEY=VALUE      metadata echoed in the result (repeatable)\n"
    "  --no-save-sent        Graph: do not keep a copy in Sent Items\n"
    "  --max-attempts N      attempts before giving up\n"
    "  --wait                wait for the result; exit 0 only if SENT\n"
    "  --timeout SECONDS     how long --wait waits (default 120)\n"
    "  --config FILE         read the Redis settings from the gateway's config\n"
    "  --redis-url URL       Redis (default SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0)\n";

typedef struct {
  sg_job_addr to[MAX_LIST], cc[MAX_LIST], bcc[MAX_LIST], reply[MAX_LIST];
  size_t nto, ncc, nbcc, nreply;
  sg_job_attachment att[64];
  size_t natt;
  sg_job_header hdr[16];
  size_t nhdr;
  sg_job_kv meta[32];
  size_t nmeta;
  char *owned[1024];
  size_t nowned;
} send_args;

static char *keep(send_args *a, char *p) {
  if (a->nowned < SG_ARRAY_LEN(a->owned))
    a->owned[a->nowned++] = p;
  return p;
}

static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL)
    return SG_ERR_IO;
  sg_buf b = SG_BUF_INIT;
  char tmp[65536];
  size_t n;
  int rv = 0;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
    if (b.len + n > MAX_FILE) {
      rv = SG_ERR_TOOBIG;
      break;
    }
    sg_buf_append(&b, tmp, n);
  }
  if (f != stdin)
    fclose(f);
  if (rv) {
    sg_buf_free(&b);
    return rv;
  }
  if (b.data == NULL)
    sg_buf_append(&b, "", 0);
  *out = sg_buf_steal(&b, len);
  return 0;
}

/* "Name <a@b.com>" or "a@b.com". */
static int parse_addr(send_args *a, const char *s, sg_job_addr *out) {
  const char *lt = strrchr(s, '<');
  if (lt && s[strlen(s) - 1] == '>') {
    const char *e = lt;
    while (e > s && e[-1] == ' ')
      e--;
    out->name = keep(a, sg_xstrndup(s, (size_t)(e - s)));
    out->address = keep(a, sg_xstrndup(lt + 1, strlen(lt + 1) - 1));
  } else {
    out->name = "";
    out->address = s;
  }
  return 0;
}

static const char *guess_type(const char *path) {
  static const struct {
    const char *ext, *type;
  } t[] = {{".pdf", "application/pdf"},
           {".txt", "text/plain"},
           {".csv", "text/csv"},
           {".html", "text/html"},
           {".png", "image/png"},
           {".jpg", "image/jpeg"},
           {".jpeg", "image/jpeg"},
           {".gif", "image/gif"},
           {".zip", "application/zip"},
           {".json", "application/json"},
           {".xml", "application/xml"},
           {".ics", "text/calendar"},
           {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
           {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}};
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < SG_ARRAY_LEN(t); i++)
    if (strcasecmp(dot, t[i].ext) == 0)
      return t[i].type;
  return "application/octet-stream";
}

static int add_attachment(send_args *a, const char *spec, bool is_inline) {
  if (a->natt == SG_ARRAY_LEN(a->att))
    return SG_ERR_RANGE;
  char *copy = keep(a, sg_xstrdup(spec));
  char *path = copy, *cid = NULL, *type = NULL;
  char *c1 = strchr(copy, ':');
  if (c1) {
    *c1 = '\0';
    if (is_inline) {
      cid = c1 + 1;
      char *c2 = strchr(cid, ':');
      if (c2) {
        *c2 = '\0';
        type = c2 + 1;
      }
    } else {
      type = c1 + 1;
    }
  }
  if (is_inline && (cid == NULL || cid[0] == '\0'))
    return SG_ERR_INVAL;
  char *data;
  size_t len;
  if (read_file(path, &data, &len) != 0)
    return SG_ERR_IO;
  keep(a, data);
  const char *base = strrchr(path, '/');
  sg_job_attachment *at = &a->att[a->natt++];
  at->name = base ? base + 1 : path;
  at->content_type = type ? type : guess_type(path);
  at->content = (const uint8_t *)data;
  at->content_len = len;
  at->content_id = cid ? cid : "";
  at->is_inline = is_inline;
  return 0;
}

static void random_id(char out[40]) {
  unsigned char r[12];
  if (RAND_bytes(r, sizeof r) != 1)
    for (size_t i = 0; i < sizeof r; i++)
      r[i] = (unsigned char)(sg_mono_ms() >> (i % 8));
  char *p = out + sprintf(out, "send-");
  for (size_t i = 0; i < sizeof r; i++)
    p += sprintf(p, "%02x", r[i]);
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sendgate send: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return 2;
}

static void free_args(send_args *a) {
  for (size_t i = 0; i < a->nowned; i++)
    sg_free(a->owned[i]);
}

/* Waits on |stream| for the result of |id|; prints it. Returns the exit code. */
static int wait_result(redisContext *c, const char *stream, const char *id, int timeout_s) {
  uint64_t deadline = sg_mono_ms() + (uint64_t)timeout_s * 1000u;
  char last[64] = "0";
  char err[256];
  while (sg_mono_ms() < deadline) {
    uint64_t left = deadline - sg_mono_ms();
    char block[32];
    snprintf(block, sizeof block, "%llu", (unsigned long long)(left > 1000 ? 1000 : left + 1));
    const char *argv[] = {"XREAD", "COUNT", "10", "BLOCK", block, "STREAMS", stream, last};
    redisReply *r = sg_rd_sync_cmd(c, 8, argv, NULL, err, sizeof err);
    if (r == NULL) {
      fprintf(stderr, "sendgate send: %s\n", err);
      return 3;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
      redisReply *entries = r->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; i++) {
        redisReply *e = entries->element[i];
        snprintf(last, sizeof last, "%s", e->element[0]->str);
        redisReply *f = e->element[1];
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
          if (strcmp(f->element[k]->str, "result") != 0)
            continue;
          sg_result_msg *m;
          if (sg_result_decode((const uint8_t *)f->element[k + 1]->str, f->element[k + 1]->len, &m))
            continue;
          const sg_result *res = sg_result_msg_view(m);
          if (strcmp(res->job_id, id) != 0) {
            sg_result_msg_free(m);
            continue;
          }
          printf("%s %s attempts=%u http=%d", res->job_id, sg_status_name(res->status),
                 res->attempts, res->http_status);
          if (res->provider_request_id[0])
            printf(" request_id=%s", res->provider_request_id);
          if (res->operation_id[0])
            printf(" operation_id=%s", res->operation_id);
          if (res->error_code[0])
            printf(" error=%s: %s", res->error_code, res->error_message);
          printf("\n");
          int rc = res->status == SG_STATUS_SENT ? 0 : 1;
          sg_result_msg_free(m);
          freeReplyObject(r);
          return rc;
        }
      }
    }
    freeReplyObject(r);
  }
  fprintf(stderr, "sendgate send: no result for %s within %d s (it stays queued)\n", id, timeout_s);
  return 4;
}

int sg_cmd_send(int argc, char **argv, char **envp) {
  static send_args a; /* large; one per process */
  memset(&a, 0, sizeof a);
  sg_job j = {0};
  j.account = j.subject = j.text_body = j.html_body = j.reply_stream = j.campaign_id = "";
  j.sender = "";
  j.save_to_sent_items = true;
  const char *config = NULL, *redis_url = NULL;
  char *mime = NULL;
  size_t mime_len = 0;
  bool wait = false;
  int timeout_s = 120;
  char idbuf[40];
  enum {
    O_FROM = 256,
    O_TO,
    O_CC,
    O_BCC,
    O_REPLY,
    O_SUBJECT,
    O_TEXT,
    O_TEXTF,
    O_HTML,
    O_HTMLF,
    O_ATTACH,
    O_INLINE,
    O_HEADER,
    O_MIME,
    O_BACKEND,
    O_ACCOUNT,
    O_ID,
    O_CAMPAIGN,
    O_META,
    O_NOSAVE,
    O_MAXATT,
    O_WAIT,
    O_TIMEOUT,
    O_CONFIG,
    O_REDIS,
    O_HELP
  };
  static const struct option opts[] = {{"from", 1, 0, O_FROM},
                                       {"to", 1, 0, O_TO},
                                       {"cc", 1, 0, O_CC},
                                       {"bcc", 1, 0, O_BCC},
                                       {"reply-to", 1, 0, O_REPLY},
                                       {"subject", 1, 0, O_SUBJECT},
                                       {"text", 1, 0, O_TEXT},
                                       {"text-file", 1, 0, O_TEXTF},
                                       {"html", 1, 0, O_HTML},
                                       {"html-file", 1, 0, O_HTMLF},
                                       {"attach", 1, 0, O_ATTACH},
                                       {"inline", 1, 0, O_INLINE},
                                       {"header", 1, 0, O_HEADER},
                                       {"mime", 1, 0, O_MIME},
                                       {"backend", 1, 0, O_BACKEND},
                                       {"account", 1, 0, O_ACCOUNT},
                                       {"id", 1, 0, O_ID},
                                       {"campaign", 1, 0, O_CAMPAIGN},
                                       {"meta", 1, 0, O_META},
                                       {"no-save-sent", 0, 0, O_NOSAVE},
                                       {"max-attempts", 1, 0, O_MAXATT},
                                       {"wait", 0, 0, O_WAIT},
                                       {"timeout", 1, 0, O_TIMEOUT},
                                       {"config", 1, 0, O_CONFIG},
                                       {"redis-url", 1, 0, O_REDIS},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
  int rc = 0, o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char *data;
    size_t len;
    switch (o) {
    case O_FROM:
      j.sender = optarg;
      break;
    case O_TO:
    case O_CC:
    case O_BCC:
    case O_REPLY: {
      sg_job_addr *arr = o == O_TO ? a.to : o == O_CC ? a.cc : o == O_BCC ? a.bcc : a.reply;
      size_t *n = o == O_TO ? &a.nto : o == O_CC ? &a.ncc : o == O_BCC ? &a.nbcc : &a.nreply;
      if (*n == MAX_LIST) {
        rc = die("too many recipients");
        goto out;
      }
      parse_addr(&a, optarg, &arr[(*n)++]);
      break;
    }
    case O_SUBJECT:
      j.subject = optarg;
      break;
    case O_TEXT:
      j.text_body = optarg;
      break;
    case O_HTML:
      j.html_body = optarg;
      break;
    case O_TEXTF:
    case O_HTMLF:
      if (read_file(optarg, &data, &len)) {
        rc = die("cannot read %s", optarg);
        goto out;
      }
      keep(&a, data);
      if (o == O_TEXTF)
        j.text_body = data;
      else
        j.html_body = data;
      break;
    case O_ATTACH:
    case O_INLINE:
      if (add_attachment(&a, optarg, o == O_INLINE)) {
        rc = die("cannot attach %s", optarg);
        goto out;
      }
      break;
    case O_HEADER: {
      char *colon = strchr(optarg, ':');
      if (colon == NULL || a.nhdr == SG_ARRAY_LEN(a.hdr)) {
        rc = die("bad --header %s", optarg);
        goto out;
      }
      char *v = colon + 1;
      while (*v == ' ')
        v++;
      a.hdr[a.nhdr].name = keep(&a, sg_xstrndup(optarg, (size_t)(colon - optarg)));
      a.hdr[a.nhdr++].value = v;
      break;
    }
    case O_MIME:
      if (read_file(optarg, &mime, &mime_len)) {
        rc = die("cannot read %s", optarg);
        goto out;
      }
      keep(&a, mime);
      break;
    case O_BACKEND:
      if (strcasecmp(optarg, "graph") == 0)
        j.backend = SG_BACKEND_GRAPH;
      else if (strcasecmp(optarg, "acs") == 0)
        j.backend = SG_BACKEND_ACS;
      else {
        rc = die("--backend must be graph or acs, not %s", optarg);
        goto out;
      }
      break;
    case O_ACCOUNT:
      j.account = optarg;
      break;
    case O_ID:
      j.id = optarg;
      break;
    case O_CAMPAIGN:
      j.campaign_id = optarg;
      break;
    case O_META: {
      char *eq = strchr(optarg, '=');
      if (eq == NULL || a.nmeta == SG_ARRAY_LEN(a.meta)) {
        rc = die("bad --meta %s", optarg);
        goto out;
      }
      a.meta[a.nmeta].key = keep(&a, sg_xstrndup(optarg, (size_t)(eq - optarg)));
      a.meta[a.nmeta++].value = eq + 1;
      break;
    }
    case O_NOSAVE:
      j.save_to_sent_items = false;
      break;
    case O_MAXATT:
      j.max_attempts = (uint32_t)atoi(optarg);
      break;
    case O_WAIT:
      wait = true;
      break;
    case O_TIMEOUT:
      timeout_s = atoi(optarg);
      break;
    case O_CONFIG:
      config = optarg;
      break;
    case O_REDIS:
      redis_url = optarg;
      break;
    case O_HELP:
      fputs(usage, stdout);
      goto out;
    default:
      rc = die("unknown option (see sendgate send --help)");
      goto out;
    }
  }
  if (optind < argc) {
    rc = die("unexpected argument %s", argv[optind]);
    goto out;
  }
  if (j.sender[0] == '\0') {
    rc = die("--from is required");
    goto out;
  }
  if (timeout_s <= 0)
    timeout_s = 120;
  j.to = a.to;
  j.n_to = a.nto;
  j.cc = a.cc;
  j.n_cc = a.ncc;
  j.bcc = a.bcc;
  j.n_bcc = a.nbcc;
  j.reply_to = a.reply;
  j.n_reply_to = a.nreply;
  j.attachments = a.att;
  j.n_attachments = a.natt;
  j.headers = a.hdr;
  j.n_headers = a.nhdr;
  j.metadata = a.meta;
  j.n_metadata = a.nmeta;
  j.mime = (const uint8_t *)mime;
  j.mime_len = mime_len;
  if (j.id == NULL) {
    random_id(idbuf);
    j.id = idbuf;
  }
  j.created_unix_ms = sg_wall_ms();

  /* Redis settings: defaults, then the config file, then the environment. */
  sg_config cfg;
  memset(&cfg, 0, sizeof cfg);
  char err[300];
  if (sg_settings_defaults(&sg_config_settings, &cfg, err, sizeof err) ||
      (config && sg_settings_load_ini(&sg_config_settings, &cfg, config, sg_config_ignore_unknown,
                                      NULL, err, sizeof err)) ||
      sg_settings_load_env(&sg_config_settings, &cfg, envp, err, sizeof err)) {
    fprintf(stderr, "sendgate send: %s\n", err);
    rc = 2;
    sg_settings_free(&sg_config_settings, &cfg);
    goto out;
  }
  char reply[200];
  if (wait) {
    snprintf(reply, sizeof reply, "sendgate:reply:%s", j.id);
    j.reply_stream = reply;
  }
  /* Validate locally first so a script learns about a bad message at once. */
  sg_buf pb = SG_BUF_INIT;
  sg_job_encode(&j, &pb);
  sg_job_msg *m = NULL;
  sg_job_error jerr;
  if (sg_job_decode((const uint8_t *)pb.data, pb.len, &m, &jerr) != 0) {
    fprintf(stderr, "sendgate send: invalid message: %s: %s\n", jerr.code, jerr.message);
    sg_job_msg_free(m);
    sg_buf_free(&pb);
    sg_settings_free(&sg_config_settings, &cfg);
    rc = 2;
    goto out;
  }
  sg_job_msg_free(m);
  redisContext *c =
      sg_rd_sync_connect(redis_url ? redis_url : cfg.redis_url, 5000, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sendgate send: %s\n", err);
    rc = 3;
  } else {
    if (wait) { /* the reply stream starts empty */
      const char *del[] = {"DEL", reply};
      redisReply *r = sg_rd_sync_cmd(c, 2, del, NULL, err, sizeof err);
      if (r)
        freeReplyObject(r);
    }
    const char *xa[] = {"XADD", cfg.jobs_stream, "*", "job", pb.data};
    size_t xl[] = {4, strlen(cfg.jobs_stream), 1, 3, pb.len};
    redisReply *r = sg_rd_sync_cmd(c, 5, xa, xl, err, sizeof err);
    if (r == NULL) {
      fprintf(stderr, "sendgate send: %s\n", err);
      rc = 3;
    } else {
      freeReplyObject(r);
      if (!wait) {
        printf("%s queued\n", j.id);
      } else {
        rc = wait_result(c, reply, j.id, timeout_s);
        const char *del[] = {"DEL", reply};
        r = sg_rd_sync_cmd(c, 2, del, NULL, err, sizeof err);
        if (r)
          freeReplyObject(r);
      }
    }
    redisFree(c);
  }
  sg_buf_free(&pb);
  sg_settings_free(&sg_config_settings, &cfg);
out:
  free_args(&a);
  return rc;
}
