/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — common definitions: export macro, version, handle types, errors.
 *
 * Conventions that hold for every fdkit header:
 * - Fallible calls return int (or ssize_t / int64_t for byte counts and offsets):
 *   >= 0 on success, a negative errno value on failure. errno is never the result.
 * - After a failure, fdk_last_error() holds a human-readable detail for this thread.
 * - Errors every fallible call may return, not repeated in each comment: -EINVAL when a
 *   required pointer (handle, out-pointer, buffer, path) is NULL, -ENOMEM when memory runs
 *   out. A call that wraps a system call passes that call's errno through; the comments
 *   name the errors fdkit itself decides and the notable kernel ones.
 * - Constructors take their out-pointer first and leave it untouched on failure.
 * - Destructors accept NULL and return NULL, so `p = fdk_x_free(p);` clears the pointer.
 * - Memory fdkit allocates is freed by fdkit (fdk_free for plain buffers).
 * - Flag sets and enums defined here have fdkit's own values; errno, signal numbers,
 *   socket domains, types, levels and options pass through as the platform defines them.
 */
#ifndef FDKIT_COMMON_H
#define FDKIT_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a declaration as part of the exported ABI (default visibility while the
 * library itself is built; nothing for its users). */
#if defined(FDK_BUILDING_LIBRARY) && defined(__GNUC__)
#define FDK_API __attribute__((visibility("default")))
#else
#define FDK_API
#endif

/**@{*/
/** The version of these headers (fdk_version() tells the library's). */
#define FDK_VERSION_MAJOR 1
#define FDK_VERSION_MINOR 0
#define FDK_VERSION_PATCH 0
/**@}*/
/** MAJOR * 10000 + MINOR * 100 + PATCH, for compile-time comparisons. */
#define FDK_VERSION_NUMBER \
  (FDK_VERSION_MAJOR * 10000 + FDK_VERSION_MINOR * 100 + FDK_VERSION_PATCH)

/** The answer to a path that would leave its confined directory: the kernel's own
 * openat2 answer, -EXDEV, so that every binding maps it to its platform error. A genuine
 * cross-device -EXDEV (a rename or link between two mounts) is told apart with
 * fdk_last_error_is_escape() (fs.h). */
#define FDK_EESCAPE (-EXDEV)

/**@{*/
/** Opaque handles. Each header documents its handle's ownership and thread rules. */
typedef struct fdk_loop fdk_loop;       /* event loop (loop.h) */
typedef struct fdk_op fdk_op;           /* a pending asynchronous operation (loop.h) */
typedef struct fdk_fd fdk_fd;           /* reference-counted descriptor (fd.h) */
typedef struct fdk_dir fdk_dir;         /* directory that confines resolution (fs.h) */
typedef struct fdk_stat fdk_stat;       /* reusable stat result (fs.h) */
typedef struct fdk_dirents fdk_dirents; /* a directory's entries (fs.h) */
typedef struct fdk_dir_iter fdk_dir_iter; /* streaming directory reader (fs.h) */
typedef struct fdk_actions fdk_actions; /* ordered fork actions (process.h) */
typedef struct fdk_process fdk_process; /* spawned child (process.h) */
typedef struct fdk_run_opts fdk_run_opts;     /* how to run a command (run.h) */
typedef struct fdk_run_result fdk_run_result; /* what a run produced (run.h) */
typedef struct fdk_addrinfo fdk_addrinfo;     /* resolved socket addresses (net.h) */
/**@}*/

/** The library's version, as FDK_VERSION_NUMBER and as "MAJOR.MINOR.PATCH". These
 * describe the library loaded at run time, which may be newer than the headers. Never
 * fail; the string is static. */
/**@{*/
FDK_API unsigned fdk_version(void);
FDK_API const char *fdk_version_string(void);
/**@}*/

/** Text for an error code; accepts a negative or positive errno value. Never NULL;
 * the strings are static and safe to use from any thread. */
FDK_API const char *fdk_strerror(int err);
/** The symbolic name ("ENOENT"), or "E<number>" text for a code with no name. Never
 * fails; accepts a negative or positive value. The text is static, or thread-local and
 * valid until the next call on this thread for a code with no name. */
FDK_API const char *fdk_errname(int err);

/** Detail of the last failure on the calling thread ("openat: 'a/../../x' escapes its
 * directory"). Never NULL; "" when no failure was recorded. Valid until the next fdkit
 * call on this thread. */
FDK_API const char *fdk_last_error(void);

/** Frees a plain buffer that fdkit returned (readlink text, captured output...).
 * Accepts NULL. Never fails. */
FDK_API void fdk_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_COMMON_H */
