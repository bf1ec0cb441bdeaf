// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/common.h.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "fdkit/common.h"

extern "C" {

FDK_API unsigned fdk_version(void) { return FDK_VERSION_NUMBER; }

FDK_API const char *fdk_version_string(void) {
#define FDK_STR2(x) #x
#define FDK_STR(x) FDK_STR2(x)
  return FDK_STR(FDK_VERSION_MAJOR) "." FDK_STR(FDK_VERSION_MINOR) "." FDK_STR(FDK_VERSION_PATCH);
#undef FDK_STR
#undef FDK_STR2
}

FDK_API const char *fdk_strerror(int err) { return fdk::errno_text(err); }

FDK_API const char *fdk_errname(int err) {
  if (err < 0) err = -err;
  if (const char *name = strerrorname_np(err)) return name;
  // Plain thread-local data keeps the text valid for the caller without a destructor.
  static thread_local char unknown[16];
  snprintf(unknown, sizeof unknown, "E%d", err);
  return unknown;
}

FDK_API const char *fdk_last_error(void) { return fdk::error_text(); }

FDK_API void fdk_free(void *ptr) { free(ptr); }

}  // extern "C"
