/* SPDX-License-Identifier: Apache-2.0 */
/* Small file-system helpers shared by the WAL and block writers. Each
 * returns 0 or -1 with errno set, so callers fold errno into their diag. */
#ifndef TRN_CORE_FSUTIL_H
#define TRN_CORE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* mkdir -p with mode 0755. */
int trn_fs_mkdir_p(const char *dir);
/* fsync of a directory (makes renames and creations in it durable). */
int trn_fs_fsync_dir(const char *dir);
/* write(2) until done, retrying EINTR. */
int trn_fs_write_all(int fd, const void *p, size_t n);
/* rm -r of a directory holding only plain files (block directories). */
int trn_fs_remove_tree(const char *dir);
/* Sum of the sizes of the plain files directly in dir. */
uint64_t trn_fs_dir_bytes(const char *dir);

#endif
