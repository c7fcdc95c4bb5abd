/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox server: a local stand-in for Entra (client-credentials tokens),
 * Microsoft Graph sendMail and ACS Email, over HTTPS with HTTP/2 and
 * HTTP/1.1, enforcing the providers' rules and limits and injecting faults on
 * demand. Control and inspection under /sandbox/ (stats, messages, reset,
 * config); the web inbox of accepted messages under /inbox.
 */
#ifndef SG_SBX_APP_H
#define SG_SBX_APP_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "sandbox/sg_sbx_settings.h"

typedef struct sg_sbx sg_sbx;

/*
 * Starts the sandbox on |loop| with |cfg| (taken over: freed by the sandbox).
 * Makes the state directory, the CA and server certificate (unless given) and
 * the ACS key on first start. Returns 0 or a negative code with a one-line
 * reason in |err|.
 */
int sg_sbx_start(sg_sbx **out, uv_loop_t *loop, sg_sbx_cfg *cfg, char *err, size_t errcap);

/* The port it listens on. */
uint16_t sg_sbx_port(const sg_sbx *s);

/* Writes the SENDGATE_* lines a gateway needs to trust and reach it. */
void sg_sbx_print_env(const sg_sbx *s, FILE *f);

/* Stops listening, drops connections, flushes the record; |done| when all is closed. */
void sg_sbx_stop(sg_sbx *s, void (*done)(void *ud), void *ud);

#endif
