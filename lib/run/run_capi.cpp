// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/run.h.
#include <climits>
#include <csignal>
#include <cstring>

#include "core/guard.h"
#include "loop/async_entry.h"
#include "loop/async_entry.h"
#include "fd/fd.h"
#include "fdkit/fs.h"
#include "run/run.h"

using fdk::fail;
using fdk::guard;
using fdk::guard_async;

namespace {

int check_opts(const char *what, const fdk_run_opts *opts) {
  return opts ? 0 : fail(-EINVAL, "%s: opts is NULL", what);
}

int check_result(const char *what, const fdk_run_result *res) {
  return res ? 0 : fail(-EINVAL, "%s: result is NULL", what);
}

// One field of a result, or -EINVAL when there is no result.
template <class Answer, class Field>
Answer result_field(const char *what, const fdk_run_result *res, Field fdk_run_result::*field) {
  if (int r = check_result(what, res)) return r;
  return static_cast<Answer>(res->*field);
}

}  // namespace

extern "C" {

FDK_API int fdk_run_opts_new(fdk_run_opts **out, const char *const *argv) {
  if (!out || !argv || !argv[0]) return fail(-EINVAL, "run_opts_new: argv is NULL or empty");
  return guard("run_opts_new", [&] {
    auto *opts = new fdk_run_opts;
    for (size_t i = 0; argv[i]; ++i) opts->argv.emplace_back(argv[i]);
    *out = opts;
    return 0;
  });
}

FDK_API fdk_run_opts *fdk_run_opts_free(fdk_run_opts *opts) {
  delete opts;
  return nullptr;
}

FDK_API int fdk_run_opts_set_env(fdk_run_opts *opts, const char *const *envp) {
  if (int r = check_opts("run_opts_set_env", opts)) return r;
  return guard("run_opts_set_env", [&] {
    if (!envp) {
      opts->env.reset();
      return 0;
    }
    std::vector<std::string> env;
    for (size_t i = 0; envp[i]; ++i) {
      if (!strchr(envp[i], '=')) return fail(-EINVAL, "run_opts_set_env: not K=V: '%s'", envp[i]);
      env.emplace_back(envp[i]);
    }
    opts->env = std::move(env);
    return 0;
  });
}

FDK_API int fdk_run_opts_set_cwd(fdk_run_opts *opts, const char *path) {
  if (int r = check_opts("run_opts_set_cwd", opts)) return r;
  return guard("run_opts_set_cwd", [&] {
    opts->cwd = path ? path : "";
    opts->cwd_fd = fdk::fd_unref(opts->cwd_fd);
    return 0;
  });
}

FDK_API int fdk_run_opts_set_cwd_fd(fdk_run_opts *opts, fdk_fd *dir) {
  if (int r = check_opts("run_opts_set_cwd_fd", opts)) return r;
  fdk::fd_unref(opts->cwd_fd);
  opts->cwd_fd = dir ? fdk::fd_ref(dir) : nullptr;
  opts->cwd.clear();
  return 0;
}

FDK_API int fdk_run_opts_set_cwd_dir(fdk_run_opts *opts, fdk_dir *dir) {
  if (int r = check_opts("run_opts_set_cwd_dir", opts)) return r;
  return fdk_run_opts_set_cwd_fd(opts, fdk_dir_handle(dir));
}

FDK_API int fdk_run_opts_set_stdin_bytes(fdk_run_opts *opts, const void *data, size_t len) {
  if (int r = check_opts("run_opts_set_stdin_bytes", opts)) return r;
  if (!data && len) return fail(-EINVAL, "run_opts_set_stdin_bytes: data is NULL");
  return guard("run_opts_set_stdin_bytes", [&] {
    opts->stdin_bytes.emplace(static_cast<const char *>(data), len);
    opts->stdin_fd = fdk::fd_unref(opts->stdin_fd);
    return 0;
  });
}

FDK_API int fdk_run_opts_set_stdin_fd(fdk_run_opts *opts, fdk_fd *fd) {
  if (int r = check_opts("run_opts_set_stdin_fd", opts)) return r;
  fdk::fd_unref(opts->stdin_fd);
  opts->stdin_fd = fd ? fdk::fd_ref(fd) : nullptr;
  opts->stdin_bytes.reset();
  return 0;
}

FDK_API int fdk_run_opts_set_stdout(fdk_run_opts *opts, int mode) {
  if (int r = check_opts("run_opts_set_stdout", opts)) return r;
  if (mode < FDK_RUN_INHERIT || mode > FDK_RUN_DISCARD) return fail(-EINVAL, "run_opts_set_stdout: bad mode %d", mode);
  opts->stdout_mode = mode;
  return 0;
}

FDK_API int fdk_run_opts_set_stderr(fdk_run_opts *opts, int mode) {
  if (int r = check_opts("run_opts_set_stderr", opts)) return r;
  if (mode < FDK_RUN_INHERIT || mode > FDK_RUN_MERGE) return fail(-EINVAL, "run_opts_set_stderr: bad mode %d", mode);
  opts->stderr_mode = mode;
  return 0;
}

FDK_API int fdk_run_opts_set_max_output(fdk_run_opts *opts, int64_t bytes) {
  if (int r = check_opts("run_opts_set_max_output", opts)) return r;
  if (bytes < -1) return fail(-EINVAL, "run_opts_set_max_output: negative size");
  opts->max_output = bytes;
  return 0;
}

FDK_API int fdk_run_opts_set_timeout(fdk_run_opts *opts, int64_t ms) {
  if (int r = check_opts("run_opts_set_timeout", opts)) return r;
  if (ms < 0 || ms > INT64_MAX / 1000000) return fail(-EINVAL, "run_opts_set_timeout: bad timeout");
  opts->timeout_ms = ms;
  return 0;
}

FDK_API int fdk_run_opts_set_cancel(fdk_run_opts *opts, int policy, int64_t kill_grace_ms) {
  if (int r = check_opts("run_opts_set_cancel", opts)) return r;
  if (policy < FDK_RUN_CANCEL_NONE || policy > FDK_RUN_CANCEL_GRACEFUL)
    return fail(-EINVAL, "run_opts_set_cancel: bad policy %d", policy);
  if (kill_grace_ms < 0 || kill_grace_ms > INT64_MAX / 1000000) return fail(-EINVAL, "run_opts_set_cancel: bad grace");
  opts->cancel = policy;
  opts->kill_grace_ms = kill_grace_ms;
  return 0;
}

FDK_API int fdk_run_opts_set_stop_signal(fdk_run_opts *opts, int sig) {
  if (int r = check_opts("run_opts_set_stop_signal", opts)) return r;
  if (sig <= 0 || sig >= NSIG) return fail(-EINVAL, "run_opts_set_stop_signal: %d is no signal", sig);
  opts->stop_signal = sig;
  return 0;
}

FDK_API int fdk_run_opts_set_stop_at_max_output(fdk_run_opts *opts, int stop) {
  if (int r = check_opts("run_opts_set_stop_at_max_output", opts)) return r;
  opts->stop_at_max_output = stop != 0;
  return 0;
}

FDK_API int fdk_run_opts_set_group(fdk_run_opts *opts, int mode, int32_t leader) {
  if (int r = check_opts("run_opts_set_group", opts)) return r;
  if (mode < FDK_RUN_GROUP_INHERIT || mode > FDK_RUN_GROUP_JOIN) return fail(-EINVAL, "run_opts_set_group: bad mode %d", mode);
  if ((mode == FDK_RUN_GROUP_JOIN) != (leader > 0))
    return fail(-EINVAL, "run_opts_set_group: a leader goes with FDK_RUN_GROUP_JOIN only");
  opts->group = mode;
  opts->leader = leader;
  return 0;
}

FDK_API int fdk_run_opts_set_fds(fdk_run_opts *opts, int policy, const int *keep, size_t count) {
  if (int r = check_opts("run_opts_set_fds", opts)) return r;
  if (policy < FDK_RUN_FDS_CLOEXEC_ONLY || policy > FDK_RUN_FDS_ALLOWLIST)
    return fail(-EINVAL, "run_opts_set_fds: bad policy %d", policy);
  if ((policy == FDK_RUN_FDS_ALLOWLIST) != (count > 0) || (count && !keep))
    return fail(-EINVAL, "run_opts_set_fds: an allow-list goes with FDK_RUN_FDS_ALLOWLIST only");
  for (size_t i = 0; i < count; ++i) {
    if (keep[i] < 3) return fail(-EINVAL, "run_opts_set_fds: descriptor %d is a standard stream", keep[i]);
    // Refused here, not when the run builds its mappings (a destination mapped twice).
    for (size_t j = 0; j < i; ++j)
      if (keep[j] == keep[i]) return fail(-EINVAL, "run_opts_set_fds: descriptor %d is listed twice", keep[i]);
  }
  return guard("run_opts_set_fds", [&] {
    opts->fds = policy;
    opts->keep.assign(keep, keep + count);
    return 0;
  });
}

FDK_API int fdk_run_opts_set_early_exit(fdk_run_opts *opts, fdk_run_early_exit_fn fn, void *arg) {
  if (int r = check_opts("run_opts_set_early_exit", opts)) return r;
  opts->early_exit = fn;
  opts->early_exit_arg = arg;
  return 0;
}

FDK_API int fdk_run_opts_set_backend(fdk_run_opts *opts, int backend) {
  if (int r = check_opts("run_opts_set_backend", opts)) return r;
  if (backend != FDK_SPAWN_BACKEND_AUTO && backend != FDK_SPAWN_BACKEND_FORK && backend != FDK_SPAWN_BACKEND_POSIX_SPAWN)
    return fail(-EINVAL, "run_opts_set_backend: unknown backend %d", backend);
  opts->backend = backend;
  return 0;
}

FDK_API int fdk_run(fdk_run_result **out, const fdk_run_opts *opts) {
  if (!out) return fail(-EINVAL, "run: out is NULL");
  if (int r = check_opts("run", opts)) return r;
  return guard("run", [&] { return fdk::run_sync(out, *opts); });
}

FDK_API int fdk_run_async(fdk_loop *loop, const fdk_run_opts *opts, fdk_run_cb cb, void *data, fdk_op **op) {
  if (int r = check_opts("run_async", opts)) return r;
  return guard_async("run_async", loop, cb, [&] { return fdk::run_async(loop, *opts, cb, data, op); });
}

FDK_API int fdk_run_signal(fdk_op *op, int sig) {
  if (!op) return fail(-EINVAL, "run_signal: op is NULL");
  if (sig < 0 || sig >= NSIG) return fail(-EINVAL, "run_signal: %d is no signal", sig);
  return guard("run_signal", [&] { return fdk::run_signal(op, sig); });
}

FDK_API fdk_run_result *fdk_run_result_free(fdk_run_result *res) {
  delete res;
  return nullptr;
}

FDK_API int fdk_run_result_status(const fdk_run_result *res, int *kind, int *value) {
  if (int r = check_result("run_result_status", res)) return r;
  if (kind) *kind = res->status_kind;
  if (value) *value = res->status_value;
  return 0;
}

FDK_API int fdk_run_result_rusage(const fdk_run_result *res, fdk_rusage *usage) {
  if (int r = check_result("run_result_rusage", res)) return r;
  if (!usage) return fail(-EINVAL, "run_result_rusage: usage is NULL");
  *usage = res->usage;
  return 0;
}

FDK_API const uint8_t *fdk_run_result_stdout(const fdk_run_result *res, size_t *len) {
  if (len) *len = res && res->out_captured ? res->out.len : 0;
  return res && res->out_captured ? reinterpret_cast<const uint8_t *>(res->out.data ? res->out.data : "") : nullptr;
}

FDK_API const uint8_t *fdk_run_result_stderr(const fdk_run_result *res, size_t *len) {
  if (len) *len = res && res->err_captured ? res->err.len : 0;
  return res && res->err_captured ? reinterpret_cast<const uint8_t *>(res->err.data ? res->err.data : "") : nullptr;
}

FDK_API int fdk_run_result_timed_out(const fdk_run_result *res) {
  return result_field<int>("run_result_timed_out", res, &fdk_run_result::timed_out);
}

FDK_API int fdk_run_result_truncated(const fdk_run_result *res) {
  return result_field<int>("run_result_truncated", res, &fdk_run_result::truncated);
}

FDK_API int fdk_run_result_early_exit(const fdk_run_result *res) {
  return result_field<int>("run_result_early_exit", res, &fdk_run_result::early_exit);
}

FDK_API int fdk_run_result_pipes_abandoned(const fdk_run_result *res) {
  return result_field<int>("run_result_pipes_abandoned", res, &fdk_run_result::pipes_abandoned);
}

FDK_API int32_t fdk_run_result_pid(const fdk_run_result *res) {
  return result_field<int32_t>("run_result_pid", res, &fdk_run_result::pid);
}

FDK_API int64_t fdk_run_result_duration_ns(const fdk_run_result *res) {
  return result_field<int64_t>("run_result_duration_ns", res, &fdk_run_result::duration_ns);
}

}  // extern "C"
