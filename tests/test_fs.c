/* SPDX-License-Identifier: MIT */
/* Confined file system: a table of paths over a fixture tree, each run for every
 * operation it applies to under both resolve backends and two bases (a dir handle and
 * the current directory), plus the last-component calls, magic links, stat, readdir and
 * the asynchronous forms. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fstree.h"
#include "old_kernel_filter.h"
#include "testutil.h"

#define OK(rel) rel, 0
#define ERR(e) NULL, -(e)

/* One path and what it names: with a last symlink followed (f) and not (n). Each is the
 * fixture entry (relative to the temporary top) or an errno. */
typedef struct {
  const char *path;
  const char *f;
  int ferr;
  const char *n;
  int nerr;
} path_case;

static const path_case kCases[] = {
    {"file", OK("root/file"), OK("root/file")},
    {"", OK("root"), OK("root")},
    {".", OK("root"), OK("root")},
    {"./", OK("root"), OK("root")},
    {"./file", OK("root/file"), OK("root/file")},
    {"dir", OK("root/dir"), OK("root/dir")},
    {"dir/", OK("root/dir"), OK("root/dir")},
    {"dir//sub///deep_file", OK("root/dir/sub/deep_file"), OK("root/dir/sub/deep_file")},
    {"dir/./sub/./deep_file", OK("root/dir/sub/deep_file"), OK("root/dir/sub/deep_file")},
    {"dir/sub/..", OK("root/dir"), OK("root/dir")},
    {"dir/../file", OK("root/file"), OK("root/file")},
    {"empty/..", OK("root"), OK("root")},
    {"..", ERR(EXDEV), ERR(EXDEV)},
    {"../root/file", ERR(EXDEV), ERR(EXDEV)},
    {"dir/../../root", ERR(EXDEV), ERR(EXDEV)},
    {"empty/../..", ERR(EXDEV), ERR(EXDEV)},
    {"dir/sub/../../dir/sub/../../..", ERR(EXDEV), ERR(EXDEV)},
    {"/etc/passwd", ERR(EXDEV), ERR(EXDEV)},
    {"/", ERR(EXDEV), ERR(EXDEV)},
    {"link_file", OK("root/file"), OK("root/link_file")},
    {"link_dir", OK("root/dir"), OK("root/link_dir")},
    {"link_dir/", OK("root/dir"), OK("root/dir")},
    {"link_dir/sub/deep_file", OK("root/dir/sub/deep_file"), OK("root/dir/sub/deep_file")},
    {"link_dir/..", OK("root"), OK("root")},
    {"link_abs_root", ERR(EXDEV), OK("root/link_abs_root")},
    {"link_abs_root/etc", ERR(EXDEV), ERR(EXDEV)},
    {"link_etc", ERR(EXDEV), OK("root/link_etc")},
    {"link_etc/passwd", ERR(EXDEV), ERR(EXDEV)},
    {"link_up", ERR(EXDEV), OK("root/link_up")},
    {"link_up/root/file", ERR(EXDEV), ERR(EXDEV)},
    {"link_up_in", OK("root"), OK("root/link_up_in")},
    {"link_up_in/file", OK("root/file"), OK("root/file")},
    {"dir/link_up2", OK("root/dir"), OK("root/dir/link_up2")},
    {"dir/link_up2/sub", OK("root/dir/sub"), OK("root/dir/sub")},
    {"dir/link_out", ERR(EXDEV), OK("root/dir/link_out")},
    {"chain1", OK("root/file"), OK("root/chain1")},
    {"chain_dir1/sub", OK("root/dir/sub"), OK("root/dir/sub")},
    {"chain_dir1/", OK("root/dir"), OK("root/dir")},
    {"loop_a", ERR(ELOOP), OK("root/loop_a")},
    {"loop_a/x", ERR(ELOOP), ERR(ELOOP)},
    {"loop_b/", ERR(ELOOP), ERR(ELOOP)},
    {"self_loop", ERR(ELOOP), OK("root/self_loop")},
    {"dangling", ERR(ENOENT), OK("root/dangling")},
    {"dangling/", ERR(ENOENT), ERR(ENOENT)},
    {"dangling_out", ERR(EXDEV), OK("root/dangling_out")},
    {"dangling_abs", ERR(EXDEV), OK("root/dangling_abs")},
    {"missing", ERR(ENOENT), ERR(ENOENT)},
    {"missing/", ERR(ENOENT), ERR(ENOENT)},
    {"missing/x", ERR(ENOENT), ERR(ENOENT)},
    {"missing/..", ERR(ENOENT), ERR(ENOENT)},
    {"file/", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"file/x", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"file/.", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"file/..", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"dir/sub/deep_file/", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"link_file/", ERR(ENOTDIR), ERR(ENOTDIR)},
    {"link_dir_slash", OK("root/dir"), OK("root/link_dir_slash")},
    {"link_dir_slash/file2", OK("root/dir/file2"), OK("root/dir/file2")},
    {"link_file_slash", ERR(ENOTDIR), OK("root/link_file_slash")},
    {"link_dot", OK("root"), OK("root/link_dot")},
    {"link_dot/link_dot/file", OK("root/file"), OK("root/file")},
    {"dir/sub/link_root_rel", OK("root"), OK("root/dir/sub/link_root_rel")},
    {"dir/sub/link_root_rel/file", OK("root/file"), OK("root/file")},
    {"dir/sub/link_esc_deep", ERR(EXDEV), OK("root/dir/sub/link_esc_deep")},
    {"link_chain_esc/x", ERR(EXDEV), ERR(EXDEV)},
    {"link_chain_esc", ERR(EXDEV), OK("root/link_chain_esc")},
    {"with space", OK("root/with space"), OK("root/with space")},
    {"with space/inner", OK("root/with space/inner"), OK("root/with space/inner")},
    {"new\nline", OK("root/new\nline"), OK("root/new\nline")},
    {"with space/../new\nline", OK("root/new\nline"), OK("root/new\nline")},
    {"fifo", OK("root/fifo"), OK("root/fifo")},
    {"link_fifo", OK("root/fifo"), OK("root/link_fifo")},
    {"@DEEP", OK("@DEEP"), OK("@DEEP")},
    {"@DEEP_DOTS", OK("root/d0/d1"), OK("root/d0/d1")},
    {"@DOT_RUN", OK("root/file"), OK("root/file")},
    {"@TOO_LONG", ERR(ENAMETOOLONG), ERR(ENAMETOOLONG)},
    {"@LONG_NAME", ERR(ENAMETOOLONG), ERR(ENAMETOOLONG)},
    {"@MISSING_THEN_LONG_NAME", ERR(ENOENT), ERR(ENOENT)},
};
#define NCASES (sizeof kCases / sizeof kCases[0])

static char g_top[PATH_MAX];
static char g_deep[PATH_MAX], g_deep_rel[PATH_MAX], g_deep_dots[PATH_MAX], g_dot_run[PATH_MAX],
    g_too_long[PATH_MAX + 16], g_long_name[400], g_missing_long[420];

static void make_dynamic_paths(void) {
  g_deep[0] = '\0';
  for (int i = 0; i < 30; i++) snprintf(g_deep + strlen(g_deep), sizeof g_deep - strlen(g_deep), "d%d/", i);
  strcat(g_deep, "leaf");
  snprintf(g_deep_rel, sizeof g_deep_rel, "root/%s", g_deep);
  snprintf(g_deep_dots, sizeof g_deep_dots, "d0/d1/../d1/d2/../../../d0/./d1");
  g_dot_run[0] = '\0';
  for (int i = 0; i < 2045; i++) strcat(g_dot_run, "./");
  strcat(g_dot_run, "file");
  g_too_long[0] = '\0';
  for (int i = 0; i < 2048; i++) strcat(g_too_long, "./");
  strcat(g_too_long, "file");
  memset(g_long_name, 'a', 256);
  g_long_name[256] = '\0';
  snprintf(g_missing_long, sizeof g_missing_long, "missing/%s", g_long_name);
}

static const char *expand(const char *s) {
  if (!s || s[0] != '@') return s;
  if (strcmp(s, "@DEEP") == 0) return g_deep;
  if (strcmp(s, "@DEEP_DOTS") == 0) return g_deep_dots;
  if (strcmp(s, "@DOT_RUN") == 0) return g_dot_run;
  if (strcmp(s, "@TOO_LONG") == 0) return g_too_long;
  if (strcmp(s, "@LONG_NAME") == 0) return g_long_name;
  if (strcmp(s, "@MISSING_THEN_LONG_NAME") == 0) return g_missing_long;
  abort();
}

static const char *expand_rel(const char *s) { return s && strcmp(s, "@DEEP") == 0 ? g_deep_rel : s; }

static int suite_setup(void **state) {
  (void)state;
  make_dynamic_paths();
  if (fdkt_tempdir(g_top, "fs") < 0) return -1;
  fdkt_build_fixture(g_top);
  return 0;
}

static int suite_teardown(void **state) {
  (void)state;
  fdkt_remove_tree(g_top);
  fdk_resolve_set_backend(FDK_RESOLVE_AUTO);
  return 0;
}

static const int kBackends[] = {FDK_RESOLVE_OPENAT2, FDK_RESOLVE_FALLBACK};
static const char *backend_name(int b) { return b == FDK_RESOLVE_OPENAT2 ? "openat2" : "fallback"; }

/* Selects backend b; false when this kernel lacks it. Under tests/old_kernel.c there is no
 * openat2: asking for it must fail, and the automatic choice must have been the walk. */
static int use_backend(int b) {
  if (b == FDK_RESOLVE_OPENAT2 && getenv("FDKIT_TEST_OLD_KERNEL")) {
    assert_int_equal(fdk_resolve_set_backend(b), -ENOSYS);
    assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_AUTO), 0);
    assert_int_equal(fdk_resolve_backend(), FDK_RESOLVE_FALLBACK);
    return 0;
  }
  assert_int_equal(fdk_resolve_set_backend(b), 0);
  return 1;
}

