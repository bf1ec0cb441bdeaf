/* SPDX-License-Identifier: MIT */
/* Deferred close under threads: workers use, write to, ref and unref shared handles while
 * a closer replaces and closes them and a churner keeps creating descriptors that take
 * the freed numbers. A canary catches any operation that reached a recycled number:
 * every handle wraps an unnamed file of its own (unique inode), a use checks the inode
 * under it, and the churner's fresh files must never receive a byte. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstree.h"
#include "testutil.h"

enum { SLOTS = 8, WORKERS = 4, RUN_MS = 1500 };

typedef struct {
  pthread_mutex_t lock;
  fdk_fd *fd;
  ino_t ino;
} slot;

static slot slots[SLOTS];
static atomic_int stop;
static atomic_long uses, writes, badf, wrong_inode, canary_hits, canaries_lost, replaced;

/* An unnamed file of its own (unique inode). Made by open(2) where it can be: ThreadSanitizer
 * intercepts open but not memfd_create, so a number made by memfd_create keeps, for it, the
 * accesses of the descriptor that had the number before, and the churner's close of a
 * canary then reads as a race with a worker's write to the handle closed before it. */
static int anonymous_file(const char *name) {
  int raw = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  return raw >= 0 ? raw : memfd_create(name, MFD_CLOEXEC);
}

static fdk_fd *new_handle(ino_t *ino) {
  int raw = anonymous_file("fdkit-stress");
  assert_true(raw >= 0);
  struct stat st;
  fstat(raw, &st);
  *ino = st.st_ino;
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, 0), 0);
  return fd;
}

static fdk_fd *take(int i, ino_t *ino) {
  pthread_mutex_lock(&slots[i].lock);
  fdk_fd *fd = fdk_fd_ref(slots[i].fd);
  *ino = slots[i].ino;
  pthread_mutex_unlock(&slots[i].lock);
  return fd;
}

static void *worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    ino_t ino;
    fdk_fd *fd = take(rand_r(&seed) % SLOTS, &ino);
    switch (rand_r(&seed) % 3) {
      case 0: {
        int raw;
        if (fdk_fd_use(fd, &raw) == 0) {
          struct stat st;
          for (int k = 0; k < 2; k++) {
            if (fstat(raw, &st) < 0 || st.st_ino != ino) atomic_fetch_add(&wrong_inode, 1);
            if (k == 0 && rand_r(&seed) % 4 == 0) usleep(20);
          }
          fdk_fd_unuse(fd);
          atomic_fetch_add(&uses, 1);
        } else {
          atomic_fetch_add(&badf, 1);
        }
        break;
      }
      case 1: {
        ssize_t n = fdk_write(fd, "x", 1);
        if (n == 1) atomic_fetch_add(&writes, 1);
        else if (n == -EBADF) atomic_fetch_add(&badf, 1);
        else fail_msg("write: %zd", n);
        break;
      }
      default:
        fdk_fd_unref(fdk_fd_ref(fd));
        break;
    }
    fdk_fd_unref(fd);
  }
  return NULL;
}

/* Ends fd by fdk_fd_close, or by fdk_fd_release and close, at random. */
static void close_or_release(fdk_fd *fd, unsigned *seed) {
  if (rand_r(seed) % 2) {
    assert_int_equal(fdk_fd_close(fd), 0);
  } else {
    int raw;
    assert_int_equal(fdk_fd_release(fd, &raw), 0);
    close(raw);
  }
}

static void *closer(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    int i = rand_r(&seed) % SLOTS;
    ino_t ino;
    fdk_fd *fresh = new_handle(&ino);
    pthread_mutex_lock(&slots[i].lock);
    fdk_fd *old = slots[i].fd;
    slots[i].fd = fresh;
    slots[i].ino = ino;
    pthread_mutex_unlock(&slots[i].lock);
    close_or_release(old, &seed);
    fdk_fd_unref(old);
    atomic_fetch_add(&replaced, 1);
    usleep(50);
  }
  return NULL;
}

/* Takes the numbers the closer frees; a stray write or use would land here, and a second
 * close of a number fdkit had closed takes a canary away (its number then answers EBADF or
 * names another file). */
