/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate sendmail`: a sendmail-compatible entry point, so that cron, PHP
 * mail(), Nagios and mailx work unchanged with sendgate installed as
 * /usr/sbin/sendmail. Reads the message on standard input (a line with a
 * single dot ends it unless -i/-oi), takes the recipients from the arguments
 * and, with -t, from To/Cc/Bcc (added to the arguments' ones, as Postfix
 * does), removes Bcc from the message, and queues one MIME job on the jobs
 * stream exactly as `sendgate send` does: mime = the message (CRLF line
 * ends), to = the envelope recipients, sender = -f, else the From: address,
 * else [sendmail] sender. Exit codes are sendmail's (sysexits.h), so callers
 * see failures: 64 usage, 65 bad message or address, 75 Redis unreachable
 * (try later), 78 bad configuration.
 */
#include "cli/sg_cmds.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "conf/sg_config.h"
#include "core/sg_addr.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "job/sg_job.h"
#include "job/sg_job_codec.h"
#include "redis/sg_rd_sync.h"
#include "redis/sg_rd_url.h"
#include "job/sg_mail_hdr.h"

#define PROG "sendgate sendmail"
/* A message larger than this is refused at once (Graph's own limits are lower). */
#define MAX_MESSAGE (64u * 1024u * 1024u)
#define MAX_RCPTS SG_GRAPH_MAX_RECIPIENTS

static const char usage[] =
    "usage: sendgate sendmail [-t] [-i|-oi] [-f ADDR] [-F NAME] [-C FILE] [RCPT ...]\n"
    "sendmail-compatible: queues the message on standard input for the gateway.\n"
    "  -t        also send to the To, Cc and Bcc addresses of the message (Bcc is removed)\n"
    "  -i, -oi   a line with a single dot does not end the message\n"
    "  -f ADDR   envelope sender: the mailbox that sends (also -r); else the From: address,\n"
    "            else [sendmail] sender (SENDGATE_SENDMAIL_SENDER)\n"
    "  -F NAME   full name for the From: header added when the message has none\n"
    "  -C FILE   the gateway's config file (Redis settings, [sendmail] sender and account)\n"
    "  -odi -oem -B TYPE -N DSN -R RET -V ID -v ...  accepted and ignored\n"
    "Redis: SENDGATE_REDIS_URL (default redis://127.0.0.1:6379/0). [sendmail] account\n"
    "(SENDGATE_SENDMAIL_ACCOUNT) picks the gateway account. Exit codes: 0 queued,\n"
    "64 usage, 65 bad message or address, 75 Redis unreachable (try again), 78 config.\n";

typedef struct sm_opts {
  bool extract, ignore_dots, help;
  const char *from, *fullname, *config;
  char **rcpt_args;
  int nrcpt_args;
} sm_opts;

/* [sendmail] settings, read from the same config file and environment. */
typedef struct sm_conf {
  char *sender;
  char *account;
} sm_conf;

#define F(f) offsetof(sm_conf, f)
static const sg_setting sm_tbl[] = {
    {"sendmail", "sender", SG_SET_STR, F(sender), NULL, 0, 0, 0, NULL,
     "mailbox that sends when neither -f nor a From: address is given"},
    {"sendmail", "account", SG_SET_STR, F(account), NULL, 0, 0, 0, NULL,
     "gateway account for sendmail's jobs (empty: the default)"},
};
#undef F
static const sg_settings sm_settings = {sm_tbl, SG_ARRAY_LEN(sm_tbl), "SENDGATE_"};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, PROG ": %s\n", msg);
  return code;
}

/* Flags with a value, as sendmail takes them: "-fADDR" or "-f ADDR". */
static const char with_value[] = "fFrCBNRVXhLOob";
/* Flags without one, accepted (t and i do something, the rest nothing). */
static const char no_value[] = "tivnmUGq";

static int parse_args(sm_opts *o, int argc, char **argv) {
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = true;
      return 0;
    }
    if (a[0] != '-' || a[1] == '\0')
      break;
    for (const char *p = a + 1; *p; p++) {
      char f = *p;
      if (strchr(with_value, f) != NULL) {
        const char *v = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL)
          return fail(EX_USAGE, "-%c needs a value", f);
        if (f == 'f' || f == 'r')
          o->from = v;
        else if (f == 'F')
          o->fullname = v;
        else if (f == 'C')
          o->config = v;
        else if (f == 'o' && (strcmp(v, "i") == 0))
          o->ignore_dots = true;
        else if (f == 'b' && strcmp(v, "m") != 0)
          return fail(EX_USAGE, "-b%s is not supported (only -bm, the default)", v);
        break; /* the value used up the rest of this argument */
      }
      if (strchr(no_value, f) == NULL)
        return fail(EX_USAGE, "unknown option -%c (see sendgate sendmail --help)", f);
      if (f == 'q')
        return fail(EX_USAGE, "-q is not supported: the gateway's queue runs by itself");
      if (f == 't')
        o->extract = true;
      else if (f == 'i')
        o->ignore_dots = true;
    }
  }
  o->rcpt_args = argv + i;
  o->nrcpt_args = argc - i;
  return 0;
}

/*
 * Reads the message from |in| into |b| with CRLF line ends; a line holding
 * only "." ends it unless |ignore_dots|; a leading mbox "From " line is
 * dropped, as sendmail does. Returns 0 or an exit code.
 */
static int read_message(FILE *in, bool ignore_dots, sg_buf *b) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool first = true;
  int rc = 0;
  while ((n = getline(&line, &cap, in)) > 0) {
    size_t len = (size_t)n;
    if (line[len - 1] == '\n')
      len--;
    if (len > 0 && line[len - 1] == '\r')
      len--;
    if (!ignore_dots && len == 1 && line[0] == '.')
      break;
    if (first && len >= 5 && memcmp(line, "From ", 5) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (b->len + len + 2 > MAX_MESSAGE) {
      rc = fail(EX_DATAERR, "message larger than %u bytes", MAX_MESSAGE);
      break;
    }
    sg_buf_append(b, line, len);
    sg_buf_append(b, "\r\n", 2);
  }
  if (rc == 0 && ferror(in))
    rc = fail(EX_IOERR, "cannot read the message from standard input");
  free(line);
  return rc;
}

typedef struct rcpts {
  char *v[MAX_RCPTS];
  size_t n;
  bool too_many;
  char bad[SG_MAIL_ADDR_MAX + 1]; /* the first invalid address */
  bool has_bad;
} rcpts;

static void add_rcpt(const char *addr, void *ud) {
  rcpts *r = ud;
  if (!sg_addr_valid(addr, strlen(addr))) {
    if (!r->has_bad)
      snprintf(r->bad, sizeof r->bad, "%s", addr);
    r->has_bad = true;
    return;
  }
  for (size_t i = 0; i < r->n; i++)
    if (strcasecmp(r->v[i], addr) == 0)
      return;
  if (r->n == MAX_RCPTS) {
    r->too_many = true;
    return;
  }
  r->v[r->n++] = sg_xstrdup(addr);
}

static void first_addr(const char *addr, void *ud) {
  char *out = ud;
  if (out[0] == '\0' && addr[0] != '\0')
    snprintf(out, SG_MAIL_ADDR_MAX + 1, "%s", addr);
}

/* "sendmail-" and 24 hex digits: 96 random bits. */
static void random_id(char out[48]) {
  unsigned char r[12];
  if (RAND_bytes(r, sizeof r) != 1)
    for (size_t i = 0; i < sizeof r; i++)
      r[i] = (unsigned char)(sg_mono_ms() >> (i % 8));
  char *p = out + sg_fmt_copy(out, 48, "sendmail-");
  for (size_t i = 0; i < sizeof r; i++)
    p += sg_fmt_hex(p, r[i], 2);
}

/* The settings: defaults, the config file (-C), the environment. */
static int load_settings(const sm_opts *o, char **envp, sg_config *cfg, sm_conf *sc) {
  char err[400];
  if (sg_settings_defaults(&sg_config_settings, cfg, err, sizeof err) ||
      (o->config && sg_settings_load_ini(&sg_config_settings, cfg, o->config,
                                         sg_config_ignore_unknown, NULL, err, sizeof err)) ||
      sg_settings_load_env(&sg_config_settings, cfg, envp, err, sizeof err) ||
      sg_settings_defaults(&sm_settings, sc, err, sizeof err) ||
      (o->config && sg_settings_load_ini(&sm_settings, sc, o->config, sg_config_ignore_unknown,
                                         NULL, err, sizeof err)) ||
      sg_settings_load_env(&sm_settings, sc, envp, err, sizeof err))
    return fail(EX_CONFIG, "%s", err);
  return 0;
}

/* Strips "<...>" around an -f address; "<>" and "" are the null sender. */
static void unangle(const char *in, char *out, size_t cap) {
  size_t n = strlen(in);
  if (n >= 2 && in[0] == '<' && in[n - 1] == '>')
    snprintf(out, cap, "%.*s", (int)(n - 2), in + 1);
  else
    snprintf(out, cap, "%s", in);
}

static int queue_job(const sg_config *cfg, const sg_job *j, int *rc) {
  sg_buf pb = SG_BUF_INIT;
  sg_job_encode(j, &pb);
  char err[300];
  sg_rd_sync *c = sg_rd_sync_connect(cfg->redis_url, cfg->tls_ca_file, 5000, err, sizeof err);
  if (c == NULL) {
    *rc = fail(EX_TEMPFAIL, "%s", err);
  } else {
    const char *xa[] = {"XADD", cfg->jobs_stream, "*", "job", pb.data};
    size_t xl[] = {4, strlen(cfg->jobs_stream), 1, 3, pb.len};
    redisReply *r = sg_rd_sync_cmd(c, 5, xa, xl, err, sizeof err);
    if (r == NULL)
      *rc = fail(EX_TEMPFAIL, "%s", err);
    else
      freeReplyObject(r);
    sg_rd_sync_free(c);
  }
  sg_buf_free(&pb);
  return *rc;
}

/* Adds From: (and Date:) when the message has none, as sendmail does. */
static void add_missing_headers(sg_buf *msg, size_t *hlen, const char *sender,
                                const char *fullname) {
  sg_buf add = SG_BUF_INIT;
  if (!sg_mail_hdr_has(msg->data, *hlen, "From")) {
    if (fullname != NULL && fullname[0] != '\0' && strpbrk(fullname, "\"\\") == NULL &&
        !sg_has_ctl(fullname, strlen(fullname), false))
      sg_buf_printf(&add, "From: \"%s\" <%s>\r\n", fullname, sender);
    else
      sg_buf_printf(&add, "From: %s\r\n", sender);
  }
  if (!sg_mail_hdr_has(msg->data, *hlen, "Date")) {
    char date[32];
    sg_time_imf(sg_wall_ms() / 1000, date);
    sg_buf_printf(&add, "Date: %s\r\n", date);
  }
  if (add.len == 0)
    return;
  size_t new_hlen = add.len + *hlen;
  if (*hlen == 0) { /* only a body: the headers, then the empty line before it */
    sg_buf_append(&add, "\r\n", 2);
    new_hlen = add.len;
  }
  sg_buf_append(&add, msg->data, msg->len);
  sg_buf_free(msg);
  *msg = add;
  *hlen = new_hlen;
}

/* True when the message starts with a header field ("Name:"), not with body text. */
static bool starts_with_field(const char *m, size_t n) {
  size_t i = 0;
  while (i < n && m[i] > ' ' && m[i] < 0x7f && m[i] != ':')
    i++;
  return i > 0 && i < n && m[i] == ':';
}

int sg_cmd_sendmail(int argc, char **argv, char **envp) {
  sm_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(&o, argc, argv);
  if (rc != 0)
    return rc;
  if (o.help) {
    fputs(usage, stdout);
    return 0;
  }
  sg_config cfg;
  sm_conf sc;
  memset(&cfg, 0, sizeof cfg);
  memset(&sc, 0, sizeof sc);
  sg_buf msg = SG_BUF_INIT;
  rcpts r;
  memset(&r, 0, sizeof r);
  if ((rc = load_settings(&o, envp, &cfg, &sc)) != 0)
    goto out;
  if ((rc = read_message(stdin, o.ignore_dots, &msg)) != 0)
    goto out;
  if (msg.len == 0) {
    rc = fail(EX_DATAERR, "empty message");
    goto out;
  }
  size_t hlen = sg_mail_hdr_len(msg.data, msg.len);
  if (!starts_with_field(msg.data, msg.len) && !(msg.data[0] == '\r'))
    hlen = 0; /* no header section: the message is all body */

  for (int i = 0; i < o.nrcpt_args; i++)
    sg_mail_addr_list(o.rcpt_args[i], strlen(o.rcpt_args[i]), add_rcpt, &r);
  if (o.extract) {
    sg_mail_hdr_addrs(msg.data, hlen, "To", add_rcpt, &r);
    sg_mail_hdr_addrs(msg.data, hlen, "Cc", add_rcpt, &r);
    sg_mail_hdr_addrs(msg.data, hlen, "Bcc", add_rcpt, &r);
  }
  sg_mail_hdr_remove(&msg, &hlen, "Bcc"); /* never sent, with or without -t */
  if (r.has_bad) {
    rc = fail(EX_DATAERR, "bad recipient address '%s'", r.bad);
    goto out;
  }
  if (r.too_many) {
    rc = fail(EX_DATAERR, "more than %d recipients", MAX_RCPTS);
    goto out;
  }
  if (r.n == 0) {
    rc = fail(EX_USAGE, "no recipients (give them as arguments, or -t to read To/Cc/Bcc)");
    goto out;
  }

  char sender[SG_MAIL_ADDR_MAX + 1] = "", from_hdr[SG_MAIL_ADDR_MAX + 1] = "";
  if (o.from != NULL)
    unangle(o.from, sender, sizeof sender);
  if (sender[0] != '\0' && !sg_addr_valid(sender, strlen(sender))) {
    rc = fail(EX_DATAERR, "bad sender address '%s'", sender);
    goto out;
  }
  sg_mail_hdr_addrs(msg.data, hlen, "From", first_addr, from_hdr);
  if (sender[0] == '\0' && sg_addr_valid(from_hdr, strlen(from_hdr)))
    snprintf(sender, sizeof sender, "%s", from_hdr);
  if (sender[0] == '\0' && sc.sender != NULL)
    snprintf(sender, sizeof sender, "%s", sc.sender);
  if (sender[0] == '\0') {
    rc = fail(EX_DATAERR, "no sender: give -f, a From: address, or set [sendmail] sender");
    goto out;
  }
  add_missing_headers(&msg, &hlen, sender, o.fullname);

  char id[48];
  random_id(id);
  sg_job_addr to[MAX_RCPTS];
  for (size_t i = 0; i < r.n; i++)
    to[i] = (sg_job_addr){r.v[i], ""};
  sg_job j;
  memset(&j, 0, sizeof j);
  j.id = id;
  j.account = sc.account ? sc.account : "";
  j.sender = sender;
  j.to = to;
  j.n_to = r.n; /* the envelope: with mime set, exactly who receives it */
  j.subject = j.text_body = j.html_body = j.reply_stream = j.campaign_id = "";
  j.mime = (const uint8_t *)msg.data;
  j.mime_len = msg.len;
  j.save_to_sent_items = true;
  j.created_unix_ms = sg_wall_ms();
  queue_job(&cfg, &j, &rc);
out:
  for (size_t i = 0; i < r.n; i++)
    sg_free(r.v[i]);
  sg_buf_free(&msg);
  sg_settings_free(&sm_settings, &sc);
  sg_settings_free(&sg_config_settings, &cfg);
  return rc;
}
