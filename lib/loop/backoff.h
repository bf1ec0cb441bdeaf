/* SPDX-License-Identifier: MIT */
// The back-off of the loop's short looks that may find nothing (the pool's watch for a
// result, its gathering wait, the poll before the loop blocks): each costs a CPU's time
// when it fails, so a look that keeps failing is taken ever less often.
#pragma once

namespace fdk {

// After n fruitless looks in a row, only every 2^n-th chance to look is taken, n at most
// kMaxShift. Loop thread only.
struct Backoff {
  static constexpr unsigned kMaxShift = 6;
  unsigned misses = 0;  // fruitless looks in a row, up to kMaxShift
  unsigned skip = 0;    // chances still to pass up after them

  // Whether this chance is passed up (one fewer is then left).
  bool passes_up() {
    if (skip == 0) return false;
    --skip;
    return true;
  }
  void found() { misses = 0; }
  void found_nothing() {
    skip = (1u << misses) - 1;
    if (misses < kMaxShift) ++misses;
  }
};

}  // namespace fdk
