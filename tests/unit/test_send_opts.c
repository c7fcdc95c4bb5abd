/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for cli/sg_send_opts: every option lands in its field, numbers
 * are checked whole and in range, and each bad input is one reason naming
 * the option.
 */
#include "harness.h"

#include <unistd.h>

#include "cli/sg_send_opts.h"
#include "core/sg_err.h"

static sg_send_opts g_o; /* large */
static char g_err[300];

/* Writable copies of the arguments (parsed values borrow them), kept until the next parse. */
static char *g_argv[2 * SG_SEND_MAX_LIST + 16];
static int g_argc;

/* Parses the NULL-terminated arguments |args| (args[0] is "send"). */
#define PARSE(...) parse_v((const char *[]){"send", __VA_ARGS__, NULL})
static int parse_v(const char **args) {
  sg_send_opts_free(&g_o);
  for (int i = 0; i < g_argc; i++)
    free(g_argv[i]);
  g_argc = 0;
  while (args[g_argc] != NULL) {
    ASSERT_LT(g_argc, (int)(sizeof g_argv / sizeof g_argv[0]) - 1);
    g_argv[g_argc] = strdup(args[g_argc]);
    g_argc++;
  }
  g_argv[g_argc] = NULL;
  g_err[0] = '\0';
  return sg_send_opts_parse(&g_o, g_argc, g_argv, g_err, sizeof g_err);
}

static void t_all_fields(void) {
  ASSERT_OK(PARSE("--from", "a@contoso.com", "--to", "Bob Smith <bob@example.com>", "--to",
                  "c@example.com", "--cc", "d@example.com", "--bcc", "e@example.com", "--reply-to",
                  "f@example.com", "--subject", "Hi", "--text", "body", "--html", "<p>x</p>",
                  "--header", "X-Tag:  v1", "--meta", "k=v=w", "--backend", "ACS", "--account",
                  "acct", "--id", "job-1", "--campaign", "camp", "--no-save-sent", "--max-attempts",
                  "7", "--wait", "--timeout", "30", "--config", "/etc/x.conf", "--redis-url",
                  "redis://h:1/2"));
  const sg_job *j = &g_o.job;
  ASSERT_STR_EQ("a@contoso.com", j->sender);
  ASSERT_EQ(2, j->n_to);
  ASSERT_STR_EQ("Bob Smith", j->to[0].name);
  ASSERT_STR_EQ("bob@example.com", j->to[0].address);
  ASSERT_STR_EQ("", j->to[1].name);
  ASSERT_STR_EQ("c@example.com", j->to[1].address);
  ASSERT_EQ(1, j->n_cc);
  ASSERT_EQ(1, j->n_bcc);
  ASSERT_EQ(1, j->n_reply_to);
  ASSERT_STR_EQ("f@example.com", j->reply_to[0].address);
  ASSERT_STR_EQ("Hi", j->subject);
  ASSERT_STR_EQ("body", j->text_body);
  ASSERT_STR_EQ("<p>x</p>", j->html_body);
  ASSERT_EQ(1, j->n_headers);
  ASSERT_STR_EQ("X-Tag", j->headers[0].name);
  ASSERT_STR_EQ("v1", j->headers[0].value);
  ASSERT_EQ(1, j->n_metadata);
  ASSERT_STR_EQ("k", j->metadata[0].key);
  ASSERT_STR_EQ("v=w", j->metadata[0].value);
  ASSERT_EQ(SG_BACKEND_ACS, j->backend);
  ASSERT_STR_EQ("acct", j->account);
  ASSERT_STR_EQ("job-1", j->id);
  ASSERT_STR_EQ("camp", j->campaign_id);
  ASSERT(!j->save_to_sent_items);
  ASSERT_EQ(7, j->max_attempts);
  ASSERT(g_o.wait);
  ASSERT_EQ(30, g_o.timeout_s);
  ASSERT_STR_EQ("/etc/x.conf", g_o.config);
  ASSERT_STR_EQ("redis://h:1/2", g_o.redis_url);
  ASSERT(!g_o.help);
}

static void t_defaults(void) {
  ASSERT_OK(PARSE("--from=a@contoso.com"));
  const sg_job *j = &g_o.job;
  ASSERT_STR_EQ("a@contoso.com", j->sender);
  ASSERT_NULL(j->id);
  ASSERT_EQ(0, j->n_to);
  ASSERT_STR_EQ("", j->subject);
  ASSERT_STR_EQ("", j->account);
  ASSERT(j->save_to_sent_items);
  ASSERT_EQ(0, j->max_attempts);
  ASSERT_EQ(SG_BACKEND_UNSPECIFIED, j->backend);
  ASSERT(!g_o.wait);
  ASSERT_EQ(120, g_o.timeout_s);
  ASSERT_NULL(g_o.config);
  /* --timeout 0 means the default too. */
  ASSERT_OK(PARSE("--from", "a@b.c", "--timeout", "0"));
  ASSERT_EQ(120, g_o.timeout_s);
}

