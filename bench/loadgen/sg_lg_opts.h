/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate-loadgen's command line: the options, their defaults and their
 * checks, and the usage text. Pure (no I/O): the caller prints the error.
 */
#ifndef SG_LG_OPTS_H
#define SG_LG_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps that keep a run's memory and each job's size sane. */
#define SG_LG_MAX_JOBS 100000000ull /* ~9 bytes of state per job: 900 MB */
#define SG_LG_MAX_PRODUCERS 64
#define SG_LG_MAX_PIPELINE 10000
#define SG_LG_MAX_RECIPIENTS 500 /* Graph's cap; ACS allows 50 */
#define SG_LG_MAX_ACS_RECIPIENTS 50
#define SG_LG_MAX_ATTACHMENTS 20
/* Body + attachments: Graph's default maximum message size (35 MiB; over 4 MB
 * the gateway sends a draft with upload sessions). */
#define SG_LG_MAX_PAYLOAD (35u * 1024u * 1024u)
#define SG_LG_RUN_ID_MAX 48

typedef struct sg_lg_opts {
  const char *redis_url;             /* default: $SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0 */
  const char *jobs_stream;           /* sendgate:jobs */
  const char *results_stream;        /* sendgate:results */
  const char *reply_stream;          /* NULL: jobs leave reply_stream empty (the default stream) */
  char run_id[SG_LG_RUN_ID_MAX + 1]; /* "" until set: the caller makes a random one */
  const char *domain;                /* example.com */
  const char *account;               /* MailJob.account of every job ("": the default) */
  uint64_t count;                    /* jobs to queue */
  double rate;                       /* jobs per second; 0 = as fast as possible */
  double duration_s;                 /* with rate: count = rate * duration */
  double warmup_s;                   /* with rate: the first rate*warmup jobs are a warm-up
                                        (sent and matched, latency reported apart) */
  uint32_t producers;                /* producer connections */
  uint32_t pipeline;                 /* outstanding XADDs per producer */
  uint32_t senders;                  /* distinct sender mailboxes */
  uint32_t recipients;               /* To recipients per job */
  double acs_pct;                    /* share of jobs for ACS (percent) */
  double invalid_pct;                /* share of jobs invalid on purpose (percent) */
  uint32_t size;                     /* text body bytes */
  uint32_t attachments;              /* attachments per job */
  uint32_t attachment_size;          /* bytes per attachment */
  bool default_backend;              /* non-ACS jobs say UNSPECIFIED instead of GRAPH */
  double timeout_s;                  /* wait for results after the last job is queued */
  double connect_timeout_s;          /* reach Redis at the start */
  double interval_s;                 /* progress interval; < 0 = default (1 s TTY, 5 s lines) */
  bool json;                         /* final report as JSON on stdout */
  bool quiet;                        /* no progress */
  bool allow_missing;                /* exit 0 even with jobs missing a result */
  bool verbose;                      /* Redis client logs on stderr */
  bool help;                         /* --help given: print usage, exit 0 */
} sg_lg_opts;

/* The --help text. */
extern const char sg_lg_usage[];

/*
 * Fills |o| from |argc|/|argv| (argv[0] is the program; all borrowed and must
 * outlive |o|). |env_url| (may be NULL) is $SENDGATE_REDIS_URL. Options take
 * "--name value" or "--name=value". On error writes a one-line reason into
 * |err| (|errcap| bytes).
 *
 * Returns 0 or SG_ERR_INVAL.
 */
int sg_lg_opts_parse(sg_lg_opts *o, int argc, char **argv, const char *env_url, char *err,
                     size_t errcap);

#endif
