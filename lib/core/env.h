/* SPDX-License-Identifier: MIT */
// fdkit's FDKIT_* settings, read from the environment in one place.
#pragma once

#include <initializer_list>

namespace fdk {

// The index in choices of the value of the FDKIT_* variable name, read with secure_getenv
// (so a setuid program ignores it); -1 when it is unset or empty. Any other value is
// reported once per process on stderr ("fdkit: ignoring FDKIT_PIDFD=\"x\": expected one
// of 0, 1") and counts as unset: a typo never goes unnoticed.
int env_choice(const char *name, std::initializer_list<const char *> choices);

}  // namespace fdk
