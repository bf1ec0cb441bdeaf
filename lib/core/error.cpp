// SPDX-License-Identifier: MIT
#include "core/error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace fdk {
namespace {
// Plain data only: a thread_local with a destructor would pin the library in memory
// after dlclose.
thread_local char tls_error[kErrorTextSize];
}  // namespace

int fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tls_error, sizeof tls_error, fmt, ap);
  va_end(ap);
  return err;
}

const char *errno_text(int err) {
  const char *text = strerrordesc_np(err < 0 ? -err : err);
  return text ? text : "Unknown error";
}

int fail_sys(int err, const char *what) { return fail(err, "%s: %s", what, errno_text(err)); }

void set_error_text(const char *text) { snprintf(tls_error, sizeof tls_error, "%s", text); }

const char *error_text() { return tls_error; }

void copy_error_text(char *buf, size_t size) {
  if (size == 0) return;
  snprintf(buf, size, "%s", tls_error);
}

}  // namespace fdk
