/* SPDX-License-Identifier: MIT */
/* The walk against the kernel, class by class. Every answer fdkit gives beneath a confined
 * dir (open with several flag sets, stat with and without follow) is compared with raw
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on the same base and path, retrying its
 * EAGAIN: the same inode or the same errno. Each class runs in a child (a private mount
 * namespace, a dropped uid, a low descriptor limit, as the class needs) under both
 * backends, then once more under the old-kernel filter, where fdkit must find the walk by
 * itself. Classes: nosymfollow mounts, fs.protected_symlinks, search permission ("..",
 * "."), descriptors bounded whatever the depth, procfs magic and ordinary links,
 * over-long names left to each filesystem, and the kernel's own openat2 selftest paths
 * for RESOLVE_BENEATH with "", "/", "/." and "/.." endings. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fstree.h"
#include "old_kernel_filter.h"
#include "testutil.h"

/* One probe: a path opened with fdkit's flags. */
typedef struct {
  const char *path;
  unsigned flags;
} probe;

/* What a resolution gave: an inode, or an errno. */
typedef struct {
  int err;
  dev_t dev;
  ino_t ino;
} answer;

static const struct {
  unsigned fdk;
  int os;
} kFlagMap[] = {
    {FDK_O_WRONLY, O_WRONLY},       {FDK_O_CREAT, O_CREAT},       {FDK_O_EXCL, O_EXCL},
    {FDK_O_DIRECTORY, O_DIRECTORY}, {FDK_O_NOFOLLOW, O_NOFOLLOW}, {FDK_O_PATH, O_PATH},
    {FDK_O_NONBLOCK, O_NONBLOCK},
};

static int os_flags(unsigned flags) {
  int os = O_CLOEXEC;
  for (size_t i = 0; i < sizeof kFlagMap / sizeof kFlagMap[0]; i++)
    if (flags & kFlagMap[i].fdk) os |= kFlagMap[i].os;
  return os;
}

static answer of_fd(int fd) {
  answer a = {0, 0, 0};
  if (fd < 0) {
    a.err = fd;
    return a;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) abort();
  a.dev = st.st_dev;
  a.ino = st.st_ino;
  close(fd);
  return a;
}

/* The scope under test (test_scoped_selftest_paths): resolve flags the oracle adds and the
 * fdk_dir_open2 flags of fdkit's base; none for the other classes. */
static uint64_t g_scope_resolve;
static unsigned g_scope_dir_flags;

/* The oracle; fdkit reads an empty path as ".". */
static answer kernel_open(int base, const char *path, unsigned flags) {
  if (!*path) path = ".";
  struct open_how how = {0};
  how.flags = (uint64_t)os_flags(flags);
  how.mode = (flags & FDK_O_CREAT) ? 0600 : 0;
  how.resolve = RESOLVE_NO_MAGICLINKS | g_scope_resolve | (g_scope_resolve & RESOLVE_IN_ROOT ? 0 : RESOLVE_BENEATH);
  for (int tries = 0;; tries++) {
    long fd = syscall(SYS_openat2, base, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN || tries == 1000) return of_fd(fd >= 0 ? (int)fd : -errno);
  }
}

static answer fdkit_open(fdk_dir *dir, const char *path, unsigned flags) {
  fdk_fd *fd;
  int r = fdk_openat(&fd, dir, path, flags, 0600);
  if (r < 0) return of_fd(r);
  int raw;
  if (fdk_fd_use(fd, &raw) < 0) abort();
  answer a = of_fd(dup(raw));
  fdk_fd_unuse(fd);
  fdk_fd_unref(fd);
  return a;
}

static answer fdkit_stat(fdk_dir *dir, const char *path, int follow) {
  fdk_stat *st;
  if (fdk_stat_new(&st) < 0) abort();
  answer a = {0, 0, 0};
  int r = fdk_statat(st, dir, path, follow);
  if (r < 0) {
    a.err = r;
  } else {
    a.dev = (dev_t)fdk_stat_dev(st);
    a.ino = (ino_t)fdk_stat_ino(st);
  }
  fdk_stat_free(st);
  return a;
}

