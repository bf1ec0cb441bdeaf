// SPDX-License-Identifier: MIT
// Building an action list: every string and array is copied into storage whose
// addresses never move, so the child can read it.
#include <limits.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <signal.h>

#include <algorithm>

#include "core/error.h"
#include "process/actions.h"

namespace fdk {
namespace {

using child::Action;
using child::FdStep;
using child::Op;

const char *copy_string(fdk_actions *a, const char *s) { return a->strings.emplace_back(s).c_str(); }

const char *const *copy_array(fdk_actions *a, const char *const *v) {
  auto &out = a->arrays.emplace_back();
  for (; *v; ++v) out.push_back(copy_string(a, *v));
  out.push_back(nullptr);
  return out.data();
}

const char *op_name(Op op) {
  switch (op) {
    case Op::execve: return "execve";
    case Op::chdir: return "chdir";
    case Op::fchdir: return "fchdir";
    case Op::inherit: return "inherit_fd";
    case Op::setsid: return "setsid";
    case Op::setpgid: return "setpgid";
    case Op::setuid: return "setuid";
    case Op::setgid: return "setgid";
    case Op::setgroups: return "setgroups";
    case Op::umask: return "umask";
    case Op::rlimit: return "rlimit";
    case Op::pdeathsig: return "pdeathsig";
    case Op::no_new_privs: return "no_new_privs";
    case Op::signal_default: return "signal_default";
    case Op::signal_ignore: return "signal_ignore";
    case Op::close_other_fds: return "close_other_fds";
    case Op::user: return "user";
    case Op::login_tty: return "login_tty";
  }
  return "?";
}

// The name of an action with its numeric argument, built once when the action is added
// (a path or name argument is kept apart, in paths).
std::string name_of(const Action &act) {
  std::string n = op_name(act.op);
  switch (act.op) {
    case Op::setpgid:
    case Op::setuid:
    case Op::setgid:
    case Op::pdeathsig:
    case Op::signal_default:
    case Op::signal_ignore:
      return n + " " + std::to_string(act.num);
    case Op::umask: {
      char buf[16];
      snprintf(buf, sizeof buf, " %03o", static_cast<unsigned>(act.num));
      return n + buf;
    }
    case Op::rlimit:
    case Op::fchdir:
    case Op::login_tty:
      return n + " " + std::to_string(act.num);
    case Op::setgroups:
      return n + " (" + std::to_string(act.a) + " groups)";
    default:
      return n;
  }
}

bool changes_session(Op op) { return op == Op::setsid || op == Op::setpgid || op == Op::login_tty; }

int add(fdk_actions *a, const Action &act, const char *text, fdk_fd *fd = nullptr) {
  if (a->has_exec) return fail(-EINVAL, "actions_%s: added after the exec action", op_name(act.op));
  // login_tty starts a session itself; after setsid or setpgid its setsid would fail.
  if (changes_session(act.op) && a->has_session_change &&
      (act.op == Op::login_tty || std::any_of(a->actions.begin(), a->actions.end(), [](const Action &b) { return b.op == Op::login_tty; })))
    return fail(-EINVAL, "actions_%s: login_tty cannot be combined with setsid or setpgid (it starts its own session)",
                op_name(act.op));
  a->names.reserve(a->names.size() + 1);
  a->paths.reserve(a->paths.size() + 1);
  a->action_fds.reserve(a->action_fds.size() + 1);
  a->actions.push_back(act);
  a->names.push_back(name_of(act));
  bool named = act.op == Op::execve || act.op == Op::chdir || act.op == Op::user;
  a->paths.push_back(named ? text : "");
  a->action_fds.push_back(fd);
  if (fd) fd_pin(fd);
  a->has_session_change = a->has_session_change || changes_session(act.op);
  return 0;
}

bool valid_signal(int sig) { return sig > 0 && sig < NSIG; }

// A disposition cannot be set for SIGKILL or SIGSTOP; a parent-death signal can be any.
bool valid_disposition_signal(int sig) { return valid_signal(sig) && sig != SIGKILL && sig != SIGSTOP; }

// The steps that apply the inherit set (see child::FdStep), planned once the list is
// complete; the child follows them at every spawn.
void plan_inherit(fdk_actions *a) {
  const auto &pairs = a->pairs;
  std::vector<FdStep> steps;
  std::vector<int32_t> dsts;
  // Per mapping: 0 pending, 1 done, 2 pending with its source kept in the temporary.
  std::vector<uint8_t> done(pairs.size(), 0);
  int32_t top = 2;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto &p = pairs[i];
    top = std::max({top, p.src, p.dst});
    dsts.push_back(p.dst);
    if (p.dst == p.src) {
      steps.push_back({FdStep::clear_cloexec, p.src, p.dst, static_cast<int32_t>(i)});
      done[i] = 1;
    }
  }
  std::sort(dsts.begin(), dsts.end());
  // Current location of each pending mapping's source: its number, or the temporary.
  auto src_of = [&](size_t i) { return done[i] == 2 ? child::kTemp : pairs[i].src; };
  auto needed = [&](int32_t fd) {
    for (size_t j = 0; j < pairs.size(); ++j)
      if (!(done[j] & 1) && src_of(j) == fd) return true;
    return false;
  };
  size_t left = 0;
  for (uint8_t d : done) left += !d;
  while (left > 0) {
    bool progress = false;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (done[i] & 1) continue;
      // A destination is written once no pending mapping still reads it.
      if (needed(pairs[i].dst)) continue;
      steps.push_back({FdStep::dup, src_of(i), pairs[i].dst, static_cast<int32_t>(i)});
      done[i] = 1;
      --left;
      progress = true;
    }
    if (progress) continue;
    // Only cycles remain: keep one destination aside in the temporary, which the previous
    // cycle no longer needs, and let its readers read that. The step is reported under a
    // mapping that reads the saved descriptor, whose source it is.
    size_t i = 0;
    while (done[i] & 1) ++i;
    int32_t saved = pairs[i].dst;
    int32_t reader = -1;
    for (size_t j = 0; j < pairs.size(); ++j) {
      if (!(done[j] & 1) && pairs[j].src == saved && done[j] != 2) {
        done[j] = 2;
        if (reader < 0) reader = static_cast<int32_t>(j);
      }
    }
    steps.push_back({FdStep::save, saved, 0, reader});
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    int mode = pairs[i].mode;
    if (mode == FDK_INHERIT_PRESERVE) continue;
    steps.push_back({mode == FDK_INHERIT_BLOCKING ? FdStep::set_blocking : FdStep::set_nonblocking, 0, pairs[i].dst,
                     static_cast<int32_t>(i)});
  }
  a->steps = std::move(steps);
  a->dsts = std::move(dsts);
  a->temp_min = top + 1;
}

}  // namespace

