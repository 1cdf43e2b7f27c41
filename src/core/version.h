/* SPDX-License-Identifier: Apache-2.0 */
/* Build information, reported by `trine version` and /api/v1/status/buildinfo.
 * The Makefile may override these with -D flags. */
#ifndef TRN_CORE_VERSION_H
#define TRN_CORE_VERSION_H

#define TRN_VERSION "0.1.0"
#ifndef TRN_REVISION
#define TRN_REVISION "unknown"
#endif
#ifndef TRN_BRANCH
#define TRN_BRANCH "main"
#endif
#define TRN_BUILD_DATE __DATE__ " " __TIME__

#endif
