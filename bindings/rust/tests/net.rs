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

#[test]
fn options_and_peer_addresses() {
    util::no_leaks(|| {
        let listener = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        listener.set_option_int(platform::SOL_SOCKET, platform::SO_REUSEADDR, 1).unwrap();
        assert_ne!(listener.option_int(platform::SOL_SOCKET, platform::SO_REUSEADDR).unwrap(), 0);
        assert_eq!(listener.option_int(platform::SOL_SOCKET, platform::SO_TYPE).unwrap(), platform::SOCK_STREAM);
        assert_eq!(listener.option_int(platform::SOL_SOCKET, -12345).unwrap_err().name(), "ENOPROTOOPT");
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        listener.listen(4).unwrap();
        assert_eq!(listener.peer_addr().unwrap_err().name(), "ENOTCONN");
        let addr = listener.local_addr().unwrap().unwrap();
        let client = socket(platform::AF_INET, platform::SOCK_STREAM, 0).unwrap();
        client.set_option_int(platform::IPPROTO_TCP, platform::TCP_NODELAY, 1).unwrap();
        assert_ne!(client.option_int(platform::IPPROTO_TCP, platform::TCP_NODELAY).unwrap(), 0);
        client.connect(&addr).unwrap();
        let conn = listener.accept().unwrap();
        assert_eq!(client.peer_addr().unwrap(), Some(addr));
        assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());
    });
}

/// shutdown, send_msg (with a descriptor) and recv_msg complete from the loop.
#[test]
fn async_messages_and_shutdown() {
    use std::cell::RefCell;
    use std::rc::Rc;
    util::no_leaks(|| {
        let lp = fdkit::Loop::new().unwrap();
        let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_STREAM, 0).unwrap();
        let (r, w) = pipe().unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        lp.recv_msg_async(&b, vec![vec![0; 2], vec![0; 8]], 2, move |msg, bufs| {
            let msg = msg.unwrap();
            assert_eq!((msg.len, msg.truncated, msg.fds_truncated), (5, false, false));
            assert_eq!((&bufs[0][..], &bufs[1][..3]), (&b"he"[..], &b"llo"[..]));
            msg.fds[0].write(b"passed").unwrap();
            g.borrow_mut().push("recv");
        })
        .unwrap();
        let g = got.clone();
        lp.send_msg_async(&a, vec![b"he".to_vec(), b"llo".to_vec()], None, &[&w], move |n, bufs| {
            assert_eq!((n.unwrap(), bufs.len()), (5, 2));
            g.borrow_mut().push("send");
        })
        .unwrap();
        drop(w); // the send holds its own reference until its callback
        assert!(got.borrow().is_empty(), "a callback ran inside its call");
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut buf = [0u8; 8];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"passed");

        let g = got.clone();
        lp.shutdown_async(&a, Shutdown::Write, move |res| {
            res.unwrap();
            g.borrow_mut().push("shutdown");
        })
        .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        assert_eq!(b.read(&mut buf).unwrap(), 0); // end of stream
        let mut got = got.borrow().clone();
        got.sort_unstable();
        assert_eq!(got, ["recv", "send", "shutdown"]);

        // A datagram to an address, asynchronously.
        let rx = socket(platform::AF_INET, platform::SOCK_DGRAM, 0).unwrap();
        rx.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        let to = rx.local_addr().unwrap().unwrap();
        let tx = socket(platform::AF_INET, platform::SOCK_DGRAM, 0).unwrap();
        lp.send_msg_async(&tx, vec![b"dgram".to_vec()], Some(&to), &[], |n, _| assert_eq!(n.unwrap(), 5)).unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        assert_eq!(rx.read(&mut buf).unwrap(), 5);
    });
}

#[test]
fn resolve_with_hints_and_on_the_loop() {
    use fdkit::{resolve, AiFlags, Hints};
    util::no_leaks(|| {
        let hints = Hints {
            family: platform::AF_INET,
            socktype: platform::SOCK_STREAM,
            flags: AiFlags::NUMERICHOST | AiFlags::NUMERICSERV | AiFlags::CANONNAME,
            ..Hints::default()
        };
        let r = resolve(Some("127.0.0.1"), Some("8080"), &hints).unwrap();
        assert_eq!(r.addrs[0].addr, SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)));
        assert!(r.canonical_name.is_some());
        assert!(resolve(Some("127.0.0.1"), Some("80"), &Hints::default()).unwrap().canonical_name.is_none());
        assert_eq!(resolve(Some("localhost"), None, &hints).unwrap_err().name(), "ENOENT"); // numeric only
        let passive = Hints { flags: AiFlags::PASSIVE, family: platform::AF_INET, ..Hints::default() };
        assert_eq!(resolve(None, Some("9"), &passive).unwrap().addrs[0].addr.ip(), Ipv4Addr::UNSPECIFIED);

        let lp = fdkit::Loop::new().unwrap();
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let g = got.clone();
        lp.resolve_async(Some("::1"), Some("443"), &Hints::default(), move |res| {
            g.borrow_mut().push(res.map(|r| r.addrs[0].addr.to_string()).map_err(|e| e.name()))
        })
        .unwrap();
        let g = got.clone();
        lp.resolve_async(Some("no-such-host.invalid"), None, &Hints::default(), move |res| {
            g.borrow_mut().push(res.map(|_| String::new()).map_err(|e| e.name()))
        })
        .unwrap();
        assert!(got.borrow().is_empty());
        assert_eq!(lp.resolve_async(None, None, &Hints::default(), |_| ()).err().map(|e| e.name()), Some("EINVAL".into()));
        lp.run(fdkit::RunMode::Default).unwrap();
        let got = got.borrow();
        assert_eq!(got[0], Ok("[::1]:443".to_string()));
        assert!(matches!(got[1].as_ref().map_err(|e| e.as_str()), Err("ENOENT") | Err("EAGAIN")), "{:?}", got[1]);
    });
}