static mode_t lmode_in(const char *top, const char *rel) {
  char p[2 * PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", top, rel);
  struct stat st;
  assert_int_equal(lstat(p, &st), 0);
  return st.st_mode;
}

static mode_t lmode(const char *rel) { return lmode_in(g_top, rel); }

/* Context printed with every failed expectation. */
static char g_ctx[PATH_MAX + 128];

static void expect_ino(const char *op, int r, uint64_t ino, const char *want, int want_err) {
  if (want) {
    if (r < 0) fail_msg("%s %s: got %s (%s), want %s", g_ctx, op, fdk_errname(r), fdk_last_error(), want);
    uint64_t expected = fdkt_ino(g_top, want);
    assert_true(expected != 0);
    if (ino != expected) fail_msg("%s %s: opened inode %llu, want %s (%llu)", g_ctx, op, (unsigned long long)ino, want,
                                  (unsigned long long)expected);
  } else if (r != want_err) {
    fail_msg("%s %s: got %d (%s), want %s", g_ctx, op, r, r < 0 ? fdk_errname(r) : "ok", fdk_errname(want_err));
  }
}

static void expect_result(const char *op, int r, int want_err) {
  if (r != want_err)
    fail_msg("%s %s: got %d (%s: %s), want %s", g_ctx, op, r, r < 0 ? fdk_errname(r) : "ok", fdk_last_error(),
             want_err ? fdk_errname(want_err) : "0");
}

static void check_open(fdk_dir *dir, const char *path, unsigned flags, const char *op, const char *want, int want_err) {
  fdk_fd *fd = NULL;
  int r = fdk_openat(&fd, dir, path, flags, 0);
  uint64_t ino = r == 0 ? fdkt_fd_ino(fd) : 0;
  if (r == 0) assert_int_equal(fdk_fd_is_blocking(fd), (flags & FDK_O_NONBLOCK) ? 0 : 1);
  fdk_fd_unref(fd);
  expect_ino(op, r, ino, want, want_err);
}

/* Every operation the case applies to, with expectations derived from f and n. */
static void run_case(fdk_dir *dir, const path_case *c) {
  const char *path = expand(c->path);
  const char *f = expand_rel(c->f), *n = expand_rel(c->n);
  int f_dir = f && S_ISDIR(lmode(f));
  int n_link = n && S_ISLNK(lmode(n));

  check_open(dir, path, FDK_O_RDONLY | FDK_O_NONBLOCK, "open", f, c->ferr);
  check_open(dir, path, FDK_O_PATH, "open(PATH)", f, c->ferr);
  check_open(dir, path, FDK_O_PATH | FDK_O_NOFOLLOW, "open(PATH|NOFOLLOW)", n, c->nerr);
  check_open(dir, path, FDK_O_RDONLY | FDK_O_NONBLOCK | FDK_O_NOFOLLOW, "open(NOFOLLOW)", n_link ? NULL : n,
             n_link ? -ELOOP : c->nerr);
  check_open(dir, path, FDK_O_DIRECTORY, "open(DIRECTORY)", f_dir ? f : NULL, f && !f_dir ? -ENOTDIR : c->ferr);

  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  int r = fdk_statat(st, dir, path, 1);
  expect_ino("stat", r, r == 0 ? fdk_stat_ino(st) : 0, f, c->ferr);
  r = fdk_statat(st, dir, path, 0);
  expect_ino("lstat", r, r == 0 ? fdk_stat_ino(st) : 0, n, c->nerr);
  fdk_stat_free(st);

  char *text = NULL;
  ssize_t len = fdk_readlinkat(&text, dir, path);
  if (n_link) {
    char p[2 * PATH_MAX], want[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", g_top, n);
    ssize_t wl = readlink(p, want, sizeof want);
    assert_true(wl > 0);
    expect_result("readlink", (int)(len < 0 ? len : 0), 0);
    assert_int_equal(len, wl);
    assert_memory_equal(text, want, (size_t)wl);
    assert_int_equal(text[len], '\0');
    fdk_free(text);
  } else {
    expect_result("readlink", (int)len, n ? -EINVAL : c->nerr);
  }

  fdk_dir *sub = NULL;
  r = fdk_dir_open(&sub, dir, path);
  uint64_t ino = r == 0 ? fdkt_fd_ino(fdk_dir_handle(sub)) : 0;
  fdk_dir_unref(sub);
  expect_ino("dir_open", r, ino, f_dir ? f : NULL, f && !f_dir ? -ENOTDIR : c->ferr);

  fdk_dirents *list = NULL;
  r = fdk_readdir(&list, dir, path);
  expect_result("readdir", r < 0 ? r : 0, f && !f_dir ? -ENOTDIR : c->ferr);
  fdk_dirents_free(list);

  expect_result("utimens(follow)",
                fdk_utimensat(dir, path, 0, FDK_UTIME_OMIT, 0, FDK_UTIME_OMIT, FDK_FOLLOW), f ? 0 : c->ferr);
  expect_result("utimens", fdk_utimensat(dir, path, 0, FDK_UTIME_OMIT, 0, FDK_UTIME_OMIT, 0), n ? 0 : c->nerr);
  expect_result("chmod(follow)", fdk_chmodat(dir, path, f ? lmode(f) & 07777 : 0644, FDK_FOLLOW), f ? 0 : c->ferr);
  expect_result("chmod", fdk_chmodat(dir, path, n ? lmode(n) & 07777 : 0644, 0),
                n_link ? -EOPNOTSUPP : n ? 0 : c->nerr);
}

static void run_table(fdk_dir *dir, const char *base_name) {
  for (size_t b = 0; b < sizeof kBackends / sizeof kBackends[0]; b++) {
    if (!use_backend(kBackends[b])) continue;
    assert_int_equal(fdk_resolve_backend(), kBackends[b]);
    for (size_t i = 0; i < NCASES; i++) {
      snprintf(g_ctx, sizeof g_ctx, "[%s, %s] '%.200s':", backend_name(kBackends[b]), base_name, kCases[i].path);
      run_case(dir, &kCases[i]);
    }
  }
}

/* The shared fixture's base as a dir handle. */
static fdk_dir *open_root(void) {
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", g_top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), root), 0);
  return dir;
}

static void test_table_dir_handle(void **state) {
  (void)state;
  fdk_dir *dir = open_root();
  run_table(dir, "dir handle");
  fdk_dir_unref(dir);
}

static void test_table_cwd(void **state) {
  (void)state;
  int saved = open(".", O_PATH | O_CLOEXEC);
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", g_top);
  assert_int_equal(chdir(root), 0);
  run_table(fdk_dir_cwd(), "cwd");
  assert_int_equal(fchdir(saved), 0);
  close(saved);
}

/* The escape detail names the path. */
static void test_escape_detail(void **state) {
  (void)state;
  fdk_dir *dir = open_root();
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    fdk_fd *fd;
    assert_int_equal(fdk_openat(&fd, dir, "dir/../../x", FDK_O_RDONLY, 0), FDK_EESCAPE);
    assert_string_equal(fdk_last_error(), "openat: escapes its directory: 'dir/../../x'");
    assert_int_equal(fdk_last_error_is_escape(), 1);
    assert_int_equal(fdk_unlinkat(dir, "link_up/outside_file"), -EXDEV);
    assert_non_null(strstr(fdk_last_error(), "link_up/outside_file"));
    assert_int_equal(fdk_last_error_is_escape(), 1);
    assert_int_equal(fdk_openat(&fd, dir, "missing", FDK_O_RDONLY, 0), -ENOENT);
    assert_int_equal(fdk_last_error_is_escape(), 0);
  }
  fdk_dir_unref(dir);
}


/* A fresh fixture for a test that changes the tree; dir is its root. */
static fdk_dir *fresh_fixture(char *top) {
  assert_int_equal(fdkt_tempdir(top, "fsw"), 0);
  fdkt_build_fixture(top);
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), root), 0);
  return dir;
}

static void drop_fixture(char *top, fdk_dir *dir) {
  fdk_dir_unref(dir);
  fdkt_remove_tree(top);
}

static int exists(const char *top, const char *rel) { return fdkt_ino(top, rel) != 0; }

static void check_mkdir_unlink_rmdir(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  expect_result("mkdir", fdk_mkdirat(dir, "newdir", 0755), 0);
  assert_true(S_ISDIR(lmode_in(top, "root/newdir")));
  expect_result("mkdir/", fdk_mkdirat(dir, "newdir2/", 0755), 0);
  assert_true(exists(top, "root/newdir2"));
  expect_result("mkdir file", fdk_mkdirat(dir, "file", 0755), -EEXIST);
  expect_result("mkdir link", fdk_mkdirat(dir, "link_dir", 0755), -EEXIST);
  expect_result("mkdir dangling", fdk_mkdirat(dir, "dangling", 0755), -EEXIST);
  assert_false(exists(top, "root/missing"));
  expect_result("mkdir dangling/", fdk_mkdirat(dir, "dangling_out/", 0755), -EEXIST);
  assert_false(exists(top, "created_outside"));
  expect_result("mkdir missing/x", fdk_mkdirat(dir, "missing/x", 0755), -ENOENT);
  expect_result("mkdir ../x", fdk_mkdirat(dir, "../x", 0755), -EXDEV);
  expect_result("mkdir link_up/x", fdk_mkdirat(dir, "link_up/x", 0755), -EXDEV);
  assert_false(exists(top, "x"));
  expect_result("mkdir .", fdk_mkdirat(dir, ".", 0755), -EEXIST);
  expect_result("mkdir ..", fdk_mkdirat(dir, "..", 0755), -EXDEV);
  expect_result("mkdir dir/..", fdk_mkdirat(dir, "dir/..", 0755), -EEXIST);
  expect_result("mkdir abs", fdk_mkdirat(dir, "/tmp/fdkit-x", 0755), -EXDEV);
  expect_result("mkdir file/x", fdk_mkdirat(dir, "file/x", 0755), -ENOTDIR);
  expect_result("mkdir in link_dir", fdk_mkdirat(dir, "link_dir/made", 0755), 0);
  assert_true(exists(top, "root/dir/made"));

  expect_result("unlink link_etc", fdk_unlinkat(dir, "link_etc"), 0);
  assert_false(exists(top, "root/link_etc"));
  assert_int_equal(access("/etc/passwd", F_OK), 0);
  expect_result("unlink dangling_out", fdk_unlinkat(dir, "dangling_out"), 0);
  expect_result("unlink dir/link_out", fdk_unlinkat(dir, "dir/link_out"), 0);
  assert_true(exists(top, "outside_file"));
  expect_result("unlink dir", fdk_unlinkat(dir, "dir"), -EISDIR);
  expect_result("unlink dir/", fdk_unlinkat(dir, "dir/"), -EISDIR);
  expect_result("unlink file/", fdk_unlinkat(dir, "file/"), -ENOTDIR);
  expect_result("unlink link_file/", fdk_unlinkat(dir, "link_file/"), -ENOTDIR);
  expect_result("unlink missing", fdk_unlinkat(dir, "missing"), -ENOENT);
  expect_result("unlink ../outside_file", fdk_unlinkat(dir, "../outside_file"), -EXDEV);
  expect_result("unlink link_up/outside_file", fdk_unlinkat(dir, "link_up/outside_file"), -EXDEV);
  assert_true(exists(top, "outside_file"));
  expect_result("unlink ..", fdk_unlinkat(dir, ".."), -EXDEV);
  expect_result("unlink .", fdk_unlinkat(dir, "."), -EISDIR);
  expect_result("unlink via link_dir", fdk_unlinkat(dir, "link_dir/file2"), 0);
  assert_false(exists(top, "root/dir/file2"));

  expect_result("rmdir empty/", fdk_rmdirat(dir, "empty/"), 0);
  assert_false(exists(top, "root/empty"));
  expect_result("rmdir dir", fdk_rmdirat(dir, "dir"), -ENOTEMPTY);
  expect_result("rmdir file", fdk_rmdirat(dir, "file"), -ENOTDIR);
  expect_result("rmdir link_dir", fdk_rmdirat(dir, "link_dir"), -ENOTDIR);
  expect_result("rmdir link_dir/", fdk_rmdirat(dir, "link_dir/"), -ENOTDIR);
  expect_result("rmdir .", fdk_rmdirat(dir, "."), -EINVAL);
  expect_result("rmdir ..", fdk_rmdirat(dir, ".."), -EXDEV);
  expect_result("rmdir dir/..", fdk_rmdirat(dir, "dir/.."), -ENOTEMPTY);
  expect_result("rmdir link_up/root", fdk_rmdirat(dir, "link_up/root"), -EXDEV);
  drop_fixture(top, dir);
}

