/* SPDX-License-Identifier: MIT */
#include "fstree.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fdkt_tempdir(char *top, const char *tag) {
  snprintf(top, PATH_MAX, "/tmp/fdkit-%s-XXXXXX", tag);
  return mkdtemp(top) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DP) {
    chmod(path, 0700);
    return rmdir(path);
  }
  return unlink(path);
}

void fdkt_remove_tree(const char *top) { nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void at(const char *top, const char *rel, char *out) { snprintf(out, PATH_MAX, "%s/%s", top, rel); }

static void make_dir(const char *top, const char *rel) {
  char p[PATH_MAX];
  at(top, rel, p);
  if (mkdir(p, 0755) < 0) abort();
}

static void make_file(const char *top, const char *rel) {
  char p[PATH_MAX];
  at(top, rel, p);
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, "hello", 5) != 5) abort();
  close(fd);
}

static void make_link(const char *top, const char *rel, const char *target) {
  char p[PATH_MAX];
  at(top, rel, p);
  if (symlink(target, p) < 0) abort();
}

void fdkt_build_fixture(const char *top) {
  make_file(top, "outside_file");
  make_dir(top, "root");
  make_file(top, "root/file");
  make_dir(top, "root/dir");
  make_dir(top, "root/dir/sub");
  make_file(top, "root/dir/sub/deep_file");
  make_file(top, "root/dir/file2");
  make_dir(top, "root/empty");
  make_dir(top, "root/with space");
  make_file(top, "root/with space/inner");
  make_file(top, "root/new\nline");
  make_link(top, "root/link_file", "file");
  make_link(top, "root/link_dir", "dir");
  make_link(top, "root/link_abs_root", "/");
  make_link(top, "root/link_etc", "/etc");
  make_link(top, "root/link_up", "..");
  make_link(top, "root/link_up_in", "dir/..");
  make_link(top, "root/dir/link_up2", "../dir");
  make_link(top, "root/dir/link_out", "../../outside_file");
  make_link(top, "root/chain1", "chain2");
  make_link(top, "root/chain2", "chain3");
  make_link(top, "root/chain3", "file");
  make_link(top, "root/chain_dir1", "link_dir");
  make_link(top, "root/loop_a", "loop_b");
  make_link(top, "root/loop_b", "loop_a");
  make_link(top, "root/self_loop", "self_loop");
  make_link(top, "root/dangling", "missing");
  make_link(top, "root/dangling_out", "../created_outside");
  make_link(top, "root/dangling_abs", "/tmp/fdkit-never-created");
  make_link(top, "root/link_dir_slash", "dir/");
  make_link(top, "root/link_file_slash", "file/");
  make_link(top, "root/link_dot", ".");
  make_link(top, "root/dir/sub/link_root_rel", "../../");
  make_link(top, "root/dir/sub/link_esc_deep", "../../../outside_file");
  make_link(top, "root/link_chain_esc", "link_up");
  make_link(top, "root/link_fifo", "fifo");
  char p[PATH_MAX];
  at(top, "root/fifo", p);
  if (mkfifo(p, 0644) < 0) abort();
  char rel[PATH_MAX] = "root";
  for (int i = 0; i < 30; i++) {
    size_t n = strlen(rel);
    snprintf(rel + n, sizeof rel - n, "/d%d", i);
    make_dir(top, rel);
  }
  strcat(rel, "/leaf");
  make_file(top, rel);
}

