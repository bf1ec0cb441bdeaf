/* SPDX-License-Identifier: MIT */
/* Differential check of the two resolve backends: random trees (dirs, files, symlinks
 * that are relative, absolute, climbing, looping or dangling) and random paths over
 * their names, ".", "..", empty components and trailing slashes. openat2 is the oracle:
 * the fallback must give the same inode or the same errno for every path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fstree.h"
#include "testutil.h"

enum { kTrees = 100, kPathsPerTree = 150 };

static void test_backends_agree(void **state) {
  (void)state;
  char names[32][16];
  int count, compared = 0, ok = 0, exdev = 0, eloop = 0, enotdir = 0, enoent = 0;
  for (uint64_t seed = 1; seed <= kTrees; seed++) {
    char top[PATH_MAX], root[PATH_MAX + 8];
    assert_int_equal(fdkt_tempdir(top, "diff"), 0);
    snprintf(root, sizeof root, "%s/root", top);
    assert_int_equal(mkdir(root, 0755), 0);
    /* The same kind of tree outside, so that an escape would find something. */
    fdkt_random_tree(top, seed + 1000, names, 32, &count);
    fdkt_random_tree(root, seed, names, 32, &count);
    fdk_dir *dir;
    assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), root), 0);
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < kPathsPerTree; i++) {
      char path[256], why[512];
      fdkt_random_path(path, sizeof path, &rng, names, count);
      int answer;
      if (fdkt_compare_backends(dir, path, &answer, why, sizeof why) != 0)
        fail_msg("tree %llu: %s", (unsigned long long)seed, why);
      compared++;
      ok += answer == 0;
      exdev += answer == -EXDEV;
      eloop += answer == -ELOOP;
      enotdir += answer == -ENOTDIR;
      enoent += answer == -ENOENT;
    }
    fdk_dir_unref(dir);
    fdkt_remove_tree(top);
  }
  assert_int_equal(compared, kTrees * kPathsPerTree);
  /* The generated cases reach every kind of answer, each a fair share of the time. */
  print_message("# %d paths: %d resolved, %d EXDEV, %d ELOOP, %d ENOTDIR, %d ENOENT\n", compared, ok, exdev, eloop,
                enotdir, enoent);
  assert_true(ok > compared / 10);
  assert_true(exdev > compared / 20);
  assert_true(eloop > compared / 200);
  assert_true(enotdir > compared / 100);
  assert_true(enoent > compared / 20);
}

int main(void) {
  if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) {
    printf("1..0 # SKIP openat2 is not available\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      fdkt_test(test_backends_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
