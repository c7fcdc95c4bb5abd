/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP stand-in's listener on libuv: accepts connections in clear
 * (submission port style), runs one sg_sbx_smtp session per connection over
 * net/sg_tlsconn, upgrades it in place on STARTTLS with the sandbox's
 * certificate, and answers the session's needs from the sandbox: tokens of
 * its Entra, the per-mailbox minute window, faults, and the record (the
 * messages file, GET /sandbox/messages, and N.eml/N.env in smtp.save_dir).
 * A connection idle for SG_SBX_SMTP_IDLE_MS is closed.
 */
#ifndef SG_SBX_SMTP_SRV_H
#define SG_SBX_SMTP_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/sg_sbx_smtp.h"

/* RFC 5321 4.5.3.2.7: a server waits at least 5 minutes for a command. */
#define SG_SBX_SMTP_IDLE_MS (5 * 60 * 1000)

typedef struct sg_sbx sg_sbx;
typedef struct sg_sbx_smtp_srv sg_sbx_smtp_srv;

/*
 * Listens on |listen| ("ip:port", port 0 = any) for |role|. Returns 0 or a
 * negative code with a one-line reason in |err|.
 */
int sg_sbx_smtp_srv_start(sg_sbx_smtp_srv **out, sg_sbx *sbx, sg_sbx_smtp_role role,
                          const char *listen, char *err, size_t errcap);

uint16_t sg_sbx_smtp_srv_port(const sg_sbx_smtp_srv *srv);

/* Closes the listener and every connection; |done| when all is closed. */
void sg_sbx_smtp_srv_stop(sg_sbx_smtp_srv *srv, void (*done)(void *ud), void *ud);

#endif
