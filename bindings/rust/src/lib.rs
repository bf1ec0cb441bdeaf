//! Safe Rust bindings to fdkit.
//!
//! - [`Fd`]: a reference-counted descriptor handle that is safe to close while other
//!   threads use it (`Send + Sync`); `Clone` adds a reference, `Drop` drops one.
//! - [`Loop`]: an event loop driven by one thread (neither `Send` nor `Sync`); its
//!   asynchronous operations take `'static` closures that run from [`Loop::run`], never
//!   inside the call that started them. A panic in a callback is caught at the C boundary,
//!   stops the loop and is resumed from `Loop::run`.
//! - [`Dir`]: a directory that confines path resolution (EXDEV for a path leading out).
//! - [`Spawn`] / [`Process`]: a child started from an ordered list of actions.
//! - [`Command`]: a command run to completion with its output captured.
//! - [`socketpair`], [`Fd::send_msg`], [`Fd::recv_msg`]: sockets with descriptor passing.
//! - [`trace::set_hook`]: a begin and an end event for every operation.
//! - Every fallible call returns [`Result`], whose [`Error`] carries the errno and the
//!   detail fdkit recorded for the failure.
//!
//! Layout: `sys` holds the raw declarations, one section per C header; each area has a
//! module that adds methods (`impl Fd`, `impl Loop`) for its calls.

pub mod sys;

/// Platform values taken from the C headers at build time (errno values, socket domains
/// and types), since std names none of them.
pub mod platform {
    include!(concat!(env!("OUT_DIR"), "/platform.rs"));
}

mod error;
mod event_loop;
mod fd;
mod fs;
mod io;
mod net;
mod process;
mod run;
pub mod trace;

pub use error::{version, version_string, Error, Result};
pub use event_loop::{Loop, Op, Poster, RunMode};
pub use fd::{pipe, Blocking, Fd};
pub use fs::{Dir, Kind, OpenFlags, Stat};
pub use io::{getrandom, now_ns};
pub use net::{socketpair, Received, Shutdown};
pub use process::{Process, Spawn};
pub use run::{Command, ExitStatus, Output};
