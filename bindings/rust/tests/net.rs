//! net.h: socket pairs, half-close, descriptors passed in messages.
mod util;

use fdkit::{pipe, platform, socketpair, Shutdown};
use std::io::{IoSlice, IoSliceMut};

#[test]
fn descriptor_passing_and_reading_through_it() {
    util::no_leaks(|| {
        let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_STREAM).unwrap();
        let (r, w) = pipe().unwrap();
        assert_eq!(a.send_msg(&[IoSlice::new(b"take "), IoSlice::new(b"these")], &[&r, &w]).unwrap(), 10);
        let mut buf = [0u8; 64];
        let got = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 4).unwrap();
        assert_eq!((&buf[..got.len], got.fds.len(), got.fds_truncated), (&b"take these"[..], 2, false));
        got.fds[1].write(b"through the passed pipe").unwrap();
        let n = got.fds[0].read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"through the passed pipe");
        // Too little room: the bytes still come, every descriptor that arrived is closed.
        a.send_msg(&[IoSlice::new(b"x")], &[&r, &w]).unwrap();
        let got = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 1).unwrap();
        assert_eq!((got.len, got.fds.len(), got.fds_truncated), (1, 0, true));
    });
}

#[test]
fn half_close_and_errors() {
    util::no_leaks(|| {
        let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_SEQPACKET).unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 0).unwrap().len, 0);
        let (r, _w) = pipe().unwrap();
        assert_eq!(r.shutdown(Shutdown::Both).unwrap_err().name(), "ENOTSOCK");
        assert_eq!(socketpair(platform::AF_INET, platform::SOCK_STREAM).unwrap_err().name(), "EOPNOTSUPP");
    });
}