static void check_rename_symlink_link(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  uint64_t file_ino = fdkt_ino(top, "root/file");
  expect_result("rename", fdk_renameat(dir, "file", dir, "dir/renamed"), 0);
  assert_int_equal(fdkt_ino(top, "root/dir/renamed"), file_ino);
  expect_result("rename out", fdk_renameat(dir, "dir/renamed", dir, "../escaped"), -EXDEV);
  expect_result("rename out via link", fdk_renameat(dir, "dir/renamed", dir, "link_up/escaped"), -EXDEV);
  assert_false(exists(top, "escaped"));
  expect_result("rename in", fdk_renameat(dir, "link_up/outside_file", dir, "stolen"), -EXDEV);
  expect_result("rename link itself", fdk_renameat(dir, "link_etc", dir, "moved_link"), 0);
  assert_true(S_ISLNK(lmode_in(top, "root/moved_link")));
  expect_result("noreplace", fdk_renameat2(dir, "chain1", dir, "chain2", FDK_RENAME_NOREPLACE), -EEXIST);
  uint64_t a = fdkt_ino(top, "root/loop_a"), b = fdkt_ino(top, "root/loop_b");
  expect_result("exchange", fdk_renameat2(dir, "loop_a", dir, "loop_b", FDK_RENAME_EXCHANGE), 0);
  assert_int_equal(fdkt_ino(top, "root/loop_a"), b);
  assert_int_equal(fdkt_ino(top, "root/loop_b"), a);
  expect_result("rename file/", fdk_renameat(dir, "dir/renamed/", dir, "x"), -ENOTDIR);
  expect_result("rename ..", fdk_renameat(dir, "..", dir, "x"), -EXDEV);
  expect_result("rename dir/..", fdk_renameat(dir, "dir/..", dir, "x"), -EBUSY);
  expect_result("rename bad flags", fdk_renameat2(dir, "a", dir, "b", 0x100), -EINVAL);

  expect_result("symlink abs", fdk_symlinkat("/etc/passwd", dir, "abs_link"), 0);
  char *text = NULL;
  assert_int_equal(fdk_readlinkat(&text, dir, "abs_link"), 11);
  assert_string_equal(text, "/etc/passwd");
  fdk_free(text);
  fdk_fd *fd;
  expect_result("open abs_link", fdk_openat(&fd, dir, "abs_link", FDK_O_RDONLY, 0), -EXDEV);
  expect_result("symlink exists", fdk_symlinkat("x", dir, "link_file"), -EEXIST);
  expect_result("symlink out", fdk_symlinkat("x", dir, "../made_link"), -EXDEV);
  expect_result("symlink via link", fdk_symlinkat("x", dir, "link_up/made_link"), -EXDEV);
  assert_false(exists(top, "made_link"));
  expect_result("symlink new/", fdk_symlinkat("x", dir, "newlink/"), -ENOENT);

  expect_result("link symlink", fdk_linkat(dir, "moved_link", dir, "hard_to_link"), 0);
  assert_true(S_ISLNK(lmode_in(top, "root/hard_to_link")));
  assert_int_equal(fdkt_ino(top, "root/hard_to_link"), fdkt_ino(top, "root/moved_link"));
  expect_result("link dangling_out", fdk_linkat(dir, "dangling_out", dir, "hard_dangling"), 0);
  assert_true(S_ISLNK(lmode_in(top, "root/hard_dangling")));
  expect_result("link link_dir/", fdk_linkat(dir, "link_dir/", dir, "hard_dir"), -EPERM);
  expect_result("link link_etc/", fdk_linkat(dir, "link_up/", dir, "hard_dir"), -EXDEV);
  expect_result("link out", fdk_linkat(dir, "../outside_file", dir, "hard_out"), -EXDEV);
  expect_result("link to out", fdk_linkat(dir, "chain3", dir, "../hard_out"), -EXDEV);
  expect_result("link exists", fdk_linkat(dir, "chain3", dir, "chain2"), -EEXIST);
  drop_fixture(top, dir);
}

static void check_open_create(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  fdk_fd *fd = NULL;
  unsigned wr = FDK_O_WRONLY | FDK_O_CREAT;
  expect_result("creat dangling_out", fdk_openat(&fd, dir, "dangling_out", wr, 0644), -EXDEV);
  assert_false(exists(top, "created_outside"));
  expect_result("creat dangling_abs", fdk_openat(&fd, dir, "dangling_abs", wr, 0644), -EXDEV);
  assert_int_equal(access("/tmp/fdkit-never-created", F_OK), -1);
  expect_result("creat|excl dangling", fdk_openat(&fd, dir, "dangling", wr | FDK_O_EXCL, 0644), -EEXIST);
  expect_result("creat|excl link_file", fdk_openat(&fd, dir, "link_file", wr | FDK_O_EXCL, 0644), -EEXIST);
  expect_result("creat|nofollow dangling", fdk_openat(&fd, dir, "dangling", wr | FDK_O_NOFOLLOW, 0644), -ELOOP);
  assert_false(exists(top, "root/missing"));
  expect_result("creat new/", fdk_openat(&fd, dir, "new/", wr, 0644), -EISDIR);
  expect_result("creat dir", fdk_openat(&fd, dir, "dir", wr, 0644), -EISDIR);
  expect_result("creat .", fdk_openat(&fd, dir, ".", wr, 0644), -EISDIR);
  expect_result("creat ../x", fdk_openat(&fd, dir, "../x", wr, 0644), -EXDEV);
  expect_result("nofollow link_file", fdk_openat(&fd, dir, "link_file", FDK_O_RDONLY | FDK_O_NOFOLLOW, 0), -ELOOP);
  expect_result("directory file", fdk_openat(&fd, dir, "file", FDK_O_DIRECTORY, 0), -ENOTDIR);
  /* Through a dangling link whose target is inside: created there, as openat2 does. */
  expect_result("creat dangling", fdk_openat(&fd, dir, "dangling", wr, 0600), 0);
  assert_true(exists(top, "root/missing"));
  assert_int_equal(lmode_in(top, "root/missing") & 07777, 0600 & ~(mode_t)0);
  assert_int_equal(fdk_write(fd, "abc", 3), 3);
  fdk_fd_unref(fd);
  expect_result("trunc", fdk_openat(&fd, dir, "chain1", FDK_O_WRONLY | FDK_O_TRUNC, 0), 0);
  fdk_fd_unref(fd);
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/root/file", top);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_size, 0);
  expect_result("append", fdk_openat(&fd, dir, "file", FDK_O_RDWR | FDK_O_APPEND | FDK_O_NONBLOCK, 0), 0);
  int raw = fdk_fd_raw(fd);
  int fl = fcntl(raw, F_GETFL);
  assert_true(fl & O_APPEND);
  assert_true(fl & O_NONBLOCK);
  assert_int_equal(fl & O_ACCMODE, O_RDWR);
  assert_true(fcntl(raw, F_GETFD) & FD_CLOEXEC);
  fdk_fd_unref(fd);
  expect_result("blocking", fdk_openat(&fd, dir, "file", FDK_O_RDONLY, 0), 0);
  assert_false(fcntl(fdk_fd_raw(fd), F_GETFL) & O_NONBLOCK);
  assert_int_equal(fdk_fd_is_blocking(fd), 1);
  fdk_fd_unref(fd);
  drop_fixture(top, dir);
}

static void check_attrs(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  expect_result("chmod follow", fdk_chmodat(dir, "chain1", 0600, FDK_FOLLOW), 0);
  assert_int_equal(lmode_in(top, "root/file") & 07777, 0600);
  expect_result("chmod link", fdk_chmodat(dir, "link_file", 0600, 0), -EOPNOTSUPP);
  expect_result("chmod link_etc", fdk_chmodat(dir, "link_etc/passwd", 0600, FDK_FOLLOW), -EXDEV);
  expect_result("chmod escaping link", fdk_chmodat(dir, "dir/link_out", 0600, FDK_FOLLOW), -EXDEV);
  expect_result("chown link", fdk_chownat(dir, "link_file", 1234, -1, 0), 0);
  struct stat st;
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/root/link_file", top);
  assert_int_equal(lstat(p, &st), 0);
  assert_int_equal(st.st_uid, 1234);
  snprintf(p, sizeof p, "%s/root/file", top);
  assert_int_equal(lstat(p, &st), 0);
  assert_int_equal(st.st_uid, getuid());
  expect_result("chown follow", fdk_chownat(dir, "link_file", 4321, 4321, FDK_FOLLOW), 0);
  assert_int_equal(lstat(p, &st), 0);
  assert_int_equal(st.st_uid, 4321);
  assert_int_equal(st.st_gid, 4321);
  expect_result("chown escaping", fdk_chownat(dir, "dir/link_out", 0, 0, FDK_FOLLOW), -EXDEV);
  expect_result("utimens follow", fdk_utimensat(dir, "link_file", 100, 5, 200, 7, FDK_FOLLOW), 0);
  assert_int_equal(lstat(p, &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 100);
  assert_int_equal(st.st_atim.tv_nsec, 5);
  assert_int_equal(st.st_mtim.tv_sec, 200);
  assert_int_equal(st.st_mtim.tv_nsec, 7);
  expect_result("utimens link", fdk_utimensat(dir, "link_file", 300, 0, 400, 0, 0), 0);
  snprintf(p, sizeof p, "%s/root/link_file", top);
  assert_int_equal(lstat(p, &st), 0);
  assert_int_equal(st.st_mtim.tv_sec, 400);
  expect_result("utimens bad nsec", fdk_utimensat(dir, "file", 0, 1000000000, 0, 0, 0), -EINVAL);
  drop_fixture(top, dir);
}

static void for_each_backend(void (*check)(void)) {
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    check();
  }
}

static void test_mkdir_unlink_rmdir(void **state) {
  (void)state;
  for_each_backend(check_mkdir_unlink_rmdir);
}

static void test_rename_symlink_link(void **state) {
  (void)state;
  for_each_backend(check_rename_symlink_link);
}

static void test_open_create(void **state) {
  (void)state;
  for_each_backend(check_open_create);
}

static void test_chmod_chown_utimens(void **state) {
  (void)state;
  for_each_backend(check_attrs);
}

/* Magic links under /proc are never followed beneath a confined dir: -ELOOP under both
 * backends; ordinary procfs links (self, mounts) are. */
static void test_magic_links(void **state) {
  (void)state;
  fdk_dir *proc, *self;
  assert_int_equal(fdk_dir_open(&proc, fdk_dir_fs(), "/proc"), 0);
  assert_int_equal(fdk_dir_open(&self, fdk_dir_fs(), "/proc/self"), 0);
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(kBackends[b]));
    fdk_fd *fd = NULL;
    static const char *const magic[] = {"fd/0", "fd/1", "exe", "cwd", "root", "ns/net", "fd/0/"};
    for (size_t i = 0; i < sizeof magic / sizeof magic[0]; i++) {
      expect_result(magic[i], fdk_openat(&fd, self, magic[i], FDK_O_RDONLY | FDK_O_NONBLOCK, 0), -ELOOP);
      expect_result(magic[i], fdk_openat(&fd, self, magic[i], FDK_O_PATH, 0), -ELOOP);
    }
    expect_result("self/exe", fdk_openat(&fd, proc, "self/exe", FDK_O_PATH, 0), -ELOOP);
    expect_result("self/fd/0", fdk_openat(&fd, proc, "self/fd/0", FDK_O_PATH, 0), -ELOOP);
    expect_result("self/root/etc", fdk_openat(&fd, proc, "self/root/etc", FDK_O_PATH, 0), -ELOOP);
    /* The link itself may be named. */
    expect_result("exe nofollow", fdk_openat(&fd, self, "exe", FDK_O_PATH | FDK_O_NOFOLLOW, 0), 0);
    fdk_fd_unref(fd);
    expect_result("self/status", fdk_openat(&fd, proc, "self/status", FDK_O_RDONLY, 0), 0);
    fdk_fd_unref(fd);
    expect_result("mounts", fdk_openat(&fd, proc, "mounts", FDK_O_RDONLY, 0), 0);
    fdk_fd_unref(fd);
    fdk_stat *st;
    assert_int_equal(fdk_stat_new(&st), 0);
    expect_result("stat exe", fdk_statat(st, self, "exe", 1), -ELOOP);
    expect_result("lstat exe", fdk_statat(st, self, "exe", 0), 0);
    assert_int_equal(fdk_stat_kind(st), FDK_KIND_SYMLINK);
    fdk_stat_free(st);
  }
  fdk_dir_unref(self);
  fdk_dir_unref(proc);
}

/* fdk_dir_fs() is plain openat: absolute paths, "..", symlinks anywhere. */
static void test_unconfined(void **state) {
  (void)state;
  fdk_fd *fd;
  assert_int_equal(fdk_openat(&fd, fdk_dir_fs(), "/etc/passwd", FDK_O_RDONLY, 0), 0);
  fdk_fd_unref(fd);
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/root/dir/link_out", g_top);
  assert_int_equal(fdk_openat(&fd, fdk_dir_fs(), p, FDK_O_RDONLY, 0), 0);
  assert_int_equal(fdkt_fd_ino(fd), fdkt_ino(g_top, "outside_file"));
  fdk_fd_unref(fd);
  snprintf(p, sizeof p, "%s/root/link_etc/passwd", g_top);
  assert_int_equal(fdk_openat(&fd, fdk_dir_fs(), p, FDK_O_RDONLY, 0), 0);
  fdk_fd_unref(fd);
  assert_int_equal(fdk_openat(&fd, fdk_dir_fs(), "", FDK_O_PATH, 0), 0);
  fdk_fd_unref(fd);
  assert_null(fdk_dir_handle(fdk_dir_fs()));
  assert_null(fdk_dir_handle(fdk_dir_cwd()));
  assert_ptr_equal(fdk_dir_ref(fdk_dir_fs()), fdk_dir_fs());
  assert_null(fdk_dir_unref(fdk_dir_fs()));
  assert_null(fdk_dir_unref(fdk_dir_cwd()));
  assert_null(fdk_dir_unref(NULL));
  /* realpath of fdk_dir_fs() is absolute and follows anything. */
  char *text;
  snprintf(p, sizeof p, "%s/root/dir/link_out", g_top);
  char want[PATH_MAX];
  assert_non_null(realpath(p, want));
  assert_int_equal(fdk_realpath(&text, fdk_dir_fs(), p), (ssize_t)strlen(want));
  assert_string_equal(text, want);
  fdk_free(text);
}

