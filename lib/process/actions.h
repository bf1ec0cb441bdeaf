/* SPDX-License-Identifier: MIT */
// Building an fdk_actions list (actions.cpp): the bodies of the fdk_actions_* adders, with
// their arguments already checked for NULL. Each returns 0 or a negative errno with a
// detail, and a failed adder leaves the list unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "process/process.h"

namespace fdk {

// The exec action, which completes the list; search looks path up in PATH (execvp).
int actions_exec(fdk_actions *a, const char *path, const char *const *argv, const char *const *envp, bool search);
// An action of one number and an optional text (a path, or the name a report shows).
int actions_simple(fdk_actions *a, child::Op op, int32_t num, const char *text);
// An action on a handle's descriptor (fchdir, login_tty); pins the handle.
int actions_with_fd(fdk_actions *a, child::Op op, fdk_fd *fd);
int actions_setgroups(fdk_actions *a, size_t count, const uint32_t *gids);
int actions_rlimit(fdk_actions *a, int resource, uint64_t soft, uint64_t hard);
// A user function run in the child; name is what failure reports call it.
int actions_user(fdk_actions *a, fdk_child_fn fn, void *arg, const char *name);
// A mapping of the inherit set: src (or src_fd's number, pinned) becomes dst in the child.
int actions_inherit(fdk_actions *a, int dst, int src, fdk_fd *src_fd, int mode);
// Unpins the list's handles and frees it.
void actions_release(fdk_actions *a);

// Describes action i (and mapping pair for inherit) for error texts: "action 2 (chdir)",
// "action 0 (setpgid 1)"; a path or name argument is not part of it (see action_failure).
std::string describe_action(const fdk_actions *a, size_t i, int32_t pair);
// The detail of action i failing for reason, after the call's name: "action 2 (chdir):
// No such file or directory: '/nope'" (the path last, as every detail ends).
std::string action_failure(const fdk_actions *a, size_t i, int32_t pair, const char *reason);

}  // namespace fdk
