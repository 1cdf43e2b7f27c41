/* SPDX-License-Identifier: Apache-2.0 */
/* General allocators that never return NULL: on exhaustion they log the
 * size and the call site and abort. Safe because acknowledged data is in the
 * WAL; user-driven memory use is bounded by arenas and limits instead. */
#ifndef TRN_CORE_ALLOC_H
#define TRN_CORE_ALLOC_H

#include <stddef.h>

#define trn_xmalloc(n) trn__xmalloc((n), __FILE__, __LINE__)
#define trn_xcalloc(k, n) trn__xcalloc((k), (n), __FILE__, __LINE__)
#define trn_xrealloc(p, n) trn__xrealloc((p), (n), __FILE__, __LINE__)
#define trn_xstrdup(s) trn__xstrndup((s), (size_t)-1, __FILE__, __LINE__)
#define trn_xstrndup(s, n) trn__xstrndup((s), (n), __FILE__, __LINE__)

void *trn__xmalloc(size_t n, const char *file, int line);
void *trn__xcalloc(size_t k, size_t n, const char *file, int line);
void *trn__xrealloc(void *p, size_t n, const char *file, int line);
/* Copies at most n bytes of s (stopping at NUL) and terminates the copy. */
char *trn__xstrndup(const char *s, size_t n, const char *file, int line);

#endif