uint64_t fdkt_ino(const char *top, const char *rel) {
  char p[PATH_MAX];
  at(top, rel, p);
  struct stat st;
  return lstat(p, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

uint64_t fdkt_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static const char *const kPool[] = {"a", "b", "c", "d", "e", "f", "s1", "s2", "s3", "s4", "x y", "n\nl"};
#define POOL_SIZE (int)(sizeof kPool / sizeof kPool[0])

void fdkt_random_path(char *out, size_t len, uint64_t *state, char names[][16], int count) {
  size_t n = 0;
  out[0] = '\0';
  int parts = 1 + (int)(fdkt_rand(state) % 5);
  if (fdkt_rand(state) % 40 == 0) n += (size_t)snprintf(out, len, "/");
  for (int i = 0; i < parts && n + 20 < len; i++) {
    uint64_t r = fdkt_rand(state) % 16;
    const char *c = r < 2 ? "." : r < 5 ? ".." : r == 5 ? "" : names[fdkt_rand(state) % (uint64_t)count];
    n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "/" : "", c);
  }
  if (fdkt_rand(state) % 6 == 0 && n + 2 < len) strcat(out, "/");
}

static void add_name(char names[][16], int max, int *count, const char *name) {
  for (int i = 0; i < *count; i++)
    if (strcmp(names[i], name) == 0) return;
  if (*count < max) snprintf(names[(*count)++], 16, "%s", name);
}

void fdkt_random_tree(const char *root, uint64_t seed, char names[][16], int max, int *count) {
  uint64_t state = seed * 2654435761ULL + 1;
  /* Symlink targets draw on the whole pool (some dangle); the names returned are those
   * the tree uses, so random paths mostly meet existing entries. */
  char pool[POOL_SIZE][16];
  int pool_count = 0;
  for (int i = 0; i < POOL_SIZE; i++) snprintf(pool[pool_count++], 16, "%s", kPool[i]);
  *count = 0;
  char dirs[32][PATH_MAX / 8];
  int ndirs = 1;
  dirs[0][0] = '\0';
  int entries = 8 + (int)(fdkt_rand(&state) % 24);
  for (int i = 0; i < entries; i++) {
    const char *parent = dirs[fdkt_rand(&state) % (uint64_t)ndirs];
    const char *name = kPool[fdkt_rand(&state) % POOL_SIZE];
    char rel[PATH_MAX / 4], full[PATH_MAX];
    snprintf(rel, sizeof rel, "%s%s%s", parent, *parent ? "/" : "", name);
    snprintf(full, sizeof full, "%s/%s", root, rel);
    struct stat st;
    if (lstat(full, &st) == 0) continue;
    add_name(names, max, count, name);
    uint64_t kind = fdkt_rand(&state) % 10;
    if (kind < 4 && ndirs < 32 && strlen(rel) < sizeof dirs[0]) {
      if (mkdir(full, 0755) == 0) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", rel);
    } else if (kind < 6) {
      int fd = open(full, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) close(fd);
    } else {
      char target[PATH_MAX / 4];
      uint64_t t = fdkt_rand(&state) % 10;
      if (t == 0)
        snprintf(target, sizeof target, "%s", fdkt_rand(&state) % 2 ? "/" : "/tmp");
      else
        fdkt_random_path(target, sizeof target, &state, pool, pool_count);
      if (!*target) snprintf(target, sizeof target, ".");
      if (symlink(target, full) < 0) abort();
    }
  }
}

/* One answer: an inode on success, else the negative errno. */
typedef struct {
  int err;
  uint64_t ino;
} answer;

uint64_t fdkt_fd_ino(fdk_fd *fd) {
  fdk_stat *st;
  if (fdk_stat_new(&st) != 0 || fdk_fstat(st, fd) != 0) abort();
  uint64_t ino = fdk_stat_ino(st);
  fdk_stat_free(st);
  return ino;
}

static answer open_answer(fdk_dir *dir, const char *path, unsigned flags) {
  answer a = {0, 0};
  fdk_fd *fd;
  a.err = fdk_openat(&fd, dir, path, flags, 0);
  if (a.err == 0) {
    a.ino = fdkt_fd_ino(fd);
    fdk_fd_unref(fd);
  }
  return a;
}

static answer stat_answer(fdk_dir *dir, const char *path, int follow) {
  answer a = {0, 0};
  fdk_stat *st;
  if (fdk_stat_new(&st) != 0) abort();
  a.err = fdk_statat(st, dir, path, follow);
  if (a.err == 0) a.ino = fdk_stat_ino(st);
  fdk_stat_free(st);
  return a;
}

static answer ask(fdk_dir *dir, const char *path, int what) {
  static const unsigned kFlags[] = {FDK_O_PATH, FDK_O_PATH | FDK_O_NOFOLLOW, FDK_O_RDONLY | FDK_O_NONBLOCK,
                                    FDK_O_RDONLY | FDK_O_NOFOLLOW | FDK_O_NONBLOCK, FDK_O_DIRECTORY};
  if (what < 5) return open_answer(dir, path, kFlags[what]);
  return stat_answer(dir, path, what == 5);
}

int fdkt_compare_backends(fdk_dir *dir, const char *path, int *first, char *why, size_t why_len) {
  static const char *const kWhat[] = {"open(PATH)", "open(PATH|NOFOLLOW)", "open(RDONLY)", "open(NOFOLLOW)",
                                      "open(DIRECTORY)", "stat", "lstat"};
  for (int what = 0; what < 7; what++) {
    if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) abort();
    /* Forced openat2 answers -EAGAIN once renames anywhere on the system made it lose
     * every retry (a busy machine, fs_race beside this test): ask the oracle again. */
    answer kernel = ask(dir, path, what);
    for (int again = 0; kernel.err == -EAGAIN && again < 100; again++) kernel = ask(dir, path, what);
    if (what == 0) *first = kernel.err;
    if (fdk_resolve_set_backend(FDK_RESOLVE_FALLBACK) != 0) abort();
    answer walk = ask(dir, path, what);
    /* openat2 meets a ".." at the base in its lockless walk by restarting the walk with
     * locks, and the restart keeps counting symlinks from where the first try stopped:
     * past 20 follows, with a warm dentry cache, its answer to such an escape is ELOOP
     * (cold, EXDEV). The fallback always answers EXDEV, so that pair agrees. */
    int kernel_artefact = kernel.err == -ELOOP && walk.err == -EXDEV;
    if (!kernel_artefact && (kernel.err != walk.err || kernel.ino != walk.ino)) {
      snprintf(why, why_len, "%s '%s': openat2 %s/%llu, fallback %s/%llu", kWhat[what], path,
               kernel.err ? fdk_errname(kernel.err) : "ok", (unsigned long long)kernel.ino,
               walk.err ? fdk_errname(walk.err) : "ok", (unsigned long long)walk.ino);
      fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2);
      return -1;
    }
  }
  fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2);
  return 0;
}
