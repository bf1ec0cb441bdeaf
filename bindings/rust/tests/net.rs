// SPDX-License-Identifier: MIT
//! net.h: sockets, descriptor passing, name resolution.
mod util;

use fdkit::{getaddrinfo, pipe, platform, socket, socketpair};
use std::io::{IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};

#[test]
fn descriptor_passing_over_a_socketpair() {
    util::no_leaks(|| {
        let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_STREAM, 0).unwrap();
        let (r, w) = pipe().unwrap();
        assert_eq!(a.send_msg(&[IoSlice::new(b"fd")], &[&w]).unwrap(), 2);
        drop(w); // the receiver's copy is the only write end left
        let mut buf = [0u8; 8];
        let msg = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 4).unwrap();
        assert_eq!((msg.len, &buf[..2], msg.fds.len()), (2, &b"fd"[..], 1));
        assert!(!msg.truncated && !msg.fds_truncated);
        msg.fds[0].write(b"through").unwrap();
        drop(msg);
        let mut got = [0u8; 16];
        let n = r.read(&mut got).unwrap();
        assert_eq!(&got[..n], b"through");
        assert_eq!(r.read(&mut got).unwrap(), 0, "the passed write end was not closed");
    });
}

#[test]
fn too_many_descriptors_sets_fds_truncated() {
    util::no_leaks(|| {
        let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_DGRAM, 0).unwrap();
        let (r, w) = pipe().unwrap();
        a.send_msg(&[IoSlice::new(b"x")], &[&r, &w]).unwrap();
        let mut buf = [0u8; 1];
        let msg = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 1).unwrap();
        assert!(msg.fds_truncated);
        assert_eq!(msg.len, 1);
    });
}

#[test]
fn tcp_listen_connect_accept() {
    util::no_leaks(|| {
        let listener = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        listener.listen(4).unwrap();
        let addr = listener.local_addr().unwrap().unwrap();
        assert_ne!(addr.port(), 0);
        let client = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        client.connect(&addr).unwrap();
        let conn = listener.accept().unwrap();
        client.write(b"ping").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 8];
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(conn.read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    util::no_leaks(|| {
        let probe = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        probe.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        let addr = probe.local_addr().unwrap().unwrap();
        drop(probe); // bound but never listening: nothing accepts on that port
        let client = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        assert_eq!(client.connect(&addr).unwrap_err().name(), "ECONNREFUSED");
    });
}

#[test]
fn getaddrinfo_numeric_and_unknown() {
    util::no_leaks(|| {
        let all = getaddrinfo(Some("127.0.0.1"), Some("80"), platform::AF_INET, platform::SOCK_STREAM).unwrap();
        assert_eq!(all[0].addr, SocketAddr::from((Ipv4Addr::LOCALHOST, 80)));
        assert_eq!(all[0].socktype, platform::SOCK_STREAM);
        let v6 = getaddrinfo(Some("::1"), Some("443"), platform::AF_INET6, 0).unwrap();
        assert_eq!(v6[0].addr, "[::1]:443".parse::<SocketAddr>().unwrap());
        let err = getaddrinfo(Some("no-such-host.invalid"), None, platform::AF_UNSPEC, 0).unwrap_err();
        assert!(["ENOENT", "EAGAIN"].contains(&err.name().as_str()), "{}", err);
    });
}

#[test]
fn async_accept_and_connect_complete_on_the_loop() {
    util::no_leaks(|| {
        let lp = fdkit::Loop::new().unwrap();
        let listener = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        listener.listen(4).unwrap();
        let addr = listener.local_addr().unwrap().unwrap();
        let accepted = std::rc::Rc::new(std::cell::RefCell::new(None));
        let a = accepted.clone();
        lp.accept_async(&listener, move |conn| *a.borrow_mut() = Some(conn.unwrap())).unwrap();
        let client = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        let connected = std::rc::Rc::new(std::cell::Cell::new(false));
        let c = connected.clone();
        lp.connect_async(&client, &addr, move |res| {
            res.unwrap();
            c.set(true)
        })
        .unwrap();
        drop(listener); // the operation keeps its reference
        lp.run(fdkit::RunMode::Default).unwrap();
        assert!(connected.get());
        let conn = accepted.borrow_mut().take().expect("no connection accepted");
        client.write(b"hi").unwrap();
        let mut buf = [0u8; 2];
        assert_eq!(conn.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf, b"hi");
    });
}
