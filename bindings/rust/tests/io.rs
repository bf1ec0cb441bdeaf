// SPDX-License-Identifier: MIT
//! io.h: synchronous and asynchronous I/O, random bytes.
mod util;

use fdkit::{getrandom, pipe, Fd, Loop, RunMode};
use std::cell::RefCell;
use std::io::{IoSlice, IoSliceMut, Read, SeekFrom, Write};
use std::rc::Rc;

#[test]
fn async_read_completes_on_the_loop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let (r, w) = pipe().unwrap();
        let got = Rc::new(RefCell::new(None));
        let g = got.clone();
        lp.read_async(&r, vec![0; 64], move |res, buf| {
            *g.borrow_mut() = Some((res.unwrap(), buf));
        })
        .unwrap();
        drop(r); // the operation keeps its own reference
        lp.write_async(&w, b"hello".to_vec(), |res, buf| {
            assert_eq!(res.unwrap(), 5);
            assert_eq!(buf, b"hello");
        })
        .unwrap();
        assert!(got.borrow().is_none());
        lp.run(RunMode::Default).unwrap();
        assert_eq!(*got.borrow(), Some((5, b"hello".to_vec())));
    });
}

#[test]
fn closing_the_handle_cancels_a_pending_read() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let (r, _w) = pipe().unwrap();
        let got = Rc::new(RefCell::new(None));
        let g = got.clone();
        lp.read_async(&r, vec![0; 8], move |res, _| *g.borrow_mut() = Some(res.unwrap_err().errno()))
            .unwrap();
        r.close().unwrap();
        lp.run(RunMode::Default).unwrap();
        assert_eq!(*got.borrow(), Some(fdkit::sys::platform::ECANCELED));
    });
}

#[test]
fn sync_and_vectored_io_on_a_pipe() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        assert_eq!(w.write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cde")]).unwrap(), 5);
        let (mut a, mut b) = ([0u8; 2], [0u8; 8]);
        let n = r
            .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .unwrap();
        assert_eq!((n, &a, &b[..3]), (5, b"ab", &b"cde"[..]));
        (&w).write_all(b"through std::io").unwrap();
        drop(w);
        let mut text = String::new();
        (&r).read_to_string(&mut text).unwrap();
        assert_eq!(text, "through std::io");
    });
}

#[test]
fn positioned_io_seek_and_truncate_on_a_file() {
    util::no_leaks(|| {
        let path = std::env::temp_dir().join(format!("fdkit-rust-{}", std::process::id()));
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let fd = Fd::try_from(std::os::unix::io::OwnedFd::from(file)).unwrap();
        assert_eq!(fd.write_vectored_at(&[IoSlice::new(b"0123456789")], 0).unwrap(), 10);
        let mut buf = [0u8; 3];
        assert_eq!(fd.read_vectored_at(&mut [IoSliceMut::new(&mut buf)], 4).unwrap(), 3);
        assert_eq!(&buf, b"456");
        assert_eq!(fd.seek(SeekFrom::Current(0)).unwrap(), 0);
        fd.set_len(4).unwrap();
        assert_eq!(fd.seek(SeekFrom::End(0)).unwrap(), 4);
        fd.sync(true).unwrap();
        assert_eq!(fd.seek(SeekFrom::Current(-10)).unwrap_err().name(), "EINVAL");
    });
}

#[test]
fn random_bytes_sync_and_async() {
    util::no_leaks(|| {
        let mut a = [0u8; 32];
        assert_eq!(getrandom(&mut a, false).unwrap(), 32);
        let lp = Loop::new().unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        lp.getrandom_async(32, move |r| *g.borrow_mut() = r.unwrap()).unwrap();
        lp.run(RunMode::Default).unwrap();
        assert_eq!(got.borrow().len(), 32);
        // 256 random bits twice the same, or all zero, would mean no randomness.
        assert_ne!(&a[..], &got.borrow()[..]);
        assert_ne!(a, [0u8; 32]);
    });
}

