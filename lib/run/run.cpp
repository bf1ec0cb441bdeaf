// SPDX-License-Identifier: MIT
#include "run/run.h"

#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "fd/fd.h"
#include "io/ops.h"
#include "loop/loop.h"
#include "run/child_process.h"
#include "trace/trace.h"

namespace fdk {
namespace {

constexpr size_t kChunk = 64 * 1024;

// The parent's end of a pipe to the child, non-blocking; the child's end stays blocking,
// as programs expect of their standard streams.
struct PipePair {
  fdk_fd *parent = nullptr;
  int child = -1;
};

int make_pipe(PipePair *p, bool parent_reads) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return fail_sys(neg_errno(), "run: pipe2");
  int parent = parent_reads ? fds[0] : fds[1];
  p->child = parent_reads ? fds[1] : fds[0];
  if (fcntl(parent, F_SETFL, O_NONBLOCK) < 0) {
    int err = neg_errno();
    close(fds[0]);
    close(fds[1]);
    return fail_sys(err, "run: fcntl");
  }
  if (int r = fd_wrap(&p->parent, parent, false); r < 0) {
    close(p->child);
    return r;
  }
  return 0;
}

class RunOp final : public fdk_op {
 public:
  RunOp(fdk_loop *loop, const fdk_run_opts &opts, fdk_run_cb cb, void *data)
      : fdk_op(loop), opts_(opts), cb_(cb), data_(data), result_(new fdk_run_result) {}

  ~RunOp() override {
    for (Stream &s : streams_) fd_unref(s.fd);
    fd_unref(stdin_.fd);
    for (int fd : child_ends_)
      if (fd >= 0) close(fd);
  }

  int start(fdk_op **out) {
    span_.begin("run", -1, opts_.argv[0].c_str(), loop);
    int r = setup_and_spawn();
    if (r < 0) {
      span_.end(r);
      return r;
    }
    op_start(this, out);
    started_ns_ = now_ns();
    if (opts_.timeout_ms > 0) {
      if (int e = sleep_until(loop, started_ns_ + opts_.timeout_ms * 1000000, on_timeout, this, &timeout_op_); e == 0)
        ++outstanding_;
    }
    for (Stream &s : streams_)
      if (s.fd) read_next(&s);
    if (stdin_.fd) write_next();
    return 0;
  }

  void cancel() override { stop_child(); }

  int send_signal(int sig) {
    if (exited_) return fail(-ESRCH, "run_signal: the child has exited");
    return child_signal(child_, opts_, sig);
  }

  void deliver(int64_t r) override {
    span_.end(r);
    cb_(r < 0 ? static_cast<int>(r) : 0, r < 0 ? nullptr : result_.release(), data_);
  }

 private:
  struct Stream {
    RunOp *run = nullptr;
    fdk_fd *fd = nullptr;
    CaptureBuffer *sink = nullptr;
    bool is_stdout = false;
    fdk_op *op = nullptr;
  };

  struct StdinFeed {
    fdk_fd *fd = nullptr;
    size_t offset = 0;
    fdk_op *op = nullptr;
  };

  int setup_and_spawn() {
    if (int r = run_validate(opts_); r < 0) return r;
    ChildSpec spec{&opts_, {-1, -1, -1}};
    if (opts_.stdin_bytes) {
      PipePair p;
      if (int r = make_pipe(&p, false); r < 0) return r;
      stdin_.fd = p.parent;
      spec.stdio[0] = child_ends_[0] = p.child;
    } else if (opts_.stdin_fd) {
      int raw;
      if (fd_use(opts_.stdin_fd, &raw) < 0) return fail(-EBADF, "run: the stdin handle is closed");
      spec.stdio[0] = raw;
      stdin_in_use_ = true;
    }
    const int modes[2] = {opts_.stdout_mode, opts_.stderr_mode};
    for (int i = 0; i < 2; ++i) {
      if (modes[i] == FDK_RUN_CAPTURE) {
        PipePair p;
        if (int r = make_pipe(&p, true); r < 0) return r;
        Stream &s = streams_[i];
        s.run = this;
        s.fd = p.parent;
        s.is_stdout = i == 0;
        s.sink = i == 0 ? &result_->out : &result_->err;
        spec.stdio[i + 1] = child_ends_[i + 1] = p.child;
      } else if (modes[i] == FDK_RUN_DISCARD) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0) return fail(neg_errno(), "run: %s: '/dev/null'", errno_text(errno));
        spec.stdio[i + 1] = child_ends_[i + 1] = null;
      } else if (modes[i] == FDK_RUN_MERGE) {
        spec.stdio[2] = spec.stdio[1] >= 0 ? spec.stdio[1] : 1;
      }
    }
    result_->out_captured = opts_.stdout_mode == FDK_RUN_CAPTURE;
    result_->err_captured = opts_.stderr_mode == FDK_RUN_CAPTURE;
    int r = child_spawn(loop, spec, on_exit, this, &child_);
    if (stdin_in_use_) fd_unuse(opts_.stdin_fd);
    for (int &fd : child_ends_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    if (r < 0) return r;
    ++outstanding_;  // the exit
    return 0;
  }

