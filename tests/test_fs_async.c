/* SPDX-License-Identifier: MIT */
/* The engines of the asynchronous file-system calls (inline, io_uring, worker pool): no
 * path call escapes a confined dir under any of them, a read the page cache holds only in
 * part is never reported short, cancelled calls complete once with -ECANCELED, the
 * ring's descriptor is close-on-exec, and the worker pool keeps signals away from its
 * workers and starts afresh in a forked child. meson runs this suite under each forced
 * engine (FDKIT_FS_ENGINE=auto, inline, uring, pool), under the resolve fallback and under
 * the old-kernel filter. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

#include <fdkit/uv.h>

#include "testutil.h"

/* A scratch tree on the build directory's file system (a disk one, where RWF_NOWAIT and
 * the page cache behave as in production; /tmp may be tmpfs):
 *   top/outside, top/outside_dir/, top/base/{file, inner/, up -> ..} */
static fdk_dir *make_tree(char *top) {
  snprintf(top, PATH_MAX, "fs_async.XXXXXX");
  assert_non_null(mkdtemp(top));
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/outside", top);
  int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "keep", 4), 4);
  close(fd);
  snprintf(p, sizeof p, "%s/outside_dir", top);
  assert_int_equal(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/base", top);
  assert_int_equal(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/base/inner", top);
  assert_int_equal(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/base/file", top);
  fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
  snprintf(p, sizeof p, "%s/base/up", top);
  assert_int_equal(symlink("..", p), 0);
  snprintf(p, sizeof p, "%s/base", top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), p), 0);
  return dir;
}

/* The tree, a loop and a stat to fill. */
static fdk_dir *make_scene(char *top, fdk_loop **loop, fdk_stat **st) {
  assert_int_equal(fdk_loop_new(loop), 0);
  assert_int_equal(fdk_stat_new(st), 0);
  return make_tree(top);
}

static void remove_tree(const char *top) {
  char cmd[PATH_MAX + 32];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
  assert_int_equal(system(cmd), 0);
}

static int exists(const char *top, const char *name) {
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/%s", top, name);
  struct stat st;
  return lstat(p, &st) == 0;
}

/* Runs one started call to its callback; the callback never runs inside the start. */
static void finish(fdk_loop *loop, int started, fdkt_fs_result *o) {
  assert_int_equal(started, 0);
  assert_int_equal(o->calls, 0);
  fdkt_run_until(loop, &o->calls, 5000);
  assert_int_equal(o->calls, 1);
}

static void expect_escape(fdk_loop *loop, fdkt_fs_result *o, int started, const char *what) {
  finish(loop, started, o);
  if (o->result != -EXDEV) fail_msg("%s: %lld (%s), wanted -EXDEV", what, (long long)o->result, fdk_last_error());
  if (o->fd) fdk_fd_unref(o->fd);
  if (o->dir) fdk_dir_unref(o->dir);
  fdk_free(o->text);
  fdk_dirents_free(o->list);
  memset(o, 0, sizeof *o);
}

static void expect_result(fdk_loop *loop, fdkt_fs_result *o, int started, int64_t want, const char *what) {
  finish(loop, started, o);
  if (o->result != want) fail_msg("%s: %lld (%s), wanted %lld", what, (long long)o->result, fdk_last_error(), (long long)want);
  memset(o, 0, sizeof *o);
}

/* An open of one name that is a symlink follows it beneath the dir as it would a longer
 * path (an engine that opens one name with O_NOFOLLOW resolves again a link it finds
 * there), and the caller's own FDK_O_NOFOLLOW refuses the link. The dentries are cached:
 * the inline engine serves these opens. */
static void single_name_links(fdk_loop *loop, fdk_dir *dir, const char *top) {
  static const char *const links[][2] = {{"to_outside", "../outside"}, {"to_inner", "inner"}, {"to_file", "file"}};
  char p[PATH_MAX + 32];
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(p, sizeof p, "%s/base/%s", top, links[i][0]);
    assert_int_equal(symlink(links[i][1], p), 0);
  }
  fdkt_fs_result o = {0};
  expect_escape(loop, &o, fdk_openat_async(loop, dir, "to_outside", FDK_O_RDONLY, 0, fdkt_fs_on_open, &o, NULL),
                "openat of a link out");
  expect_escape(loop, &o, fdk_openat_async(loop, dir, "up", FDK_O_RDONLY | FDK_O_DIRECTORY, 0, fdkt_fs_on_open, &o, NULL),
                "openat of a link to ..");
  expect_result(loop, &o, fdk_openat_async(loop, dir, "to_file", FDK_O_RDONLY | FDK_O_NOFOLLOW, 0, fdkt_fs_on_open, &o, NULL),
                -ELOOP, "openat of a link with FDK_O_NOFOLLOW");
  static const int kinds[] = {FDK_KIND_DIR, FDK_KIND_REGULAR};
  for (int i = 0; i < 2; i++) {
    const char *name = links[1 + i][0];
    finish(loop, fdk_openat_async(loop, dir, name, FDK_O_RDONLY | (i == 0 ? FDK_O_DIRECTORY : 0), 0, fdkt_fs_on_open, &o,
                                  NULL),
           &o);
    if (o.result != 0) fail_msg("openat of %s: %lld (%s)", name, (long long)o.result, fdk_last_error());
    fdk_stat *st;
    assert_int_equal(fdk_stat_new(&st), 0);
    assert_int_equal(fdk_fstat(st, o.fd), 0);
    assert_int_equal(fdk_stat_kind(st), kinds[i]);
    fdk_stat_free(st);
    fdk_fd_unref(o.fd);
    memset(&o, 0, sizeof o);
  }
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(p, sizeof p, "%s/base/%s", top, links[i][0]);
    assert_int_equal(unlink(p), 0);
  }
}

/* symlink, link and rename of names in subdirectories of the dir (each made on a parent
 * and a last component), and their failures as the synchronous calls report them. */
