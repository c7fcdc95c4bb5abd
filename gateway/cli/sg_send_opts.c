/* SPDX-License-Identifier: Apache-2.0 */
/* `sendgate send` options from one table; see sg_send_opts.h. */
#include "cli/sg_send_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "redis/sg_rd_url.h"
#include "core/sg_mem.h"

/* Files given to --text-file, --attach, ... are read whole up to this size. */
#define MAX_FILE (64u * 1024u * 1024u)
/* --timeout: 30 days is already far more than any script waits. */
#define MAX_TIMEOUT_S (30u * 86400u)
#define DEFAULT_TIMEOUT_S 120u

const char sg_send_opts_usage[] =
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
    "  --mime FILE|-         send a complete RFC 5322 message (- = stdin)\n"
    "  --backend graph|acs|smtp  backend (default: the account's, else the gateway's default;\n"
    "                        smtp needs --account of an exchange_smtp or hve account)\n"
    "  --account NAME        named account from the gateway's config\n"
    "  --id ID               job id (default: random)\n"
    "  --campaign ID         campaign id\n"
    "  --meta KEY=VALUE      metadata echoed in the result (repeatable)\n"
    "  --no-save-sent        Graph: do not keep a copy in Sent Items\n"
    "  --max-attempts N      attempts before giving up (default: gateway.max_attempts)\n"
    "  --wait                wait for the result; exit 0 only if SENT\n"
    "  --timeout SECONDS     how long --wait waits (default 120)\n"
    "  --config FILE         read the Redis settings from the gateway's config\n"
    "  --redis-url URL       Redis (default SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0)\n";

int sg_send_opts_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out) {
  if (s == NULL || s[0] < '0' || s[0] > '9') /* strtoull would take " -1" */
    return SG_ERR_INVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return SG_ERR_INVAL;
  *out = v;
  return 0;
}

