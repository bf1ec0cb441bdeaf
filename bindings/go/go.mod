// SPDX-License-Identifier: MIT
// fdkit Go binding. License: MIT (see LICENSE at the repository root).
module fdkit

go 1.19
