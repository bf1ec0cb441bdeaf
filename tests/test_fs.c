/* Confined file system: a table of paths over a fixture tree, each run for every
 * operation it applies to under both resolve backends and two bases (a dir handle and
 * the current directory), plus the last-component calls, magic links, stat, readdir and
 * the asynchronous forms. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "fstree.h"
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
    g_too_long[PATH_MAX + 16], g_long_name[400], g_missing_long[400];

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

static mode_t lmode(const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", g_top, rel);
  struct stat st;
  assert_int_equal(lstat(p, &st), 0);
  return st.st_mode;
}

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

static uint64_t fd_ino(fdk_fd *fd) {
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  assert_int_equal(fdk_fstat(st, fd), 0);
  uint64_t ino = fdk_stat_ino(st);
  fdk_stat_free(st);
  return ino;
}

static void check_open(fdk_dir *dir, const char *path, unsigned flags, const char *op, const char *want, int want_err) {
  fdk_fd *fd = NULL;
  int r = fdk_openat(&fd, dir, path, flags, 0);
  uint64_t ino = r == 0 ? fd_ino(fd) : 0;
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
    char p[PATH_MAX], want[PATH_MAX];
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
  uint64_t ino = r == 0 ? fd_ino(fdk_dir_handle(sub)) : 0;
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
    assert_int_equal(fdk_resolve_set_backend(kBackends[b]), 0);
    assert_int_equal(fdk_resolve_backend(), kBackends[b]);
    for (size_t i = 0; i < NCASES; i++) {
      snprintf(g_ctx, sizeof g_ctx, "[%s, %s] '%.200s':", backend_name(kBackends[b]), base_name, kCases[i].path);
      run_case(dir, &kCases[i]);
    }
  }
}

static void test_table_dir_handle(void **state) {
  (void)state;
  char root[PATH_MAX];
  snprintf(root, sizeof root, "%s/root", g_top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), root), 0);
  run_table(dir, "dir handle");
  fdk_dir_unref(dir);
}

static void test_table_cwd(void **state) {
  (void)state;
  int saved = open(".", O_PATH | O_CLOEXEC);
  char root[PATH_MAX];
  snprintf(root, sizeof root, "%s/root", g_top);
  assert_int_equal(chdir(root), 0);
  run_table(fdk_dir_cwd(), "cwd");
  assert_int_equal(fchdir(saved), 0);
  close(saved);
}

/* The escape detail names the path. */
static void test_escape_detail(void **state) {
  (void)state;
  char root[PATH_MAX];
  snprintf(root, sizeof root, "%s/root", g_top);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), root), 0);
  for (size_t b = 0; b < 2; b++) {
    assert_int_equal(fdk_resolve_set_backend(kBackends[b]), 0);
    fdk_fd *fd;
    assert_int_equal(fdk_openat(&fd, dir, "dir/../../x", FDK_O_RDONLY, 0), FDK_EESCAPE);
    assert_string_equal(fdk_last_error(), "openat: 'dir/../../x' escapes its directory");
    assert_int_equal(fdk_unlinkat(dir, "link_up/outside_file"), -EXDEV);
    assert_non_null(strstr(fdk_last_error(), "link_up/outside_file"));
  }
  fdk_dir_unref(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_table_dir_handle),
      fdkt_test(test_table_cwd),
      fdkt_test(test_escape_detail),
  };
  return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
