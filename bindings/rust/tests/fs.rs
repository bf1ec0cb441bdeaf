// SPDX-License-Identifier: MIT
//! fs.h: confined directories, open, stat, read_dir, links.
mod util;

use fdkit::{Dir, FileKind, FileTime, OpenFlags, RenameMode, ResolveBackend};
use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("fdkit-rust-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn escape_from_a_confined_dir_is_exdev() {
    util::no_leaks(|| {
        let tmp = Scratch::new("escape");
        std::fs::write(tmp.0.join("x"), b"outside").unwrap();
        std::fs::create_dir(tmp.0.join("inner")).unwrap();
        let dir = Dir::fs().open_dir(tmp.0.join("inner")).unwrap();
        let err = dir.open("../x", OpenFlags::READ, 0).unwrap_err();
        assert_eq!(err.errno(), fdkit::platform::EXDEV);
        assert_eq!(err.name(), "EXDEV");
        assert!(err.detail().contains("../x"), "detail: {}", err.detail());
        dir.symlink("/etc/passwd", "abs").unwrap();
        assert_eq!(dir.stat("abs", true).unwrap_err().name(), "EXDEV");
        // The same path from the unconfined file system is allowed.
        assert!(Dir::fs().open(tmp.0.join("inner/../x"), OpenFlags::READ, 0).is_ok());
    });
}

#[test]
fn create_write_stat_list_rename_remove() {
    util::no_leaks(|| {
        let tmp = Scratch::new("ops");
        let dir = Dir::fs().open_dir(&tmp.0).unwrap();
        dir.mkdir("sub", 0o755).unwrap();
        let f = dir.open("sub/a", OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE, 0o640).unwrap();
        assert_eq!(f.write(b"12345").unwrap(), 5);
        assert_eq!(f.metadata().unwrap().size, 5);
        let st = dir.stat("sub/a", false).unwrap();
        assert_eq!((st.kind, st.size, st.perm & 0o777), (FileKind::Regular, 5, 0o640 & !umask()));
        assert_eq!(dir.open("sub/a", OpenFlags::CREATE | OpenFlags::EXCLUSIVE, 0).unwrap_err().name(), "EEXIST");

        dir.symlink("a", "sub/link").unwrap();
        assert_eq!(dir.read_link("sub/link").unwrap(), Path::new("a"));
        assert_eq!(dir.stat("sub/link", false).unwrap().kind, FileKind::Symlink);
        assert_eq!(dir.stat("sub/link", true).unwrap().ino, st.ino);

        let mut names: Vec<_> = dir.read_dir("sub").unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(names, vec![("a".into(), FileKind::Regular), ("link".into(), FileKind::Symlink)]);

        let sub = dir.open_dir("sub").unwrap();
        sub.rename("a", &dir, "b").unwrap();
        assert_eq!(std::fs::read(tmp.0.join("b")).unwrap(), b"12345");
        dir.unlink("b").unwrap();
        assert_eq!(dir.unlink("b").unwrap_err().name(), "ENOENT");
        assert_eq!(dir.rmdir("sub").unwrap_err().name(), "ENOTEMPTY");
        sub.unlink("link").unwrap();
        dir.rmdir("sub").unwrap();
        drop(f);
    });
}