  // Reading ------------------------------------------------------------------------------

  // Reads straight into the capture buffer's free end (past max_output too: what lands
  // beyond the limit is dropped by not counting it, so the buffer never grows past it).
  void read_next(Stream *s) {
    if (!s->sink->reserve(kChunk)) {
      fail(-ENOMEM, "run: out of memory for captured output");
      return stream_done(s);
    }
    size_t room = s->sink->cap - s->sink->len;
    if (read_async(loop, s->fd, s->sink->data + s->sink->len, room, on_read, s, &s->op) == 0) ++outstanding_;
    else stream_done(s);
  }

  static void on_read(int64_t n, void *data) {
    auto *s = static_cast<Stream *>(data);
    RunOp *run = s->run;
    --run->outstanding_;
    s->op = nullptr;
    if (n <= 0 || run->pipes_abandoned_) {
      run->stream_done(s);
    } else {
      run->keep(s, static_cast<size_t>(n));
      run->read_next(s);
    }
    run->maybe_finish();
  }

  // Keeps what max_output allows of the n bytes just read; the rest is dropped so the
  // child never blocks on a full pipe.
  void keep(Stream *s, size_t n) {
    size_t room = n;
    if (opts_.max_output >= 0) {
      size_t used = result_->out.len + result_->err.len;
      size_t limit = static_cast<size_t>(opts_.max_output);
      room = used >= limit ? 0 : std::min(n, limit - used);
      if (room < n) {
        result_->truncated = true;
        if (opts_.stop_at_max_output) stop_child(true);
      }
    }
    s->sink->len += room;
    if (s->is_stdout && room && opts_.early_exit && !result_->early_exit &&
        opts_.early_exit(result_->out.data, result_->out.len, opts_.early_exit_arg)) {
      result_->early_exit = true;
      stop_child(true);
    }
  }

  void stream_done(Stream *s) {
    if (!s->fd) return;
    s->fd = fd_unref(s->fd);
  }

  // Feeding stdin ------------------------------------------------------------------------

  void write_next() {
    const std::string &bytes = *opts_.stdin_bytes;
    if (stdin_.offset == bytes.size()) return stdin_finished();
    if (write_async(loop, stdin_.fd, bytes.data() + stdin_.offset, bytes.size() - stdin_.offset, on_written, this,
                    &stdin_.op) == 0)
      ++outstanding_;
    else
      stdin_finished();
  }

  static void on_written(int64_t n, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->stdin_.op = nullptr;
    // A child that stopped reading (-EPIPE) or a run that ended stops the feed.
    if (n < 0 || run->pipes_abandoned_) run->stdin_finished();
    else {
      run->stdin_.offset += static_cast<size_t>(n);
      run->write_next();
    }
    run->maybe_finish();
  }

  // Closing the pipe is the child's end of input.
  void stdin_finished() {
    if (stdin_.fd) stdin_.fd = fd_unref(stdin_.fd);
  }

  // Timeouts, cancellation, exit ---------------------------------------------------------

  static void on_timeout(int64_t r, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->timeout_op_ = nullptr;
    if (r == 0 && !run->exited_) {
      run->result_->timed_out = true;
      run->stop_child();
    }
    run->maybe_finish();
  }

  // Applies the cancel policy; must_stop (an early exit, output past the limit) stops the
  // child with KILL under NONE too.
  void stop_child(bool must_stop = false) {
    if (exited_ || stopping_) return;
    int policy = opts_.cancel;
    if (policy == FDK_RUN_CANCEL_NONE && !must_stop) return;
    stopping_ = true;
    if (policy == FDK_RUN_CANCEL_GRACEFUL) {
      child_signal(child_, opts_, opts_.stop_signal);
      if (sleep_until(loop, now_ns() + opts_.kill_grace_ms * 1000000, on_kill_grace, this, &grace_op_) == 0)
        ++outstanding_;
    } else {
      child_signal(child_, opts_, SIGKILL);
    }
  }

  // The group fdkit created outlives the child while descendants remain in it.
  bool own_group() const { return opts_.group == FDK_RUN_GROUP_NEW || opts_.group == FDK_RUN_GROUP_SESSION; }

  static void on_kill_grace(int64_t r, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->grace_op_ = nullptr;
    // The child is not reaped before the run ends, so its group id still names the group.
    if (r == 0 && (!run->exited_ || run->own_group())) child_signal(run->child_, run->opts_, SIGKILL);
    if (run->group_look_op_) fdk_op_cancel(run->group_look_op_);
    if (run->exited_) run->start_pipe_grace();
    run->maybe_finish();
  }