#[test]
fn vectored_seek_sync_and_truncate_complete_on_the_loop() {
    util::no_leaks(|| {
        let path = std::env::temp_dir().join(format!("fdkit-rust-vec-{}", std::process::id()));
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let fd = Fd::try_from(std::os::unix::io::OwnedFd::from(file)).unwrap();
        let lp = Loop::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));

        let l = log.clone();
        lp.write_vectored_async(&fd, vec![b"abc".to_vec(), b"defg".to_vec()], None, move |res, bufs| {
            assert_eq!(bufs.len(), 2);
            l.borrow_mut().push(format!("writev {}", res.unwrap()));
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.write_vectored_async(&fd, vec![b"XY".to_vec()], Some(1), move |res, _| {
            l.borrow_mut().push(format!("pwritev {}", res.unwrap()));
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.seek_async(&fd, SeekFrom::Start(0), move |res| l.borrow_mut().push(format!("seek {}", res.unwrap())))
            .unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.read_vectored_async(&fd, vec![vec![0; 2], vec![0; 10]], None, move |res, bufs| {
            let n = res.unwrap();
            l.borrow_mut().push(format!("readv {} {}", n, String::from_utf8_lossy(&[&bufs[0][..], &bufs[1][..n - 2]].concat())));
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.read_vectored_async(&fd, vec![vec![0; 3]], Some(4), move |res, bufs| {
            l.borrow_mut().push(format!("preadv {} {}", res.unwrap(), String::from_utf8_lossy(&bufs[0])));
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.set_len_async(&fd, 2, move |res| l.borrow_mut().push(format!("truncate {:?}", res))).unwrap();
        lp.run(RunMode::Default).unwrap();
        let l = log.clone();
        lp.sync_async(&fd, true, move |res| l.borrow_mut().push(format!("sync {:?}", res))).unwrap();
        assert_eq!(log.borrow().len(), 6, "a callback ran before Loop::run");
        lp.run(RunMode::Default).unwrap();
        assert_eq!(
            *log.borrow(),
            ["writev 7", "pwritev 2", "seek 0", "readv 7 aXYdefg", "preadv 3 efg", "truncate Ok(())", "sync Ok(())"]
        );
        assert_eq!(fd.metadata().unwrap().size, 2);
    });
}

#[test]
fn queued_writes_arrive_whole_and_in_order() {
    util::no_leaks(|| {
        const MIB: usize = 1 << 20;
        let lp = Rc::new(Loop::new().unwrap());
        let (a, b) = fdkit::socketpair(fdkit::platform::AF_UNIX, fdkit::platform::SOCK_STREAM, 0).unwrap();
        let done = Rc::new(RefCell::new(Vec::new()));
        let mut sent = Vec::new();
        for i in 0..4u8 {
            let chunk = vec![b'A' + i; MIB];
            sent.extend_from_slice(&chunk);
            let d = done.clone();
            lp.write_all_async(&a, chunk, move |res, _| d.borrow_mut().push((i, res.unwrap()))).unwrap();
        }
        assert!(lp.write_queue_size(&a).unwrap() > 3 * MIB as u64);
        let got = Rc::new(RefCell::new(Vec::new()));
        fn more(lp: Rc<Loop>, b: fdkit::Fd, got: Rc<RefCell<Vec<u8>>>) {
            let (lp2, b2, got2) = (lp.clone(), b.clone(), got.clone());
            lp.read_async(&b, vec![0; 1 << 16], move |res, buf| {
                let n = res.unwrap();
                got2.borrow_mut().extend_from_slice(&buf[..n]);
                if got2.borrow().len() < 4 << 20 {
                    more(lp2, b2, got2);
                }
            })
            .unwrap();
        }
        more(lp.clone(), b.clone(), got.clone());
        lp.run(RunMode::Default).unwrap();
        assert_eq!(lp.write_queue_size(&a).unwrap(), 0);
        assert_eq!(*done.borrow(), (0..4u8).map(|i| (i, MIB)).collect::<Vec<_>>());
        assert!(*got.borrow() == sent);
    });
}

/// A vectored complete write queues behind a plain one and comes out in order, whole.
#[test]
fn write_vectored_all_async_writes_every_buffer_in_order() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let (r, w) = pipe().unwrap();
        let done = Rc::new(RefCell::new(Vec::new()));
        let d = done.clone();
        lp.write_all_async(&w, b"first ".to_vec(), move |n, _| d.borrow_mut().push(n.unwrap())).unwrap();
        let d = done.clone();
        lp.write_vectored_all_async(&w, vec![b"second ".to_vec(), Vec::new(), b"third".to_vec()], move |n, bufs| {
            assert_eq!(bufs.len(), 3);
            d.borrow_mut().push(n.unwrap())
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        assert_eq!(*done.borrow(), [6, 12]);
        drop(w);
        let mut text = String::new();
        (&r).read_to_string(&mut text).unwrap();
        assert_eq!(text, "first second third");
    });
}