int actions_exec(fdk_actions *a, const char *path, const char *const *argv, const char *const *envp, bool search) {
  if (a->has_exec) return fail(-EINVAL, "actions_exec%s: a second exec action", search ? "vp" : "ve");
  Action act{Op::execve};
  act.ptr = copy_string(a, path);
  act.argv = copy_array(a, argv);
  const char *const *env = envp ? copy_array(a, envp) : nullptr;
  // The list is complete with its exec action: plan it now (a failure to allocate leaves
  // it unchanged, the adder's rule).
  plan_inherit(a);
  add(a, act, path);
  a->exec_search = search && !strchr(path, '/');
  a->exec_file = static_cast<const char *>(act.ptr);
  a->exec_envp = env;
  a->has_exec = true;
  return 0;
}

int actions_simple(fdk_actions *a, Op op, int32_t num, const char *text) {
  Action act{op};
  act.num = num;
  switch (op) {
    case Op::pdeathsig:
      if (!valid_signal(num)) return fail(-EINVAL, "actions_%s: bad signal %d", op_name(op), num);
      break;
    case Op::signal_default:
    case Op::signal_ignore:
      if (!valid_disposition_signal(num)) return fail(-EINVAL, "actions_%s: bad signal %d", op_name(op), num);
      break;
    case Op::setpgid:
      if (num < 0) return fail(-EINVAL, "actions_setpgid: negative group %d", num);
      break;
    case Op::chdir:
      act.ptr = copy_string(a, text);
      break;
    default:
      break;
  }
  return add(a, act, text);
}

