/* SPDX-License-Identifier: MIT */
// Thread-local failure detail and the helpers every area uses to report errors.
#pragma once

#include <cerrno>
#include <cstddef>

namespace fdk {

// Records the detail for the calling thread and returns err (a negative errno), so a
// failure reads `return fail(-ENOENT, "openat: '%s'", path);`. Cold, as every function
// that reports failures: the compiler moves the paths that call them out of the hot code
// (see core/hot.h).
[[gnu::cold]] int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// The description of an errno of either sign ("No such file or directory"), the one way
// fdkit renders errno: the same in every locale and thread; "Unknown error" when unknown.
const char *errno_text(int err);

// Records "<what>: <errno_text>" for a negative errno and returns it.
[[gnu::cold]] int fail_sys(int err, const char *what);

// Replaces the detail with an exact text (used to carry a worker thread's detail to
// the loop thread).
void set_error_text(const char *text);

// The calling thread's detail; never null.
const char *error_text();

// Copies the calling thread's detail into buf (always NUL-terminated).
void copy_error_text(char *buf, size_t size);

// -errno of the last failed libc call.
inline int neg_errno() { return errno > 0 ? -errno : -EIO; }

// Size of the per-thread detail buffer; details longer than this are cut.
inline constexpr size_t kErrorTextSize = 512;

}  // namespace fdk
