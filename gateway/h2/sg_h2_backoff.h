/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconnect backoff for the HTTP/2 pool: exponential with jitter and a cap
 * (nghttpx ConnectBlocker). Pure: the caller supplies the random number, so
 * tests are deterministic.
 */
#ifndef SG_H2_BACKOFF_H
#define SG_H2_BACKOFF_H

#include <stdint.h>

/*
 * Returns the wait before the next connect after |failures| consecutive
 * failures (failures >= 1; 0 gives 0): with d = min(cap_ms, base_ms *
 * 2^(failures - 1)), a value in [d / 2, d] picked by |rnd| ("equal jitter":
 * never near zero, so a dead peer is not hammered, yet spread so that many
 * pools do not reconnect in lock step).
 */
uint64_t sg_h2_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd);

#endif
