/* SPDX-License-Identifier: MIT */
// Asynchronous forms of the file-system calls (arguments already checked).
#pragma once

#include "fs/fs.h"

namespace fdk {

int dir_open_async(fdk_loop *loop, fdk_dir *base, const char *path, fdk_dir_cb cb, void *data, fdk_op **op);
int openat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, mode_t mode, fdk_open_cb cb,
                 void *data, fdk_op **op);
int mkdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data,
                  fdk_op **op);
int unlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data, fdk_op **op);
int rmdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data, fdk_op **op);
int renameat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
int symlinkat_async(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op);
int linkat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                 fdk_result_cb cb, void *data, fdk_op **op);
int readlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data, fdk_op **op);
int chmodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, bool follow, fdk_result_cb cb,
                  void *data, fdk_op **op);
int chownat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t uid, int64_t gid, bool follow,
                  fdk_result_cb cb, void *data, fdk_op **op);
int utimensat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const struct timespec times[2], bool follow,
                    fdk_result_cb cb, void *data, fdk_op **op);
int fstat_async(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op);
int statat_async(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb,
                 void *data, fdk_op **op);
int readdir_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_dirents_cb cb, void *data, fdk_op **op);
int dir_open2_async(fdk_loop *loop, fdk_dir *base, const char *path, unsigned flags, fdk_dir_cb cb, void *data,
                    fdk_op **op);
int linkat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                  bool follow, fdk_result_cb cb, void *data, fdk_op **op);
int linkat_fd_async(fdk_loop *loop, fdk_fd *fd, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op);
int mknodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, dev_t dev, fdk_result_cb cb,
                  void *data, fdk_op **op);
int truncateat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t length, fdk_result_cb cb, void *data,
                     fdk_op **op);
int faccessat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int mode, bool follow, bool effective,
                    fdk_result_cb cb, void *data, fdk_op **op);
int getxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, bool follow, fdk_text_cb cb,
                     void *data, fdk_op **op);
int setxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, const void *value,
                     size_t size, int xflags, bool follow, fdk_result_cb cb, void *data, fdk_op **op);
int listxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, bool follow, fdk_text_cb cb, void *data,
                      fdk_op **op);
int removexattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, bool follow,
                        fdk_result_cb cb, void *data, fdk_op **op);
int realpath_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data, fdk_op **op);

}  // namespace fdk
