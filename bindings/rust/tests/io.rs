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
        assert_eq!(*got.borrow(), Some(125));
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
        assert_eq!(fd.seek(SeekFrom::Current(-10)).unwrap_err().errno(), 22);
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
fn vectored_positioned_and_file_calls_on_the_loop() {
    util::no_leaks(|| {
        use std::cell::RefCell;
        use std::io::SeekFrom;
        use std::rc::Rc;
        let (r, w) = fdkit::pipe().unwrap();
        let lp = fdkit::Loop::new().unwrap();
        let got: Rc<RefCell<Vec<String>>> = Rc::default();
        let g = got.clone();
        lp.writev_async(&w, vec![b"ab".to_vec(), b"cde".to_vec()], move |n, _| g.borrow_mut().push(format!("{:?}", n)))
            .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.readv_async(&r, vec![vec![0; 2], vec![0; 8]], move |n, bufs| {
            g.borrow_mut().push(format!("{:?} {:?}", n, String::from_utf8_lossy(&bufs[1][..3])))
        })
        .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let file = tempfile_fd();
        let g = got.clone();
        lp.pwrite_async(&file, b"0123456789".to_vec(), 0, move |n, _| g.borrow_mut().push(format!("{:?}", n)))
            .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.pread_async(&file, vec![0; 3], 4, move |_, buf| g.borrow_mut().push(String::from_utf8(buf).unwrap()))
            .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.truncate_async(&file, 4, move |r| g.borrow_mut().push(format!("{:?}", r))).unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.fsync_async(&file, true, move |r| g.borrow_mut().push(format!("{:?}", r))).unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.seek_async(&file, SeekFrom::End(0), move |r| g.borrow_mut().push(format!("{:?}", r))).unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let g = got.clone();
        lp.seek_async(&file, SeekFrom::Current(-100), move |r| {
            g.borrow_mut().push(r.unwrap_err().name())
        })
        .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        assert_eq!(
            *got.borrow(),
            vec!["Ok(5)", "Ok(5) \"cde\"", "Ok(10)", "456", "Ok(())", "Ok(())", "Ok(4)", "EINVAL"]
        );
    });
}

fn tempfile_fd() -> fdkit::Fd {
    let path = std::env::temp_dir().join(format!("fdkit-rust-io-{}", std::process::id()));
    let file = std::fs::OpenOptions::new().read(true).write(true).create(true).open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    fdkit::Fd::from_owned(file.into(), fdkit::Blocking::Detect).unwrap()
}