/* Beneath a confined dir, realpath is confined: relative to the dir, escapes refused, and
 * nothing told about what lies outside. */
static void check_realpath(fdk_dir *dir, const char *base_name) {
  static const struct {
    const char *path, *want;
    int err;
  } cases[] = {
      {"", ".", 0},
      {".", ".", 0},
      {"file", "file", 0},
      {"dir/sub/deep_file", "dir/sub/deep_file", 0},
      {"link_dir", "dir", 0},
      {"link_dir/sub/..", "dir", 0},
      {"link_up_in/file", "file", 0},
      {"chain1", "file", 0},
      {"dir/sub/link_root_rel", ".", 0},
      {"link_dot/link_dot/dir/", "dir", 0},
      {"dir/link_out", NULL, -EXDEV},
      {"link_up/outside_file", NULL, -EXDEV},
      {"link_up/missing_outside", NULL, -EXDEV},
      {"..", NULL, -EXDEV},
      {"/etc", NULL, -EXDEV},
      {"missing", NULL, -ENOENT},
      {"loop_a", NULL, -ELOOP},
      {"file/", NULL, -ENOTDIR},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(g_ctx, sizeof g_ctx, "[%s, %s] realpath '%s':", backend_name(fdk_resolve_backend()), base_name,
             cases[i].path);
    char *text = NULL;
    ssize_t n = fdk_realpath(&text, dir, cases[i].path);
    if (cases[i].want) {
      expect_result("realpath", n < 0 ? (int)n : 0, 0);
      assert_int_equal(n, (ssize_t)strlen(cases[i].want));
      assert_string_equal(text, cases[i].want);
      fdk_free(text);
    } else {
      expect_result("realpath", (int)n, cases[i].err);
      assert_null(text);
      if (cases[i].err == -EXDEV) assert_int_equal(fdk_last_error_is_escape(), 1);
    }
  }
}

static void test_realpath_confined(void **state) {
  (void)state;
  fdk_dir *dir = open_root();
  int saved = open(".", O_PATH | O_CLOEXEC);
  int raw;
  assert_int_equal(fdk_fd_use(fdk_dir_handle(dir), &raw), 0);
  assert_int_equal(fchdir(raw), 0);
  fdk_fd_unuse(fdk_dir_handle(dir));
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    check_realpath(dir, "dir handle");
    check_realpath(fdk_dir_cwd(), "cwd");
  }
  assert_int_equal(fchdir(saved), 0);
  close(saved);
  fdk_dir_unref(dir);
}

static void test_dir_handles(void **state) {
  (void)state;
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/root", g_top);
  fdk_fd *raw_dir;
  assert_int_equal(fdk_openat(&raw_dir, fdk_dir_fs(), p, FDK_O_RDONLY | FDK_O_DIRECTORY, 0), 0);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_from_fd(&dir, raw_dir), 0);
  assert_ptr_equal(fdk_dir_handle(dir), raw_dir);
  fdk_fd_unref(raw_dir); /* the dir keeps its own reference */
  assert_ptr_equal(fdk_dir_ref(dir), dir);
  fdk_dir_unref(dir);
  fdk_fd *fd;
  assert_int_equal(fdk_openat(&fd, dir, "dir/sub/deep_file", FDK_O_RDONLY, 0), 0);
  fdk_fd_unref(fd);
  /* A handle on a closed descriptor answers -EBADF. */
  assert_int_equal(fdk_fd_close(fdk_dir_handle(dir)), 0);
  assert_int_equal(fdk_openat(&fd, dir, "file", FDK_O_RDONLY, 0), -EBADF);
  fdk_dir_unref(dir);

  snprintf(p, sizeof p, "%s/root/file", g_top);
  assert_int_equal(fdk_openat(&fd, fdk_dir_fs(), p, FDK_O_RDONLY, 0), 0);
  fdk_dir *not_dir = NULL;
  assert_int_equal(fdk_dir_from_fd(&not_dir, fd), -ENOTDIR);
  assert_null(not_dir);
  fdk_fd_unref(fd);

  /* fchdir to a dir handle's descriptor. */
  snprintf(p, sizeof p, "%s/root/dir", g_top);
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), p), 0);
  int saved = open(".", O_PATH | O_CLOEXEC);
  int raw;
  assert_int_equal(fdk_fd_use(fdk_dir_handle(dir), &raw), 0);
  assert_int_equal(fchdir(raw), 0);
  fdk_fd_unuse(fdk_dir_handle(dir));
  assert_int_equal(access("file2", F_OK), 0);
  assert_int_equal(fchdir(saved), 0);
  close(saved);
  fdk_dir_unref(dir);
}

static void test_bad_arguments(void **state) {
  (void)state;
  fdk_fd *fd = NULL;
  fdk_dir *dir = fdk_dir_cwd();
  assert_int_equal(fdk_openat(NULL, dir, "x", 0, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, NULL, "x", 0, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, dir, NULL, 0, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, dir, "x", 0x80000000u, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, dir, "x", FDK_O_WRONLY | FDK_O_RDWR, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, dir, "x", FDK_O_PATH | FDK_O_WRONLY, 0), -EINVAL);
  assert_int_equal(fdk_openat(&fd, dir, "x", FDK_O_CREAT, 010000), -EINVAL);
  assert_null(fd);
  assert_int_equal(fdk_open_flags_supported(FDK_O_RDWR | FDK_O_CREAT | FDK_O_EXCL | FDK_O_SYNC), 1);
  assert_int_equal(fdk_open_flags_supported(0x80000000u), 0);
  assert_int_equal(fdk_open_flags_supported(FDK_O_PATH | FDK_O_TRUNC), 0);
  assert_int_equal(fdk_resolve_set_backend(7), -EINVAL);
  assert_int_equal(fdk_mkdirat(dir, NULL, 0755), -EINVAL);
  assert_int_equal(fdk_symlinkat(NULL, dir, "x"), -EINVAL);
  assert_int_equal(fdk_chmodat(dir, "x", 0644, 0x10), -EINVAL);
  assert_int_equal(fdk_chownat(dir, "x", -2, 0, 0), -EINVAL);
  assert_int_equal(fdk_statat(NULL, dir, "x", 1), -EINVAL);
  assert_int_equal(fdk_readdir(NULL, dir, "x"), -EINVAL);
  assert_int_equal(fdk_dir_open(NULL, dir, "x"), -EINVAL);
  assert_int_equal(fdk_dir_from_fd(NULL, NULL), -EINVAL);
  assert_null(fdk_stat_free(NULL));
  assert_int_equal(fdk_stat_kind(NULL), -EINVAL);
  assert_int_equal(fdk_stat_size(NULL), 0);
  assert_int_equal(fdk_stat_mtime(NULL, NULL, NULL), -EINVAL);
  assert_null(fdk_dirents_free(NULL));
  assert_null(fdk_dir_iter_free(NULL));
  assert_int_equal(fdk_dirents_count(NULL), 0);
  assert_null(fdk_dirents_name(NULL, 0));
  assert_int_equal(fdk_dirents_kind(NULL, 0), -EINVAL);
}


static void expect_same_stat(const fdk_stat *st, const struct stat *want, int kind) {
  assert_int_equal(fdk_stat_kind(st), kind);
  assert_int_equal(fdk_stat_size(st), want->st_size);
  assert_int_equal(fdk_stat_blocks(st), want->st_blocks);
  assert_int_equal(fdk_stat_blksize(st), want->st_blksize);
  assert_int_equal(fdk_stat_ino(st), want->st_ino);
  assert_int_equal(fdk_stat_dev(st), want->st_dev);
  assert_int_equal(fdk_stat_rdev(st), want->st_rdev);
  assert_int_equal(fdk_stat_nlink(st), want->st_nlink);
  assert_int_equal(fdk_stat_uid(st), want->st_uid);
  assert_int_equal(fdk_stat_gid(st), want->st_gid);
  assert_int_equal(fdk_stat_perm(st), want->st_mode & 07777);
  assert_int_equal(fdk_stat_mode(st), want->st_mode);
  int64_t sec, nsec;
  assert_int_equal(fdk_stat_atime(st, &sec, &nsec), 0);
  assert_int_equal(sec, want->st_atim.tv_sec);
  assert_int_equal(nsec, want->st_atim.tv_nsec);
  assert_int_equal(fdk_stat_mtime(st, &sec, &nsec), 0);
  assert_int_equal(sec, want->st_mtim.tv_sec);
  assert_int_equal(nsec, want->st_mtim.tv_nsec);
  assert_int_equal(fdk_stat_ctime(st, &sec, &nsec), 0);
  assert_int_equal(sec, want->st_ctim.tv_sec);
  assert_int_equal(nsec, want->st_ctim.tv_nsec);
}

/* Birth time where the file system keeps one (as statx reports it), -ENODATA elsewhere. */
static void expect_btime(const fdk_stat *st, const char *abs_path, int follow) {
  struct statx sx;
  assert_int_equal(statx(AT_FDCWD, abs_path, follow ? 0 : AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx), 0);
  int64_t sec = -1, nsec = -1;
  if (sx.stx_mask & STATX_BTIME) {
    assert_int_equal(fdk_stat_btime(st, &sec, &nsec), 0);
    assert_int_equal(sec, sx.stx_btime.tv_sec);
    assert_int_equal(nsec, sx.stx_btime.tv_nsec);
  } else {
    assert_int_equal(fdk_stat_btime(st, &sec, &nsec), -ENODATA);
  }
}

