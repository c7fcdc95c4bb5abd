/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate dlq`: look at and requeue dead letters (stream sendgate:dead).
 * main.c dispatches `sendgate dlq ...` as sg_cmd_dlq(argc - 1, argv + 1,
 * environ), so argv[0] is "dlq".
 */
#ifndef SG_CMD_DLQ_H
#define SG_CMD_DLQ_H

/*
 * Runs `sendgate dlq list|requeue ...`. Returns the exit code: 0 success;
 * 1 a requested dead letter was missing or had no job field; 2 bad usage or
 * configuration; 3 Redis unreachable or failing. Reasons go to stderr as one
 * line each.
 */
int sg_cmd_dlq(int argc, char **argv, char **envp);

#endif