static void *churner(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    int raws[16];
    ino_t inos[16];
    for (int k = 0; k < 16; k++) {
      struct stat st;
      raws[k] = anonymous_file("fdkit-canary");
      inos[k] = raws[k] >= 0 && fstat(raws[k], &st) == 0 ? st.st_ino : 0;
    }
    usleep(30);
    for (int k = 0; k < 16; k++) {
      if (raws[k] < 0) continue;
      struct stat st;
      if (fstat(raws[k], &st) < 0 || st.st_ino != inos[k]) {
        atomic_fetch_add(&canaries_lost, 1);
        continue; /* the number is not the canary's any more: not ours to close */
      }
      if (st.st_size != 0) atomic_fetch_add(&canary_hits, 1);
      close(raws[k]);
    }
  }
  return NULL;
}

/* Runs WORKERS workers, a closer and a churner for RUN_MS, then stops and joins them;
 * each worker and the closer get a seed of their own as argument. */
static void run_threads(void *(*work)(void *), void *(*close_some)(void *), void *(*churn)(void *)) {
  atomic_store(&stop, 0);
  pthread_t w[WORKERS], c, ch;
  for (int i = 0; i < WORKERS; i++) pthread_create(&w[i], NULL, work, (void *)(uintptr_t)(i + 1));
  pthread_create(&c, NULL, close_some, (void *)(uintptr_t)99);
  pthread_create(&ch, NULL, churn, NULL);
  usleep(RUN_MS * 1000);
  atomic_store(&stop, 1);
  for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
  pthread_join(c, NULL);
  pthread_join(ch, NULL);
}

static void test_close_under_concurrent_use(void **state) {
  (void)state;
  for (int i = 0; i < SLOTS; i++) {
    pthread_mutex_init(&slots[i].lock, NULL);
    slots[i].fd = new_handle(&slots[i].ino);
  }
  run_threads(worker, closer, churner);
  for (int i = 0; i < SLOTS; i++) {
    fdk_fd_unref(slots[i].fd);
    pthread_mutex_destroy(&slots[i].lock);
  }
  print_message("# %ld uses, %ld writes, %ld EBADF, %ld handles replaced\n", atomic_load(&uses),
                atomic_load(&writes), atomic_load(&badf), atomic_load(&replaced));
  assert_int_equal(atomic_load(&wrong_inode), 0);
  assert_int_equal(atomic_load(&canary_hits), 0);
  assert_int_equal(atomic_load(&canaries_lost), 0);
  /* The run exercised what it claims to: uses, writes and replacements all happened. */
  assert_true(atomic_load(&uses) > 100);
  assert_true(atomic_load(&writes) > 100);
  assert_true(atomic_load(&replaced) > 100);
}

/* Dirs closed while other threads open and stat one name through them (the path whose
 * system call fdkit makes inline): DIRS directories each hold a file "f" of their own,
 * and the churner keeps opening a decoy directory whose "f" is another file, so that a
 * call that reached a recycled number finds the decoy's inode (or an error other than
 * EBADF) and is counted. */
enum { DIRS = 4 };

typedef struct {
  pthread_mutex_t lock;
  fdk_dir *dir;
  ino_t ino; /* of the dir's "f" */
} dir_slot;

static char dir_top[PATH_MAX];
static dir_slot dir_slots[DIRS];
static atomic_long dir_opens, dir_stats, dir_badf, dir_wrong, dirs_replaced;

static ino_t ino_at(const char *path) {
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  return st.st_ino;
}

/* dir_top/name/f, a new empty file in a new directory. */
static void make_dir_with_file(const char *name) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", dir_top, name);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/%s/f", dir_top, name);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
}

static fdk_dir *open_dir_slot(int i, ino_t *ino) {
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/d%d", dir_top, i);
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), path), 0);
  snprintf(path, sizeof path, "%s/d%d/f", dir_top, i);
  *ino = ino_at(path);
  return dir;
}

