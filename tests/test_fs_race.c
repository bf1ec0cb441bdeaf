/* SPDX-License-Identifier: MIT */
/* Rename race against confinement: while other threads move an intermediate directory
 * out of the base and back, resolutions of paths with ".." never open anything outside
 * the base. A walker that let the kernel follow ".." from the moved directory would
 * land in the outer tree, whose files have inodes of their own. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstree.h"
#include "testutil.h"

enum { kRenamers = 2, kResolutions = 20000 };

static char g_top[PATH_MAX];
static atomic_int g_stop;

static void *renamer(void *arg) {
  (void)arg;
  char inside[PATH_MAX + 16], outside[PATH_MAX + 16];
  snprintf(inside, sizeof inside, "%s/root/a/b", g_top);
  snprintf(outside, sizeof outside, "%s/moved_b", g_top);
  while (!atomic_load(&g_stop)) {
    rename(inside, outside);
    rename(outside, inside);
  }
  return NULL;
}

static void mk(const char *rel, int dir) {
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/%s", g_top, rel);
  if (dir) {
    assert_int_equal(mkdir(p, 0755), 0);
  } else {
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
  }
}

static uint64_t open_ino(fdk_dir *dir, const char *path, int *err) {
  fdk_fd *fd;
  *err = fdk_openat(&fd, dir, path, FDK_O_PATH, 0);
  if (*err) return 0;
  uint64_t ino = fdkt_fd_ino(fd);
  fdk_fd_unref(fd);
  return ino;
}

static void race(int backend) {
  assert_int_equal(fdkt_tempdir(g_top, "race"), 0);
  mk("root", 1);
  mk("root/a", 1);
  mk("root/a/b", 1);
  mk("root/a/b/c", 1);
  mk("root/a/file", 0);
  mk("file", 0);
  const uint64_t inside_file = fdkt_ino(g_top, "root/a/file"), root = fdkt_ino(g_top, "root");
  const uint64_t a = fdkt_ino(g_top, "root/a");
  char base[PATH_MAX + 8];
  snprintf(base, sizeof base, "%s/root", g_top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), base), 0);
  assert_int_equal(fdk_resolve_set_backend(backend), 0);

  atomic_store(&g_stop, 0);
  pthread_t threads[kRenamers];
  for (int i = 0; i < kRenamers; i++) assert_int_equal(pthread_create(&threads[i], NULL, renamer, NULL), 0);
  static const struct {
    const char *path;
    int want; /* 0: root/a/file, 1: root, 2: root/a */
  } paths[] = {
      {"a/b/c/../../file", 0},
      {"a/b/c/../../..", 1},
      {"a/b/../file", 0},
      {"a/b/c/../..", 2},
      {"a/b/c/../../../a/file", 0},
  };
  int resolved = 0, missing = 0, other = 0;
  for (int i = 0; i < kResolutions; i++) {
    int err;
    size_t k = (size_t)i % (sizeof paths / sizeof paths[0]);
    uint64_t ino = open_ino(dir, paths[k].path, &err);
    if (err == 0) {
      uint64_t want = paths[k].want == 0 ? inside_file : paths[k].want == 1 ? root : a;
      if (ino != want) {
        atomic_store(&g_stop, 1);
        fail_msg("'%s' opened inode %llu outside the base (want %llu)", paths[k].path, (unsigned long long)ino,
                 (unsigned long long)want);
      }
      resolved++;
    } else if (err == -ENOENT) {
      missing++;
    } else {
      /* openat2 refuses a walk whose ".." raced the move out of the base (EXDEV), or,
       * forced as it is here, answers EAGAIN when every retry lost its race. */
      assert_int_equal(backend, FDK_RESOLVE_OPENAT2);
      if (err != -EXDEV && err != -EAGAIN) fail_msg("'%s': %s, not EXDEV or EAGAIN", paths[k].path, fdk_errname(err));
      other++;
    }
  }
  atomic_store(&g_stop, 1);
  for (int i = 0; i < kRenamers; i++) pthread_join(threads[i], NULL);
  print_message("# %s: %d resolved, %d while moved out, %d refused\n",
                backend == FDK_RESOLVE_OPENAT2 ? "openat2" : "fallback", resolved, missing, other);
  assert_true(resolved > 0);
  assert_true(missing > 0); /* the race did happen */
  fdk_dir_unref(dir);
  fdkt_remove_tree(g_top);
}

