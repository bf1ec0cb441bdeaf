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

#[test]
fn error_converts_to_io_error() {
    util::no_leaks(|| {
        let (r, _w) = pipe().unwrap();
        r.close().unwrap();
        let err: io::Error = r.close().unwrap_err().into();
        let inner = err.get_ref().and_then(|e| e.downcast_ref::<fdkit::Error>());
        assert_eq!(inner.map(|e| e.errno()), Some(fdkit::sys::platform::EBADF));
    });
}