// The handle's number is the one the child uses: it stays the same while the handle lives,
// and the spawn keeps the handle open (or fails with -EBADF once it is closed).
int actions_with_fd(fdk_actions *a, Op op, fdk_fd *fd) {
  Action act{op};
  act.num = fd->raw;
  return add(a, act, std::to_string(fd->raw).c_str(), fd);
}

int actions_setgroups(fdk_actions *a, size_t count, const uint32_t *gids) {
  if (count > 65536) return fail(-EINVAL, "actions_setgroups: %zu groups is too many", count);
  Action act{Op::setgroups};
  auto &ids = a->id_arrays.emplace_back(gids, gids + count);
  act.a = count;
  act.ptr = ids.data();
  return add(a, act, nullptr);
}

int actions_rlimit(fdk_actions *a, int resource, uint64_t soft, uint64_t hard) {
  if (resource < 0 || resource >= RLIMIT_NLIMITS) return fail(-EINVAL, "actions_rlimit: unknown resource %d", resource);
  Action act{Op::rlimit};
  act.num = resource;
  act.a = soft == FDK_RLIM_INFINITY ? RLIM64_INFINITY : soft;
  act.b = hard == FDK_RLIM_INFINITY ? RLIM64_INFINITY : hard;
  return add(a, act, nullptr);
}

int actions_user(fdk_actions *a, fdk_child_fn fn, void *arg, const char *name) {
  Action act{Op::user};
  act.ptr = reinterpret_cast<const void *>(fn);
  act.arg = arg;
  return add(a, act, name ? name : "?");
}

int actions_inherit(fdk_actions *a, int dst, int src, fdk_fd *src_fd, int mode) {
  if (dst < 0) return fail(-EINVAL, "actions_inherit_fd: bad destination %d", dst);
  if (!src_fd && src < 0) return fail(-EINVAL, "actions_inherit_fd: bad source %d", src);
  if (mode < FDK_INHERIT_PRESERVE || mode > FDK_INHERIT_NONBLOCKING)
    return fail(-EINVAL, "actions_inherit_fd: unknown blocking mode %d", mode);
  for (const auto &p : a->pairs)
    if (p.dst == dst) return fail(-EINVAL, "actions_inherit_fd: destination %d is mapped twice", dst);
  if (a->has_exec) return fail(-EINVAL, "actions_inherit_fd: added after the exec action");
  if (src_fd) src = src_fd->raw;
  a->pairs.reserve(a->pairs.size() + 1);
  if (a->inherit_index == SIZE_MAX) {
    a->inherit_index = a->actions.size();
    add(a, Action{Op::inherit}, nullptr);
  }
  a->pairs.push_back({dst, src, src_fd, mode});
  if (src_fd) fd_pin(src_fd);
  return 0;
}

std::string describe_action(const fdk_actions *a, size_t i, int32_t pair) {
  std::string text = "action " + std::to_string(i) + " (";
  if (i < a->actions.size() && a->actions[i].op == Op::inherit && pair >= 0 &&
      static_cast<size_t>(pair) < a->pairs.size()) {
    const auto &p = a->pairs[pair];
    text += "inherit_fd " + std::to_string(p.dst) + " <- " + std::to_string(p.src);
  } else if (i < a->names.size()) {
    text += a->names[i];
  }
  return text + ")";
}

std::string action_failure(const fdk_actions *a, size_t i, int32_t pair, const char *reason) {
  std::string text = describe_action(a, i, pair) + ": " + reason;
  if (i < a->paths.size() && !a->paths[i].empty()) text += ": '" + a->paths[i] + "'";
  return text;
}

void actions_release(fdk_actions *a) {
  for (fdk_fd *fd : a->action_fds)
    if (fd) fd_unpin(fd);
  for (const auto &p : a->pairs)
    if (p.src_fd) fd_unpin(p.src_fd);
  delete a;
}

}  // namespace fdk
