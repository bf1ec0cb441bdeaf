// SPDX-License-Identifier: MIT
// The start of fdkit's hot text (see core/hot.h). The linker gathers the FDK_HOT
// functions of all objects in link order, and this object is linked before any other
// that has some (lib/meson.build builds core first): aligned to a page, this empty
// function makes the hot text begin a page, so that as long as it stays within 4096
// bytes an open, a stat and a close run in one page of fdkit's code.
#include "core/hot.h"

namespace fdk {

[[gnu::used, gnu::aligned(4096)]] FDK_HOT void hot_text_start() {}

}  // namespace fdk