#[test]
fn dir_from_an_open_descriptor() {
    util::no_leaks(|| {
        let tmp = Scratch::new("fromfd");
        std::fs::write(tmp.0.join("f"), b"").unwrap();
        let fd = Dir::fs().open(&tmp.0, OpenFlags::DIRECTORY, 0).unwrap();
        let dir = Dir::from_fd(&fd).unwrap();
        drop(fd); // the dir keeps its own reference
        assert_eq!(dir.stat("f", false).unwrap().kind, FileKind::Regular);
        let file = Dir::fs().open(tmp.0.join("f"), OpenFlags::READ, 0).unwrap();
        assert_eq!(Dir::from_fd(&file).unwrap_err().name(), "ENOTDIR");
    });
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

#[test]
fn open_async_completes_on_the_loop_and_refuses_escapes() {
    util::no_leaks(|| {
        let tmp = Scratch::new("async");
        std::fs::write(tmp.0.join("f"), b"async").unwrap();
        std::fs::create_dir(tmp.0.join("inner")).unwrap();
        let lp = fdkit::Loop::new().unwrap();
        let dir = Dir::fs().open_dir(tmp.0.join("inner")).unwrap();
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let g = got.clone();
        lp.open_async(&dir, "../f", OpenFlags::READ, 0, move |res| g.borrow_mut().push(res.unwrap_err().name()))
            .unwrap();
        let g = got.clone();
        lp.open_async(&Dir::fs(), tmp.0.join("f"), OpenFlags::READ, 0, move |res| {
            let mut buf = [0u8; 8];
            let n = res.unwrap().read(&mut buf).unwrap();
            g.borrow_mut().push(String::from_utf8_lossy(&buf[..n]).into_owned());
        })
        .unwrap();
        drop(dir); // the operation holds its own reference
        assert!(got.borrow().is_empty(), "a callback ran inside open_async");
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut got = got.borrow().clone();
        got.sort();
        assert_eq!(got, ["EXDEV", "async"]);
    });
}

#[test]
fn escape_is_told_from_a_genuine_exdev() {
    util::no_leaks(|| {
        let tmp = Scratch::new("isescape");
        std::fs::create_dir(tmp.0.join("inner")).unwrap();
        let dir = Dir::fs().open_dir(tmp.0.join("inner")).unwrap();
        let err = dir.open("../x", OpenFlags::READ, 0).unwrap_err();
        assert!(err.is_escape() && err.errno() == fdkit::platform::EXDEV, "{}", err);
        // A later, unrelated failure is not an escape.
        assert!(!dir.stat("missing", false).unwrap_err().is_escape());
        // A rename across mounts is a plain EXDEV (when /proc is another file system).
        if let Err(e) = Dir::fs().rename(tmp.0.join("inner"), &Dir::fs(), "/proc/fdkit-x") {
            assert!(!e.is_escape(), "{}", e);
        }
    });
}

#[test]
fn links_permissions_owners_and_times() {
    util::no_leaks(|| {
        let tmp = Scratch::new("meta");
        let dir = Dir::fs().open_dir(&tmp.0).unwrap();
        drop(dir.open("f", OpenFlags::WRITE | OpenFlags::CREATE, 0o600).unwrap());
        dir.hard_link("f", &dir, "g").unwrap();
        let st = dir.stat("g", false).unwrap();
        assert_eq!((st.nlink, st.ino), (2, dir.stat("f", false).unwrap().ino));
        assert_eq!(dir.hard_link("f", &dir, "g").unwrap_err().name(), "EEXIST");

        dir.set_permissions("f", 0o640, false).unwrap();
        let st = dir.stat("f", false).unwrap();
        assert_eq!((st.perm, st.mode & 0o170000), (0o640, 0o100000));
        dir.symlink("f", "l").unwrap();
        dir.set_permissions("l", 0o604, true).unwrap(); // through the link
        assert_eq!(dir.stat("f", false).unwrap().perm, 0o604);

        let owner = dir.stat("f", false).unwrap();
        dir.chown("f", None, None, false).unwrap();
        dir.chown("f", Some(owner.uid), Some(owner.gid), false).unwrap();

        dir.set_times("f", FileTime::At(1_000_000, 5), FileTime::At(2_000_000, 7), false).unwrap();
        let st = dir.stat("f", false).unwrap();
        assert_eq!((st.atime, st.mtime), ((1_000_000, 5), (2_000_000, 7)));
        dir.set_times("f", FileTime::Omit, FileTime::Now, false).unwrap();
        let st = dir.stat("f", false).unwrap();
        assert_eq!(st.atime, (1_000_000, 5));
        assert!(st.mtime.0 > 2_000_000 && st.ctime.0 >= st.mtime.0 - 1);
        assert_eq!(dir.set_times("f", FileTime::At(0, 2_000_000_000), FileTime::Omit, false).unwrap_err().name(), "EINVAL");
        if let Some(birth) = st.btime {
            assert!(birth.0 > 0);
        }
        assert!(st.blksize > 0);
    });
}

#[test]
fn rename_modes_iteration_canonical_paths_and_handles() {
    util::no_leaks(|| {
        let tmp = Scratch::new("rename2");
        let dir = Dir::fs().open_dir(&tmp.0).unwrap();
        std::fs::write(tmp.0.join("a"), b"A").unwrap();
        std::fs::write(tmp.0.join("b"), b"B").unwrap();
        assert_eq!(dir.rename_with("a", &dir, "b", RenameMode::NoReplace).unwrap_err().name(), "EEXIST");
        match dir.rename_with("a", &dir, "b", RenameMode::Exchange) {
            Ok(()) => assert_eq!(std::fs::read(tmp.0.join("a")).unwrap(), b"B"),
            Err(e) => assert!(e.name() == "EINVAL" || e.name() == "ENOSYS", "{}", e),
        }
        dir.rename_with("a", &dir, "c", RenameMode::Replace).unwrap();

        dir.mkdir("d", 0o755).unwrap();
        dir.symlink("d", "to-d").unwrap();
        let mut names: Vec<_> = dir.iter_dir("").unwrap().map(|e| e.unwrap().name.into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["b", "c", "d", "to-d"]);
        assert_eq!(dir.iter_dir("c").err().map(|e| e.name()), Some("ENOTDIR".to_string()));

        assert_eq!(dir.canonicalize("to-d/../c").unwrap(), Path::new("c"));
        assert_eq!(dir.canonicalize("").unwrap(), Path::new("."));
        assert!(dir.canonicalize("../x").unwrap_err().is_escape());
        let abs = Dir::fs().canonicalize(tmp.0.join("to-d")).unwrap();
        assert!(abs.is_absolute() && abs.ends_with("d"), "{:?}", abs);

        assert!(Dir::fs().handle().is_none() && Dir::cwd().handle().is_none());
        let handle = dir.handle().unwrap();
        assert_eq!(handle.metadata().unwrap().kind, FileKind::Dir);
        drop(dir);
        assert_eq!(handle.metadata().unwrap().kind, FileKind::Dir); // its own reference
    });
}

#[test]
fn open_flags_and_resolve_backends() {
    util::no_leaks(|| {
        assert!((OpenFlags::READ | OpenFlags::SYNC | OpenFlags::NO_CTTY).is_supported());
        assert!((OpenFlags::PATH | OpenFlags::DIRECTORY).is_supported());
        assert!(!(OpenFlags::PATH | OpenFlags::WRITE).is_supported());
        assert!(!(OpenFlags::CREATE | OpenFlags::DIRECTORY).is_supported());

        let tmp = Scratch::new("backend");
        std::fs::create_dir(tmp.0.join("in")).unwrap();
        let dir = Dir::fs().open_dir(tmp.0.join("in")).unwrap();
        let before = fdkit::resolve_backend();
        assert_ne!(before, ResolveBackend::Auto);
        fdkit::set_resolve_backend(ResolveBackend::Fallback).unwrap();
        assert_eq!(fdkit::resolve_backend(), ResolveBackend::Fallback);
        assert!(dir.open("../in", OpenFlags::READ, 0).unwrap_err().is_escape());
        match fdkit::set_resolve_backend(ResolveBackend::Openat2) {
            Ok(()) => assert!(dir.open("../in", OpenFlags::READ, 0).unwrap_err().is_escape()),
            Err(e) => assert_eq!(e.name(), "ENOSYS"),
        }
        fdkit::set_resolve_backend(ResolveBackend::Auto).unwrap();
        assert_eq!(fdkit::resolve_backend(), before);
    });
}

/// Every asynchronous fs call completes from the loop, never inside the call, with the
/// same effect as its synchronous form.
#[test]
fn async_fs_calls_complete_on_the_loop() {
    use std::cell::RefCell;
    use std::rc::Rc;
    util::no_leaks(|| {
        let tmp = Scratch::new("fsasync");
        let lp = fdkit::Loop::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::<String>::new()));
        let note = |what: &'static str| {
            let log = log.clone();
            move |res: fdkit::Result<()>| log.borrow_mut().push(format!("{} {:?}", what, res.map_err(|e| e.name())))
        };
        let run = |lp: &fdkit::Loop| {
            assert!(log.borrow().is_empty(), "a callback ran inside its call");
            lp.run(fdkit::RunMode::Default).unwrap();
            let mut got = log.borrow_mut().drain(..).collect::<Vec<_>>();
            got.sort();
            got
        };
        let root = Dir::fs().open_dir(&tmp.0).unwrap();
        let d = Rc::new(RefCell::new(None));
        let slot = d.clone();
        lp.mkdir_async(&root, "sub", 0o755, note("mkdir")).unwrap();
        assert_eq!(run(&lp), ["mkdir Ok(())"]);
        lp.open_dir_async(&root, "sub", move |res| *slot.borrow_mut() = Some(res.unwrap())).unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let sub = d.borrow_mut().take().unwrap();
        std::fs::write(tmp.0.join("sub/f"), b"12345").unwrap();

        lp.symlink_async("f", &sub, "l", note("symlink")).unwrap();
        lp.hard_link_async(&sub, "f", &sub, "h", note("link")).unwrap();
        lp.set_permissions_async(&sub, "f", 0o600, false, note("chmod")).unwrap();
        lp.chown_async(&sub, "f", None, None, false, note("chown")).unwrap();
        lp.set_times_async(&sub, "f", FileTime::At(7, 0), FileTime::At(9, 0), false, note("utimens")).unwrap();
        lp.unlink_async(&sub, "missing", note("unlink")).unwrap();
        assert_eq!(
            run(&lp),
            ["chmod Ok(())", "chown Ok(())", "link Ok(())", "symlink Ok(())", "unlink Err(\"ENOENT\")", "utimens Ok(())"]
        );

        let text = Rc::new(RefCell::new(Vec::new()));
        let t = text.clone();
        lp.read_link_async(&sub, "l", move |res| t.borrow_mut().push(res.unwrap())).unwrap();
        let t = text.clone();
        lp.canonicalize_async(&sub, "l", move |res| t.borrow_mut().push(res.unwrap())).unwrap();
        let t = text.clone();
        lp.stat_async(&sub, "l", true, move |res| {
            let st = res.unwrap();
            assert_eq!((st.size, st.perm, st.nlink, st.atime, st.mtime), (5, 0o600, 2, (7, 0), (9, 0)));
            t.borrow_mut().push(PathBuf::from("stat"));
        })
        .unwrap();
        let f = sub.open("f", OpenFlags::READ, 0).unwrap();
        let t = text.clone();
        lp.metadata_async(&f, move |res| {
            assert_eq!(res.unwrap().size, 5);
            t.borrow_mut().push(PathBuf::from("fstat"));
        })
        .unwrap();
        drop(f); // the operation holds its own reference
        let t = text.clone();
        lp.read_dir_async(&sub, "", move |res| {
            let mut names: Vec<_> = res.unwrap().into_iter().map(|e| PathBuf::from(e.name)).collect();
            names.sort();
            t.borrow_mut().extend(names);
        })
        .unwrap();
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut got = text.borrow().clone();
        got.sort();
        // read_link and canonicalize give "f", stat and fstat their names, read_dir f, h, l.
        let want: Vec<PathBuf> = ["f", "f", "f", "fstat", "h", "l", "stat"].iter().map(PathBuf::from).collect();
        assert_eq!(got, want);

        lp.rename_async(&sub, "h", &root, "moved", RenameMode::Replace, note("rename")).unwrap();
        lp.rename_async(&sub, "f", &sub, "l", RenameMode::NoReplace, note("rename2")).unwrap();
        assert_eq!(run(&lp), ["rename Ok(())", "rename2 Err(\"EEXIST\")"]);
        sub.unlink("l").unwrap();
        sub.unlink("f").unwrap();
        lp.rmdir_async(&root, "sub", note("rmdir")).unwrap();
        assert_eq!(run(&lp), ["rmdir Ok(())"]);
        drop(sub);
    });
}