static int same(answer a, answer b) { return a.err == b.err && a.dev == b.dev && a.ino == b.ino; }

static const char *describe(answer a, char *buf, size_t len) {
  if (a.err)
    snprintf(buf, len, "%s", fdk_errname(a.err));
  else
    snprintf(buf, len, "inode %llu", (unsigned long long)a.ino);
  return buf;
}

static int report(const char *cls, const char *mode, const char *what, const char *path, answer want, answer got) {
  if (same(want, got)) return 0;
  char w[48], g[48];
  fprintf(stderr, "# [%s, %s] %s '%.300s': kernel %s, fdkit %s (%s)\n", cls, mode, what, path,
          describe(want, w, sizeof w), describe(got, g, sizeof g), fdk_last_error());
  return 1;
}

enum { MAX_PROBES = 1200 };
static answer g_want[MAX_PROBES];

/* Compares every probe with what fdkit answers now; returns the mismatches. Probes that
 * only name the file (FDK_O_PATH) also compare fdk_statat, following unless NOFOLLOW. */
static int compare_now(const char *cls, const char *mode, int base, fdk_dir *dir, const probe *p, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    bad += report(cls, mode, "open", p[i].path, g_want[i], fdkit_open(dir, p[i].path, p[i].flags));
    if (p[i].flags == FDK_O_PATH || p[i].flags == (FDK_O_PATH | FDK_O_NOFOLLOW))
      bad += report(cls, mode, "stat", p[i].path, g_want[i], fdkit_stat(dir, p[i].path, !(p[i].flags & FDK_O_NOFOLLOW)));
  }
  (void)base;
  return bad;
}

/* The whole comparison of one class, in the child that prepared it: the kernel's answers,
 * then fdkit under each backend, then (last, since the filter stays) under the old-kernel
 * filter. Returns the mismatches (0: all equal). */
static int compare_class(const char *cls, int base, fdk_dir *dir, const probe *p, size_t n) {
  if (n > MAX_PROBES) abort();
  for (size_t i = 0; i < n; i++) g_want[i] = kernel_open(base, p[i].path, p[i].flags);
  int bad = 0;
  static const int backends[] = {FDK_RESOLVE_OPENAT2, FDK_RESOLVE_FALLBACK};
  for (int b = 0; b < 2; b++) {
    if (fdk_resolve_set_backend(backends[b]) != 0) return 100;
    bad += compare_now(cls, b == 0 ? "openat2" : "walk", base, dir, p, n);
  }
  if (fdkt_emulate_old_kernel() < 0 || fdk_resolve_set_backend(FDK_RESOLVE_AUTO) != 0 ||
      fdk_resolve_backend() != FDK_RESOLVE_FALLBACK)
    return 100;
  bad += compare_now(cls, "old kernel", base, dir, p, n);
  return bad;
}

/* Every path of paths with each flag set of flags. */
static size_t cross(probe *out, const char *const *paths, size_t npaths, const unsigned *flags, size_t nflags) {
  size_t n = 0;
  for (size_t i = 0; i < npaths; i++)
    for (size_t f = 0; f < nflags; f++) out[n++] = (probe){paths[i], flags[f]};
  return n;
}

static const unsigned kFlagSets[] = {FDK_O_RDONLY | FDK_O_NONBLOCK, FDK_O_PATH, FDK_O_PATH | FDK_O_NOFOLLOW,
                                     FDK_O_DIRECTORY, FDK_O_RDONLY | FDK_O_NOFOLLOW | FDK_O_NONBLOCK};
#define NFLAGS (sizeof kFlagSets / sizeof kFlagSets[0])
#define NPATHS(a) (sizeof(a) / sizeof(a)[0])


/* out = top/rel; PATH_MAX bytes. */
static void at(char *out, const char *top, const char *rel) {
  size_t n = strlen(top);
  if (n + 1 + strlen(rel) >= PATH_MAX) abort();
  memcpy(out, top, n);
  out[n] = '/';
  strcpy(out + n + 1, rel);
}