static void test_stat_every_kind(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  char sock_path[PATH_MAX + 32];
  snprintf(sock_path, sizeof sock_path, "%s/root/sock", top);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  assert_true(strlen(sock_path) < sizeof addr.sun_path);
  strcpy(addr.sun_path, sock_path);
  assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof addr), 0);
  fdk_dir *dev;
  assert_int_equal(fdk_dir_open(&dev, fdk_dir_fs(), "/dev"), 0);

  static const struct {
    const char *rel;
    int follow, kind;
  } kinds[] = {
      {"file", 1, FDK_KIND_REGULAR}, {"dir", 1, FDK_KIND_DIR},      {"link_file", 0, FDK_KIND_SYMLINK},
      {"link_file", 1, FDK_KIND_REGULAR}, {"link_dir", 1, FDK_KIND_DIR}, {"fifo", 1, FDK_KIND_FIFO},
      {"link_fifo", 0, FDK_KIND_SYMLINK}, {"sock", 1, FDK_KIND_SOCKET}, {"null", 1, FDK_KIND_CHAR},
  };
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
      int is_dev = strcmp(kinds[i].rel, "null") == 0;
      char abs_path[PATH_MAX + 32];
      snprintf(abs_path, sizeof abs_path, is_dev ? "/dev/%s" : "%s/root/%s", is_dev ? kinds[i].rel : top, kinds[i].rel);
      struct stat want;
      assert_int_equal(kinds[i].follow ? stat(abs_path, &want) : lstat(abs_path, &want), 0);
      assert_int_equal(fdk_statat(st, is_dev ? dev : dir, kinds[i].rel, kinds[i].follow), 0);
      expect_same_stat(st, &want, kinds[i].kind);
      expect_btime(st, abs_path, kinds[i].follow);
      /* Unconfined, by absolute path. */
      assert_int_equal(fdk_statat(st, fdk_dir_fs(), abs_path, kinds[i].follow), 0);
      expect_same_stat(st, &want, kinds[i].kind);
    }
  }
  /* fstat on an open handle, and on a closed one. */
  fdk_fd *fd;
  assert_int_equal(fdk_openat(&fd, dir, "file", FDK_O_RDONLY, 0), 0);
  struct stat want;
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/root/file", top);
  assert_int_equal(stat(p, &want), 0);
  assert_int_equal(fdk_fstat(st, fd), 0);
  expect_same_stat(st, &want, FDK_KIND_REGULAR);
  assert_int_equal(fdk_fd_close(fd), 0);
  assert_int_equal(fdk_fstat(st, fd), -EBADF);
  fdk_fd_unref(fd);
  fdk_stat_free(st);
  fdk_dir_unref(dev);
  close(sock);
  drop_fixture(top, dir);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void test_readdir_and_iterator(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    fdk_dirents *list;
    assert_int_equal(fdk_readdir(&list, dir, "link_dir"), 4);
    assert_int_equal(fdk_dirents_count(list), 4);
    const char *names[4];
    for (size_t i = 0; i < 4; i++) {
      names[i] = fdk_dirents_name(list, i);
      int kind = fdk_dirents_kind(list, i);
      int want = strcmp(names[i], "sub") == 0 ? FDK_KIND_DIR
                 : strcmp(names[i], "file2") == 0 ? FDK_KIND_REGULAR
                                                 : FDK_KIND_SYMLINK;
      assert_int_equal(kind, want);
    }
    assert_null(fdk_dirents_name(list, 4));
    assert_int_equal(fdk_dirents_kind(list, 4), -EINVAL);
    qsort(names, 4, sizeof names[0], cmp_names);
    assert_string_equal(names[0], "file2");
    assert_string_equal(names[1], "link_out");
    assert_string_equal(names[2], "link_up2");
    assert_string_equal(names[3], "sub");
    fdk_dirents_free(list);
    assert_int_equal(fdk_readdir(&list, dir, "empty"), 0);
    fdk_dirents_free(list);
    assert_int_equal(fdk_readdir(&list, dir, "link_up"), -EXDEV);
    assert_int_equal(fdk_readdir(&list, dir, "file"), -ENOTDIR);
  }
  /* A directory too large to want in memory at once, streamed. */
  assert_int_equal(fdk_mkdirat(dir, "big", 0755), 0);
  char name[64];
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "big/entry-%04d", i);
    fdk_fd *fd;
    assert_int_equal(fdk_openat(&fd, dir, name, FDK_O_WRONLY | FDK_O_CREAT | FDK_O_EXCL, 0644), 0);
    fdk_fd_unref(fd);
  }
  fdk_dir_iter *it;
  assert_int_equal(fdk_dir_iter_open(&it, dir, "big/"), 0);
  static char seen[3000];
  memset(seen, 0, sizeof seen);
  const char *entry;
  int kind, r, count = 0;
  while ((r = fdk_dir_iter_next(it, &entry, &kind)) == 1) {
    int idx;
    assert_int_equal(sscanf(entry, "entry-%d", &idx), 1);
    assert_true(idx >= 0 && idx < 3000 && !seen[idx]);
    seen[idx] = 1;
    assert_int_equal(kind, FDK_KIND_REGULAR);
    count++;
  }
  assert_int_equal(r, 0);
  assert_int_equal(count, 3000);
  assert_int_equal(fdk_dir_iter_next(it, &entry, &kind), 0);
  fdk_dir_iter_free(it);
  assert_int_equal(fdk_dir_iter_open(&it, dir, "../"), -EXDEV);
  /* The same directory read whole: many reads of the kernel's entries, each entry once. */
  fdk_dirents *list;
  assert_int_equal(fdk_readdir(&list, dir, "big"), 3000);
  memset(seen, 0, sizeof seen);
  for (size_t i = 0; i < 3000; i++) {
    int idx;
    assert_int_equal(sscanf(fdk_dirents_name(list, i), "entry-%d", &idx), 1);
    assert_true(idx >= 0 && idx < 3000 && !seen[idx]);
    seen[idx] = 1;
    assert_int_equal(fdk_dirents_kind(list, i), FDK_KIND_REGULAR);
  }
  fdk_dirents_free(list);
  drop_fixture(top, dir);
}


