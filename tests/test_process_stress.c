/* SPDX-License-Identifier: MIT */
/* Fork safety: 10,000 spawns from two threads while other threads allocate, free and take
 * locks without pause. A child that inherited a held lock or a half-updated allocator
 * would hang or crash; every child must be reaped. */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { SPAWNERS = 2, HAMMERS = 2, SPAWNS_PER_THREAD = 5000 };

static atomic_int stop;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static void *hammer(void *arg) {
  (void)arg;
  unsigned n = 0;
  void *keep[64] = {0};
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    unsigned i = n++ % 64;
    pthread_mutex_lock(&shared_lock);
    free(keep[i]);
    keep[i] = malloc(16 + (n * 37) % 4096);
    memset(keep[i], 1, 16);
    pthread_mutex_unlock(&shared_lock);
  }
  for (int i = 0; i < 64; i++) free(keep[i]);
  return NULL;
}

typedef struct {
  unsigned backend;
  int failures;
} spawner_args;

static void *spawner(void *arg) {
  spawner_args *s = arg;
  fdk_actions *a;
  if (fdk_actions_new(&a) < 0) return NULL;
  const char *argv[] = {"tiny", NULL};
  fdk_actions_execve(a, TINY_CHILD_PATH, argv, NULL);
  for (int i = 0; i < SPAWNS_PER_THREAD; i++) {
    fdk_process *p;
    /* Every 10th spawn goes through the fork backend. */
    unsigned backend = i % 10 == 9 ? FDK_SPAWN_BACKEND_FORK : s->backend;
    if (fdk_spawn(&p, NULL, a, backend, NULL, NULL) < 0) {
      s->failures++;
      continue;
    }
    fdk_exit_status st;
    if (fdk_process_wait(p, &st) < 0 || st.kind != FDK_EXIT_CODE || st.value != 0) s->failures++;
    fdk_process_free(p);
  }
  fdk_actions_free(a);
  return NULL;
}

static void test_spawn_while_threads_hammer(void **state) {
  (void)state;
  atomic_store(&stop, 0);
  pthread_t hammers[HAMMERS], spawners[SPAWNERS];
  spawner_args args[SPAWNERS];
  for (int i = 0; i < HAMMERS; i++) assert_int_equal(pthread_create(&hammers[i], NULL, hammer, NULL), 0);
  int64_t start = fdk_now_ns();
  for (int i = 0; i < SPAWNERS; i++) {
    args[i] = (spawner_args){FDK_SPAWN_BACKEND_AUTO, 0};
    assert_int_equal(pthread_create(&spawners[i], NULL, spawner, &args[i]), 0);
  }
  for (int i = 0; i < SPAWNERS; i++) pthread_join(spawners[i], NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < HAMMERS; i++) pthread_join(hammers[i], NULL);
  for (int i = 0; i < SPAWNERS; i++) assert_int_equal(args[i].failures, 0);
  print_message("# %d spawns in %.1f s\n", SPAWNERS * SPAWNS_PER_THREAD, (double)(fdk_now_ns() - start) / 1e9);
}

/* A list that runs the tiny static child. */
static fdk_actions *tiny_actions(void) {
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  const char *argv[] = {"tiny", NULL};
  assert_int_equal(fdk_actions_execve(a, TINY_CHILD_PATH, argv, NULL), 0);
  return a;
}

static void on_exit_count(fdk_process *p, int result, void *data) {
  int *left = data;
  fdk_exit_status st;
  if (result == 0 && fdk_process_try_wait(p, &st) == 1 && st.value == 0) --*left;
  fdk_process_free(p);
}

/* Exit watching under load: hundreds of children in flight on one loop, each freed from
 * its own exit callback. */
static void test_loop_exit_watch_under_load(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_actions *a = tiny_actions();
  int left = 1000;
  for (int i = 0; i < 1000; i++) {
    fdk_process *p;
    assert_int_equal(fdk_spawn(&p, loop, a, i % 3 == 2 ? FDK_SPAWN_BACKEND_FORK : 0, on_exit_count, &left), 0);
    if (i % 100 == 99) fdk_loop_run(loop, FDK_RUN_NOWAIT);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(left, 0);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Free against exit callback: the loop thread spawns and delivers exit callbacks while
 * another thread frees the processes as the exits arrive. Once fdk_process_free returned,
 * the callback must never run. */
enum { RACE_CHILDREN = 2000 };

typedef struct {
  atomic_int freed;
  atomic_int calls;
} race_slot;

static race_slot race_slots[RACE_CHILDREN];
static fdk_process *race_queue[RACE_CHILDREN];
static atomic_int race_queued, race_freed, race_late_calls;

static void on_exit_race(fdk_process *p, int result, void *data) {
  (void)p;
  (void)result;
  race_slot *slot = data;
  if (atomic_load(&slot->freed)) atomic_fetch_add(&race_late_calls, 1);
  atomic_fetch_add(&slot->calls, 1);
}

static void *race_freer(void *arg) {
  (void)arg;
  unsigned seed = 7;
  for (int i = 0; i < RACE_CHILDREN; i++) {
    while (atomic_load(&race_queued) <= i) sched_yield();
    if (rand_r(&seed) % 4 == 0) usleep(rand_r(&seed) % 200);
    fdk_process_free(race_queue[i]);
    atomic_store(&race_slots[i].freed, 1);
    atomic_fetch_add(&race_freed, 1);
  }
  return NULL;
}

static void test_free_races_exit_callback(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_actions *a = tiny_actions();
  pthread_t freer;
  assert_int_equal(pthread_create(&freer, NULL, race_freer, NULL), 0);
  for (int i = 0; i < RACE_CHILDREN; i++) {
    assert_int_equal(fdk_spawn(&race_queue[i], loop, a, 0, on_exit_race, &race_slots[i]), 0);
    atomic_store(&race_queued, i + 1);
    fdk_loop_run(loop, FDK_RUN_NOWAIT);
  }
  while (atomic_load(&race_freed) < RACE_CHILDREN) fdk_loop_run(loop, FDK_RUN_NOWAIT);
  pthread_join(freer, NULL);
  while (fdk_loop_run(loop, FDK_RUN_ONCE) != 0) {
  }
  assert_int_equal(atomic_load(&race_late_calls), 0);
  for (int i = 0; i < RACE_CHILDREN; i++) assert_true(atomic_load(&race_slots[i].calls) <= 1);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_spawn_while_threads_hammer),
      fdkt_test(test_loop_exit_watch_under_load),
      fdkt_test(test_free_races_exit_callback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