static void test_fallback_rename_race(void **state) {
  (void)state;
  race(FDK_RESOLVE_FALLBACK);
}

static void test_openat2_rename_race(void **state) {
  (void)state;
  if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) skip();
  race(FDK_RESOLVE_OPENAT2);
}

/* openat2 answers EAGAIN when any rename on the system races with a ".." of its walk, so
 * a long walk loses its retries under a rename storm that has nothing to do with it.
 * Chosen by the probe (FDK_RESOLVE_AUTO), fdkit then resolves by hand and every open
 * succeeds; forced, openat2 stays openat2: every answer is the file or -EAGAIN. */
static void *unrelated_renamer(void *arg) {
  (void)arg;
  char x[PATH_MAX + 16], y[PATH_MAX + 16];
  snprintf(x, sizeof x, "%s/x", g_top);
  snprintf(y, sizeof y, "%s/y", g_top);
  while (!atomic_load(&g_stop)) {
    rename(x, y);
    rename(y, x);
  }
  return NULL;
}

static void test_openat2_unrelated_rename_storm(void **state) {
  (void)state;
  if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) skip();
  assert_int_equal(fdkt_tempdir(g_top, "storm"), 0);
  mk("root", 1);
  mk("root/a", 1);
  mk("root/a/file", 0);
  mk("x", 0);
  char base[PATH_MAX + 8];
  snprintf(base, sizeof base, "%s/root", g_top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), base), 0);
  static char path[1200];
  path[0] = 0;
  for (int i = 0; i < 200; i++) strcat(path, "a/../");
  strcat(path, "a/file");
  const uint64_t want = fdkt_ino(g_top, "root/a/file");
  atomic_store(&g_stop, 0);
  pthread_t threads[kRenamers];
  for (int i = 0; i < kRenamers; i++) assert_int_equal(pthread_create(&threads[i], NULL, unrelated_renamer, NULL), 0);
  int failures = 0, first_err = 0, forced_eagain = 0, forced_other = 0;
  assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_AUTO), 0);
  assert_int_equal(fdk_resolve_backend(), FDK_RESOLVE_OPENAT2);
  for (int i = 0; i < 500; i++) {
    int err;
    uint64_t ino = open_ino(dir, path, &err);
    if (err != 0 || ino != want) {
      failures++;
      if (!first_err) first_err = err;
    }
  }
  assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2), 0);
  for (int i = 0; i < 500; i++) {
    int err;
    uint64_t ino = open_ino(dir, path, &err);
    if (err == -EAGAIN)
      forced_eagain++;
    else if (err != 0 || ino != want)
      forced_other++;
  }
  atomic_store(&g_stop, 1);
  for (int i = 0; i < kRenamers; i++) pthread_join(threads[i], NULL);
  fdk_dir_unref(dir);
  fdkt_remove_tree(g_top);
  fdk_resolve_set_backend(FDK_RESOLVE_AUTO);
  print_message("# forced openat2: %d of 500 opens lost every retry (-EAGAIN)\n", forced_eagain);
  if (failures) fail_msg("automatic choice: %d of 500 opens failed, the first with %s", failures, fdk_errname(first_err));
  assert_int_equal(forced_other, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_fallback_rename_race),
      fdkt_test(test_openat2_rename_race),
      fdkt_test(test_openat2_unrelated_rename_storm),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  fdk_resolve_set_backend(FDK_RESOLVE_AUTO);
  return r;
}
