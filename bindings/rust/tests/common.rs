// SPDX-License-Identifier: MIT
//! common.h: versions and errors.
mod util;

use fdkit::{pipe, version, version_string};
use std::io;

#[test]
fn version_string_matches_number() {
    let v = version();
    assert_eq!(version_string(), format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100));
}

#[test]
fn error_carries_errno_name_and_detail() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        r.close().unwrap();
        let err = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.name(), "EBADF");
        assert!(!err.detail().is_empty(), "no detail recorded");
        assert!(err.to_string().contains("EBADF"), "{}", err);
        drop(w);
    });
}

/// The io::Error is an OS error of the same errno, as std's own calls give: matching on
/// raw_os_error() and kind() works (the old conversion wrapped it, raw_os_error() None).
#[test]
fn error_converts_to_an_os_io_error() {
    util::no_leaks(|| {
        let (r, _w) = pipe().unwrap();
        r.close().unwrap();
        let fdkit_err = r.close().unwrap_err();
        assert!(!fdkit_err.detail().is_empty());
        let err: io::Error = fdkit_err.into();
        assert_eq!(err.raw_os_error(), Some(fdkit::platform::EBADF));
        let missing: io::Error = fdkit::Dir::fs().stat("/nonexistent-fdkit", true).unwrap_err().into();
        assert_eq!((missing.raw_os_error(), missing.kind()), (Some(fdkit::platform::ENOENT), io::ErrorKind::NotFound));
        // io::Read on an Fd goes through the same conversion.
        let e = io::Read::read(&mut &r, &mut [0u8; 1]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(fdkit::platform::EBADF));
    });
}
