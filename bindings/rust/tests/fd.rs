// SPDX-License-Identifier: MIT
//! fd.h: handles, deferred close, ownership conversions.
mod util;

use fdkit::{pipe, Blocking, Fd};
use std::fs::File;
use std::os::unix::io::{AsRawFd, OwnedFd};

#[test]
fn use_after_close_is_ebadf_everywhere() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        let other = r.clone();
        r.close().unwrap();
        assert_eq!(other.read(&mut [0u8; 1]).unwrap_err().name(), "EBADF");
        assert_eq!(r.close().unwrap_err().name(), "EBADF");
        assert_eq!(r.with_raw_fd(|_| ()).unwrap_err().name(), "EBADF");
        assert_eq!(r.as_raw_fd(), -1);
        // The reader is gone: the writer sees EPIPE, not SIGPIPE.
        assert_eq!(w.write(b"x").unwrap_err().name(), "EPIPE");
    });
}

#[test]
fn last_reference_closes() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        let r2 = r.clone();
        drop(r);
        w.write(b"still open").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(r2.read(&mut buf).unwrap(), 10);
    });
}

#[test]
fn release_hands_back_an_open_descriptor() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        let owned: OwnedFd = r.release().unwrap();
        w.write(b"hi").unwrap();
        let again = Fd::try_from(owned).unwrap();
        let mut buf = [0u8; 2];
        assert_eq!(again.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf, b"hi");
    });
}

#[test]
fn with_raw_fd_gives_the_descriptor() {
    util::no_leaks(|| {
        let (r, _w) = pipe().unwrap();
        let raw = r.with_raw_fd(|raw| raw).unwrap();
        assert_eq!(raw, r.as_raw_fd());
        assert!(raw >= 0);
    });
}

#[test]
fn blocking_mode_is_kept_or_detected() {
    util::no_leaks(|| {
        let (r, _w) = pipe().unwrap();
        assert!(!r.is_blocking().unwrap());
        let file: OwnedFd = File::open("/dev/null").unwrap().into();
        let kept = Fd::from_owned(file, Blocking::Keep).unwrap();
        assert!(kept.is_blocking().unwrap());
        let detected = Fd::from_owned(File::open("/dev/null").unwrap().into(), Blocking::Detect).unwrap();
        assert!(detected.is_blocking().unwrap());
    });
}

#[test]
fn borrowed_descriptor_stays_open() {
    util::no_leaks(|| {
        let file = File::open("/dev/null").unwrap();
        let fd = unsafe { Fd::borrow_raw(file.as_raw_fd(), Blocking::Detect) }.unwrap();
        fd.close().unwrap();
        assert_eq!(fd.read(&mut [0u8; 1]).unwrap_err().name(), "EBADF");
        assert_eq!(fd.release().unwrap_err().name(), "EINVAL");
        // Still ours: reading /dev/null gives end of file.
        let mut buf = [0u8; 1];
        assert_eq!(std::io::Read::read(&mut &file, &mut buf).unwrap(), 0);
    });
}

#[test]
fn handles_are_shared_across_threads() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| w.write(b"from a thread").unwrap());
        });
        let mut buf = [0u8; 32];
        assert_eq!(r.read(&mut buf).unwrap(), 13);
    });
}
