/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate smtp-send`: sends a message through the SMTP client (smtpc/) to
 * one server, so an operator can check that a tenant takes XOAUTH2 (or an
 * HVE account its password) before pointing the gateway at it, and the
 * integration tests can drive the client against real servers. STARTTLS
 * with certificate and host name verification, always (the system store
 * plus --ca-file or SENDGATE_TLS_CA_FILE); --plaintext only without AUTH.
 * Prints one line per message: the outcome, the code, the SMTP reply code
 * and the server's text. Secrets come from files or the environment, never
 * the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli/sg_cmds.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tls.h"
#include "smtpc/sg_smtpc_account.h"
#include "smtpc/sg_smtpc_session.h"

/* Messages read from a file or stdin at most (Exchange's own cap is 150 MB). */
#define MAX_MESSAGE (160u * 1024u * 1024u)
#define MAX_RCPTS 1000

static const char usage[] =
    "usage: sendgate smtp-send --host HOST[:PORT] --from ADDR --to ADDR [--to ADDR...]\n"
    "                          [--auth xoauth2|xoauth2-two-step|plain|login|none]\n"
    "                          [--user USER] [--secret-file FILE] [--message FILE]\n"
    "Sends a message (a complete RFC 5322 message from --message or stdin) over SMTP\n"
    "with STARTTLS and prints the outcome: a check that a server takes our login.\n"
    "  --host HOST[:PORT]    server (port default 587); the certificate must match HOST\n"
    "  --auth MECH           xoauth2 (default; one-line form), xoauth2-two-step, plain,\n"
    "                        login, none\n"
    "  --user USER           XOAUTH2: the mailbox; plain/login: the user name\n"
    "  --secret-file FILE    the access token (XOAUTH2) or the password, first line;\n"
    "                        default: SENDGATE_SMTP_SEND_SECRET\n"
    "  --xoauth2-token-file FILE   the same as --secret-file\n"
    "  --message FILE        the message to send (default: standard input)\n"
    "  --ca-file FILE        extra trust anchors (default SENDGATE_TLS_CA_FILE)\n"
    "  --helo NAME           EHLO name (default localhost)\n"
    "  --count N             send the message N times on one session (default 1)\n"
    "  --timeout-ms N        every reply timeout (default: RFC 5321's)\n"
    "  --plaintext           no STARTTLS (test servers; refused with AUTH)\n"
    "Exit: 0 every message SENT, 1 otherwise, 2 usage.\n";

typedef struct run {
  sg_smtpc_session *s;
  const sg_smtpc_env *env;
  const uint8_t *msg;
  size_t len;
  long count, sent, ok;
  int rc;
} run;

static void print_outcome(const char *what, const sg_outcome *o) {
  printf("%s: %s code=%s smtp=%d%s%s %s\n", what, sg_outcome_kind_name(o->kind),
         o->code[0] ? o->code : "-", o->http_status, o->throttled ? " throttled" : "",
         o->ambiguous ? " ambiguous" : "", o->message);
  fflush(stdout);
}

static void send_next(run *r);

static void on_done(sg_smtpc_session *s, const sg_outcome *o, void *ud) {
  run *r = ud;
  char what[64];
  snprintf(what, sizeof what, "message %ld", r->sent);
  print_outcome(what, o);
  if (o->kind == SG_OUTCOME_SENT)
    r->ok++;
  if (r->sent >= r->count || o->kind != SG_OUTCOME_SENT)
    sg_smtpc_session_quit(s);
}

static void send_next(run *r) {
  char err[300];
  r->sent++;
  int rv = sg_smtpc_send(r->s, r->env, r->msg, r->len, on_done, r, err, sizeof err);
  if (rv != 0) {
    fprintf(stderr, "sendgate smtp-send: message refused before sending: %s\n", err);
    r->rc = 1;
    sg_smtpc_session_quit(r->s);
  }
}

static void on_ready(sg_smtpc_session *s, void *ud) {
  run *r = ud;
  (void)s;
  if (r->sent < r->count && r->rc == 0)
    send_next(r);
}

static void on_close(sg_smtpc_session *s, const sg_outcome *why, void *ud) {
  (void)s;
  (void)ud;
  if (why->kind != SG_OUTCOME_SENT)
    print_outcome("session", why);
}

static int read_file(const char *path, sg_buf *out, size_t cap) {
  FILE *f = path ? fopen(path, "rb") : stdin;
  if (!f)
    return SG_ERR_IO;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (out->len + n > cap) {
      if (path)
        fclose(f);
      return SG_ERR_TOOBIG;
    }
    sg_buf_append(out, buf, n);
  }
  int bad = ferror(f);
  if (path)
    fclose(f);
  return bad ? SG_ERR_IO : 0;
}

static int parse_auth(const char *s, sg_smtpc_opts *o) {
  if (strcmp(s, "xoauth2") == 0) {
    o->auth = SG_SMTPC_AUTH_XOAUTH2;
  } else if (strcmp(s, "xoauth2-two-step") == 0) {
    o->auth = SG_SMTPC_AUTH_XOAUTH2;
    o->xoauth2_two_step = true;
  } else if (strcmp(s, "plain") == 0) {
    o->auth = SG_SMTPC_AUTH_PLAIN;
  } else if (strcmp(s, "login") == 0) {
    o->auth = SG_SMTPC_AUTH_LOGIN;
  } else if (strcmp(s, "none") == 0) {
    o->auth = SG_SMTPC_AUTH_NONE;
  } else {
    return SG_ERR_INVAL;
  }
  return 0;
}

static int bad_usage(const char *why) {
  fprintf(stderr, "sendgate smtp-send: %s (see --help)\n", why);
  return 2;
}

int sg_cmd_smtp_send(int argc, char **argv, char **envp) {
  (void)envp;
  enum {
    O_HOST = 256,
    O_FROM,
    O_TO,
    O_AUTH,
    O_USER,
    O_SECRET,
    O_MSG,
    O_CA,
    O_HELO,
    O_COUNT,
    O_TIMEOUT,
    O_PLAIN,
    O_HELP
  };
  static const struct option lopts[] = {{"host", 1, 0, O_HOST},
                                        {"from", 1, 0, O_FROM},
                                        {"to", 1, 0, O_TO},
                                        {"auth", 1, 0, O_AUTH},
                                        {"user", 1, 0, O_USER},
                                        {"secret-file", 1, 0, O_SECRET},
                                        {"xoauth2-token-file", 1, 0, O_SECRET},
                                        {"message", 1, 0, O_MSG},
                                        {"ca-file", 1, 0, O_CA},
                                        {"helo", 1, 0, O_HELO},
                                        {"count", 1, 0, O_COUNT},
                                        {"timeout-ms", 1, 0, O_TIMEOUT},
                                        {"plaintext", 0, 0, O_PLAIN},
                                        {"help", 0, 0, O_HELP},
                                        {0, 0, 0, 0}};
  const char *host = NULL, *from = NULL, *secret_file = NULL, *msg_file = NULL;
  const char *ca = getenv("SENDGATE_TLS_CA_FILE");
  static const char *rcpts[MAX_RCPTS];
  size_t n_rcpts = 0;
  long count = 1;
  unsigned long long timeout = 0;
  sg_smtpc_opts o;
  memset(&o, 0, sizeof o);
  o.auth = SG_SMTPC_AUTH_XOAUTH2;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
    switch (c) {
    case O_HOST:
      host = optarg;
      break;
    case O_FROM:
      from = optarg;
      break;
    case O_TO:
      if (n_rcpts == MAX_RCPTS)
        return bad_usage("too many --to");
      rcpts[n_rcpts++] = optarg;
      break;
    case O_AUTH:
      if (parse_auth(optarg, &o) != 0)
        return bad_usage("unknown --auth");
      break;
    case O_USER:
      o.user = optarg;
      break;
    case O_SECRET:
      secret_file = optarg;
      break;
    case O_MSG:
      msg_file = optarg;
      break;
    case O_CA:
      ca = optarg;
      break;
    case O_HELO:
      o.helo_name = optarg;
      break;
    case O_COUNT:
      count = strtol(optarg, NULL, 10);
      if (count < 1 || count > 100000)
        return bad_usage("--count must be 1..100000");
      break;
    case O_TIMEOUT:
      timeout = strtoull(optarg, NULL, 10);
      break;
    case O_PLAIN:
      o.plaintext = true;
      break;
    case O_HELP:
      fputs(usage, stdout);
      return 0;
    default:
      return bad_usage("unknown option");
    }
  }
  if (optind < argc)
    return bad_usage("unexpected argument");
  if (!host || !from || n_rcpts == 0)
    return bad_usage("--host, --from and --to are required");
  o.greeting_ms = o.command_ms = o.data_init_ms = o.data_block_ms = o.data_end_ms = timeout;

  char hostbuf[300];
  uint16_t port = 0;
  if (sg_smtpc_account_parse_host(host, SG_SMTPC_ACCOUNT_EXCHANGE, hostbuf, sizeof hostbuf,
                                  &port) != 0)
    return bad_usage("--host must be HOST[:PORT] or [IPv6]:PORT");

  sg_buf secret = SG_BUF_INIT, msg = SG_BUF_INIT;
  if (o.auth != SG_SMTPC_AUTH_NONE) {
    const char *env_secret = getenv("SENDGATE_SMTP_SEND_SECRET");
    if (secret_file) {
      if (read_file(secret_file, &secret, 64 * 1024) != 0) {
        fprintf(stderr, "sendgate smtp-send: cannot read %s\n", secret_file);
        return 2;
      }
    } else if (env_secret) {
      sg_buf_append_str(&secret, env_secret);
    }
    sg_buf_append(&secret, "", 0);
    secret.data[strcspn(secret.data, "\r\n")] = '\0';
    o.secret = secret.data;
  }
  int rv = read_file(msg_file, &msg, MAX_MESSAGE);
  if (rv != 0) {
    fprintf(stderr, "sendgate smtp-send: cannot read the message: %s\n", sg_strerror(rv));
    return 2;
  }

  SSL_CTX *ctx = NULL;
  if (!o.plaintext && (rv = sg_tls_ctx_client_new2(&ctx, ca, SG_TLS_ALPN_NONE)) != 0) {
    fprintf(stderr, "sendgate smtp-send: TLS setup: %s\n", sg_strerror(rv));
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_smtpc_env env = {from, rcpts, n_rcpts};
  run r = {.env = &env, .msg = (const uint8_t *)msg.data, .len = msg.len, .count = count};
  sg_smtpc_session_cbs cbs = {on_ready, on_close};
  rv = sg_smtpc_session_new(&r.s, &loop, ctx, hostbuf, port, &o, timeout, &cbs, &r);
  if (rv != 0) {
    fprintf(stderr, "sendgate smtp-send: %s\n", sg_strerror(rv));
    r.rc = 2;
  } else {
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  SSL_CTX_free(ctx);
  sg_buf_free(&msg);
  if (secret.data)
    memset(secret.data, 0, secret.len);
  sg_buf_free(&secret);
  if (r.rc != 0)
    return r.rc;
  return r.ok == count ? 0 : 1;
}