static void *dir_worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  while (!atomic_load(&stop)) {
    int i = rand_r(&seed) % DIRS;
    pthread_mutex_lock(&dir_slots[i].lock);
    fdk_dir *dir = fdk_dir_ref(dir_slots[i].dir);
    ino_t ino = dir_slots[i].ino;
    pthread_mutex_unlock(&dir_slots[i].lock);
    /* A burst of calls on the dir taken, so that many run while it is closed. */
    for (int k = 0; k < 16; k++) {
      if (rand_r(&seed) % 2) {
        int r = fdk_statat(st, dir, "f", 1);
        if (r == 0 && fdk_stat_ino(st) == ino) atomic_fetch_add(&dir_stats, 1);
        else if (r == -EBADF) atomic_fetch_add(&dir_badf, 1);
        else atomic_fetch_add(&dir_wrong, 1);
      } else {
        fdk_fd *fd;
        int r = fdk_openat(&fd, dir, "f", FDK_O_RDONLY, 0);
        if (r == 0) {
          if (fdkt_fd_ino(fd) == ino) atomic_fetch_add(&dir_opens, 1);
          else atomic_fetch_add(&dir_wrong, 1);
          fdk_fd_unref(fd);
        } else if (r == -EBADF) {
          atomic_fetch_add(&dir_badf, 1);
        } else {
          atomic_fetch_add(&dir_wrong, 1);
        }
      }
    }
    fdk_dir_unref(dir);
  }
  fdk_stat_free(st);
  return NULL;
}

static void *dir_closer(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    int i = rand_r(&seed) % DIRS;
    ino_t ino;
    fdk_dir *fresh = open_dir_slot(i, &ino);
    pthread_mutex_lock(&dir_slots[i].lock);
    fdk_dir *old = dir_slots[i].dir;
    dir_slots[i].dir = fresh;
    dir_slots[i].ino = ino;
    pthread_mutex_unlock(&dir_slots[i].lock);
    close_or_release(fdk_dir_handle(old), &seed);
    fdk_dir_unref(old);
    atomic_fetch_add(&dirs_replaced, 1);
    usleep(20);
  }
  return NULL;
}

/* Takes the numbers the closer frees with descriptors of the decoy directory. */
static void *dir_churner(void *arg) {
  (void)arg;
  char decoy[PATH_MAX + 8];
  snprintf(decoy, sizeof decoy, "%s/decoy", dir_top);
  while (!atomic_load(&stop)) {
    int raws[16];
    for (int k = 0; k < 16; k++) raws[k] = open(decoy, O_PATH | O_DIRECTORY | O_CLOEXEC);
    usleep(30);
    for (int k = 0; k < 16; k++)
      if (raws[k] >= 0) close(raws[k]);
  }
  return NULL;
}

static void test_dir_close_under_one_name_calls(void **state) {
  (void)state;
  assert_int_equal(fdkt_tempdir(dir_top, "fd-stress"), 0);
  char name[16];
  for (int i = 0; i < DIRS; i++) {
    snprintf(name, sizeof name, "d%d", i);
    make_dir_with_file(name);
  }
  make_dir_with_file("decoy");
  for (int i = 0; i < DIRS; i++) {
    pthread_mutex_init(&dir_slots[i].lock, NULL);
    dir_slots[i].dir = open_dir_slot(i, &dir_slots[i].ino);
  }
  run_threads(dir_worker, dir_closer, dir_churner);
  for (int i = 0; i < DIRS; i++) {
    fdk_dir_unref(dir_slots[i].dir);
    pthread_mutex_destroy(&dir_slots[i].lock);
  }
  fdkt_remove_tree(dir_top);
  print_message("# %ld opens, %ld stats, %ld EBADF, %ld dirs replaced\n", atomic_load(&dir_opens),
                atomic_load(&dir_stats), atomic_load(&dir_badf), atomic_load(&dirs_replaced));
  assert_int_equal(atomic_load(&dir_wrong), 0);
  /* The run exercised what it claims to: calls through live and closed dirs both. */
  assert_true(atomic_load(&dir_opens) > 100);
  assert_true(atomic_load(&dir_stats) > 100);
  assert_true(atomic_load(&dir_badf) > 0);
  assert_true(atomic_load(&dirs_replaced) > 100);
}

/* Closes from several threads at once: exactly one close succeeds. */
static atomic_int close_wins;
static void *close_it(void *arg) {
  if (fdk_fd_close(arg) == 0) atomic_fetch_add(&close_wins, 1);
  return NULL;
}

static void test_racing_closes(void **state) {
  (void)state;
  for (int round = 0; round < 200; round++) {
    ino_t ino;
    fdk_fd *fd = new_handle(&ino);
    atomic_store(&close_wins, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, close_it, fd);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&close_wins), 1);
    fdk_fd_unref(fd);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_close_under_concurrent_use),
      fdkt_test(test_racing_closes),
      fdkt_test(test_dir_close_under_one_name_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
