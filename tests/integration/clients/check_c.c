/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives the C client library (proto/c) against a running gateway for
 * tests/integration/test_client_c.sh: one JSON line per case, the same cases
 * as check_python.py (client_lib.sh asserts them). The error names are the
 * Python library's, derived here from the status and code.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sendgate/client.h"

#define L "c"
#define SENDER "sender-1@contoso.com"

static sgc_client *c;

static void die(const char *what, int rv) {
  fprintf(stderr, "check_c: %s: %s: %s\n", what, sgc_strerror(rv), sgc_errstr(c));
  exit(1);
}

/* Prints |s| as a JSON string (the values here are ASCII without controls). */
static void js(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

static const char *error_name(const sgc_result *r) {
  switch (r->status) {
  case SGC_STATUS_SENT:
    return NULL;
  case SGC_STATUS_INVALID:
    return strcmp(r->error_code, "SENDGATE_UNKNOWN_ACCOUNT") == 0 ? "UnknownAccount" : "InvalidJob";
  case SGC_STATUS_FAILED:
    return "Failed";
  case SGC_STATUS_EXPIRED:
    return "Expired";
  default:
    return "ResultError";
  }
}

static void print_result(const char *name, const sgc_result *r, const char *extra) {
  static const char *const backends[] = {"UNSPECIFIED", "GRAPH", "ACS"};
  printf("{\"case\":\"%s\"", name);
  const char *err = error_name(r);
  if (err)
    printf(",\"error\":\"%s\"", err);
  printf(",\"job_id\":");
  js(r->job_id);
  printf(",\"status\":\"%s\",\"code\":", sgc_status_name(r->status));
  js(r->error_code);
  printf(",\"backend\":\"%s\",\"operation_id\":", r->backend < 3 ? backends[r->backend] : "?");
  js(r->operation_id);
  printf(",\"sender\":");
  js(r->sender);
  printf(",\"attempts\":%u,\"metadata\":{", r->attempts);
  for (size_t i = 0; i < sgc_result_metadata_count(r); i++) {
    const char *k, *v;
    sgc_result_metadata_at(r, i, &k, &v);
    printf(i ? "," : "");
    js(k);
    putchar(':');
    js(v);
  }
  printf("}%s}\n", extra ? extra : "");
  fflush(stdout);
}

static sgc_job *job(const char *id, const char *subject, const char *text) {
  sgc_job *j = sgc_job_new();
  if (j == NULL || (id && sgc_job_set_id(j, id)) || sgc_job_set_sender(j, SENDER) ||
      sgc_job_set_subject(j, subject) || sgc_job_set_text(j, text))
    die("job", SGC_ERR_NOMEM);
  return j;
}

static void to(sgc_job *j, const char *addr) {
  if (sgc_job_add_recipient(j, SGC_TO, addr, NULL))
    die("recipient", SGC_ERR_NOMEM);
}

static void run(const char *name, sgc_job *j) {
  sgc_result *r;
  int rv = sgc_send_and_wait(c, j, 30000, &r);
  if (rv != 0)
    die(name, rv);
  print_result(name, r, NULL);
  sgc_result_free(r);
  sgc_job_free(j);
}

static void collect(sgc_result *r, void *user) {
  sgc_result **got = user;
  for (int i = 0; i < 3; i++)
    if (got[i] == NULL) {
      got[i] = r;
      return;
    }
  sgc_result_free(r);
}

static int by_id(const void *a, const void *b) {
  return strcmp((*(sgc_result *const *)a)->job_id, (*(sgc_result *const *)b)->job_id);
}

int main(void) {
  char err[256];
  int rv = sgc_connect(&c, NULL, err, sizeof err);
  if (rv != 0) {
    fprintf(stderr, "check_c: %s\n", err);
    return 1;
  }
  sgc_job *j = job(L "-plain", L " plain", "hello");
  to(j, "r@example.com");
  sgc_job_add_metadata(j, "order", "42");
  sgc_job_add_metadata(j, "lang", L);
  sgc_job_set_priority(j, SGC_PRIORITY_TRANSACTIONAL);
  run("plain", j);

  j = job(L "-html", L " html", "t");
  sgc_job_add_recipient(j, SGC_TO, "r@example.com", "R");
  sgc_job_add_recipient(j, SGC_CC, "c@example.com", NULL);
  sgc_job_add_recipient(j, SGC_REPLY_TO, "help@contoso.com", NULL);
  sgc_job_set_html(j, "<p>hi</p>");
  sgc_job_add_header(j, "X-Client", L);
  sgc_job_set_priority(j, SGC_PRIORITY_BULK);
  run("html", j);

  j = job(L "-attach", L " attach", "see the files");
  to(j, "r@example.com");
  sgc_job_set_html(j, "<img src=\"cid:logo\">");
  sgc_job_add_attachment(j, "report.csv", "text/csv", "a,b\n1,2\n", 8, NULL, 0);
  sgc_job_add_attachment(j, "logo.png", "image/png", "\x89PNG", 4, "logo", 1);
  run("attach", j);

  static const char mime[] = "From: sender-1@contoso.com\r\nTo: m@example.com\r\nSubject: " L
                             " mime\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
                             "mime body\r\n";
  j = sgc_job_new();
  sgc_job_set_id(j, L "-mime");
  sgc_job_set_sender(j, SENDER);
  sgc_job_set_mime(j, mime, sizeof mime - 1);
  run("mime", j);

  j = job(L "-acs", L " acs", "via acs");
  sgc_job_set_sender(j, "noreply@contoso.com");
  sgc_job_set_backend(j, SGC_BACKEND_ACS);
  to(j, "r@example.com");
  run("acs", j);

  j = job(L "-named", L " named", "via the named account");
  sgc_job_set_sender(j, "noreply@contoso.com");
  sgc_job_set_account(j, "transactional");
  to(j, "r@example.com");
  run("named", j);

  j = job(L "-failed", L " bounce", "b");
  sgc_job_set_sender(j, "noreply@contoso.com");
  sgc_job_set_backend(j, SGC_BACKEND_ACS);
  to(j, "x@bounce.example");
  run("failed", j);

  j = job(L "-invalid", "s", "b");
  to(j, "not an address");
  run("invalid", j);

  j = job(L "-account", "s", "b");
  to(j, "r@example.com");
  sgc_job_set_account(j, "nosuch");
  run("account", j);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  j = job(L "-expired", "s", "b");
  to(j, "r@example.com");
  sgc_job_set_deadline_unix_ms(j, (int64_t)ts.tv_sec * 1000 - 60000);
  run("expired", j);

  /* Generated ids: unique, and the result carries them. */
  sgc_job *a = job(NULL, L " gen", "1"), *b = job(NULL, L " gen", "2");
  to(a, "r@example.com");
  to(b, "r@example.com");
  if ((rv = sgc_send(c, a)) != 0 || (rv = sgc_send(c, b)) != 0)
    die("generated", rv);
  sgc_result *r;
  if ((rv = sgc_wait(c, NULL, sgc_job_id(a), "0", 30000, &r)) != 0)
    die("generated wait", rv);
  char extra[128];
  snprintf(extra, sizeof extra, ",\"distinct\":%s,\"same\":%s",
           strcmp(sgc_job_id(a), sgc_job_id(b)) ? "true" : "false",
           strcmp(r->job_id, sgc_job_id(a)) == 0 ? "true" : "false");
  print_result("generated", r, extra);
  sgc_result_free(r);
  sgc_job_free(a);
  sgc_job_free(b);

  /* A reply stream of the producer's own, read with sgc_read_results. */
  for (int i = 0; i < 3; i++) {
    char id[32], v[4];
    snprintf(id, sizeof id, L "-reply-%d", i);
    snprintf(v, sizeof v, "%d", i);
    j = job(id, L " reply", v);
    to(j, "r@example.com");
    sgc_job_set_reply_stream(j, "sendgate:results:" L);
    sgc_job_add_metadata(j, "i", v);
    if ((rv = sgc_send(c, j)) != 0)
      die("reply send", rv);
    sgc_job_free(j);
  }
  sgc_result *got[3] = {NULL, NULL, NULL};
  char cursor[SGC_CURSOR_MAX] = "0";
  for (int round = 0; round < 30 && got[2] == NULL; round++) /* 30 rounds of at most 1 s */
    if ((rv = sgc_read_results(c, "sendgate:results:" L, cursor, 1000, collect, got)) < 0)
      die("read results", rv);
  if (got[2] == NULL)
    die("reply: fewer than 3 results", SGC_ERR_TIMEOUT);
  qsort(got, 3, sizeof got[0], by_id);
  int all_sent = 1;
  for (int i = 0; i < 3; i++)
    all_sent &= got[i]->status == SGC_STATUS_SENT;
  printf("{\"case\":\"reply\",\"ids\":[\"%s\",\"%s\",\"%s\"],\"statuses\":[\"%s\"],"
         "\"metadata\":[\"%s\",\"%s\",\"%s\"],\"cursor\":%s}\n",
         got[0]->job_id, got[1]->job_id, got[2]->job_id, all_sent ? "SENT" : "mixed",
         sgc_result_metadata(got[0], "i"), sgc_result_metadata(got[1], "i"),
         sgc_result_metadata(got[2], "i"), strcmp(cursor, "0") ? "true" : "false");
  for (int i = 0; i < 3; i++)
    sgc_result_free(got[i]);

  /* The plain job's id again, waited for on the shared reply stream. */
  j = job(L "-plain", L " plain", "hello again");
  to(j, "r@example.com");
  sgc_job_set_reply_stream(j, "sendgate:results:" L);
  if ((rv = sgc_send_and_wait(c, j, 30000, &r)) != 0)
    die("duplicate", rv);
  print_result("duplicate", r,
               strcmp(r->error_code, "SENDGATE_DUPLICATE") == 0 ? ",\"dup\":true"
                                                                : ",\"dup\":false");
  sgc_result_free(r);
  sgc_job_free(j);

  rv = sgc_wait(c, NULL, "never-queued", "$", 300, &r);
  printf("{\"case\":\"timeout\",\"error\":\"%s\"}\n", rv == SGC_ERR_TIMEOUT ? "Timeout" : "none");

  char long_id[SGC_ID_MAX + 2];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  j = job(NULL, "s", "b");
  rv = sgc_job_set_id(j, long_id);
  printf("{\"case\":\"local\",\"error\":\"%s\"}\n", rv == SGC_ERR_ARG ? "JobError" : "none");
  to(j, "r@example.com");
  sgc_job_set_reply_stream(j, "elsewhere");
  rv = sgc_send(c, j);
  printf("{\"case\":\"reply_prefix\",\"error\":\"%s\"}\n", rv == SGC_ERR_ARG ? "JobError" : "none");
  sgc_job_free(j);
  sgc_close(c);
  return 0;
}
