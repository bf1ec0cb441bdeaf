/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — umbrella header: every area of the public API except the libuv bridge
 * (fdkit/uv.h), which needs libuv's own header. */
#ifndef FDKIT_H
#define FDKIT_H

#include "fdkit/common.h"
#include "fdkit/loop.h"
#include "fdkit/fd.h"
#include "fdkit/io.h"
#include "fdkit/fs.h"
#include "fdkit/net.h"
#include "fdkit/process.h"
#include "fdkit/run.h"
#include "fdkit/trace.h"

#endif /* FDKIT_H */