/* Fixture helpers, usable in a child too: a failure aborts (the parent then fails). */
static void must(int ok, const char *what, const char *path) {
  if (ok) return;
  fprintf(stderr, "# %s '%s': %s\n", what, path, strerror(errno));
  abort();
}

static void make_dir(const char *top, const char *rel, mode_t mode) {
  char p[PATH_MAX];
  at(p, top, rel);
  must(mkdir(p, mode) == 0 && chmod(p, mode) == 0, "mkdir", p);
}

static void make_file(const char *top, const char *rel) {
  char p[PATH_MAX];
  at(p, top, rel);
  int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  must(fd >= 0, "create", p);
  close(fd);
}

static void make_link(const char *top, const char *rel, const char *target) {
  char p[PATH_MAX];
  at(p, top, rel);
  must(symlink(target, p) == 0, "symlink", p);
}

/* A base opened both ways: a raw descriptor for the oracle and an fdkit dir. */
typedef struct {
  int fd;
  fdk_dir *dir;
} base;

static int open_base(base *b, const char *path) {
  b->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (b->fd < 0 || fdk_dir_open2(&b->dir, fdk_dir_fs(), path, g_scope_dir_flags) != 0) return -1;
  return 0;
}

static char g_top[PATH_MAX];

static int suite_setup(void **state) {
  (void)state;
  return 0;
}

static int suite_teardown(void **state) {
  (void)state;
  fdk_resolve_set_backend(FDK_RESOLVE_AUTO);
  return 0;
}

static int class_setup(void **state) {
  if (fdkt_tempdir(g_top, "fsk") < 0) return -1;
  if (chmod(g_top, 0755) < 0) return -1;
  return fdkt_setup(state);
}

static int class_teardown(void **state) {
  int r = fdkt_teardown(state);
  fdkt_remove_tree(g_top);
  return r;
}

#define class_test(fn) cmocka_unit_test_setup_teardown(fn, class_setup, class_teardown)

/* --- nosymfollow mounts: no symlink is followed there, in any position (ELOOP); O_CREAT
 * through a dangling link and mkdir under a linked dir are refused too. */
static int nosymfollow_child(void *arg) {
  (void)arg;
  char mnt[PATH_MAX];
  at(mnt, g_top, "mnt");
  if (mkdir(mnt, 0755) < 0 || mount("fdkit-test", mnt, "tmpfs", MS_NOSYMFOLLOW, NULL) < 0) return 77;
  make_dir(mnt, "d", 0755);
  make_file(mnt, "d/f");
  make_link(mnt, "l_dir", "d");
  make_link(mnt, "l_file", "d/f");
  make_link(mnt, "l_self", ".");
  make_link(mnt, "abs", "/etc");
  make_link(mnt, "dangling", "made");
  static const char *const paths[] = {"l_dir", "l_dir/", "l_dir/f", "l_file", "d/f", "l_self/d", "l_self/l_dir/f",
                                      "abs", "dangling", "d/../l_file", "l_dir/.."};
  static probe p[NPATHS(paths) * NFLAGS + 2];
  size_t n = cross(p, paths, NPATHS(paths), kFlagSets, NFLAGS);
  p[n++] = (probe){"dangling", FDK_O_WRONLY | FDK_O_CREAT};
  p[n++] = (probe){"l_self/dangling", FDK_O_WRONLY | FDK_O_CREAT};
  base b;
  if (open_base(&b, mnt) < 0) return 1;
  int bad = 0;
  /* mkdir under a linked directory: the kernel's own mkdirat is the oracle. */
  int want = mkdirat(b.fd, "l_dir/x", 0755) == 0 ? 0 : -errno;
  for (int k = 0; k < 2; k++) {
    fdk_resolve_set_backend(k == 0 ? FDK_RESOLVE_OPENAT2 : FDK_RESOLVE_FALLBACK);
    int got = fdk_mkdirat(b.dir, "l_dir/x", 0755);
    if (got != want) {
      fprintf(stderr, "# [nosymfollow] mkdir l_dir/x: kernel %s, fdkit %s\n", fdk_errname(want), fdk_errname(got));
      bad++;
    }
  }
  bad += compare_class("nosymfollow", b.fd, b.dir, p, n);
  if (faccessat(b.fd, "made", F_OK, AT_SYMLINK_NOFOLLOW) == 0) bad++;
  return bad;
}

