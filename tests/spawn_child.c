/* SPDX-License-Identifier: MIT */
/* The child the process suite spawns: each command prints what the test checks on
 * stdout (the test maps a pipe there). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int self = dirfd(d);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    printf("%s ", e->d_name);
  }
  closedir(d);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2) return 100;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "exit")) return atoi(argv[2]);
  if (!strcmp(cmd, "kill")) {
    raise(atoi(argv[2]));
    return 101;
  }
  if (!strcmp(cmd, "sleep")) {
    for (;;) pause();
  }
  if (!strcmp(cmd, "env")) {
    for (int i = 2; i < argc; i++) printf("%s=%s\n", argv[i], getenv(argv[i]) ? getenv(argv[i]) : "(unset)");
  } else if (!strcmp(cmd, "args")) {
    printf("%d", argc);
    for (int i = 2; i < argc; i++) printf(" %zu", strlen(argv[i]));
    printf("\n");
  } else if (!strcmp(cmd, "cwd")) {
    char buf[4096];
    printf("%s\n", getcwd(buf, sizeof buf));
  } else if (!strcmp(cmd, "fds")) {
    print_fds();
  } else if (!strcmp(cmd, "read")) {
    /* read FD...: the marker each descriptor holds */
    for (int i = 2; i < argc; i++) {
      char buf[64];
      ssize_t n = read(atoi(argv[i]), buf, sizeof buf - 1);
      buf[n > 0 ? n : 0] = 0;
      printf("%s=%s ", argv[i], n >= 0 ? buf : "ERR");
    }
    printf("\n");
  } else if (!strcmp(cmd, "fdflags")) {
    for (int i = 2; i < argc; i++) {
      int fd = atoi(argv[i]);
      printf("%d:%s:%s ", fd, fcntl(fd, F_GETFL) & O_NONBLOCK ? "nonblock" : "block",
             fcntl(fd, F_GETFD) & FD_CLOEXEC ? "cloexec" : "inherit");
    }
    printf("\n");
  } else if (!strcmp(cmd, "signals")) {
    /* each of 1..31: D default, I ignored, H handled; then the blocked mask */
    for (int s = 1; s < 32; s++) {
      struct sigaction sa;
      sigaction(s, NULL, &sa);
      putchar(sa.sa_handler == SIG_DFL ? 'D' : sa.sa_handler == SIG_IGN ? 'I' : 'H');
    }
    sigset_t set;
    sigprocmask(SIG_SETMASK, NULL, &set);
    int blocked = 0;
    for (int s = 1; s < 65; s++) blocked += sigismember(&set, s) == 1;
    printf(" %d\n", blocked);
  } else if (!strcmp(cmd, "ids")) {
    gid_t groups[64];
    int n = getgroups(64, groups);
    printf("%u %u %d", (unsigned)getuid(), (unsigned)getgid(), n);
    for (int i = 0; i < n; i++) printf(" %u", (unsigned)groups[i]);
    printf("\n");
  } else if (!strcmp(cmd, "proc")) {
    mode_t m = umask(0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int sig = 0;
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("pid=%d pgid=%d sid=%d ppid=%d umask=%03o nofile=%llu/%llu pdeathsig=%d nnp=%d\n", getpid(), getpgid(0),
           getsid(0), getppid(), (unsigned)m, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, sig,
           prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  } else {
    return 102;
  }
  return 0;
}