static void t_numbers(void) {
  static const char *const bad[] = {"",
                                    "x",
                                    "12x",
                                    "-1",
                                    "+5",
                                    " 5",
                                    "5 ",
                                    "0x10",
                                    "1e3",
                                    "4294967296",
                                    "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--max-attempts", bad[i]));
    ASSERT(strstr(g_err, "--max-attempts") != NULL);
    ASSERT(strchr(g_err, '\n') == NULL);
  }
  ASSERT_OK(PARSE("--from", "a@b.c", "--max-attempts", "4294967295"));
  ASSERT_EQ(4294967295u, g_o.job.max_attempts);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--timeout", "abc"));
  ASSERT(strstr(g_err, "--timeout") != NULL);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--timeout", "2592001"));
  ASSERT_OK(PARSE("--from", "a@b.c", "--timeout", "2592000"));
  /* The helper itself. */
  unsigned long long v = 99;
  ASSERT_OK(sg_send_opts_number("007", 0, 10, &v));
  ASSERT_EQ(7, v);
  ASSERT_EQ(SG_ERR_INVAL, sg_send_opts_number("3", 4, 10, &v));
  ASSERT_EQ(SG_ERR_INVAL, sg_send_opts_number("18446744073709551616", 0, ~0ULL, &v));
  ASSERT_OK(sg_send_opts_number("18446744073709551615", 0, ~0ULL, &v));
  ASSERT(v == ~0ULL);
  ASSERT_EQ(SG_ERR_INVAL, sg_send_opts_number(NULL, 0, 1, &v));
}

static void t_errors(void) {
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--to", "x@y.z"));
  ASSERT_STR_EQ("--from is required", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--frob"));
  ASSERT(strstr(g_err, "--frob") != NULL);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--to"));
  ASSERT_STR_EQ("--to needs a value", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "stray"));
  ASSERT_STR_EQ("unexpected argument stray", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--backend", "pigeon"));
  ASSERT_STR_EQ("--backend must be graph, acs or smtp, not pigeon", g_err);
  ASSERT_OK(PARSE("--from", "a@b.c", "--to", "x@y.z", "--account", "relay", "--backend", "smtp"));
  ASSERT_EQ(SG_BACKEND_SMTP, g_o.job.backend);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--header", "no colon"));
  ASSERT_STR_EQ("bad --header no colon", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--meta", "novalue"));
  ASSERT_STR_EQ("bad --meta novalue", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--text-file", "/nonexistent/x"));
  ASSERT_STR_EQ("cannot read /nonexistent/x", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--attach", "/nonexistent/y.pdf"));
  ASSERT_STR_EQ("cannot attach /nonexistent/y.pdf", g_err);
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--wait=yes"));
  /* A Redis password on the command line would show in ps: refused. */
  ASSERT_EQ(SG_ERR_INVAL,
            PARSE("--from", "a@b.c", "--redis-url", "redis://:s3cret@127.0.0.1:6379"));
  ASSERT(strstr(g_err, "SENDGATE_REDIS_URL") != NULL && strstr(g_err, "s3cret") == NULL);
  ASSERT_OK(PARSE("--from", "a@b.c", "--redis-url", "redis://127.0.0.1:6380/2"));
  /* --help wins over what follows, and needs no --from. */
  ASSERT_OK(PARSE("--help", "--frob"));
  ASSERT(g_o.help);
  ASSERT(strstr(sg_send_opts_usage, "--max-attempts N") != NULL);
}

static void t_files(void) {
  char dir[] = "/tmp/sg_send_opts_XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char path[128], spec[160];
  snprintf(path, sizeof path, "%s/report.pdf", dir);
  FILE *f = fopen(path, "wb");
  ASSERT_NOT_NULL(f);
  fputs("%PDF-1.4 hello", f);
  fclose(f);
  snprintf(spec, sizeof spec, "%s:logo1", path);
  ASSERT_OK(PARSE("--from", "a@b.c", "--text-file", path, "--attach", path, "--inline", spec));
  const sg_job *j = &g_o.job;
  ASSERT_STR_EQ("%PDF-1.4 hello", j->text_body);
  ASSERT_EQ(2, j->n_attachments);
  ASSERT_STR_EQ("report.pdf", j->attachments[0].name);
  ASSERT_STR_EQ("application/pdf", j->attachments[0].content_type);
  ASSERT_EQ(14, j->attachments[0].content_len);
  ASSERT(!j->attachments[0].is_inline);
  ASSERT(j->attachments[1].is_inline);
  ASSERT_STR_EQ("logo1", j->attachments[1].content_id);
  /* An inline attachment needs a content id. */
  ASSERT_EQ(SG_ERR_INVAL, PARSE("--from", "a@b.c", "--inline", path));
  ASSERT_OK(PARSE("--from", "a@b.c", "--mime", path));
  ASSERT_EQ(14, g_o.job.mime_len);
  sg_send_opts_free(&g_o);
  unlink(path);
  rmdir(dir);
}

static void t_limits(void) {
  /* 512 --to are fine, the 513th is refused; named ones own two copies each. */
  static const char *argv[2 + 2 * (SG_SEND_MAX_LIST + 1) + 1];
  int n = 0;
  argv[n++] = "send";
  argv[n++] = "--from=a@b.c";
  for (int i = 0; i < SG_SEND_MAX_LIST; i++) {
    argv[n++] = "--to";
    argv[n++] = i % 2 ? "r@example.com" : "Rita Example <rita@example.com>";
  }
  argv[n] = NULL;
  ASSERT_OK(parse_v(argv));
  ASSERT_EQ(SG_SEND_MAX_LIST, g_o.job.n_to);
  ASSERT_STR_EQ("Rita Example", g_o.job.to[510].name);
  ASSERT_STR_EQ("rita@example.com", g_o.job.to[510].address);
  argv[n++] = "--to";
  argv[n++] = "one-more@example.com";
  argv[n] = NULL;
  ASSERT_EQ(SG_ERR_INVAL, parse_v(argv));
  ASSERT_STR_EQ("too many recipients", g_err);
  sg_send_opts_free(&g_o);
}

SG_TESTS({"all_fields", t_all_fields}, {"defaults", t_defaults}, {"numbers", t_numbers},
         {"errors", t_errors}, {"files", t_files}, {"limits", t_limits})
