/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — the libuv bridge. The only fdkit header that includes libuv's <uv.h>; compile
 * it as gnu99 or with POSIX feature macros, as libuv's own header needs. */
#ifndef FDKIT_UV_H
#define FDKIT_UV_H

#include <uv.h>

#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Wraps a libuv loop the host owns and runs. fdkit adds its own handles to it (kept
 * unreferenced while nothing is pending, so they never keep the host's uv_run alive on
 * their own); fdk_loop_free closes them and leaves the libuv loop open. The host must
 * run the libuv loop, or call fdk_loop_run, for fdkit's callbacks to happen. -EINVAL when
 * out or uv is NULL; libuv's errors while adding fdkit's handles pass through. */
FDK_API int fdk_loop_new_from_uv(fdk_loop **out, uv_loop_t *uv);

/** The libuv loop under an fdkit loop (owned or borrowed), NULL for a NULL loop; it stays
 * the loop's (or the host's). Handles the caller opens on an owned loop must be closed
 * before fdk_loop_free. */
FDK_API uv_loop_t *fdk_loop_uv(fdk_loop *loop);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_UV_H */