static void within_dir(fdk_loop *loop, fdk_dir *dir, const char *top) {
  fdkt_fs_result o = {0};
  expect_result(loop, &o, fdk_symlinkat_async(loop, "../file", dir, "inner/s", fdkt_fs_on_result, &o, NULL), 0, "symlinkat");
  assert_true(exists(top, "base/inner/s"));
  expect_result(loop, &o, fdk_linkat_async(loop, dir, "inner/s", dir, "inner/l", fdkt_fs_on_result, &o, NULL), 0, "linkat");
  expect_result(loop, &o, fdk_renameat_async(loop, dir, "inner/l", dir, "inner/m", fdkt_fs_on_result, &o, NULL), 0,
                "renameat");
  assert_false(exists(top, "base/inner/l"));
  char p[PATH_MAX + 32], target[16] = {0};
  snprintf(p, sizeof p, "%s/base/inner/m", top);
  assert_int_equal(readlink(p, target, sizeof target - 1), 7); /* the link was not followed */
  assert_string_equal(target, "../file");
  expect_result(loop, &o, fdk_renameat2_async(loop, dir, "inner/s", dir, "inner/m", FDK_RENAME_NOREPLACE,
                                              fdkt_fs_on_result, &o, NULL), -EEXIST, "renameat2 NOREPLACE");
  finish(loop, fdk_renameat_async(loop, dir, "inner/none", dir, "inner/x", fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, -ENOENT);
  assert_non_null(strstr(fdk_last_error(), "'inner/none' -> 'inner/x'"));
  memset(&o, 0, sizeof o);
  expect_result(loop, &o, fdk_symlinkat_async(loop, "x", dir, "none/s", fdkt_fs_on_result, &o, NULL), -ENOENT,
                "symlinkat in a missing dir");
  expect_result(loop, &o, fdk_unlinkat_async(loop, dir, "inner/s", fdkt_fs_on_result, &o, NULL), 0, "unlinkat");
  expect_result(loop, &o, fdk_unlinkat_async(loop, dir, "inner/m", fdkt_fs_on_result, &o, NULL), 0, "unlinkat");
}

static void escape_every_op(int backend) {
  assert_int_equal(fdk_resolve_set_backend(backend), 0);
  char top[PATH_MAX];
  fdk_loop *loop;
  fdk_stat *st;
  fdk_dir *dir = make_scene(top, &loop, &st);
  fdkt_fs_result o = {0};
  /* A file without a name, for fdk_linkat_fd_async. */
  fdk_fd *tmp;
  assert_int_equal(fdk_openat(&tmp, dir, "inner", FDK_O_TMPFILE | FDK_O_WRONLY, 0600), 0);
  /* One path through "..", one deeper one, one through a symlink. */
  static const char *const escapes[][2] = {
      {"../outside", "../made"}, {"inner/../../outside", "inner/../../made"}, {"up/outside", "up/made"}};
  for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
    const char *old = escapes[i][0], *made = escapes[i][1];
    expect_escape(loop, &o, fdk_openat_async(loop, dir, old, FDK_O_RDONLY, 0, fdkt_fs_on_open, &o, NULL), "openat");
    expect_escape(loop, &o, fdk_openat_async(loop, dir, made, FDK_O_WRONLY | FDK_O_CREAT, 0644, fdkt_fs_on_open, &o, NULL),
                  "openat O_CREAT");
    expect_escape(loop, &o, fdk_statat_async(loop, st, dir, old, 0, fdkt_fs_on_result, &o, NULL), "statat");
    expect_escape(loop, &o, fdk_statat_async(loop, st, dir, old, 1, fdkt_fs_on_result, &o, NULL), "statat follow");
    expect_escape(loop, &o, fdk_mkdirat_async(loop, dir, made, 0755, fdkt_fs_on_result, &o, NULL), "mkdirat");
    expect_escape(loop, &o, fdk_unlinkat_async(loop, dir, old, fdkt_fs_on_result, &o, NULL), "unlinkat");
    expect_escape(loop, &o, fdk_rmdirat_async(loop, dir, "../outside_dir", fdkt_fs_on_result, &o, NULL), "rmdirat");
    expect_escape(loop, &o, fdk_renameat_async(loop, dir, old, dir, "file2", fdkt_fs_on_result, &o, NULL), "renameat from");
    expect_escape(loop, &o, fdk_renameat_async(loop, dir, "file", dir, made, fdkt_fs_on_result, &o, NULL), "renameat to");
    expect_escape(loop, &o, fdk_symlinkat_async(loop, "x", dir, made, fdkt_fs_on_result, &o, NULL), "symlinkat");
    expect_escape(loop, &o, fdk_linkat_async(loop, dir, old, dir, "file2", fdkt_fs_on_result, &o, NULL), "linkat from");
    expect_escape(loop, &o, fdk_linkat_async(loop, dir, "file", dir, made, fdkt_fs_on_result, &o, NULL), "linkat to");
    expect_escape(loop, &o, fdk_linkat2_async(loop, dir, old, dir, "file2", 0, fdkt_fs_on_result, &o, NULL),
                  "linkat2 from");
    expect_escape(loop, &o, fdk_linkat2_async(loop, dir, "file", dir, made, 0, fdkt_fs_on_result, &o, NULL),
                  "linkat2 to");
    expect_escape(loop, &o, fdk_readlinkat_async(loop, dir, old, fdkt_fs_on_text, &o, NULL), "readlinkat");
    expect_escape(loop, &o, fdk_chmodat_async(loop, dir, old, 0600, 0, fdkt_fs_on_result, &o, NULL), "chmodat");
    expect_escape(loop, &o, fdk_chownat_async(loop, dir, old, -1, -1, 0, fdkt_fs_on_result, &o, NULL), "chownat");
    expect_escape(loop, &o, fdk_utimensat_async(loop, dir, old, 1, 0, 1, 0, 0, fdkt_fs_on_result, &o, NULL), "utimensat");
    expect_escape(loop, &o, fdk_readdir_async(loop, dir, "../outside_dir", fdkt_fs_on_list, &o, NULL), "readdir");
    expect_escape(loop, &o, fdk_dir_open_async(loop, dir, "../outside_dir", fdkt_fs_on_dir, &o, NULL), "dir_open");
    expect_escape(loop, &o, fdk_dir_open2_async(loop, dir, "../outside_dir", FDK_DIR_NOFOLLOW, fdkt_fs_on_dir, &o, NULL),
                  "dir_open2");
    expect_escape(loop, &o, fdk_renameat2_async(loop, dir, old, dir, "file2", FDK_RENAME_NOREPLACE, fdkt_fs_on_result, &o, NULL),
                  "renameat2 from");
    expect_escape(loop, &o, fdk_renameat2_async(loop, dir, "file", dir, old, FDK_RENAME_EXCHANGE, fdkt_fs_on_result, &o, NULL),
                  "renameat2 exchange");
    expect_escape(loop, &o, fdk_linkat2_async(loop, dir, old, dir, "file2", FDK_FOLLOW, fdkt_fs_on_result, &o, NULL),
                  "linkat2 follow from");
    expect_escape(loop, &o, fdk_linkat2_async(loop, dir, "file", dir, made, FDK_FOLLOW, fdkt_fs_on_result, &o, NULL),
                  "linkat2 follow to");
    expect_escape(loop, &o, fdk_linkat_fd_async(loop, tmp, dir, made, fdkt_fs_on_result, &o, NULL), "linkat_fd");
    expect_escape(loop, &o, fdk_mknodat_async(loop, dir, made, FDK_KIND_FIFO, 0644, 0, fdkt_fs_on_result, &o, NULL),
                  "mknodat");
    expect_escape(loop, &o, fdk_mkfifoat_async(loop, dir, made, 0644, fdkt_fs_on_result, &o, NULL), "mkfifoat");
    expect_escape(loop, &o, fdk_truncateat_async(loop, dir, old, 0, fdkt_fs_on_result, &o, NULL), "truncateat");
    expect_escape(loop, &o, fdk_faccessat_async(loop, dir, old, FDK_ACCESS_EXISTS, 0, fdkt_fs_on_result, &o, NULL),
                  "faccessat");
    expect_escape(loop, &o, fdk_faccessat_async(loop, dir, old, FDK_ACCESS_READ, FDK_FOLLOW, fdkt_fs_on_result, &o, NULL),
                  "faccessat follow");
    expect_escape(loop, &o, fdk_chmodat_async(loop, dir, old, 0600, FDK_FOLLOW, fdkt_fs_on_result, &o, NULL),
                  "chmodat follow");
    expect_escape(loop, &o, fdk_realpath_async(loop, dir, old, fdkt_fs_on_text, &o, NULL), "realpath");
    expect_escape(loop, &o, fdk_getxattrat_async(loop, dir, old, "user.fdkit", 0, fdkt_fs_on_text, &o, NULL),
                  "getxattrat");
    expect_escape(loop, &o, fdk_setxattrat_async(loop, dir, old, "user.fdkit", "v", 1, 0, fdkt_fs_on_result, &o, NULL),
                  "setxattrat");
    expect_escape(loop, &o, fdk_listxattrat_async(loop, dir, old, FDK_FOLLOW, fdkt_fs_on_text, &o, NULL), "listxattrat");
    expect_escape(loop, &o, fdk_removexattrat_async(loop, dir, old, "user.fdkit", 0, fdkt_fs_on_result, &o, NULL),
                  "removexattrat");
  }
  single_name_links(loop, dir, top);
  /* Nothing outside was touched, nothing was made. */
  assert_true(exists(top, "outside"));
  assert_true(exists(top, "outside_dir"));
  assert_false(exists(top, "made"));
  assert_false(exists(top, "base/file2"));
  struct stat sb;
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/outside", top);
  assert_int_equal(stat(p, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_int_equal(sb.st_mode & 07777, 0644);
  assert_int_equal(sb.st_mtime > 1, 1);
  assert_int_equal(sb.st_size, 4);
  assert_int_equal(sb.st_nlink, 1);
  char value[8];
  assert_true(getxattr(p, "user.fdkit", value, sizeof value) < 0);
  fdk_fd_unref(tmp);

  /* The same calls inside the dir still work, through a parent and a last component. */
  expect_escape(loop, &o, fdk_mkdirat_async(loop, dir, "up/made", 0755, fdkt_fs_on_result, &o, NULL), "mkdirat");
  finish(loop, fdk_mkdirat_async(loop, dir, "inner/made", 0755, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_statat_async(loop, st, dir, "inner/made", 1, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  assert_int_equal(fdk_stat_kind(st), FDK_KIND_DIR);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_rmdirat_async(loop, dir, "inner/made", fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_statat_async(loop, st, dir, "inner/made", 0, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, -ENOENT);
  /* A symlink that stays inside, followed: io_uring's statx of the last name finds the
   * link and hands the call to the worker pool, which resolves it confined. */
  char link_path[2 * PATH_MAX];
  snprintf(link_path, sizeof link_path, "%s/base/inner/to_file", top);
  assert_int_equal(symlink("../file", link_path), 0);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_statat_async(loop, st, dir, "inner/to_file", 1, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  assert_int_equal(fdk_stat_kind(st), FDK_KIND_REGULAR);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_statat_async(loop, st, dir, "inner/to_file", 0, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  assert_int_equal(fdk_stat_kind(st), FDK_KIND_SYMLINK);
  within_dir(loop, dir, top);

  fdk_stat_free(st);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
  assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_AUTO), 0);
}

/* Where the kernel has no openat2 (the old-kernel run), what AUTO picks. */
static void test_escape_openat2(void **state) {
  (void)state;
  escape_every_op(fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) == 0 ? FDK_RESOLVE_OPENAT2 : FDK_RESOLVE_AUTO);
}

static void test_escape_fallback(void **state) {
  (void)state;
  escape_every_op(FDK_RESOLVE_FALLBACK);
}

/* top/base/name filled with size bytes of a pattern (also in want), written out and
 * evicted from the page cache: its descriptor, read-write. */
static int evicted_file(const char *top, const char *name, unsigned char *want, int size) {
  for (int i = 0; i < size; i++) want[i] = (unsigned char)(i * 7 + i / 4096);
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/base/%s", top, name);
  int raw = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  assert_true(raw >= 0);
  assert_int_equal(write(raw, want, (size_t)size), size);
  assert_int_equal(fsync(raw), 0);
  assert_int_equal(posix_fadvise(raw, 0, 0, POSIX_FADV_DONTNEED), 0);
  return raw;
}

static void free_file_scene(fdk_loop *loop, fdk_fd *fd, fdk_dir *dir, const char *top, unsigned char *want,
                            unsigned char *got) {
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_fd_unref(fd);
  fdk_dir_unref(dir);
  free(want);
  free(got);
  remove_tree(top);
}

/* A file whose first half is cached and whose second half is not: RWF_NOWAIT reads the
 * first half only; the rest must follow, never a short count before the end. */
static void test_partly_cached_read_is_whole(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  enum { kSize = 1 << 20 };
  unsigned char *want = malloc(kSize), *got = malloc(kSize);
  int raw = evicted_file(top, "big", want, kSize);
  assert_int_equal(pread(raw, got, kSize / 2, 0), kSize / 2);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, FDK_FD_BLOCKING), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  memset(got, 0, kSize);
  struct iovec iov[3] = {{got, 1000}, {got + 1000, kSize / 2}, {got + 1000 + kSize / 2, kSize / 2 - 1000}};
  fdkt_fs_result o = {0};
  finish(loop, fdk_preadv_async(loop, fd, iov, 3, 0, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, kSize);
  assert_memory_equal(got, want, kSize);
  /* At the end of the file: the bytes there, then 0. */
  memset(&o, 0, sizeof o);
  finish(loop, fdk_preadv_async(loop, fd, iov, 1, kSize - 10, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 10);
  /* At the file position: it is used and advanced. */
  assert_int_equal(lseek(raw, kSize - 50, SEEK_SET), kSize - 50);
  memset(&o, 0, sizeof o);
  finish(loop, fdk_read_async(loop, fd, got, 100, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 50);
  assert_memory_equal(got, want + kSize - 50, 50);
  assert_int_equal(lseek(raw, 0, SEEK_CUR), kSize);
  memset(&o, 0, sizeof o);
  struct iovec one = {got, 4096};
  finish(loop, fdk_pwritev_async(loop, fd, &one, 1, kSize, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 4096);
  free_file_scene(loop, fd, dir, top, want, got);
}

/* Cancelled right after they start, reads complete once each with -ECANCELED, even when
 * the handle is closed at once: the descriptor and buffers stay in use until then. */
enum { kChunk = 16 << 10, kChunks = 64 };

static struct {
  int calls, bad;
} chunk_reads;

static void on_chunk(int64_t r, void *data) {
  (void)data;
  if (r != kChunk) chunk_reads.bad++;
  chunk_reads.calls++;
}

/* 64 reads in flight of a file evicted from the page cache (the engines learn that it is
 * cold and send its reads to workers), then of the same file cached (they learn that it is
 * cached again), then one read larger than the loop thread copies itself: every byte right. */
static void test_cold_then_warm_reads_in_flight(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  enum { kSize = kChunk * kChunks };
  unsigned char *want = malloc(kSize), *got = malloc(kSize);
  int raw = evicted_file(top, "cold", want, kSize);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, FDK_FD_BLOCKING), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  struct iovec iov[kChunks];
  for (int pass = 0; pass < 3; pass++) {
    memset(got, 0, kSize);
    memset(&chunk_reads, 0, sizeof chunk_reads);
    for (int i = 0; i < kChunks; i++) {
      iov[i] = (struct iovec){got + i * kChunk, kChunk};
      assert_int_equal(fdk_preadv_async(loop, fd, &iov[i], 1, (int64_t)i * kChunk, on_chunk, NULL, NULL), 0);
    }
    assert_int_equal(chunk_reads.calls, 0);
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    assert_int_equal(chunk_reads.calls, kChunks);
    assert_int_equal(chunk_reads.bad, 0);
    assert_memory_equal(got, want, kSize);
  }
  memset(got, 0, kSize);
  fdkt_fs_result o = {0};
  struct iovec whole = {got, kSize};
  finish(loop, fdk_preadv_async(loop, fd, &whole, 1, 0, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, kSize);
  assert_memory_equal(got, want, kSize);
  free_file_scene(loop, fd, dir, top, want, got);
}

static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Reads of 64 KiB chained over an evicted file, 64 in flight, counting the process's
 * threads as they complete. */
enum { kColdChunk = 64 << 10, kColdChunks = 256, kColdInFlight = 64 };

static struct {
  fdk_loop *loop;
  fdk_fd *fd;
  unsigned char *got;
  struct iovec iov[kColdInFlight];
  int started, calls, bad, most_threads;
} cold;

static void on_cold_chunk(int64_t r, void *data);

static void start_cold_chunk(int slot) {
  int64_t off = (int64_t)cold.started++ * kColdChunk;
  cold.iov[slot] = (struct iovec){cold.got + off, kColdChunk};
  assert_int_equal(fdk_preadv_async(cold.loop, cold.fd, &cold.iov[slot], 1, off, on_cold_chunk,
                                    (void *)(intptr_t)slot, NULL), 0);
}

static void on_cold_chunk(int64_t r, void *data) {
  if (r != kColdChunk) cold.bad++;
  cold.calls++;
  int n = thread_count();
  if (n > cold.most_threads) cold.most_threads = n;
  if (cold.started < kColdChunks) start_cold_chunk((int)(intptr_t)data);
}

/* 64 reads in flight over an evicted file under auto: each waits for the disk on a worker,
 * but the process gains a few workers, not one thread per read (io_uring's workers for
 * reads sent to them with a descriptor of its own are its unbounded kind, a new thread
 * for each read waiting, each forked by the loop thread). */
static void test_cold_reads_add_few_threads(void **state) {
  (void)state;
  /* A forced engine keeps io_uring's way (the ring forced) or has no workers of its own. */
  const char *engine = getenv("FDKIT_FS_ENGINE");
  if (engine && *engine && strcmp(engine, "auto") != 0) return;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  enum { kSize = kColdChunk * kColdChunks };
  unsigned char *want = malloc(kSize);
  cold.got = malloc(kSize);
  int raw = evicted_file(top, "cold", want, kSize);
  static unsigned char resident[kSize / 4096];
  void *map = mmap(NULL, kSize, PROT_READ, MAP_SHARED, raw, 0);
  assert_true(map != MAP_FAILED);
  assert_int_equal(mincore(map, kSize, resident), 0);
  munmap(map, kSize);
  int cached = 0;
  for (size_t i = 0; i < sizeof resident; i++) cached += resident[i] & 1;
  assert_int_equal(fdk_fd_adopt(&cold.fd, raw, FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_loop_new(&cold.loop), 0);
  int before = thread_count();
  cold.most_threads = before;
  /* Twice: the second time the handle starts with its data found cached at the end of the
   * first. A file system that keeps the file cached (tmpfs) has no cold reads to make. */
  for (int pass = 0; pass < 2 && cached == 0; pass++) {
    assert_int_equal(posix_fadvise(raw, 0, 0, POSIX_FADV_DONTNEED), 0);
    memset(cold.got, 0, kSize);
    cold.started = cold.calls = 0;
    for (int i = 0; i < kColdInFlight; i++) start_cold_chunk(i);
    assert_int_equal(fdk_loop_run(cold.loop, FDK_RUN_DEFAULT), 0);
    assert_int_equal(cold.calls, kColdChunks);
    assert_int_equal(cold.bad, 0);
    assert_memory_equal(cold.got, want, kSize);
  }
  if (cold.most_threads - before > 8)
    fail_msg("%d threads more for %d reads in flight", cold.most_threads - before, kColdInFlight);
  free_file_scene(cold.loop, cold.fd, dir, top, want, cold.got);
}

/* io_uring's workers of this process (threads named iou-wrk-*). */
static int uring_worker_count(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char p[300], comm[32] = "";
    snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f) continue;  // the thread has just exited
    if (fgets(comm, sizeof comm, f)) n += strncmp(comm, "iou-wrk", 7) == 0;
    fclose(f);
  }
  closedir(d);
  return n;
}

/* Runs the loop and counts the calls of rs that did not complete with expected. */
static int count_failed(fdk_loop *loop, const fdkt_fs_result *rs, int n, int64_t expected) {
  int bad = fdk_loop_run(loop, FDK_RUN_DEFAULT) != 0;
  for (int i = 0; i < n; i++) bad += rs[i].calls != 1 || rs[i].result != expected;
  return bad;
}

/* Under auto, the calls io_uring can only hand to its own workers (stat, mkdir, rmdir, a
 * buffered write ext4 cannot start without waiting, fsync) go to fdkit's pool at every depth:
 * 64 of each in flight leave the process none of io_uring's workers. In a forked child,
 * which starts without any (they outlive their calls by seconds, and belong to the thread
 * that submitted); the forced ring keeps io_uring's way. */
static void test_deep_worker_calls_skip_uring_workers(void **state) {
  (void)state;
#if defined(__SANITIZE_THREAD__)
  return; /* ThreadSanitizer refuses to start threads in a child of a threaded process. */
#endif
  const char *engine = getenv("FDKIT_FS_ENGINE");
  if (engine && strcmp(engine, "uring") == 0) return;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    enum { kCalls = 64 };
    static fdkt_fs_result rs[kCalls];
    static fdk_stat *st[kCalls];
    static char block[4096];
    fdk_loop *loop;
    int bad = fdk_loop_new(&loop) != 0;
    fdk_fd *file;
    bad |= fdk_openat(&file, dir, "file", FDK_O_WRONLY, 0) != 0;
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < kCalls; i++) {
      bad |= fdk_stat_new(&st[i]) != 0;
      bad |= fdk_statat_async(loop, st[i], dir, "file", 1, fdkt_fs_on_result, &rs[i], NULL) != 0;
    }
    bad |= count_failed(loop, rs, kCalls, 0);
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < kCalls; i++) {
      struct iovec v = {block, sizeof block};
      bad |= fdk_pwritev_async(loop, file, &v, 1, (int64_t)i * 4096, fdkt_fs_on_result, &rs[i], NULL) != 0;
    }
    bad |= count_failed(loop, rs, kCalls, 4096);
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < kCalls; i++)
      bad |= fdk_fsync_async(loop, file, i % 2 ? FDK_FSYNC_DATA : 0, fdkt_fs_on_result, &rs[i], NULL) != 0;
    bad |= count_failed(loop, rs, kCalls, 0);
    for (int remove = 0; remove < 2; remove++) {
      memset(rs, 0, sizeof rs);
      for (int i = 0; i < kCalls; i++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", i);
        bad |= (remove ? fdk_rmdirat_async(loop, dir, name, fdkt_fs_on_result, &rs[i], NULL)
                       : fdk_mkdirat_async(loop, dir, name, 0755, fdkt_fs_on_result, &rs[i], NULL)) != 0;
      }
      bad |= count_failed(loop, rs, kCalls, 0);
    }
    int workers = uring_worker_count();
    for (int i = 0; i < kCalls; i++) fdk_stat_free(st[i]);
    fdk_fd_unref(file);
    bad |= fdk_loop_free(loop) != 0;
    if (workers > 0) fprintf(stderr, "%d of io_uring's workers\n", workers);
    _exit(bad ? 1 : workers > 0 ? 2 : 0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
}

static void test_cancel_then_close(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_fs_result opened = {0};
  finish(loop, fdk_openat_async(loop, dir, "file", FDK_O_RDWR, 0, fdkt_fs_on_open, &opened, NULL), &opened);
  assert_int_equal(opened.result, 0);
  struct iovec digits = {"0123456789", 10};
  assert_int_equal(fdk_pwritev(opened.fd, &digits, 1, 0), 10);
  enum { kOps = 32 };
  fdkt_fs_result o[kOps];
  fdk_op *ops[kOps];
  char *bufs[kOps];
  for (int i = 0; i < kOps; i++) {
    memset(&o[i], 0, sizeof o[i]);
    bufs[i] = malloc(10);
    struct iovec iov = {bufs[i], 10};
    assert_int_equal(fdk_preadv_async(loop, opened.fd, &iov, 1, 0, fdkt_fs_on_result, &o[i], &ops[i]), 0);
  }
  for (int i = 0; i < kOps; i++) assert_int_equal(fdk_op_cancel(ops[i]), 0);
  assert_int_equal(fdk_fd_close(opened.fd), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  /* An inline read completed as it started: its cancel comes after the completion. */
  for (int i = 0; i < kOps; i++) {
    assert_int_equal(o[i].calls, 1);
    if (o[i].result != -ECANCELED) {
      assert_int_equal(o[i].result, 10);
      assert_memory_equal(bufs[i], "0123456789", 10);
    }
    free(bufs[i]);
  }
  /* A cancelled open closes what it opened (the fd check of the teardown); one that
   * completed inline delivers its handle. */
  fdkt_fs_result c = {0};
  fdk_op *op;
  assert_int_equal(fdk_openat_async(loop, dir, "inner", FDK_O_RDONLY | FDK_O_DIRECTORY, 0, fdkt_fs_on_open, &c, &op), 0);
  assert_int_equal(fdk_op_cancel(op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(c.calls, 1);
  if (c.result == 0) {
    assert_null(fdk_fd_unref(c.fd));
  } else {
    assert_int_equal(c.result, -ECANCELED);
    assert_null(c.fd);
  }
  /* A cancelled rename between two subdirectories (each parent opened first) completes
   * once and closes the parents it opened (the fd check of the teardown). */
  for (int step = 0; step < 3; step++) {
    fdkt_fs_result rn = {0};
    assert_int_equal(fdk_renameat_async(loop, dir, "inner/none", dir, "inner/other", fdkt_fs_on_result, &rn, &op), 0);
    for (int i = 0; i < step; i++) assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    if (rn.calls == 0) assert_int_equal(fdk_op_cancel(op), 0);
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    assert_int_equal(rn.calls, 1);
    if (rn.result != -ECANCELED) assert_int_equal(rn.result, -ENOENT);
  }
  fdk_fd_unref(opened.fd);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
}

/* Three calls through a parent, on the base and with a trailing slash. When drop_dir is
 * set, the caller drops its dir reference at once (each call holds its own until the
 * callback, and the use of the dir's descriptor ends before it) and the loop runs them;
 * otherwise the loop is freed with the calls in flight. Either way each completes once and
 * nothing leaks. */
static void three_calls(int drop_dir) {
  char top[PATH_MAX];
  fdk_loop *loop;
  fdk_stat *st;
  fdk_dir *dir = make_scene(top, &loop, &st);
  fdkt_fs_result o[3] = {{0}};
  assert_int_equal(fdk_mkdirat_async(loop, dir, "inner/new", 0755, fdkt_fs_on_result, &o[0], NULL), 0);
  assert_int_equal(fdk_statat_async(loop, st, dir, "file", 0, fdkt_fs_on_result, &o[1], NULL), 0);
  assert_int_equal(fdk_openat_async(loop, dir, "inner/", FDK_O_RDONLY, 0, fdkt_fs_on_open, &o[2], NULL), 0);
  if (drop_dir) {
    dir = fdk_dir_unref(dir);
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(o[i].result, 0);
    assert_true(exists(top, "base/inner/new"));
  }
  assert_int_equal(fdk_loop_free(loop), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(o[i].calls, 1);
  fdk_fd_unref(o[2].fd);
  fdk_stat_free(st);
  fdk_dir_unref(dir);
  remove_tree(top);
}

/* Whether openat2 takes RESOLVE_CACHED here (Linux 5.12, no filter refusing openat2). */
static int cached_lookup_available(void) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_CACHED};
  long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  if (fd >= 0) close((int)fd);
  return fd >= 0 || errno == EAGAIN;
}

/* A lone open of a cached name, under the automatic engine as under the forced inline
 * one, is made inline (its cancel, right after the start, comes after the completion)
 * and still delivered from the loop, never inside its starting call; the O_NONBLOCK the
 * inline open adds is cleared again. Each of a chain of such opens, started from the
 * callback of the one before, is lone again. */
static void test_lone_open_is_inline(void **state) {
  (void)state;
  const char *engine = getenv("FDKIT_FS_ENGINE");
  const char *resolve = getenv("FDKIT_RESOLVE");
  int inline_expected = (!engine || strcmp(engine, "auto") == 0 || strcmp(engine, "inline") == 0) &&
                        !(resolve && strcmp(resolve, "fallback") == 0) && cached_lookup_available();
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *warm;
  assert_int_equal(fdk_openat(&warm, dir, "inner/../file", FDK_O_RDONLY, 0), 0);
  fdk_fd_unref(warm);
  for (int i = 0; i < 3; i++) {
    fdkt_fs_result o = {0};
    fdk_op *op;
    assert_int_equal(fdk_openat_async(loop, dir, "file", FDK_O_RDONLY, 0, fdkt_fs_on_open, &o, &op), 0);
    assert_int_equal(o.calls, 0);
    assert_int_equal(fdk_op_cancel(op), 0);
    assert_int_equal(o.calls, 0);
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    assert_int_equal(o.calls, 1);
    if (inline_expected) assert_int_equal(o.result, 0);
    if (o.result == 0) {
      assert_int_equal(fcntl(fdk_fd_raw(o.fd), F_GETFL) & O_NONBLOCK, 0);
      assert_null(fdk_fd_unref(o.fd));
    } else {
      assert_int_equal(o.result, -ECANCELED);
    }
  }
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
}

/* A path of PATH_MAX bytes or more fails as the synchronous open does (-ENAMETOOLONG),
 * under every engine, from the loop. */
static void test_open_path_too_long(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  char *path = malloc(PATH_MAX + 1);
  assert_non_null(path);
  for (int i = 0; i < PATH_MAX; i++) path[i] = i % 2 ? '/' : 'a';
  path[PATH_MAX] = '\0';
  fdk_fd *fd = NULL;
  assert_int_equal(fdk_openat(&fd, dir, path, FDK_O_RDONLY, 0), -ENAMETOOLONG);
  fdkt_fs_result o = {0};
  finish(loop, fdk_openat_async(loop, dir, path, FDK_O_RDONLY, 0, fdkt_fs_on_open, &o, NULL), &o);
  assert_int_equal(o.result, -ENAMETOOLONG);
  assert_null(o.fd);
  free(path);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
}

static void test_free_with_calls_in_flight(void **state) {
  (void)state;
  three_calls(0);
}

static void test_dir_dropped_after_start(void **state) {
  (void)state;
  three_calls(1);
}

/* Every io_uring descriptor of the process (and every eventfd, the ring's included) is
 * close-on-exec, so children never inherit one; under FDKIT_FS_ENGINE=uring (where the kernel allows io_uring) the loop has one. */
static void test_ring_is_close_on_exec(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  fdkt_fs_result o = {0};
  finish(loop, fdk_statat_async(loop, st, fdk_dir_cwd(), ".", 1, fdkt_fs_on_result, &o, NULL), &o);
  assert_int_equal(o.result, 0);
  int rings = 0;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    char link[PATH_MAX + 32], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    /* The ring's eventfd, as every eventfd of fdkit and libuv, is close-on-exec too. */
    if (strstr(target, "eventfd")) assert_true(fcntl(atoi(e->d_name), F_GETFD) & FD_CLOEXEC);
    if (!strstr(target, "io_uring")) continue;
    rings++;
    assert_true(fcntl(atoi(e->d_name), F_GETFD) & FD_CLOEXEC);
  }
  closedir(d);
  const char *engine = getenv("FDKIT_FS_ENGINE");
  const char *old_kernel = getenv("FDKIT_TEST_OLD_KERNEL");
  if (engine && strcmp(engine, "uring") == 0 && !old_kernel) assert_true(rings >= 1);
  /* The old-kernel filter refuses io_uring_setup: no ring, whatever the engine. */
  if ((engine && strcmp(engine, "pool") == 0) || old_kernel) assert_int_equal(rings, 0);
  fdk_stat_free(st);
  assert_int_equal(fdk_loop_free(loop), 0);
}


/* Calls started outside the loop's own callbacks are sent when the loop next runs, in one
 * submission: each still completes without an unrelated wake-up, whether started before a
 * run, from a host's libuv prepare handle that runs after the ring's own (libuv runs the
 * latest started first), or between the runs of a host that waits on the backend
 * descriptor. A lost submission or wake-up hangs: the alarm fails the test. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char buf[4];
  struct iovec iov;
  fdkt_fs_result o;
  int started;
} host_read;

static void start_host_read(host_read *h) {
  h->iov = (struct iovec){h->buf, sizeof h->buf};
  assert_int_equal(fdk_preadv_async(h->loop, h->fd, &h->iov, 1, 0, fdkt_fs_on_result, &h->o, NULL), 0);
}

static void read_from_prepare(uv_prepare_t *handle) {
  host_read *h = handle->data;
  if (h->started) return;
  h->started = 1;
  start_host_read(h);
  uv_prepare_stop(handle);
}

/* The tree's file holding "abcd", open for reading and writing. */
static fdk_fd *open_abcd(fdk_dir *dir) {
  fdk_fd *fd;
  assert_int_equal(fdk_openat(&fd, dir, "file", FDK_O_RDWR, 0), 0);
  struct iovec data = {"abcd", 4};
  assert_int_equal(fdk_pwritev(fd, &data, 1, 0), 4);
  return fd;
}

static void close_abcd(fdk_fd *fd, fdk_dir *dir, const char *top) {
  fdk_fd_unref(fd);
  fdk_dir_unref(dir);
  remove_tree(top);
}

static void test_started_outside_the_loop(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  fdk_fd *fd = open_abcd(dir);
  alarm(20);

  /* A host prepare handle started before the ring exists runs after the ring's. */
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  uv_prepare_t prepare;
  host_read late = {loop, fd, {0}, {0}, {0}, 1};
  assert_int_equal(uv_prepare_init(fdk_loop_uv(loop), &prepare), 0);
  prepare.data = &late;
  assert_int_equal(uv_prepare_start(&prepare, read_from_prepare), 0);
  uv_unref((uv_handle_t *)&prepare);
  host_read first = {loop, fd, {0}, {0}, {0}, 1};
  start_host_read(&first);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(first.o.result, 4);
  /* The next run's first pass: the ring's prepare finds nothing to send, then the host's
   * starts the read. */
  late.started = 0;
  uv_ref((uv_handle_t *)&prepare);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(late.o.calls, 1);
  assert_int_equal(late.o.result, 4);
  assert_memory_equal(late.buf, "abcd", 4);
  uv_close((uv_handle_t *)&prepare, NULL);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(fdk_loop_free(loop), 0);

  /* Many started before the run of a host that polls the backend descriptor. */
  enum { kReads = 64 };
  assert_int_equal(fdk_loop_new(&loop), 0);
  struct pollfd backend = {fdk_loop_backend_fd(loop), POLLIN, 0};
  static host_read reads[kReads];
  int done = 0;
  for (int i = 0; i < kReads; i++) {
    reads[i] = (host_read){loop, fd, {0}, {0}, {0}, 1};
    start_host_read(&reads[i]);
  }
  while (done < kReads) {
    assert_true(poll(&backend, 1, fdk_loop_backend_timeout(loop)) >= 0);
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    done = 0;
    for (int i = 0; i < kReads; i++) done += reads[i].o.calls;
  }
  for (int i = 0; i < kReads; i++) {
    assert_int_equal(reads[i].o.calls, 1);
    assert_int_equal(reads[i].o.result, 4);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
  alarm(0);
  close_abcd(fd, dir, top);
}

/* Completions that io_uring's workers post (stats, mkdirs) while the loop's prepare pass
 * submits and reaps cached reads, which it does with the ring's signals off: each still
 * wakes the loop. Chains of both kinds run together; a lost wake-up hangs (the alarm). */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  fdk_stat *st;
  char buf[4];
  struct iovec iov;
  int left, failed, stat_chain;
} mixed_chain;

static void mixed_next(int64_t result, void *data) {
  mixed_chain *c = data;
  if (result < 0) c->failed++;
  if (--c->left <= 0) return;
  if (c->stat_chain) {
    assert_int_equal(fdk_fstat_async(c->loop, c->st, c->fd, mixed_next, c, NULL), 0);
  } else {
    c->iov = (struct iovec){c->buf, sizeof c->buf};
    assert_int_equal(fdk_preadv_async(c->loop, c->fd, &c->iov, 1, 0, mixed_next, c, NULL), 0);
  }
}

static void test_worker_completions_wake_the_loop(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  fdk_fd *fd = open_abcd(dir);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  enum { kChains = 16, kLength = 300 };
  static mixed_chain chains[kChains];
  alarm(60);
  for (int i = 0; i < kChains; i++) {
    chains[i] = (mixed_chain){loop, fd, NULL, {0}, {0}, kLength + 1, 0, i % 2};
    assert_int_equal(fdk_stat_new(&chains[i].st), 0);
    mixed_next(0, &chains[i]);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  alarm(0);
  for (int i = 0; i < kChains; i++) {
    assert_int_equal(chains[i].left, 0);
    assert_int_equal(chains[i].failed, 0);
    fdk_stat_free(chains[i].st);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
  close_abcd(fd, dir, top);
}

/* Lists "." on the worker pool (readdir has no io_uring opcode: every engine sends it there)
 * and checks the listing arrived. */
static void list_on_pool(fdk_loop *loop) {
  fdkt_fs_result o = {0};
  finish(loop, fdk_readdir_async(loop, fdk_dir_cwd(), ".", fdkt_fs_on_list, &o, NULL), &o);
  assert_true(o.result > 0);
  fdk_dirents_free(o.list);
}

static volatile sig_atomic_t usr1_caught;
static volatile pid_t usr1_tid;
static void on_usr1(int sig) {
  (void)sig;
  usr1_tid = gettid();
  usr1_caught = 1;
}

/* The pool's workers block every signal: a process-directed signal that the loop's thread
 * blocks stays pending for it (or a host's sigwait thread) instead of running its handler
 * on a worker, even when the workers were started while the signal was unblocked. */
static void test_pool_workers_take_no_signal(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_usr1;
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  usr1_caught = 0;
  /* Enough calls at once to start every worker. */
  enum { kCalls = 16 };
  fdkt_fs_result o[kCalls] = {{0}};
  for (int i = 0; i < kCalls; i++)
    assert_int_equal(fdk_readdir_async(loop, fdk_dir_cwd(), ".", fdkt_fs_on_list, &o[i], NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < kCalls; i++) {
    assert_true(o[i].result > 0);
    fdk_dirents_free(o[i].list);
  }
  sigset_t usr1, prev;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &prev), 0);
  assert_int_equal(kill(getpid(), SIGUSR1), 0);
  struct timespec tick = {0, 1000000};
  for (int i = 0; i < 100 && !usr1_caught; i++) nanosleep(&tick, NULL);
  assert_int_equal(usr1_caught, 0);
  assert_int_equal(pthread_sigmask(SIG_SETMASK, &prev, NULL), 0);
  assert_int_equal(usr1_caught, 1);
  assert_int_equal(usr1_tid, gettid());
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A child forked while the parent's workers exist has none of them: its own loop's calls
 * start a pool of its own, and the parent's loop answers -ECHILD there. */
static void test_pool_in_forked_child(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  list_on_pool(loop);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    fdkt_fs_result o = {0};
    int bad = fdk_readdir_async(loop, fdk_dir_cwd(), ".", fdkt_fs_on_list, &o, NULL) != -ECHILD;
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer refuses to start threads in a child of a threaded process. */
    _exit(bad);
#endif
    fdk_loop *mine;
    bad |= fdk_loop_new(&mine) != 0;
    enum { kCalls = 8 };
    fdkt_fs_result r[kCalls] = {{0}};
    for (int i = 0; i < kCalls; i++)
      bad |= fdk_readdir_async(mine, fdk_dir_cwd(), ".", fdkt_fs_on_list, &r[i], NULL) != 0;
    bad |= fdk_loop_run(mine, FDK_RUN_DEFAULT) != 0;
    for (int i = 0; i < kCalls; i++) {
      bad |= r[i].calls != 1 || r[i].result <= 0;
      fdk_dirents_free(r[i].list);
    }
    bad |= fdk_loop_free(mine) != 0;
    _exit(bad);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  list_on_pool(loop);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Calls chained from their callbacks (the pool's fast path: the worker looks for the next
 * call, the loop for the result) and calls started in bulk (64 in flight: the loop lets
 * results gather before it is woken) each complete once, in a run that then returns, with
 * nothing left pending. */
typedef struct {
  fdk_loop *loop;
  int left, calls, failed;
} chain_state;

static void chain_next(int result, fdk_dirents *list, void *data) {
  chain_state *c = data;
  fdk_dirents_free(list);
  c->calls++;
  if (result <= 0) c->failed++;
  if (--c->left > 0 && fdk_readdir_async(c->loop, fdk_dir_cwd(), ".", chain_next, c, NULL) != 0) c->failed++;
}

static void test_pool_chained_and_bulk(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  enum { kMostChains = 64 };
  static const int shapes[][2] = {{3, 200}, {kMostChains, 8}};  // chains, calls per chain
  chain_state c[kMostChains];
  for (size_t shape = 0; shape < sizeof shapes / sizeof shapes[0]; shape++) {
    int chains = shapes[shape][0], length = shapes[shape][1];
    for (int i = 0; i < chains; i++) {
      c[i] = (chain_state){loop, length, 0, 0};
      assert_int_equal(fdk_readdir_async(loop, fdk_dir_cwd(), ".", chain_next, &c[i], NULL), 0);
      assert_int_equal(c[i].calls, 0);
    }
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    for (int i = 0; i < chains; i++) {
      assert_int_equal(c[i].calls, length);
      assert_int_equal(c[i].failed, 0);
    }
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* The pool's eager workers (one per CPU and one more, at most 3 of the default 4), or 0,
 * with a message, where opens of FIFOs cannot block them all: only the pool's open blocks
 * on a FIFO (meson runs the suite with the pool forced), and the default 4 workers would
 * take 4 blocked calls. */
static int eager_workers_to_block(void) {
  const char *engine = getenv("FDKIT_FS_ENGINE");
  cpu_set_t cpus;
  if (!engine || strcmp(engine, "pool") != 0 || getenv("UV_THREADPOOL_SIZE") ||
      sched_getaffinity(0, sizeof cpus, &cpus) < 0 || CPU_COUNT(&cpus) > 3) {
    print_message("not under the forced pool with its default size on at most 3 CPUs: nothing to check\n");
    return 0;
  }
  return CPU_COUNT(&cpus) + 1 < 3 ? CPU_COUNT(&cpus) + 1 : 3;
}

/* Without UV_THREADPOOL_SIZE, one worker per CPU and one more take calls while calls keep finishing;
 * the others join in once the running calls have not moved for a while. So a call queued
 * behind as many calls as there are eager workers that block (opens of FIFOs nobody writes to, on
 * the pool) still completes, and they complete once writers come. */
static void test_pool_blocked_calls_leave_room(void **state) {
  (void)state;
  int blocked = eager_workers_to_block();
  if (!blocked) return;
  char top[PATH_MAX];
  snprintf(top, sizeof top, "fs_async.XXXXXX");
  assert_non_null(mkdtemp(top));
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_cwd(), top), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_fs_result opened[3] = {{0}}, listed = {0};
  char name[3][16];
  for (int i = 0; i < blocked; i++) {
    snprintf(name[i], sizeof name[i], "fifo%d", i);
    assert_int_equal(fdk_mkfifoat(dir, name[i], 0600), 0);
    assert_int_equal(fdk_openat_async(loop, dir, name[i], FDK_O_RDONLY, 0, fdkt_fs_on_open, &opened[i], NULL), 0);
  }
  assert_int_equal(fdk_readdir_async(loop, dir, ".", fdkt_fs_on_list, &listed, NULL), 0);
  struct timespec tick = {0, 1000000};
  for (int i = 0; i < 5000 && !listed.calls; i++) {
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    nanosleep(&tick, NULL);
  }
  int opened_early = 0;
  for (int i = 0; i < blocked; i++) opened_early += opened[i].calls;
  /* The writers first, so that a failure leaves no worker blocked for good. */
  int writers[3];
  for (int i = 0; i < blocked; i++) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", top, name[i]);
    writers[i] = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(writers[i] >= 0);
  }
  assert_int_equal(opened_early, 0);
  assert_int_equal(listed.calls, 1);
  assert_int_equal(listed.result, blocked);
  fdk_dirents_free(listed.list);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < blocked; i++) {
    assert_int_equal(opened[i].calls, 1);
    assert_int_equal(opened[i].result, 0);
    fdk_fd_unref(opened[i].fd);
    close(writers[i]);
    assert_int_equal(fdk_unlinkat(dir, name[i]), 0);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  assert_int_equal(rmdir(top), 0);
}

/* A loop blocked with many pool calls in flight lets results gather before a worker wakes
 * it, but no longer than its wait's cap: a call that finishes while every call after it
 * blocks (opens of a FIFO nobody writes to) is delivered within milliseconds, not when
 * the loop's next timer (2 s away) wakes it. */
static void test_pool_result_not_held_by_blocked_calls(void **state) {
  (void)state;
  /* The eager workers block first; the listing runs on the worker that joins once they
   * have stalled. */
  int eager = eager_workers_to_block();
  if (!eager) return;
  enum { kOpens = 11 };
  char top[PATH_MAX];
  snprintf(top, sizeof top, "fs_async.XXXXXX");
  assert_non_null(mkdtemp(top));
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_cwd(), top), 0);
  assert_int_equal(fdk_mkfifoat(dir, "fifo", 0600), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_fs_result opened[kOpens] = {{0}}, listed = {0};
  fdkt_result slept = {0};
  for (int i = 0; i < eager; i++)
    assert_int_equal(fdk_openat_async(loop, dir, "fifo", FDK_O_RDONLY, 0, fdkt_fs_on_open, &opened[i], NULL), 0);
  int64_t started = fdk_now_ns();
  assert_int_equal(fdk_readdir_async(loop, dir, ".", fdkt_fs_on_list, &listed, NULL), 0);
  for (int i = eager; i < kOpens; i++)
    assert_int_equal(fdk_openat_async(loop, dir, "fifo", FDK_O_RDONLY, 0, fdkt_fs_on_open, &opened[i], NULL), 0);
  fdk_op *sleep_op;
  assert_int_equal(fdk_sleep_until(loop, started + 2000000000, fdkt_record, &slept, &sleep_op), 0);
  while (!listed.calls && !slept.calls) assert_true(fdk_loop_run(loop, FDK_RUN_ONCE) >= 0);
  int64_t waited_ms = (fdk_now_ns() - started) / 1000000;
  int opened_early = 0;
  for (int i = 0; i < kOpens; i++) opened_early += opened[i].calls;
  /* The writer first, so that a failure leaves no worker blocked for good. */
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/fifo", top);
  int writer = open(path, O_WRONLY | O_CLOEXEC);
  assert_true(writer >= 0);
  assert_int_equal(opened_early, 0);
  assert_int_equal(listed.calls, 1);
  assert_int_equal(listed.result, 1);
  assert_true(waited_ms < 1000);
  fdk_dirents_free(listed.list);
  assert_int_equal(fdk_op_cancel(sleep_op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(slept.calls, 1);
  for (int i = 0; i < kOpens; i++) {
    assert_int_equal(opened[i].calls, 1);
    assert_int_equal(opened[i].result, 0);
    fdk_fd_unref(opened[i].fd);
  }
  close(writer);
  assert_int_equal(fdk_unlinkat(dir, "fifo"), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_dir_unref(dir);
  assert_int_equal(rmdir(top), 0);
}

/* More completions at once than the ring's completion queue holds (the kernel keeps the
 * rest aside until asked): 3000 reads of a cached file started from one callback all
 * complete, none waits for an unrelated wake-up. Under FDKIT_FS_ENGINE=uring, the engine
 * where they all go through the ring. */
enum { kBurst = 3000 };
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char bytes[kBurst][8];
  struct iovec iov[kBurst];
  int done, failed;
} burst;

static void burst_read_done(int64_t result, void *data) {
  burst *b = data;
  if (result != 4) b->failed++;
  b->done++;
}

static void burst_start(int64_t result, void *data) {
  burst *b = data;
  assert_int_equal(result, 4);
  for (int i = 0; i < kBurst; i++) {
    b->iov[i] = (struct iovec){b->bytes[i], sizeof b->bytes[i]};
    assert_int_equal(fdk_preadv_async(b->loop, b->fd, &b->iov[i], 1, 0, burst_read_done, b, NULL), 0);
  }
}

static void test_completions_beyond_the_queue_all_delivered(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = make_tree(top);
  static burst b;
  memset(&b, 0, sizeof b);
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/outside", top);
  int raw = open(p, O_RDONLY | O_CLOEXEC);
  assert_true(raw >= 0);
  assert_int_equal(fdk_fd_adopt(&b.fd, raw, FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_loop_new(&b.loop), 0);
  char first[8];
  struct iovec one = {first, sizeof first};
  assert_int_equal(fdk_preadv_async(b.loop, b.fd, &one, 1, 0, burst_start, &b, NULL), 0);
  fdkt_result slept = {0};
  fdk_op *guard;
  assert_int_equal(fdk_sleep_until(b.loop, fdk_now_ns() + 5000000000, fdkt_record, &slept, &guard), 0);
  while (b.done < kBurst && !slept.calls) assert_true(fdk_loop_run(b.loop, FDK_RUN_ONCE) >= 0);
  assert_int_equal(slept.calls, 0);
  assert_int_equal(b.done, kBurst);
  assert_int_equal(b.failed, 0);
  assert_int_equal(fdk_op_cancel(guard), 0);
  assert_int_equal(fdk_loop_run(b.loop, FDK_RUN_DEFAULT), 0);
  fdk_fd_unref(b.fd);
  assert_int_equal(fdk_loop_free(b.loop), 0);
  fdk_dir_unref(dir);
  remove_tree(top);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_escape_openat2),
      fdkt_test(test_escape_fallback),
      fdkt_test(test_partly_cached_read_is_whole),
      fdkt_test(test_cold_then_warm_reads_in_flight),
      fdkt_test(test_cold_reads_add_few_threads),
      fdkt_test(test_cancel_then_close),
      fdkt_test(test_lone_open_is_inline),
      fdkt_test(test_open_path_too_long),
      fdkt_test(test_free_with_calls_in_flight),
      fdkt_test(test_dir_dropped_after_start),
      fdkt_test(test_ring_is_close_on_exec),
      fdkt_test(test_started_outside_the_loop),
      fdkt_test(test_worker_completions_wake_the_loop),
      fdkt_test(test_pool_workers_take_no_signal),
      fdkt_test(test_pool_in_forked_child),
      fdkt_test(test_deep_worker_calls_skip_uring_workers),
      fdkt_test(test_pool_chained_and_bulk),
      fdkt_test(test_pool_blocked_calls_leave_room),
      fdkt_test(test_pool_result_not_held_by_blocked_calls),
      fdkt_test(test_completions_beyond_the_queue_all_delivered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