static void test_nosymfollow_mount(void **state) {
  (void)state;
  fdkt_in_child(nosymfollow_child, NULL, 1);
}

/* --- fs.protected_symlinks: in a sticky world-writable directory, a last-component
 * symlink owned by someone else than the follower and the directory's owner is refused
 * (EACCES); symlinks in the middle of a path are not concerned. */
static int protected_child(void *arg) {
  const char *cls = arg;
  base b;
  if (open_base(&b, g_top) < 0) return 1;
  static const char *const paths[] = {"sticky/l_f", "sticky/l_d", "sticky/l_d/", "sticky/l_d/f", "sticky/l_mine",
                                      "sticky/l_d/..", "sticky/l_chain", "plain/l_f"};
  static probe p[NPATHS(paths) * NFLAGS + 1];
  size_t n = cross(p, paths, NPATHS(paths), kFlagSets, NFLAGS);
  p[n++] = (probe){"sticky/l_dangling", FDK_O_WRONLY | FDK_O_CREAT};
  return compare_class(cls, b.fd, b.dir, p, n);
}

static int read_sysctl(void) {
  FILE *f = fopen("/proc/sys/fs/protected_symlinks", "r");
  int v = -1;
  if (f) {
    if (fscanf(f, "%d", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static int write_sysctl(int v) {
  FILE *f = fopen("/proc/sys/fs/protected_symlinks", "w");
  if (!f) return -1;
  int r = fprintf(f, "%d\n", v) > 0 ? 0 : -1;
  return fclose(f) == 0 ? r : -1;
}

static void test_protected_symlinks(void **state) {
  (void)state;
  int saved = read_sysctl();
  if (saved < 0 || geteuid() != 0) skip();
  make_dir(g_top, "sticky", 01777);
  make_dir(g_top, "plain", 0777);
  make_file(g_top, "sticky/f");
  make_file(g_top, "plain/f");
  make_dir(g_top, "sticky/d", 0755);
  make_file(g_top, "sticky/d/f");
  static const char *const links[][2] = {{"sticky/l_f", "f"},       {"sticky/l_d", "d"},
                                         {"sticky/l_chain", "l_f"}, {"sticky/l_dangling", "made"},
                                         {"plain/l_f", "f"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    make_link(g_top, links[i][0], links[i][1]);
    char p[PATH_MAX];
    at(p, g_top, links[i][0]);
    must(lchown(p, 65534, 65534) == 0, "lchown", p);
  }
  make_link(g_top, "sticky/l_mine", "f");
  int failed = 0;
  for (int v = 0; v <= 1; v++) {
    if (write_sysctl(v) < 0) {
      write_sysctl(saved);
      skip();
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(protected_child(v ? "protected_symlinks=1" : "protected_symlinks=0"));
    int status = 0;
    waitpid(pid, &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  assert_int_equal(write_sysctl(saved), 0);
  assert_false(failed);
}

/* --- Search permission: an unprivileged caller (uid 65534; root's CAP_DAC_READ_SEARCH
 * would pass every check) must not get through a directory it may not search, ".."
 * and "." included. */
static int permission_child(void *arg) {
  (void)arg;
  if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) return 77;
  base b;
  if (open_base(&b, g_top) < 0) return 1;
  static const char *const paths[] = {"locked",        "locked/",        "locked/.",      "locked/..",
                                      "locked/sub",    "locked/sub/..",  "open/../locked/..", "l_locked/..",
                                      "l_locked",      "noexec",         "noexec/.",      "noexec/..",
                                      "noexec/f",      "xonly/f",        "xonly/..",      "xonly/.",
                                      "open/..",       "xonly/l_up/f",   "locked/../open", ".."};
  static probe p[NPATHS(paths) * NFLAGS];
  size_t n = cross(p, paths, NPATHS(paths), kFlagSets, NFLAGS);
  return compare_class("search permission", b.fd, b.dir, p, n);
}

static void test_search_permission(void **state) {
  (void)state;
  if (geteuid() != 0) skip();
  make_dir(g_top, "locked", 0700);
  make_dir(g_top, "locked/sub", 0755);
  make_dir(g_top, "open", 0755);
  make_dir(g_top, "noexec", 0644);
  make_file(g_top, "noexec/f");
  assert_int_equal(chmod(g_top, 0755), 0);
  make_dir(g_top, "xonly", 0711);
  make_file(g_top, "xonly/f");
  make_link(g_top, "xonly/l_up", "../open");
  make_file(g_top, "open/f");
  make_link(g_top, "l_locked", "locked");
  char p[PATH_MAX];
  at(p, g_top, "noexec");
  assert_int_equal(chmod(p, 0644), 0);
  fdkt_in_child(permission_child, NULL, 0);
}

/* --- Depth: a walk holds a bounded number of descriptors. With a limit of 40 open
 * descriptors, paths 150 directories deep, climbs of 140 "..", and chains of 39 symlinks
 * whose targets are deep themselves resolve as the kernel resolves them. */
enum { DEPTH = 150 };
static char g_deep[PATH_MAX], g_updown[DEPTH * 8 + 64], g_deep_dir[DEPTH * 2];

static int depth_child(void *arg) {
  (void)arg;
  base b;
  if (open_base(&b, g_top) < 0) return 1;
  struct rlimit rl = {40, 40};
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return 77;
  static const char *paths[] = {g_deep, g_updown, "chain0", "chain0/f", "chain20/", "climb/f", "climb", NULL};
  paths[7] = g_deep_dir;
  static probe p[8 * NFLAGS];
  size_t n = cross(p, paths, 8, kFlagSets, NFLAGS);
  return compare_class("depth", b.fd, b.dir, p, n);
}

static void test_bounded_descriptors(void **state) {
  (void)state;
  char rel[PATH_MAX] = "";
  for (int i = 0; i < DEPTH; i++) {
    strcat(rel, i ? "/d" : "d");
    make_dir(g_top, rel, 0755);
  }
  snprintf(g_deep_dir, sizeof g_deep_dir, "%s", rel);
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/f", rel);
  make_file(g_top, file);
  snprintf(g_deep, sizeof g_deep, "%s", file);
  /* Down all the way, up 140, down again to the file. */
  snprintf(g_updown, sizeof g_updown, "%s", rel);
  for (int i = 0; i < 140; i++) strcat(g_updown, "/..");
  for (int i = 0; i < 140; i++) strcat(g_updown, "/d");
  strcat(g_updown, "/f");
  /* chainK -> chainK+1 -> ... -> chain38 -> the deep directory. */
  for (int i = 0; i < 39; i++) {
    char name[16], target[PATH_MAX];
    snprintf(name, sizeof name, "chain%d", i);
    if (i < 38)
      snprintf(target, sizeof target, "chain%d", i + 1);
    else
      snprintf(target, sizeof target, "%s", rel);
    make_link(g_top, name, target);
  }
  /* A link that goes 150 down and 150 up again, then down one. */
  char climb[PATH_MAX];
  snprintf(climb, sizeof climb, "%s", rel);
  for (int i = 0; i < DEPTH; i++) strcat(climb, "/..");
  make_link(g_top, "climb", climb);
  fdkt_in_child(depth_child, NULL, 0);
}

/* --- procfs. The rule fdkit applies: a symlink on procfs whose inode number is below
 * 0xF0000000 is a per-process link (fd/N, exe, cwd, root, the ns and map_files entries), which the
 * kernel follows by jumping, never by its text: a magic link, -ELOOP. procfs numbers its
 * registered entries from 0xF0000000 up (self, thread-self, mounts, net...): those are
 * ordinary links, followed by their text (one with an absolute text would be -EXDEV). */
static int procfs_child(void *arg) {
  (void)arg;
  int bad = 0;
  base proc, self;
  if (open_base(&proc, "/proc") < 0 || open_base(&self, "/proc/self") < 0) return 1;
  static const char *const in_proc[] = {"self",         "thread-self",  "mounts",     "net",
                                        "self/exe",     "self/fd/0",    "self/cwd",   "self/root",
                                        "self/ns/net",  "self/status",  "thread-self/comm", "self/root/etc",
                                        "self/fd/0/",   "self/cwd/..",  "net/dev",    "self/task"};
  static const char *const in_self[] = {"exe", "cwd", "root", "fd/0", "fd/1", "ns/net", "ns", "status", "fd", "cwd/"};
  static probe p1[NPATHS(in_proc) * NFLAGS], p2[NPATHS(in_self) * NFLAGS];
  size_t n1 = cross(p1, in_proc, NPATHS(in_proc), kFlagSets, NFLAGS);
  size_t n2 = cross(p2, in_self, NPATHS(in_self), kFlagSets, NFLAGS);
  /* Each comparison ends under the filter: the later ones run in children of their own. */
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) _exit(compare_class("procfs /proc", proc.fd, proc.dir, p1, n1));
  int status;
  waitpid(pid, &status, 0);
  bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  pid = fork();
  if (pid == 0) _exit(compare_class("procfs /proc/self", self.fd, self.dir, p2, n2));
  waitpid(pid, &status, 0);
  bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  /* Links directly in a /proc current directory. */
  if (chdir("/proc/self") < 0) return 1;
  bad += compare_class("procfs cwd", AT_FDCWD, fdk_dir_cwd(), p2, n2);
  return bad;
}

static void test_procfs_links(void **state) {
  (void)state;
  fdkt_in_child(procfs_child, NULL, 0);
}

/* --- procfs links a caller may not read (another process's cwd, for uid 65534): the
 * kernel counts such a link against the 40-follow budget before it reads it, so the 41st
 * follow is -ELOOP and the 40th -EACCES. "self/.." is one follow and stays beneath /proc. */
static char g_selfs39[40 * 8 + 16], g_selfs40[41 * 8 + 16];

static int procfs_budget_child(void *arg) {
  (void)arg;
  if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) return 77;
  base proc;
  if (open_base(&proc, "/proc") < 0) return 1;
  char cwd39[sizeof g_selfs39 + 8], cwd40[sizeof g_selfs40 + 8], status40[sizeof g_selfs40 + 16];
  snprintf(cwd39, sizeof cwd39, "%s1/cwd", g_selfs39);
  snprintf(cwd40, sizeof cwd40, "%s1/cwd", g_selfs40);
  snprintf(status40, sizeof status40, "%s1/status", g_selfs40);
  const char *paths[] = {cwd39, cwd40, status40, "1/cwd", "1/cwd/."};
  static probe p[5 * NFLAGS];
  size_t n = cross(p, paths, 5, kFlagSets, NFLAGS);
  return compare_class("procfs budget", proc.fd, proc.dir, p, n);
}

static void test_procfs_unreadable_link_budget(void **state) {
  (void)state;
  if (geteuid() != 0) skip();
  g_selfs39[0] = g_selfs40[0] = '\0';
  for (int i = 0; i < 39; i++) strcat(g_selfs39, "self/../");
  snprintf(g_selfs40, sizeof g_selfs40, "%sself/../", g_selfs39);
  fdkt_in_child(procfs_budget_child, NULL, 0);
}

/* --- Over-long names are each filesystem's to answer: tmpfs (or the test's disk) says
 * ENAMETOOLONG, procfs says ENOENT; a missing directory before one says ENOENT. */
static char g_long[300], g_missing_long[320], g_long_then[320];

static int name_max_child(void *arg) {
  (void)arg;
  base top, proc;
  if (open_base(&top, g_top) < 0 || open_base(&proc, "/proc") < 0) return 1;
  static const char *paths[] = {g_long, g_missing_long, g_long_then, NULL};
  paths[3] = NULL;
  static probe p[3 * NFLAGS];
  size_t n = cross(p, paths, 3, kFlagSets, NFLAGS);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) _exit(compare_class("NAME_MAX on procfs", proc.fd, proc.dir, p, n));
  int status;
  waitpid(pid, &status, 0);
  int bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  return bad + compare_class("NAME_MAX", top.fd, top.dir, p, n);
}

static void test_name_max_left_to_filesystems(void **state) {
  (void)state;
  memset(g_long, 'n', 299);
  g_long[299] = '\0';
  snprintf(g_missing_long, sizeof g_missing_long, "missing/%s", g_long);
  snprintf(g_long_then, sizeof g_long_then, "%s/x", g_long);
  fdkt_in_child(name_max_child, NULL, 0);
}

/* --- The openat2 selftest's fixture and paths (tools/testing/selftests/openat2 in the
 * Linux tree), rebuilt here: every path its RESOLVE_BENEATH, IN_ROOT, NO_XDEV,
 * NO_SYMLINKS and NO_MAGICLINKS cases use, resolved under RESOLVE_BENEATH from their
 * base, each with the endings "", "/", "/." and "/..". */
typedef struct {
  const char *name;
  unsigned dir_flags;
  uint64_t resolve;
} scope;

static int selftest_child(void *arg) {
  const scope *sc = arg;
  if (sc) {
    g_scope_dir_flags = sc->dir_flags;
    g_scope_resolve = sc->resolve;
  }
  const char *cls = sc ? sc->name : "openat2 selftest paths";
  char root[PATH_MAX], mnt[PATH_MAX];
  at(root, g_top, "root");
  at(mnt, root, "mnt");
  make_dir(g_top, "root", 0755);
  make_dir(root, "mnt", 0755);
  if (mount("fdkit-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, NULL) < 0) return 77;
  static const char *const links[][2] = {
      {"procexe", "/proc/self/exe"},
      {"procroot", "/proc/self/root"},
      {"mnt/self", "../mnt/"},
      {"mnt/absself", "/mnt/"},
      {"creatlink", "/newfile3"},
      {"reletc", "etc/"},
      {"relsym", "etc/passwd"},
      {"absetc", "/etc/"},
      {"abssym", "/etc/passwd"},
      {"abscheeky", "/cheeky"},
      {"cheeky/absself", "/"},
      {"cheeky/self", "../../root/"},
      {"cheeky/garbageself", "/../../root/"},
      {"cheeky/passwd", "../cheeky/../cheeky/../etc/../etc/passwd"},
      {"cheeky/abspasswd", "/../cheeky/../cheeky/../etc/../etc/passwd"},
      {"cheeky/dotdotlink", "../../../../../../../../../../../../../../etc/passwd"},
      {"cheeky/garbagelink", "/../../../../../../../../../../../../../../etc/passwd"},
  };
  make_dir(root, "root", 0755);
  make_dir(root, "etc", 0755);
  make_file(root, "etc/passwd");
  make_dir(root, "cheeky", 0755);
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) make_link(root, links[i][0], links[i][1]);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  static char fdpath[32];
  snprintf(fdpath, sizeof fdpath, "self/fd/%d", devnull);

  /* Paths by base: the fixture's root, its mount, /proc and /. */
  static const char *const from_root[] = {
      "/",           "cheeky/absself",     "abscheeky/absself",  "..",
      "../root/",    "cheeky/self",        "abscheeky/self",     "cheeky/garbageself",
      "abscheeky/garbageself", "root",     "etc",                "etc/passwd",
      "relsym",      "cheeky/passwd",      "abscheeky/passwd",   "abssym",
      "/etc/passwd", "cheeky/abspasswd",   "abscheeky/abspasswd", "cheeky/dotdotlink",
      "abscheeky/dotdotlink", "/../../../../abscheeky/dotdotlink", "cheeky/garbagelink",
      "abscheeky/garbagelink", "/../../../../abscheeky/garbagelink", "newfile1", "/newfile2",
      "/creatlink",  "creatlink",          "mnt",                "mnt/",
      "mnt/.",       "/proc/1",            "/tmp",               "procexe",
      "procroot",    "/proc/self/exe",     "/proc/self/root",    "reletc",
      "absetc",      "",                   ".",                  "mnt/self",
      "mnt/absself", "mnt/self/self/self",
  };
  static const char *const from_mnt[] = {".", "..", "../mnt", "self", "absself", "/", "self/.."};
  static const char *const from_proc[] = {"self/root", "self/cwd", "self/exe", "self/fd", NULL};
  static const char *const from_slash[] = {"/", "proc/1", "tmp", "etc/passwd", "proc/self/exe"};
  static const char *const endings[] = {"", "/", "/.", "/.."};
  static const unsigned flag_sets[] = {FDK_O_PATH, FDK_O_PATH | FDK_O_NOFOLLOW, FDK_O_RDONLY | FDK_O_NONBLOCK};
  static char texts[4][200][96];
  static probe p[4][200 * 3];
  const char *const *tables[4] = {from_root, from_mnt, from_proc, from_slash};
  size_t sizes[4] = {NPATHS(from_root), NPATHS(from_mnt), NPATHS(from_proc), NPATHS(from_slash)};
  const char *bases[4] = {root, mnt, "/proc", "/"};
  size_t counts[4] = {0, 0, 0, 0};
  for (int t = 0; t < 4; t++) {
    size_t k = 0;
    for (size_t i = 0; i < sizes[t]; i++) {
      const char *path = tables[t][i] ? tables[t][i] : fdpath;
      for (size_t e = 0; e < NPATHS(endings); e++) {
        snprintf(texts[t][k], sizeof texts[t][k], "%s%s", path, endings[e]);
        for (size_t f = 0; f < NPATHS(flag_sets); f++) p[t][counts[t]++] = (probe){texts[t][k], flag_sets[f]};
        k++;
      }
    }
  }
  int bad = 0;
  for (int t = 0; t < 4; t++) {
    base b;
    if (open_base(&b, bases[t]) < 0) return 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(compare_class(cls, b.fd, b.dir, p[t], counts[t]));
    int status;
    waitpid(pid, &status, 0);
    bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  return bad;
}

static void test_openat2_selftest_paths(void **state) {
  (void)state;
  fdkt_in_child(selftest_child, NULL, 1);
}

/* --- The same fixture and paths beneath dirs opened with fdk_dir_open2's scoping flags,
 * against openat2 with the matching RESOLVE_* flags (IN_ROOT in place of BENEATH). */
static void test_scoped_selftest_paths(void **state) {
  (void)state;
  static const scope scopes[] = {
      {"IN_ROOT", FDK_DIR_IN_ROOT, RESOLVE_IN_ROOT},
      {"NO_XDEV", FDK_DIR_NO_XDEV, RESOLVE_NO_XDEV},
      {"NO_SYMLINKS", FDK_DIR_NO_SYMLINKS, RESOLVE_NO_SYMLINKS},
      {"IN_ROOT|NO_XDEV", FDK_DIR_IN_ROOT | FDK_DIR_NO_XDEV, RESOLVE_IN_ROOT | RESOLVE_NO_XDEV},
      {"IN_ROOT|NO_SYMLINKS", FDK_DIR_IN_ROOT | FDK_DIR_NO_SYMLINKS, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS},
  };
  for (size_t i = 0; i < NPATHS(scopes); i++) {
    fdkt_in_child(selftest_child, (void *)&scopes[i], 1);
    fdkt_remove_tree(g_top);
    if (mkdir(g_top, 0755) < 0) fail_msg("mkdir %s: %s", g_top, strerror(errno));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      class_test(test_nosymfollow_mount),
      class_test(test_protected_symlinks),
      class_test(test_search_permission),
      class_test(test_bounded_descriptors),
      class_test(test_procfs_links),
      class_test(test_procfs_unreadable_link_budget),
      class_test(test_name_max_left_to_filesystems),
      class_test(test_openat2_selftest_paths),
      class_test(test_scoped_selftest_paths),
  };
  return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
