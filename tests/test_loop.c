/* Loop: creation, run modes, posts from other threads, op lifetime rules, free. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static void test_new_free(void **state) {
  (void)state;
  fdk_loop *loop = NULL;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_non_null(loop);
  assert_true(fdk_loop_backend_fd(loop) >= 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(fdk_loop_free(NULL), 0);
}

static void test_bad_arguments(void **state) {
  (void)state;
  assert_int_equal(fdk_loop_new(NULL), -EINVAL);
  assert_int_equal(fdk_loop_run(NULL, FDK_RUN_DEFAULT), -EINVAL);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_loop_run(loop, 7), -EINVAL);
  assert_non_null(strstr(fdk_last_error(), "mode"));
  assert_int_equal(fdk_loop_post(loop, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_op_cancel(NULL), -EINVAL);
  fdk_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_new_free),
      fdkt_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
