/* SPDX-License-Identifier: Apache-2.0 */
/* Built with the scalar copies of the SSE2 scanners (tests/CMakeLists.txt):
 * fails the build when their flags leave __SSE2__ defined, so that the
 * *_scalar unit tests cannot pass on the vector paths by mistake. */
#if defined(__SSE2__)
#error "sg_scalar is built with __SSE2__ defined: its tests would not cover the byte loops"
#endif

/* A translation unit must declare something (ISO C). */
int sg_scalar_check(void);
int sg_scalar_check(void) {
  return 1;
}
