/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may use the relay listener: client networks (smtp.relay_networks,
 * comma-separated CIDRs, IPv4 and IPv6; an IPv4-mapped IPv6 client matches
 * the IPv4 entries) and envelope senders (smtp.relay_senders, comma-separated
 * addresses or "@domain", any case). Pure.
 */
#ifndef SG_SMTP_POLICY_H
#define SG_SMTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_smtp_cidr {
  bool v6;
  uint8_t addr[16]; /* network bytes (4 used for IPv4), host bits cleared */
  unsigned bits;
} sg_smtp_cidr;

typedef struct sg_smtp_nets {
  sg_smtp_cidr *v;
  size_t n;
} sg_smtp_nets;

/*
 * Parses |list| ("10.0.0.0/8, 192.168.1.7, 2001:db8::/32"; a bare address
 * is a /32 or /128; "" gives an empty list that matches nothing) into |out|.
 * Returns 0 or SG_ERR_CONFIG with a one-line reason in |err|.
 */
int sg_smtp_nets_parse(const char *list, sg_smtp_nets *out, char *err, size_t errcap);
void sg_smtp_nets_free(sg_smtp_nets *n);

/* True when the IP literal |ip| (IPv4 or IPv6 text) is in one of the networks. */
bool sg_smtp_nets_match(const sg_smtp_nets *n, const char *ip);

/* True when |addr| is an address of |list| (case-insensitive) or its domain
 * is one of the list's "@domain" entries. An empty |addr| never matches. */
bool sg_smtp_addr_in_list(const char *list, const char *addr);

#endif
