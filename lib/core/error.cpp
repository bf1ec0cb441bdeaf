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

int fail_sys(int err, const char *what) {
  return fail(err, "%s: %s", what, strerrordesc_np(-err) ? strerrordesc_np(-err) : "Unknown error");
}

void set_error_text(const char *text) { snprintf(tls_error, sizeof tls_error, "%s", text); }

const char *error_text() { return tls_error; }

void copy_error_text(char *buf, size_t size) {
  if (size == 0) return;
  snprintf(buf, size, "%s", tls_error);
}

}  // namespace fdk
