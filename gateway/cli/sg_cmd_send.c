/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate send`: queue one message from the command line, for scripts and
 * cron jobs that used an SMTP password; optionally wait for its result and
 * exit non-zero unless it was SENT. Uses a blocking Redis connection.
 */
#include "cli/sg_cmds.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "conf/sg_config.h"
#include "cli/sg_send_opts.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_sync.h"

/* "send-" and 24 hex digits: 96 random bits. */
static void random_id(char out[40]) {
  unsigned char r[12];
  if (RAND_bytes(r, sizeof r) != 1)
    for (size_t i = 0; i < sizeof r; i++)
      r[i] = (unsigned char)(sg_mono_ms() >> (i % 8));
  char *p = out + sg_fmt_copy(out, 40, "send-");
  for (size_t i = 0; i < sizeof r; i++)
    p += sg_fmt_hex(p, r[i], 2);
}

/* Waits on |stream| for the result of |id|; prints it. Returns the exit code. */
static int wait_result(sg_rd_sync *c, const char *stream, const char *id, unsigned timeout_s) {
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
  fprintf(stderr, "sendgate send: no result for %s within %u s (it stays queued)\n", id, timeout_s);
  return 4;
}

int sg_cmd_send(int argc, char **argv, char **envp) {
  static sg_send_opts o; /* large; one per process */
  char err[300];
  char idbuf[40];
  int rc = 0;
  if (sg_send_opts_parse(&o, argc, argv, err, sizeof err) != 0) {
    fprintf(stderr, "sendgate send: %s\n", err);
    rc = 2;
    goto out;
  }
  if (o.help) {
    fputs(sg_send_opts_usage, stdout);
    goto out;
  }
  sg_job j = o.job;
  const char *config = o.config, *redis_url = o.redis_url;
  bool wait = o.wait;
  unsigned timeout_s = o.timeout_s;
  if (j.id == NULL) {
    random_id(idbuf);
    j.id = idbuf;
  }
  j.created_unix_ms = sg_wall_ms();

  /* Redis settings: defaults, then the config file, then the environment. */
  sg_config cfg;
  memset(&cfg, 0, sizeof cfg);
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
    snprintf(reply, sizeof reply, "sendgate:results:reply:%s", j.id); /* under the prefix */
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
  sg_rd_sync *c = sg_rd_sync_connect(redis_url ? redis_url : cfg.redis_url, cfg.tls_ca_file, 5000,
                                     err, sizeof err);
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
    sg_rd_sync_free(c);
  }
  sg_buf_free(&pb);
  sg_settings_free(&sg_config_settings, &cfg);
out:
  sg_send_opts_free(&o);
  return rc;
}