/* Takes ownership of |p| (freed by sg_send_opts_free) and returns it. */
static char *keep(sg_send_opts *o, char *p) {
  if (o->nowned == o->owned_cap) {
    o->owned_cap = o->owned_cap ? 2 * o->owned_cap : 64;
    o->owned = sg_xrealloc(o->owned, o->owned_cap * sizeof *o->owned);
  }
  o->owned[o->nowned++] = p;
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

/* ---- setters: each sets one option from |arg|, or writes a reason ---- */

typedef int (*opt_set_fn)(sg_send_opts *o, const char *name, const char *arg, char *err,
                          size_t cap);

/* "Name <a@b.com>" or "a@b.com" appended to |arr| (|*n| used). */
static int add_addr(sg_send_opts *o, sg_job_addr *arr, size_t *n, const char *s, char *err,
                    size_t cap) {
  if (*n == SG_SEND_MAX_LIST) {
    snprintf(err, cap, "too many recipients");
    return SG_ERR_INVAL;
  }
  sg_job_addr *out = &arr[(*n)++];
  const char *lt = strrchr(s, '<');
  if (lt && s[strlen(s) - 1] == '>') {
    const char *e = lt;
    while (e > s && e[-1] == ' ')
      e--;
    out->name = keep(o, sg_xstrndup(s, (size_t)(e - s)));
    out->address = keep(o, sg_xstrndup(lt + 1, strlen(lt + 1) - 1));
  } else {
    out->name = "";
    out->address = s;
  }
  return 0;
}

static int set_to(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  return add_addr(o, o->to, &o->job.n_to, arg, err, cap);
}

static int set_cc(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  return add_addr(o, o->cc, &o->job.n_cc, arg, err, cap);
}

static int set_bcc(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  return add_addr(o, o->bcc, &o->job.n_bcc, arg, err, cap);
}

static int set_reply(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  return add_addr(o, o->reply, &o->job.n_reply_to, arg, err, cap);
}

static int load(sg_send_opts *o, const char *arg, char **data, size_t *len, char *err, size_t cap) {
  if (read_file(arg, data, len) != 0) {
    snprintf(err, cap, "cannot read %s", arg);
    return SG_ERR_INVAL;
  }
  keep(o, *data);
  return 0;
}

static int set_text_file(sg_send_opts *o, const char *name, const char *arg, char *err,
                         size_t cap) {
  (void)name;
  char *data;
  size_t len;
  int rv = load(o, arg, &data, &len, err, cap);
  if (rv == 0)
    o->job.text_body = data;
  return rv;
}

static int set_html_file(sg_send_opts *o, const char *name, const char *arg, char *err,
                         size_t cap) {
  (void)name;
  char *data;
  size_t len;
  int rv = load(o, arg, &data, &len, err, cap);
  if (rv == 0)
    o->job.html_body = data;
  return rv;
}

static int set_mime(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  char *data;
  size_t len;
  int rv = load(o, arg, &data, &len, err, cap);
  if (rv == 0) {
    o->job.mime = (const uint8_t *)data;
    o->job.mime_len = len;
  }
  return rv;
}

/* FILE[:TYPE], or FILE:CID[:TYPE] for an inline one. */
static int add_attachment(sg_send_opts *o, const char *spec, bool is_inline) {
  if (o->job.n_attachments == SG_ARRAY_LEN(o->att))
    return SG_ERR_RANGE;
  char *copy = keep(o, sg_xstrdup(spec));
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
  keep(o, data);
  const char *base = strrchr(path, '/');
  sg_job_attachment *at = &o->att[o->job.n_attachments++];
  at->name = base ? base + 1 : path;
  at->content_type = type ? type : guess_type(path);
  at->content = (const uint8_t *)data;
  at->content_len = len;
  at->content_id = cid ? cid : "";
  at->is_inline = is_inline;
  return 0;
}

static int set_attach(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  if (add_attachment(o, arg, strcmp(name, "inline") == 0) != 0) {
    snprintf(err, cap, "cannot attach %s", arg);
    return SG_ERR_INVAL;
  }
  return 0;
}

static int set_header(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  const char *colon = strchr(arg, ':');
  if (colon == NULL || o->job.n_headers == SG_ARRAY_LEN(o->hdr)) {
    snprintf(err, cap, "bad --header %s", arg);
    return SG_ERR_INVAL;
  }
  const char *v = colon + 1;
  while (*v == ' ')
    v++;
  sg_job_header *h = &o->hdr[o->job.n_headers++];
  h->name = keep(o, sg_xstrndup(arg, (size_t)(colon - arg)));
  h->value = v;
  return 0;
}

static int set_meta(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  const char *eq = strchr(arg, '=');
  if (eq == NULL || o->job.n_metadata == SG_ARRAY_LEN(o->meta)) {
    snprintf(err, cap, "bad --meta %s", arg);
    return SG_ERR_INVAL;
  }
  sg_job_kv *kv = &o->meta[o->job.n_metadata++];
  kv->key = keep(o, sg_xstrndup(arg, (size_t)(eq - arg)));
  kv->value = eq + 1;
  return 0;
}

static int set_backend(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name;
  if (strcasecmp(arg, "graph") == 0) {
    o->job.backend = SG_BACKEND_GRAPH;
  } else if (strcasecmp(arg, "acs") == 0) {
    o->job.backend = SG_BACKEND_ACS;
  } else if (strcasecmp(arg, "smtp") == 0) {
    o->job.backend = SG_BACKEND_SMTP;
  } else {
    snprintf(err, cap, "--backend must be graph, acs or smtp, not %s", arg);
    return SG_ERR_INVAL;
  }
  return 0;
}

static int bad_number(const char *name, const char *arg, unsigned long long max, char *err,
                      size_t cap) {
  snprintf(err, cap, "--%s needs a whole number from 0 to %llu, not '%s'", name, max, arg);
  return SG_ERR_INVAL;
}

static int set_max_attempts(sg_send_opts *o, const char *name, const char *arg, char *err,
                            size_t cap) {
  unsigned long long v;
  if (sg_send_opts_number(arg, 0, UINT32_MAX, &v) != 0)
    return bad_number(name, arg, UINT32_MAX, err, cap);
  o->job.max_attempts = (uint32_t)v;
  return 0;
}

static int set_timeout(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  unsigned long long v;
  if (sg_send_opts_number(arg, 0, MAX_TIMEOUT_S, &v) != 0)
    return bad_number(name, arg, MAX_TIMEOUT_S, err, cap);
  o->timeout_s = (unsigned)v;
  return 0;
}

static int set_no_save(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name, (void)arg, (void)err, (void)cap;
  o->job.save_to_sent_items = false;
  return 0;
}

static int set_wait(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name, (void)arg, (void)err, (void)cap;
  o->wait = true;
  return 0;
}

static int set_help(sg_send_opts *o, const char *name, const char *arg, char *err, size_t cap) {
  (void)name, (void)arg, (void)err, (void)cap;
  o->help = true;
  return 0;
}

/* ---- the table ---- */

typedef struct opt_def {
  const char *name;
  bool has_arg;
  size_t field;   /* with set NULL: offset of the const char * the value goes to */
  opt_set_fn set; /* or the function that takes it */
} opt_def;

#define FIELD(f) offsetof(sg_send_opts, f), NULL
#define SETTER(fn) 0, fn

static const opt_def opt_table[] = {
    {"from", true, FIELD(job.sender)},
    {"to", true, SETTER(set_to)},
    {"cc", true, SETTER(set_cc)},
    {"bcc", true, SETTER(set_bcc)},
    {"reply-to", true, SETTER(set_reply)},
    {"subject", true, FIELD(job.subject)},
    {"text", true, FIELD(job.text_body)},
    {"text-file", true, SETTER(set_text_file)},
    {"html", true, FIELD(job.html_body)},
    {"html-file", true, SETTER(set_html_file)},
    {"attach", true, SETTER(set_attach)},
    {"inline", true, SETTER(set_attach)},
    {"header", true, SETTER(set_header)},
    {"mime", true, SETTER(set_mime)},
    {"backend", true, SETTER(set_backend)},
    {"account", true, FIELD(job.account)},
    {"id", true, FIELD(job.id)},
    {"campaign", true, FIELD(job.campaign_id)},
    {"meta", true, SETTER(set_meta)},
    {"no-save-sent", false, SETTER(set_no_save)},
    {"max-attempts", true, SETTER(set_max_attempts)},
    {"wait", false, SETTER(set_wait)},
    {"timeout", true, SETTER(set_timeout)},
    {"config", true, FIELD(config)},
    {"redis-url", true, FIELD(redis_url)},
    {"help", false, SETTER(set_help)},
};

#define NOPTS SG_ARRAY_LEN(opt_table)
/* getopt_long returns OPT_BASE + the table index for each option. */
#define OPT_BASE 256

static void reset(sg_send_opts *o) {
  memset(o, 0, sizeof *o);
  sg_job *j = &o->job;
  j->account = j->subject = j->text_body = j->html_body = j->reply_stream = j->campaign_id = "";
  j->sender = "";
  j->save_to_sent_items = true;
  j->to = o->to;
  j->cc = o->cc;
  j->bcc = o->bcc;
  j->reply_to = o->reply;
  j->attachments = o->att;
  j->headers = o->hdr;
  j->metadata = o->meta;
}

int sg_send_opts_parse(sg_send_opts *o, int argc, char **argv, char *err, size_t errcap) {
  reset(o);
  struct option longopts[NOPTS + 1];
  for (size_t i = 0; i < NOPTS; i++)
    longopts[i] =
        (struct option){opt_table[i].name, opt_table[i].has_arg ? required_argument : no_argument,
                        NULL, OPT_BASE + (int)i};
  longopts[NOPTS] = (struct option){NULL, 0, NULL, 0};
  opterr = 0; /* our own one-line reasons */
  optind = 0; /* glibc: start over, also after an earlier parse */
  int c;
  /* ":" first: a missing value returns ':' rather than '?'. */
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    if (c == ':') {
      snprintf(err, errcap, "%s needs a value", argv[optind - 1]);
      return SG_ERR_INVAL;
    }
    if (c < OPT_BASE || c >= OPT_BASE + (int)NOPTS) {
      snprintf(err, errcap, "unknown option %s (see sendgate send --help)", argv[optind - 1]);
      return SG_ERR_INVAL;
    }
    const opt_def *d = &opt_table[c - OPT_BASE];
    if (d->set == NULL) {
      *(const char **)(void *)((char *)o + d->field) = optarg;
      continue;
    }
    int rv = d->set(o, d->name, optarg, err, errcap);
    if (rv != 0)
      return rv;
    if (o->help)
      return 0;
  }
  if (optind < argc) {
    snprintf(err, errcap, "unexpected argument %s", argv[optind]);
    return SG_ERR_INVAL;
  }
  if (o->job.sender[0] == '\0') {
    snprintf(err, errcap, "--from is required");
    return SG_ERR_INVAL;
  }
  if (sg_rd_url_has_password(o->redis_url)) {
    snprintf(err, errcap, "%s", SG_RD_URL_PASSWORD_REFUSED);
    return SG_ERR_INVAL;
  }
  if (o->timeout_s == 0)
    o->timeout_s = DEFAULT_TIMEOUT_S;
  return 0;
}

void sg_send_opts_free(sg_send_opts *o) {
  for (size_t i = 0; i < o->nowned; i++)
    sg_free(o->owned[i]);
  sg_free(o->owned);
  o->owned = NULL;
  o->nowned = o->owned_cap = 0;
}