  static void on_exit(fdk_process *, int, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->exited_ = true;
    run->exit_ns_ = now_ns();
    // A group being stopped still gets its SIGKILL: descendants may ignore SIGTERM.
    if (run->grace_op_ && !run->own_group()) fdk_op_cancel(run->grace_op_);
    if (run->timeout_op_) fdk_op_cancel(run->timeout_op_);
    if (run->grace_op_ && run->own_group()) run->watch_group();
    // A descendant may keep the pipes open: give them kill_grace_ms to reach EOF — counted
    // from the group's SIGKILL when one is still due, so the run sees the group die.
    if (!run->grace_op_) run->start_pipe_grace();
    run->maybe_finish();
  }

  // The group's SIGKILL is only needed while a member still lives: look again, more
  // rarely each time, and end the grace as soon as every member has gone.
  void watch_group() {
    int64_t wait_ms = std::min<int64_t>(int64_t{5} << std::min(group_looks_, 5), 100);
    if (sleep_until(loop, now_ns() + wait_ms * 1000000, on_group_look, this, &group_look_op_) == 0) ++outstanding_;
  }

  static void on_group_look(int64_t r, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->group_look_op_ = nullptr;
    if (r == 0 && run->grace_op_) {
      ++run->group_looks_;
      if (child_group_alive(run->child_) == 0) fdk_op_cancel(run->grace_op_);
      else run->watch_group();
    }
    run->maybe_finish();
  }

  void start_pipe_grace() {
    if (pipes_open() && !pipe_grace_op_ &&
        sleep_until(loop, now_ns() + opts_.kill_grace_ms * 1000000, on_pipe_grace, this, &pipe_grace_op_) == 0)
      ++outstanding_;
  }

  static void on_pipe_grace(int64_t r, void *data) {
    auto *run = static_cast<RunOp *>(data);
    --run->outstanding_;
    run->pipe_grace_op_ = nullptr;
    if (r == 0) run->abandon_pipes();
    run->maybe_finish();
  }

  bool pipes_open() const { return streams_[0].fd || streams_[1].fd; }

  // Stops reading pipes a descendant holds open; what was read so far stays.
  void abandon_pipes() {
    pipes_abandoned_ = true;
    result_->pipes_abandoned = true;
    for (Stream &s : streams_)
      if (s.op) fdk_op_cancel(s.op);
    if (stdin_.op) fdk_op_cancel(stdin_.op);
  }

  // The run is over when the child exited and its pipes are done; its callback comes once
  // every operation it started has completed.
  void maybe_finish() {
    if (!exited_ || finished_) return;
    if (pipes_open() && !pipes_abandoned_) return;
    if (pipe_grace_op_) fdk_op_cancel(pipe_grace_op_);
    if (stdin_.op) fdk_op_cancel(stdin_.op);
    if (outstanding_ > 0) return;
    finished_ = true;
    stdin_finished();
    result_->duration_ns = now_ns() - started_ns_;
    int r = child_collect(child_, result_.get());
    child_ = nullptr;
    op_complete(this, r);
  }

  fdk_run_opts opts_;
  fdk_run_cb cb_;
  void *data_;
  std::unique_ptr<fdk_run_result> result_;
  Span span_;
  fdk_process *child_ = nullptr;
  Stream streams_[2];
  StdinFeed stdin_;
  int child_ends_[3] = {-1, -1, -1};
  bool stdin_in_use_ = false;
  fdk_op *timeout_op_ = nullptr, *grace_op_ = nullptr, *pipe_grace_op_ = nullptr, *group_look_op_ = nullptr;
  int outstanding_ = 0, group_looks_ = 0;
  int64_t started_ns_ = 0, exit_ns_ = 0;
  bool exited_ = false, stopping_ = false, pipes_abandoned_ = false, finished_ = false;
};

}  // namespace

int run_async(fdk_loop *loop, const fdk_run_opts &opts, fdk_run_cb cb, void *data, fdk_op **op) {
  auto *run = new RunOp(loop, opts, cb, data);
  int r = run->start(op);
  if (r < 0) delete run;
  return r;
}

int run_signal(fdk_op *op, int sig) {
  auto *run = dynamic_cast<RunOp *>(op);
  if (!run) return fail(-EINVAL, "run_signal: op is not a run");
  return run->send_signal(sig);
}

int run_sync(fdk_run_result **out, const fdk_run_opts &opts) {
  fdk_loop *loop;
  if (int r = loop_create(&loop, nullptr); r < 0) return r;
  struct Outcome {
    int result = 1;
    fdk_run_result *res = nullptr;
  } outcome;
  int r = run_async(
      loop, opts,
      [](int result, fdk_run_result *res, void *data) {
        auto *o = static_cast<Outcome *>(data);
        o->result = result;
        o->res = res;
      },
      &outcome, nullptr);
  if (r == 0) {
    while (outcome.result == 1) loop_run(loop, FDK_RUN_ONCE);
    r = outcome.result;
  }
  std::string detail = r < 0 ? error_text() : "";
  loop_destroy(loop);
  if (r < 0) return fail(r, "%s", detail.c_str());
  *out = outcome.res;
  return 0;
}

}  // namespace fdk
