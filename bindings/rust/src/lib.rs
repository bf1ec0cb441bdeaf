// SPDX-License-Identifier: MIT
//! Safe Rust bindings to fdkit.
//!
//! - [`Fd`]: a reference-counted descriptor handle that is safe to close while other
//!   threads use it (`Send + Sync`); `Clone` adds a reference, `Drop` drops one.
//! - [`Loop`]: an event loop driven by one thread (neither `Send` nor `Sync`); its
//!   asynchronous operations take `'static` closures that run from [`Loop::run`], never
//!   inside the call that started them. A panic in a callback is caught at the C boundary,
//!   stops the loop and is resumed from `Loop::run`.
//! - [`Dir`]: a confined directory; paths beneath it never resolve outside (EXDEV).
//! - [`Actions`] and [`Process`]: spawn from fork actions; [`Command`]: run to completion
//!   with capture, stdin and timeouts.
//! - Sockets are [`Fd`]s too ([`socket`], [`socketpair`], [`Fd::send_msg`] with descriptors);
//!   [`trace::set_hook`] receives every operation's spans.
//! - Every fallible call returns [`Result`], whose [`Error`] carries the errno and the
//!   detail fdkit recorded for the failure.
//!
//! Layout: `sys` holds the raw declarations, one section per C header; each area has a
//! module that adds methods (`impl Fd`, `impl Loop`) for its calls.

/// `|` for a flag-set newtype over an integer (`struct Flags(u32)`).
macro_rules! impl_bitor {
    ($($name:ident),*) => {
        $(impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        })*
    };
}

pub mod sys;

pub mod trace;

mod error;
mod event_loop;
mod fd;
mod fs;
mod io;
mod net;
mod process;
mod run;

pub use error::{version, version_string, Error, Result};
pub use event_loop::{Loop, Op, Poster, RunMode};
pub use fd::{pipe, Blocking, Fd};
pub use fs::{
    resolve_backend, set_resolve_backend, Access, Dir, DirEntry, DirFlags, FileKind, FileTime, Metadata, OpenFlags,
    ReadDir, RenameMode, ResolveBackend, XattrMode,
};
pub use io::{getrandom, now_ns};
pub use net::{getaddrinfo, resolve, socket, socketpair, AddrInfo, AiFlags, Hints, Message, Resolved};
pub use process::{
    reap_detached, Actions, ChildFn, ExitStatus, InheritMode, LoopProcess, Process, ResourceUsage, SpawnBackend,
};
pub use run::{CancelPolicy, Command, FdPolicy, Group, Output, RunOp, RunOutput};
/// The platform's errno, signal and socket values, as its C headers define them.
pub use sys::platform;
