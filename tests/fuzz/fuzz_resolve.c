/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the fallback resolver must answer as openat2 does (same inode or
 * same errno) for any path beneath the confinement fixture. Inputs are raw paths, or,
 * when the first byte is odd, a sequence of tokens (fixture names, ".", "..", slashes)
 * so that the fuzzer reaches deep into the tree. Build with -Dfuzz=true and clang:
 *   CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
 *   build-fuzz/tests/fuzz_resolve -max_total_time=600 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fstree.h"

static char g_top[PATH_MAX];
static fdk_dir *g_root;

static void cleanup(void) {
  fdk_dir_unref(g_root);
  fdkt_remove_tree(g_top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char root[PATH_MAX + 8];
  if (fdkt_tempdir(g_top, "fuzz") < 0) abort();
  fdkt_build_fixture(g_top);
  snprintf(root, sizeof root, "%s/root", g_top);
  if (fdk_dir_open(&g_root, fdk_dir_fs(), root) != 0) abort();
  if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) abort();
  atexit(cleanup);
  return 0;
}

static const char *const kTokens[] = {
    "file", "dir", "sub", "deep_file", "link_file", "link_dir", "link_up", "link_abs_root", "link_etc",
    "link_up_in", "link_up2", "link_out", "chain1", "chain_dir1", "loop_a", "self_loop", "dangling",
    "dangling_out", "link_dir_slash", "link_file_slash", "link_dot", "link_root_rel", "link_esc_deep",
    "with space", "new\nline", "fifo", "empty", "d0", "d1", ".", "..", "/", "//", "missing",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[PATH_MAX + 64];
  size_t n = 0;
  if (size > 0 && (data[0] & 1)) {
    for (size_t i = 1; i < size && n + 40 < sizeof path; i++) {
      const char *t = kTokens[data[i] % (sizeof kTokens / sizeof kTokens[0])];
      n += (size_t)snprintf(path + n, sizeof path - n, "%s%s", (i > 1 && (data[i] & 0x80)) ? "/" : "", t);
    }
  } else {
    for (size_t i = 1; i < size && n + 1 < sizeof path; i++) path[n++] = data[i] ? (char)data[i] : '/';
  }
  path[n] = '\0';
  char why[PATH_MAX + 256];
  int first;
  if (fdkt_compare_backends(g_root, path, &first, why, sizeof why) != 0) {
    fprintf(stderr, "backends disagree: %s\n", why);
    abort();
  }
  return 0;
}
