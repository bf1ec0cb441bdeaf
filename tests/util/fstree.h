/* SPDX-License-Identifier: MIT */
/* File trees for the fs suites: a fixed confinement fixture, random trees for the
 * differential checks, and removal. */
#ifndef FDKIT_FSTREE_H
#define FDKIT_FSTREE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates a fresh directory under /tmp in top (PATH_MAX bytes) and returns 0. */
int fdkt_tempdir(char *top, const char *tag);

/* Removes top and everything beneath it without following symlinks. */
void fdkt_remove_tree(const char *top);

/* Builds the confinement fixture under top: top/outside_file and top/root/ (the base),
 * with nested dirs, symlinks inside, to /, to .., to /etc, chains, loops, dangling links,
 * a fifo, names with spaces and newlines and a 30-deep chain d0/.../d29/leaf. */
void fdkt_build_fixture(const char *top);

/* Inode of top/rel without following a last symlink, or 0 when it does not exist. */
uint64_t fdkt_ino(const char *top, const char *rel);

/* A random tree beneath root (an existing directory), from seed: dirs, files and
 * symlinks (relative, absolute, climbing, looping, dangling). The names used are
 * stored in names (count in *count, up to max). */
void fdkt_random_tree(const char *root, uint64_t seed, char names[][16], int max, int *count);

/* A random path of up to len-1 bytes drawn from names, ".", "..", and extra slashes,
 * driven by the bytes of a generator state. */
void fdkt_random_path(char *out, size_t len, uint64_t *state, char names[][16], int count);

/* xorshift64*: the generator every random fs check uses, so a seed reproduces a case. */
uint64_t fdkt_rand(uint64_t *state);

#include <fdkit.h>

/* Inode of an open handle (fdk_fstat); aborts on failure. */
uint64_t fdkt_fd_ino(fdk_fd *fd);

/* Resolves path beneath dir with both backends for each of a few open flag sets and for
 * stat with and without follow; returns 0 when they agree (same inode or same errno),
 * else -1 with the first difference described in why. *first gets openat2's result
 * for open(O_PATH): 0 or a negative errno. Leaves the backend on openat2. */
int fdkt_compare_backends(fdk_dir *dir, const char *path, int *first, char *why, size_t why_len);

#endif