static void test_async_forms(void **state) {
  (void)state;
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_fs_result a;
  fdk_op *op;

#define RUN(call)                            \
  do {                                       \
    memset(&a, 0, sizeof a);                 \
    assert_int_equal(call, 0);               \
    assert_int_equal(a.calls, 0);            \
    fdkt_run_until(loop, &a.calls, 5000);    \
    assert_int_equal(a.calls, 1);            \
  } while (0)

  RUN(fdk_openat_async(loop, dir, "link_dir/sub/deep_file", FDK_O_RDONLY, 0, fdkt_fs_on_open, &a, &op));
  assert_int_equal(a.result, 0);
  assert_int_equal(fdkt_fd_ino(a.fd), fdkt_ino(top, "root/dir/sub/deep_file"));
  assert_int_equal(fdk_fd_is_blocking(a.fd), 1);
  fdk_fd_unref(a.fd);
  RUN(fdk_openat_async(loop, dir, "link_up/outside_file", FDK_O_RDONLY, 0, fdkt_fs_on_open, &a, NULL));
  assert_int_equal(a.result, -EXDEV);
  assert_null(a.fd);
  assert_string_equal(a.detail, "openat: escapes its directory: 'link_up/outside_file'");
  assert_int_equal(fdk_last_error_is_escape(), 1);
  RUN(fdk_dir_open_async(loop, dir, "dir", fdkt_fs_on_dir, &a, NULL));
  assert_int_equal(a.result, 0);
  fdk_dir_unref(a.dir);
  RUN(fdk_mkdirat_async(loop, dir, "made", 0700, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_renameat_async(loop, dir, "made", dir, "made2", fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_renameat2_async(loop, dir, "made2", dir, "dir", FDK_RENAME_NOREPLACE, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, -EEXIST);
  RUN(fdk_rmdirat_async(loop, dir, "made2", fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_symlinkat_async(loop, "../..", dir, "up2", fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_readlinkat_async(loop, dir, "up2", fdkt_fs_on_text, &a, NULL));
  assert_int_equal(a.result, 5);
  assert_string_equal(a.text, "../..");
  fdk_free(a.text);
  RUN(fdk_linkat_async(loop, dir, "up2", dir, "up3", fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_unlinkat_async(loop, dir, "up3", fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_chmodat_async(loop, dir, "link_file", 0640, FDK_FOLLOW, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  assert_int_equal(lmode_in(top, "root/file") & 07777, 0640);
  RUN(fdk_chownat_async(loop, dir, "file", 99, 98, 0, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  RUN(fdk_utimensat_async(loop, dir, "file", 10, 0, 20, 0, 0, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  RUN(fdk_statat_async(loop, st, dir, "link_file", 1, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  assert_int_equal(fdk_stat_uid(st), 99);
  assert_int_equal(fdk_stat_gid(st), 98);
  int64_t sec;
  fdk_stat_mtime(st, &sec, NULL);
  assert_int_equal(sec, 20);
  RUN(fdk_statat_async(loop, st, dir, "up2", 1, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, -EXDEV);
  fdk_fd *fd;
  assert_int_equal(fdk_openat(&fd, dir, "dir", FDK_O_RDONLY, 0), 0);
  RUN(fdk_fstat_async(loop, st, fd, fdkt_fs_on_result, &a, NULL));
  assert_int_equal(a.result, 0);
  assert_int_equal(fdk_stat_kind(st), FDK_KIND_DIR);
  fdk_fd_unref(fd);
  fdk_stat_free(st);
  RUN(fdk_readdir_async(loop, dir, "with space", fdkt_fs_on_list, &a, NULL));
  assert_int_equal(a.result, 1);
  assert_string_equal(fdk_dirents_name(a.list, 0), "inner");
  fdk_dirents_free(a.list);
  RUN(fdk_realpath_async(loop, dir, "link_dir", fdkt_fs_on_text, &a, NULL));
  assert_int_equal(a.result, 3);
  assert_string_equal(a.text, "dir");
  fdk_free(a.text);
#undef RUN

  /* Cancelled at once: each completes once with -ECANCELED, or with its result when the
   * worker had already finished; whatever a cancelled run produced is released (the
   * teardown counts descriptors, ASan counts memory). */
  enum { N = 64 };
  static fdkt_fs_result many[N];
  memset(many, 0, sizeof many);
  for (int i = 0; i < N; i++) {
    fdk_op *o;
    switch (i % 4) {
      case 0: assert_int_equal(fdk_openat_async(loop, dir, "file", FDK_O_RDONLY, 0, fdkt_fs_on_open, &many[i], &o), 0); break;
      case 1: assert_int_equal(fdk_readlinkat_async(loop, dir, "up2", fdkt_fs_on_text, &many[i], &o), 0); break;
      case 2: assert_int_equal(fdk_readdir_async(loop, dir, "dir", fdkt_fs_on_list, &many[i], &o), 0); break;
      default: assert_int_equal(fdk_dir_open_async(loop, dir, "dir", fdkt_fs_on_dir, &many[i], &o), 0); break;
    }
    fdk_op_cancel(o);
  }
  int cancelled = 0;
  for (int i = 0; i < N; i++) {
    fdkt_run_until(loop, &many[i].calls, 5000);
    if (many[i].result == -ECANCELED) {
      cancelled++;
      assert_null(many[i].fd);
      assert_null(many[i].text);
      assert_null(many[i].list);
      assert_null(many[i].dir);
    } else {
      assert_true(many[i].result >= 0);
    }
    fdk_fd_unref(many[i].fd);
    fdk_free(many[i].text);
    fdk_dirents_free(many[i].list);
    fdk_dir_unref(many[i].dir);
  }
  assert_true(cancelled > 0);
  for (int i = 0; i < N; i++) assert_int_equal(many[i].calls, 1);

  /* Bad arguments fail at once and never call back. */
  memset(&a, 0, sizeof a);
  assert_int_equal(fdk_openat_async(NULL, dir, "file", 0, 0, fdkt_fs_on_open, &a, NULL), -EINVAL);
  assert_int_equal(fdk_openat_async(loop, dir, "file", 0x80000000u, 0, fdkt_fs_on_open, &a, NULL), -EINVAL);
  assert_int_equal(fdk_mkdirat_async(loop, dir, "x", 0755, NULL, &a, NULL), -EINVAL);
  assert_int_equal(a.calls, 0);
  /* The dir is referenced until the callback: dropping ours first is fine. */
  fdk_dir *sub;
  assert_int_equal(fdk_dir_open(&sub, dir, "dir"), 0);
  memset(&a, 0, sizeof a);
  assert_int_equal(fdk_openat_async(loop, sub, "file2", FDK_O_RDONLY, 0, fdkt_fs_on_open, &a, NULL), 0);
  fdk_dir_unref(sub);
  fdkt_run_until(loop, &a.calls, 5000);
  assert_int_equal(a.result, 0);
  fdk_fd_unref(a.fd);

  assert_int_equal(fdk_loop_free(loop), 0);
  drop_fixture(top, dir);
}

/* A mode given with FDK_O_DIRECTORY (and no FDK_O_CREAT) is ignored, as openat ignores it:
 * openat2 refuses a mode without O_CREAT or the whole of O_TMPFILE. */
static void test_mode_without_create_is_ignored(void **state) {
  (void)state;
  fdk_dir *dir = open_root();
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(kBackends[b]));
    fdk_fd *fd = NULL;
    expect_result("dir/sub DIRECTORY 0644", fdk_openat(&fd, dir, "dir/sub", FDK_O_DIRECTORY, 0644), 0);
    fdk_fd_unref(fd);
    expect_result("dir DIRECTORY 0755", fdk_openat(&fd, dir, "dir", FDK_O_DIRECTORY, 0755), 0);
    fdk_fd_unref(fd);
    expect_result("dir/file2 RDONLY 0600", fdk_openat(&fd, dir, "dir/file2", FDK_O_RDONLY, 0600), 0);
    fdk_fd_unref(fd);
  }
  fdk_dir_unref(dir);
}

/* O_CREAT|O_DIRECTORY is EINVAL before any lookup, as the kernel answers; the flag query
 * refuses the pair. */
static void test_create_directory_refused(void **state) {
  (void)state;
  fdk_fd *fd = NULL;
  assert_int_equal(fdk_open_flags_supported(FDK_O_CREAT | FDK_O_DIRECTORY), 0);
  for (size_t b = 0; b < 2; b++) {
    if (!use_backend(kBackends[b])) continue;
    assert_int_equal(fdk_openat(&fd, fdk_dir_cwd(), "missing/x", FDK_O_CREAT | FDK_O_DIRECTORY, 0755), -EINVAL);
    assert_int_equal(fdk_openat(&fd, fdk_dir_cwd(), "../x", FDK_O_CREAT | FDK_O_DIRECTORY, 0755), -EINVAL);
  }
  assert_null(fd);
}

/* The outcome of a check run in a child: 0 passed, 77 skipped, else failed. */
#define CHILD_CHECK(cond)                                                                      \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "# child: %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond,      \
              fdk_last_error());                                                               \
      return 1;                                                                                \
    }                                                                                          \
  } while (0)


/* Forced openat2 stays openat2: when every retry answers EAGAIN it returns -EAGAIN; the
 * automatic choice alone finishes with the walk. */
static int forced_openat2_child(void *arg) {
  fdk_dir *dir = arg;
  if (fdkt_openat2_always_eagain() < 0) return 77;
  fdk_fd *fd = NULL;
  CHILD_CHECK(fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) == 0);
  CHILD_CHECK(fdk_openat(&fd, dir, "dir/sub/deep_file", FDK_O_RDONLY, 0) == -EAGAIN);
  CHILD_CHECK(fdk_dir_open((fdk_dir **)&fd, dir, "dir/sub") == -EAGAIN);
  CHILD_CHECK(fdk_resolve_set_backend(FDK_RESOLVE_AUTO) == 0);
  /* The automatic choice is openat2 here unless the environment forces the walk. */
  if (!getenv("FDKIT_RESOLVE")) CHILD_CHECK(fdk_resolve_backend() == FDK_RESOLVE_OPENAT2);
  CHILD_CHECK(fdk_openat(&fd, dir, "dir/sub/deep_file", FDK_O_RDONLY, 0) == 0);
  fdk_fd_unref(fd);
  return 0;
}

static void test_forced_openat2_never_walks(void **state) {
  (void)state;
  if (!use_backend(FDK_RESOLVE_OPENAT2)) return; /* an old kernel: nothing to force */
  fdk_dir *dir = open_root();
  fdkt_in_child(forced_openat2_child, dir, 0);
  fdk_dir_unref(dir);
}

/* Two mounts inside one root: a rename or link between them is a genuine cross-device
 * -EXDEV, told apart from an escape. */
static int cross_device_child(void *arg) {
  const char *top = arg;
  char mnt[PATH_MAX + 16];
  snprintf(mnt, sizeof mnt, "%s/root/empty", top);
  if (mount("fdkit-test", mnt, "tmpfs", 0, NULL) < 0) return 77;
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", top);
  fdk_dir *dir;
  CHILD_CHECK(fdk_dir_open(&dir, fdk_dir_fs(), root) == 0);
  static const int backends[] = {FDK_RESOLVE_OPENAT2, FDK_RESOLVE_FALLBACK};
  for (int b = 0; b < 2; b++) {
    if (fdk_resolve_set_backend(backends[b]) != 0) continue;
    CHILD_CHECK(fdk_renameat(dir, "dir/file2", dir, "empty/moved") == -EXDEV);
    CHILD_CHECK(fdk_last_error_is_escape() == 0);
    CHILD_CHECK(strstr(fdk_last_error(), "cross-device") != NULL);
    CHILD_CHECK(fdk_linkat(dir, "dir/file2", dir, "empty/linked") == -EXDEV);
    CHILD_CHECK(fdk_last_error_is_escape() == 0);
    CHILD_CHECK(fdk_renameat(dir, "dir/file2", dir, "../moved") == -EXDEV);
    CHILD_CHECK(fdk_last_error_is_escape() == 1);
    CHILD_CHECK(fdk_linkat(dir, "dir/file2", dir, "link_up/linked") == -EXDEV);
    CHILD_CHECK(fdk_last_error_is_escape() == 1);
  }
  fdk_dir_unref(dir);
  return 0;
}

/* fn(top) in a child with its own mount namespace, over a fresh fixture. */
static void on_fixture_in_child(int (*fn)(void *)) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  fdkt_in_child(fn, top, 1);
  drop_fixture(top, dir);
}

static void test_escape_told_from_cross_device(void **state) {
  (void)state;
  on_fixture_in_child(cross_device_child);
}

/* In a child: detaches /proc and installs the old-kernel filter, so that neither the
 * newer system calls nor /proc links serve. 0, or 77 (skip) where that cannot be done. */
static int without_proc_nor_new_calls(void) {
  if (umount2("/proc", MNT_DETACH) < 0 && errno != EINVAL) return 77;
  if (access("/proc/self/fd", F_OK) == 0) return 77;
  if (fdkt_emulate_old_kernel() < 0) return 77;
  return fdk_resolve_set_backend(FDK_RESOLVE_AUTO) == 0 ? 0 : 1;
}

/* chmod where the kernel has no fchmodat2 and /proc is not mounted: the file is opened
 * again through the same confined resolution. */
static int chmod_without_proc_child(void *arg) {
  const char *top = arg;
  int setup = without_proc_nor_new_calls();
  if (setup) return setup;
  CHILD_CHECK(fdk_resolve_backend() == FDK_RESOLVE_FALLBACK);
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", top);
  fdk_dir *dir;
  CHILD_CHECK(fdk_dir_open(&dir, fdk_dir_fs(), root) == 0);
  CHILD_CHECK(fdk_chmodat(dir, "dir/file2", 0604, 0) == 0);
  CHILD_CHECK((lmode_in(top, "root/dir/file2") & 07777) == 0604);
  CHILD_CHECK(fdk_chmodat(dir, "link_file", 0640, FDK_FOLLOW) == 0);
  CHILD_CHECK((lmode_in(top, "root/file") & 07777) == 0640);
  CHILD_CHECK(fdk_chmodat(dir, "dir/sub", 0750, 0) == 0);
  CHILD_CHECK((lmode_in(top, "root/dir/sub") & 07777) == 0750);
  CHILD_CHECK(fdk_chmodat(dir, "link_file", 0640, 0) == -EOPNOTSUPP);
  CHILD_CHECK(fdk_chmodat(dir, "dir/link_out", 0600, FDK_FOLLOW) == -EXDEV);
  fdk_dir_unref(dir);
  return 0;
}

static void test_chmod_without_fchmodat2_nor_proc(void **state) {
  (void)state;
  on_fixture_in_child(chmod_without_proc_child);
}

/* linkat with trailing slashes, against the kernel's own answer for the same names. */
static void check_linkat_slashes(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  static const char *const sources[] = {"file",      "file/",      "dir",      "dir/",    "link_dir", "link_dir/",
                                        "link_file/", "dangling/", "missing/", "missing", "link_file", "dangling",
                                        "chain1"};
  static const char *const targets[] = {"new", "new/", "chain2", "chain2/", "dir", "dir/", "dangling/", "missing/x"};
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    for (size_t j = 0; j < sizeof targets / sizeof targets[0]; j++) {
      char from[PATH_MAX + 64], to[PATH_MAX + 64];
      snprintf(from, sizeof from, "%s/root/%s", top, sources[i]);
      snprintf(to, sizeof to, "%s/root/%s", top, targets[j]);
      for (int follow = 0; follow < 2; follow++) {
        int want = linkat(AT_FDCWD, from, AT_FDCWD, to, follow ? AT_SYMLINK_FOLLOW : 0) == 0 ? 0 : -errno;
        if (want == 0) assert_int_equal(unlinkat(AT_FDCWD, to, 0), 0);
        snprintf(g_ctx, sizeof g_ctx, "[%s] link%s '%s' -> '%s':", backend_name(fdk_resolve_backend()),
                 follow ? " follow" : "", sources[i], targets[j]);
        int got = follow ? fdk_linkat2(dir, sources[i], dir, targets[j], FDK_FOLLOW)
                         : fdk_linkat(dir, sources[i], dir, targets[j]);
        if (got == 0) assert_int_equal(unlinkat(AT_FDCWD, to, 0), 0);
        expect_result("linkat", got, want);
      }
    }
  }
  drop_fixture(top, dir);
}

static void test_linkat_trailing_slashes(void **state) {
  (void)state;
  for_each_backend(check_linkat_slashes);
}

/* --- The entry points beyond open and the last-component calls, each against the kernel's
 * own call on the same names (the fixture's root opened plainly is the oracle's base;
 * only paths that stay inside are asked of it), under both backends. */

/* The fixture's root (into root, PATH_MAX + 8 bytes) opened plainly: the base of the
 * kernel's answers. */
static int open_raw_root(const char *top, char *root) {
  snprintf(root, PATH_MAX + 8, "%s/root", top);
  return open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Compares fdkit's answer for one path with the kernel's. */
static void compare_call(const char *op, const char *path, int want, int got) {
  snprintf(g_ctx, sizeof g_ctx, "[%s] %s '%s':", backend_name(fdk_resolve_backend()), op, path);
  expect_result(op, got, want);
}

static int kernel(int r) { return r < 0 ? -errno : 0; }

static void check_tmpfile_and_link_fd(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  assert_int_equal(fdk_open_flags_supported(FDK_O_TMPFILE | FDK_O_RDONLY), 0);
  assert_int_equal(fdk_open_flags_supported(FDK_O_TMPFILE | FDK_O_WRONLY | FDK_O_CREAT), 0);
  assert_int_equal(fdk_open_flags_supported(FDK_O_TMPFILE | FDK_O_RDWR), 1);
  fdk_fd *fd;
  expect_result("tmpfile rdonly", fdk_openat(&fd, dir, "dir", FDK_O_TMPFILE, 0600), -EINVAL);
  expect_result("tmpfile escaping", fdk_openat(&fd, dir, "link_up", FDK_O_TMPFILE | FDK_O_WRONLY, 0600), -EXDEV);
  expect_result("tmpfile in a file", fdk_openat(&fd, dir, "file", FDK_O_TMPFILE | FDK_O_WRONLY, 0600), -ENOTDIR);
  /* Through a symlink to a directory inside, as openat2 follows it. */
  expect_result("tmpfile", fdk_openat(&fd, dir, "link_dir", FDK_O_TMPFILE | FDK_O_RDWR, 0640), 0);
  assert_int_equal(fdk_write(fd, "tmp", 3), 3);
  expect_result("publish out", fdk_linkat_fd(fd, dir, "../published"), -EXDEV);
  expect_result("publish via link out", fdk_linkat_fd(fd, dir, "link_up/published"), -EXDEV);
  assert_false(exists(top, "published"));
  expect_result("publish over", fdk_linkat_fd(fd, dir, "chain2"), -EEXIST);
  expect_result("publish dangling", fdk_linkat_fd(fd, dir, "dangling"), -EEXIST);
  expect_result("publish", fdk_linkat_fd(fd, dir, "link_dir/published"), 0);
  assert_true(S_ISREG(lmode_in(top, "root/dir/published")));
  assert_int_equal(lmode_in(top, "root/dir/published") & 0777, 0640 & ~umask(022));
  umask(022);
  fdk_fd_unref(fd);
  /* EXCL: never to be named (the kernel's ENOENT); a directory cannot be linked. */
  expect_result("tmpfile excl", fdk_openat(&fd, dir, "dir", FDK_O_TMPFILE | FDK_O_WRONLY | FDK_O_EXCL, 0600), 0);
  expect_result("publish excl", fdk_linkat_fd(fd, dir, "never"), -ENOENT);
  fdk_fd_unref(fd);
  assert_false(exists(top, "root/never"));
  assert_int_equal(fdk_openat(&fd, dir, "dir", FDK_O_PATH | FDK_O_DIRECTORY, 0), 0);
  expect_result("publish a directory", fdk_linkat_fd(fd, dir, "dir_again"), -EPERM);
  fdk_fd_close(fd);
  expect_result("publish closed", fdk_linkat_fd(fd, dir, "closed"), -EBADF);
  fdk_fd_unref(fd);
  drop_fixture(top, dir);
}

static void test_tmpfile_and_link_fd(void **state) {
  (void)state;
  for_each_backend(check_tmpfile_and_link_fd);
}

/* fdk_linkat_fd for a caller the kernel refuses linkat(AT_EMPTY_PATH) to: the unnamed
 * files are opened as root, then the child runs as uid and gid 65534 without capabilities
 * (since Linux 6.10 the empty path is allowed to the credentials that opened the file, and
 * before it to CAP_DAC_READ_SEARCH only). */
typedef struct {
  int raw;          /* the fixture's root */
  fdk_dir *dir;     /* the same, confined */
  fdk_fd *files[2]; /* one unnamed file per backend, in root/empty */
} publish_scene;

/* Opens the scene as root, root/empty being the unprivileged user's and the files mode
 * 0666 (fs.protected_hardlinks lets a caller link a file it does not own only when it may
 * read and write it), then drops to 65534. 0, or 77 where the ids cannot be dropped. */
static int open_publish_scene(const char *top, publish_scene *s) {
  char root[PATH_MAX + 8];
  s->raw = open_raw_root(top, root);
  CHILD_CHECK(s->raw >= 0 && fdk_dir_open(&s->dir, fdk_dir_fs(), root) == 0);
  CHILD_CHECK(chmod(top, 0755) == 0 && chmod(root, 0755) == 0);
  CHILD_CHECK(fchownat(s->raw, "empty", 65534, 65534, 0) == 0);
  for (int i = 0; i < 2; i++) {
    CHILD_CHECK(fdk_openat(&s->files[i], s->dir, "empty", FDK_O_TMPFILE | FDK_O_RDWR, 0600) == 0);
    CHILD_CHECK(fchmod(fdk_fd_raw(s->files[i]), 0666) == 0);
    CHILD_CHECK(fdk_write(s->files[i], "tmp", 3) == 3);
  }
  if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) return 77;
  /* The premise: the kernel now refuses the empty path to this caller. */
  CHILD_CHECK(linkat(fdk_fd_raw(s->files[0]), "", s->raw, "empty/direct", AT_EMPTY_PATH) < 0 && errno == ENOENT);
  return 0;
}

/* Publishes file b of the scene (after the escapes, refused) under each backend; with
 * /proc it succeeds (want 0), without it is the kernel's -ENOENT with a detail that says
 * why. Nothing appears outside. */
static int publish_each_backend(const char *top, publish_scene *s, int want) {
  for (int b = 0; b < 2; b++) {
    if (fdk_resolve_set_backend(kBackends[b]) != 0) continue;
    CHILD_CHECK(fdk_linkat_fd(s->files[b], s->dir, "../published") == -EXDEV);
    CHILD_CHECK(fdk_linkat_fd(s->files[b], s->dir, "link_up/published") == -EXDEV);
    char name[32], detail[256];
    snprintf(name, sizeof name, "empty/published%d", b);
    CHILD_CHECK(fdk_linkat_fd(s->files[b], s->dir, name) == want);
    if (want == 0) {
      struct stat linked, open_file;
      CHILD_CHECK(fstatat(s->raw, name, &linked, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fdk_fd_raw(s->files[b]), &open_file) == 0);
      CHILD_CHECK(linked.st_ino == open_file.st_ino && linked.st_size == 3 && linked.st_nlink == 1);
      CHILD_CHECK(fdk_linkat_fd(s->files[b], s->dir, name) == -EEXIST);
    } else {
      snprintf(detail, sizeof detail,
               "linkat_fd: No such file or directory (without /proc only the opener's credentials or "
               "CAP_DAC_READ_SEARCH link a descriptor): '%s'",
               name);
      CHILD_CHECK(strcmp(fdk_last_error(), detail) == 0);
      CHILD_CHECK(faccessat(s->raw, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
    }
    fdk_fd_unref(s->files[b]);
  }
  CHILD_CHECK(!exists(top, "published"));
  fdk_dir_unref(s->dir);
  close(s->raw);
  return 0;
}

/* With /proc: published through the handle's /proc/self/fd link, confined as ever. */
static int publish_through_proc_child(void *arg) {
  publish_scene s;
  int setup = open_publish_scene(arg, &s);
  return setup ? setup : publish_each_backend(arg, &s, 0);
}

static void test_link_fd_through_proc(void **state) {
  (void)state;
  on_fixture_in_child(publish_through_proc_child);
}

/* Without /proc either, nothing serves. */
static int publish_without_proc_child(void *arg) {
  if (umount2("/proc", MNT_DETACH) < 0 && errno != EINVAL) return 77;
  if (access("/proc/self/fd", F_OK) == 0) return 77;
  publish_scene s;
  int setup = open_publish_scene(arg, &s);
  return setup ? setup : publish_each_backend(arg, &s, -ENOENT);
}

static void test_link_fd_without_proc(void **state) {
  (void)state;
  on_fixture_in_child(publish_without_proc_child);
}

static void check_mknod_truncate(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  char root[PATH_MAX + 8];
  int raw = open_raw_root(top, root);
  assert_true(raw >= 0);
  static const char *const names[] = {"fifo", "file", "dangling", "link_dir/fifo2", "missing/x", "new/", "dir/",
                                      "link_file/", "."};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int want = kernel(mkfifoat(raw, names[i], 0640));
    if (want == 0) assert_int_equal(unlinkat(raw, names[i], 0), 0);
    int got = fdk_mkfifoat(dir, names[i], 0640);
    compare_call("mkfifo", names[i], want, got);
    if (got == 0) {
      char rel[PATH_MAX];
      snprintf(rel, sizeof rel, "root/%s", names[i]);
      assert_true(S_ISFIFO(lmode_in(top, rel)));
      assert_int_equal(lmode_in(top, rel) & 0777, 0640 & ~022);
      assert_int_equal(unlinkat(raw, names[i], 0), 0);
    }
  }
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  expect_result("mkfifo out", fdk_mkfifoat(dir, "../fifo", 0600), -EXDEV);
  expect_result("mkfifo via link out", fdk_mkfifoat(dir, "link_up/fifo", 0600), -EXDEV);
  assert_false(exists(top, "fifo"));
  expect_result("mknod bad kind", fdk_mknodat(dir, "x", FDK_KIND_DIR, 0600, 0), -EINVAL);
  expect_result("mknod bad mode", fdk_mknodat(dir, "x", FDK_KIND_FIFO, 010000, 0), -EINVAL);
  int want = kernel(mknodat(raw, "null_k", S_IFCHR | 0600, makedev(1, 3)));
  expect_result("mknod char", fdk_mknodat(dir, "null", FDK_KIND_CHAR, 0600, makedev(1, 3)), want);
  if (want == 0) {
    assert_true(S_ISCHR(lmode_in(top, "root/null")));
    fdk_stat *st;
    assert_int_equal(fdk_stat_new(&st), 0);
    assert_int_equal(fdk_statat(st, dir, "null", 0), 0);
    assert_int_equal(fdk_stat_rdev(st), makedev(1, 3));
    fdk_stat_free(st);
  }
  expect_result("mknod regular", fdk_mknodat(dir, "plain", FDK_KIND_REGULAR, 0600, 0), 0);
  assert_true(S_ISREG(lmode_in(top, "root/plain")));
  expect_result("mknod socket", fdk_mknodat(dir, "sock", FDK_KIND_SOCKET, 0600, 0), 0);
  assert_true(S_ISSOCK(lmode_in(top, "root/sock")));

  /* truncate(2) by path: follows, needs a regular file. */
  static const char *const files[] = {"file", "link_file", "dir", "link_dir", "fifo", "missing", "file/", "dangling",
                                      "chain1", "null", "sock"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", root, files[i]);
    int want_t = kernel(truncate(p, 7));
    if (want_t == 0) assert_int_equal(truncate(p, 0), 0);
    int got = fdk_truncateat(dir, files[i], 7);
    compare_call("truncate", files[i], want_t, got);
    if (got == 0) {
      struct stat st;
      assert_int_equal(stat(p, &st), 0);
      assert_int_equal(st.st_size, 7);
    }
  }
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  expect_result("truncate negative", fdk_truncateat(dir, "file", -1), -EINVAL);
  expect_result("truncate escaping", fdk_truncateat(dir, "dir/link_out", 0), -EXDEV);
  expect_result("truncate abs", fdk_truncateat(dir, "link_etc", 0), -EXDEV);
  close(raw);
  drop_fixture(top, dir);
}

static void test_mknod_truncate(void **state) {
  (void)state;
  for_each_backend(check_mknod_truncate);
}

/* faccessat: every mode and flag set on the fixture's names, against the kernel (glibc's
 * faccessat, which emulates what an old kernel lacks). In a child with the real uid
 * 65534 and the effective uid 0, so that real and effective answers differ. */
/* The kernel's faccessat. Without faccessat2 (old kernels) glibc emulates the flags, but
 * it checks AT_EACCESS alone with the real ids (it trusts them to be the effective ones
 * outside setuid programs): there the symlink is resolved first and the emulation asked
 * with AT_SYMLINK_NOFOLLOW. */
static int kernel_access(const char *root, int raw, const char *name, int mode, int flags) {
  if (!getenv("FDKIT_TEST_OLD_KERNEL") || flags != AT_EACCESS) return kernel(faccessat(raw, name, mode, flags));
  char p[2 * PATH_MAX], real[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", root, name);
  if (!realpath(p, real)) return -errno;
  return kernel(faccessat(AT_FDCWD, real, mode, AT_EACCESS | AT_SYMLINK_NOFOLLOW));
}

static int access_child(void *arg) {
  const char *top = arg;
  char root[PATH_MAX + 8];
  int raw = open_raw_root(top, root);
  fdk_dir *dir;
  CHILD_CHECK(raw >= 0 && fdk_dir_open(&dir, fdk_dir_fs(), root) == 0);
  CHILD_CHECK(fchmodat(raw, "file", 0600, 0) == 0 && fchmodat(raw, "dir", 0711, 0) == 0);
  CHILD_CHECK(chmod(top, 0755) == 0 && chmod(root, 0755) == 0);
  if (setreuid(65534, 0) < 0) return 77;
  static const char *const names[] = {"file", "link_file", "dir", "link_dir", "dangling", "missing", "file/",
                                      "dir/sub", "chain1", "link_dir/"};
  static const unsigned modes[] = {FDK_ACCESS_EXISTS, FDK_ACCESS_READ, FDK_ACCESS_WRITE, FDK_ACCESS_EXEC,
                                   FDK_ACCESS_READ | FDK_ACCESS_WRITE};
  static const int os_modes[] = {F_OK, R_OK, W_OK, X_OK, R_OK | W_OK};
  static const unsigned flag_sets[] = {0, FDK_FOLLOW, FDK_ACCESS_EFFECTIVE, FDK_FOLLOW | FDK_ACCESS_EFFECTIVE};
  int bad = 0;
  for (int b = 0; b < 2; b++) {
    if (b == 0 && getenv("FDKIT_TEST_OLD_KERNEL")) continue;
    CHILD_CHECK(fdk_resolve_set_backend(kBackends[b]) == 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
          unsigned fl = flag_sets[f];
          int os = (fl & FDK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW) | (fl & FDK_ACCESS_EFFECTIVE ? AT_EACCESS : 0);
          int want = kernel_access(root, raw, names[i], os_modes[m], os);
          int got = fdk_faccessat(dir, names[i], modes[m], fl);
          if (got != want) {
            fprintf(stderr, "# [%s] faccessat '%s' mode %u flags %u: kernel %s, fdkit %s (%s)\n", backend_name(kBackends[b]),
                    names[i], modes[m], fl, fdk_errname(want), fdk_errname(got), fdk_last_error());
            bad++;
          }
        }
    CHILD_CHECK(fdk_faccessat(dir, "dir/link_out", FDK_ACCESS_EXISTS, FDK_FOLLOW) == -EXDEV);
    CHILD_CHECK(fdk_faccessat(dir, "../outside_file", FDK_ACCESS_EXISTS, 0) == -EXDEV);
    CHILD_CHECK(fdk_faccessat(dir, "file", 8, 0) == -EINVAL);
    CHILD_CHECK(fdk_faccessat(dir, "file", 0, 4) == -EINVAL);
  }
  fdk_dir_unref(dir);
  close(raw);
  return bad;
}

static void test_faccessat(void **state) {
  (void)state;
  on_fixture_in_child(access_child);
}

static void check_whiteout(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  char root[PATH_MAX + 8];
  int raw = open_raw_root(top, root);
  assert_true(raw >= 0);
  assert_int_equal(mknodat(raw, "k_src", S_IFREG | 0600, 0), 0);
  int want = kernel(renameat2(raw, "k_src", raw, "k_dst", RENAME_WHITEOUT));
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  expect_result("whiteout", fdk_renameat2(dir, "chain3", dir, "dir/moved", FDK_RENAME_WHITEOUT), want);
  if (want == 0) {
    mode_t m = lmode_in(top, "root/chain3");
    assert_true(S_ISCHR(m));
    assert_true(S_ISLNK(lmode_in(top, "root/dir/moved")));
  }
  expect_result("whiteout out", fdk_renameat2(dir, "file", dir, "../moved", FDK_RENAME_WHITEOUT), -EXDEV);
  expect_result("whiteout exchange", fdk_renameat2(dir, "file", dir, "x", FDK_RENAME_WHITEOUT | FDK_RENAME_EXCHANGE),
                -EINVAL);
  close(raw);
  drop_fixture(top, dir);
}

static void test_rename_whiteout(void **state) {
  (void)state;
  for_each_backend(check_whiteout);
}

/* Extended attributes, against the kernel's path calls on the same names. */
static int xattr_kernel_set(const char *root, const char *name, int follow) {
  char p[2 * PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", root, name);
  return kernel(follow ? setxattr(p, "user.k", "v", 1, 0) : lsetxattr(p, "user.k", "v", 1, 0));
}

static void check_xattrs_in(fdk_dir *dir, const char *top, const char *ctx) {
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", top);
  static const char *const names[] = {"file", "link_file", "dir", "link_dir/", "dangling", "missing", "file/"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    for (int follow = 0; follow < 2; follow++) {
      int want = xattr_kernel_set(root, names[i], follow);
      if (want == -EOPNOTSUPP) skip();
      int got = fdk_setxattrat(dir, names[i], "user.k", "w", 1, follow ? FDK_FOLLOW : 0);
      snprintf(g_ctx, sizeof g_ctx, "[%s] setxattr '%s' follow %d:", ctx, names[i], follow);
      expect_result("setxattr", got, want);
    }
  snprintf(g_ctx, sizeof g_ctx, "[%s]", ctx);
  expect_result("set", fdk_setxattrat(dir, "file", "user.a", "value\0x", 7, 0), 0);
  expect_result("create existing", fdk_setxattrat(dir, "file", "user.a", "v", 1, FDK_XATTR_CREATE), -EEXIST);
  expect_result("replace missing", fdk_setxattrat(dir, "file", "user.b", "v", 1, FDK_XATTR_REPLACE), -ENODATA);
  expect_result("empty value", fdk_setxattrat(dir, "file", "user.e", NULL, 0, FDK_XATTR_CREATE), 0);
  char *text = NULL;
  ssize_t n = fdk_getxattrat(&text, dir, "link_file", "user.a", FDK_FOLLOW);
  assert_int_equal(n, 7);
  assert_memory_equal(text, "value\0x", 7);
  assert_int_equal(text[7], '\0');
  fdk_free(text);
  assert_int_equal(fdk_getxattrat(&text, dir, "file", "user.e", 0), 0);
  assert_string_equal(text, "");
  fdk_free(text);
  expect_result("get missing", (int)fdk_getxattrat(&text, dir, "file", "user.none", 0), -ENODATA);
  expect_result("get on the link", (int)fdk_getxattrat(&text, dir, "link_file", "user.a", 0), -ENODATA);
  n = fdk_listxattrat(&text, dir, "file", 0);
  char p[2 * PATH_MAX], want_list[512];
  snprintf(p, sizeof p, "%s/file", root);
  ssize_t want_n = listxattr(p, want_list, sizeof want_list);
  assert_int_equal(n, want_n);
  assert_memory_equal(text, want_list, (size_t)n);
  fdk_free(text);
  expect_result("remove", fdk_removexattrat(dir, "link_file", "user.a", FDK_FOLLOW), 0);
  expect_result("remove again", fdk_removexattrat(dir, "file", "user.a", 0), -ENODATA);
  expect_result("escaping", fdk_setxattrat(dir, "dir/link_out", "user.a", "v", 1, FDK_FOLLOW), -EXDEV);
  expect_result("escaping get", (int)fdk_getxattrat(&text, dir, "../outside_file", "user.a", 0), -EXDEV);
  expect_result("escaping list", (int)fdk_listxattrat(&text, dir, "link_up", FDK_FOLLOW), -EXDEV);
  expect_result("escaping remove", fdk_removexattrat(dir, "link_etc/passwd", "user.a", FDK_FOLLOW), -EXDEV);
  char outside[PATH_MAX + 32];
  snprintf(outside, sizeof outside, "%s/outside_file", top);
  assert_int_equal(getxattr(outside, "user.a", NULL, 0), -1);
  expect_result("both flags", fdk_setxattrat(dir, "file", "user.a", "v", 1, FDK_XATTR_CREATE | FDK_XATTR_REPLACE),
                -EINVAL);
  expect_result("null name", fdk_removexattrat(dir, "file", NULL, 0), -EINVAL);
  expect_result("null value", fdk_setxattrat(dir, "file", "user.a", NULL, 3, 0), -EINVAL);
}

static void check_xattrs(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  check_xattrs_in(dir, top, backend_name(fdk_resolve_backend()));
  drop_fixture(top, dir);
}

static void test_xattrs(void **state) {
  (void)state;
  for_each_backend(check_xattrs);
}

/* Without the getxattrat calls nor /proc: the file is opened again for f*xattr. */
static int xattr_without_proc_child(void *arg) {
  const char *top = arg;
  int setup = without_proc_nor_new_calls();
  if (setup) return setup;
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", top);
  fdk_dir *dir;
  CHILD_CHECK(fdk_dir_open(&dir, fdk_dir_fs(), root) == 0);
  CHILD_CHECK(fdk_setxattrat(dir, "link_file", "user.a", "abc", 3, FDK_FOLLOW) == 0);
  char *text = NULL;
  CHILD_CHECK(fdk_getxattrat(&text, dir, "file", "user.a", 0) == 3 && memcmp(text, "abc", 3) == 0);
  fdk_free(text);
  CHILD_CHECK(fdk_listxattrat(&text, dir, "dir", 0) >= 0);
  fdk_free(text);
  CHILD_CHECK(fdk_removexattrat(dir, "file", "user.a", 0) == 0);
  CHILD_CHECK(fdk_getxattrat(&text, dir, "file", "user.a", 0) == -ENODATA);
  CHILD_CHECK(fdk_setxattrat(dir, "link_file", "user.a", "abc", 3, 0) == -EOPNOTSUPP);
  CHILD_CHECK(fdk_setxattrat(dir, "dir/link_out", "user.a", "abc", 3, FDK_FOLLOW) == -EXDEV);
  fdk_dir_unref(dir);
  return 0;
}

static void test_xattrs_without_proc(void **state) {
  (void)state;
  on_fixture_in_child(xattr_without_proc_child);
}

/* fdk_dir_open2: NOFOLLOW against the kernel's open(O_DIRECTORY|O_NOFOLLOW); the scopes on
 * the last-component calls and realpath (the open paths are held to openat2 in the
 * fs_kernel suite). */
static void check_dir_open2(void) {
  char top[PATH_MAX];
  fdk_dir *dir = fresh_fixture(top);
  char root[PATH_MAX + 8];
  int raw = open_raw_root(top, root);
  static const char *const names[] = {"dir", "link_dir", "link_dir/", "file", "dangling", "link_dir/sub"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int k = openat(raw, names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int want = k < 0 ? -errno : 0;
    if (k >= 0) close(k);
    fdk_dir *d = NULL;
    compare_call("dir_open nofollow", names[i], want, fdk_dir_open2(&d, dir, names[i], FDK_DIR_NOFOLLOW));
    fdk_dir_unref(d);
  }
  snprintf(g_ctx, sizeof g_ctx, "[%s]", backend_name(fdk_resolve_backend()));
  fdk_dir *d;
  expect_result("bad flags", fdk_dir_open2(&d, dir, "dir", 0x100), -EINVAL);
  /* IN_ROOT: ".." and absolute names stay in the dir, for every kind of call. */
  fdk_dir *in_root;
  expect_result("in root", fdk_dir_open2(&in_root, dir, "dir", FDK_DIR_IN_ROOT), 0);
  expect_result("mkdir abs", fdk_mkdirat(in_root, "/made", 0755), 0);
  assert_true(S_ISDIR(lmode_in(top, "root/dir/made")));
  expect_result("mkdir up", fdk_mkdirat(in_root, "../../made2", 0755), 0);
  assert_true(S_ISDIR(lmode_in(top, "root/dir/made2")));
  expect_result("symlink abs", fdk_symlinkat("/sub", in_root, "/abs_sub"), 0);
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  expect_result("stat through abs link", fdk_statat(st, in_root, "abs_sub/deep_file", 1), 0);
  assert_int_equal(fdk_stat_ino(st), fdkt_ino(top, "root/dir/sub/deep_file"));
  char *text;
  assert_int_equal(fdk_realpath(&text, in_root, "/../abs_sub/../abs_sub"), 3);
  assert_string_equal(text, "sub");
  fdk_free(text);
  /* "/" as the last component is the root itself, which these calls see as ".". */
  expect_result("rmdir /", fdk_rmdirat(in_root, "/"), -EINVAL);
  expect_result("unlink link_out", fdk_unlinkat(in_root, "/link_out"), 0);
  fdk_dir *nested;
  expect_result("nested", fdk_dir_open2(&nested, in_root, "/sub", FDK_DIR_NO_SYMLINKS), 0);
  assert_int_equal(fdk_symlinkat("deep_file", nested, "l"), 0);
  expect_result("nested keeps in root", fdk_statat(st, nested, "../../deep_file", 0), 0);
  expect_result("nested no symlinks", fdk_statat(st, nested, "l", 1), -ELOOP);
  expect_result("nested no symlinks, not followed", fdk_statat(st, nested, "l", 0), 0);
  fdk_dir_unref(nested);
  fdk_dir_unref(in_root);
  fdk_stat_free(st);
  close(raw);
  drop_fixture(top, dir);
}

static void test_dir_open2(void **state) {
  (void)state;
  for_each_backend(check_dir_open2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_table_dir_handle),
      fdkt_test(test_table_cwd),
      fdkt_test(test_escape_detail),
      fdkt_test(test_mkdir_unlink_rmdir),
      fdkt_test(test_rename_symlink_link),
      fdkt_test(test_open_create),
      fdkt_test(test_chmod_chown_utimens),
      fdkt_test(test_magic_links),
      fdkt_test(test_unconfined),
      fdkt_test(test_dir_handles),
      fdkt_test(test_bad_arguments),
      fdkt_test(test_stat_every_kind),
      fdkt_test(test_readdir_and_iterator),
      fdkt_test(test_async_forms),
      fdkt_test(test_realpath_confined),
      fdkt_test(test_mode_without_create_is_ignored),
      fdkt_test(test_create_directory_refused),
      fdkt_test(test_forced_openat2_never_walks),
      fdkt_test(test_escape_told_from_cross_device),
      fdkt_test(test_chmod_without_fchmodat2_nor_proc),
      fdkt_test(test_linkat_trailing_slashes),
      fdkt_test(test_tmpfile_and_link_fd),
      fdkt_test(test_link_fd_through_proc),
      fdkt_test(test_link_fd_without_proc),
      fdkt_test(test_mknod_truncate),
      fdkt_test(test_faccessat),
      fdkt_test(test_rename_whiteout),
      fdkt_test(test_xattrs),
      fdkt_test(test_xattrs_without_proc),
      fdkt_test(test_dir_open2),
  };
  return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
