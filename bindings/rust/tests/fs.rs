// SPDX-License-Identifier: MIT
//! fs.h: confined directories, open, stat, read_dir, links.
mod util;

use fdkit::{Access, Dir, DirFlags, FileKind, FileTime, OpenFlags, RenameMode, ResolveBackend, XattrMode};
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
        let log = util::Completions::default();
        let note = |what: &'static str| log.note(what);
        let run = |lp: &fdkit::Loop| log.run(lp);
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

/// The scoped dirs' refusals, and IN_ROOT's re-rooting where a plain confined dir refuses.
#[test]
fn scoped_dirs_refuse_what_their_flags_forbid() {
    util::no_leaks(|| {
        let tmp = Scratch::new("scoped");
        let top = Dir::fs().open_dir(&tmp.0).unwrap();
        top.mkdir("d", 0o755).unwrap();
        std::fs::write(tmp.0.join("d/f"), b"in d").unwrap();
        top.symlink("d", "to-d").unwrap();
        top.symlink("/f", "d/abs").unwrap();

        assert_eq!(top.open_dir_with("to-d", DirFlags::NO_FOLLOW).unwrap_err().name(), "ENOTDIR");
        assert_eq!(top.open_dir_with("d", DirFlags::NO_FOLLOW).unwrap().stat("f", false).unwrap().size, 4);
        assert_eq!(top.open_dir_with("to-d", DirFlags::NONE).unwrap().stat("f", false).unwrap().size, 4);

        // NO_SYMLINKS: the path itself, then every path beneath, and dirs opened beneath.
        assert_eq!(top.open_dir_with("to-d", DirFlags::NO_SYMLINKS).unwrap_err().name(), "ELOOP");
        let no_links = top.open_dir_with("", DirFlags::NO_SYMLINKS).unwrap();
        assert_eq!(no_links.stat("to-d/f", false).unwrap_err().name(), "ELOOP");
        assert_eq!(no_links.stat("to-d", false).unwrap().kind, FileKind::Symlink); // not followed
        let beneath = no_links.open_dir("d").unwrap();
        assert_eq!(beneath.stat("abs", true).unwrap_err().name(), "ELOOP");

        // IN_ROOT: ".." and absolute paths and symlink targets start from the dir.
        let plain = top.open_dir("d").unwrap();
        assert!(plain.stat("/f", false).unwrap_err().is_escape());
        assert!(plain.stat("abs", true).unwrap_err().is_escape());
        let root = top.open_dir_with("d", DirFlags::IN_ROOT | DirFlags::NO_XDEV).unwrap();
        assert_eq!(root.stat("/f", false).unwrap().size, 4);
        assert_eq!(root.stat("../../f", false).unwrap().size, 4);
        assert_eq!(root.stat("abs", true).unwrap().size, 4);

        // NO_XDEV: crossing into another mount (/proc) is EXDEV, and not an escape.
        let (root_dev, proc_dev) = (Dir::fs().stat("/", true).unwrap().dev, Dir::fs().stat("/proc", true).unwrap().dev);
        let whole = Dir::fs().open_dir_with("/", DirFlags::NO_XDEV).unwrap();
        if root_dev != proc_dev {
            let err = whole.stat("proc/version", false).unwrap_err();
            assert_eq!(err.name(), "EXDEV");
            assert_eq!(Dir::fs().open_dir_with("/proc", DirFlags::NONE).unwrap().stat("version", false).unwrap().kind,
                       FileKind::Regular);
        }
        // Paths on the root's own mount still resolve.
        if Dir::fs().stat(&tmp.0, true).unwrap().dev == root_dev {
            assert_eq!(whole.stat(tmp.0.strip_prefix("/").unwrap().join("d/f"), false).unwrap().size, 4);
        }
    });
}

/// O_TMPFILE published by link_fd, links that follow, special files, truncate by path,
/// access checks and whiteouts: each call's effect seen through stat.
#[test]
fn tmpfiles_links_special_files_truncate_access() {
    util::no_leaks(|| {
        let tmp = Scratch::new("more");
        let dir = Dir::fs().open_dir(&tmp.0).unwrap();
        dir.mkdir("up", 0o755).unwrap();

        assert!((OpenFlags::TMPFILE | OpenFlags::WRITE).is_supported());
        assert!(!(OpenFlags::TMPFILE | OpenFlags::READ).is_supported());
        let unnamed = dir.open("up", OpenFlags::TMPFILE | OpenFlags::READ_WRITE, 0o640).unwrap();
        assert_eq!(unnamed.write(b"data").unwrap(), 4);
        assert!(dir.read_dir("up").unwrap().is_empty());
        dir.link_fd(&unnamed, "up/report").unwrap();
        assert_eq!(std::fs::read(tmp.0.join("up/report")).unwrap(), b"data");
        assert_eq!(dir.link_fd(&unnamed, "up/report").unwrap_err().name(), "EEXIST");
        let sealed = dir.open("up", OpenFlags::TMPFILE | OpenFlags::WRITE | OpenFlags::EXCLUSIVE, 0o600).unwrap();
        assert_eq!(dir.link_fd(&sealed, "up/never").unwrap_err().name(), "ENOENT");
        let up = dir.open("up", OpenFlags::DIRECTORY, 0).unwrap();
        assert_eq!(dir.link_fd(&up, "up2").unwrap_err().name(), "EPERM");
        assert!(dir.link_fd(&unnamed, "../escaped").unwrap_err().is_escape());
        drop((unnamed, sealed, up));

        dir.symlink("up/report", "l").unwrap();
        dir.hard_link_with("l", &dir, "to-link", false).unwrap();
        assert_eq!(dir.stat("to-link", false).unwrap().kind, FileKind::Symlink);
        dir.hard_link_with("l", &dir, "to-file", true).unwrap();
        let st = dir.stat("to-file", false).unwrap();
        assert_eq!((st.kind, st.nlink, st.ino), (FileKind::Regular, 2, dir.stat("up/report", false).unwrap().ino));
        dir.symlink("../outside", "out").unwrap();
        assert!(dir.hard_link_with("out", &dir, "x", true).unwrap_err().is_escape());

        dir.mkfifo("fifo", 0o600).unwrap();
        assert_eq!(dir.stat("fifo", false).unwrap().kind, FileKind::Fifo);
        dir.mknod("sock", FileKind::Socket, 0o600, 0).unwrap();
        assert_eq!(dir.stat("sock", false).unwrap().kind, FileKind::Socket);
        dir.mknod("empty", FileKind::Regular, 0o600, 0).unwrap();
        assert_eq!(dir.stat("empty", false).unwrap().kind, FileKind::Regular);
        assert_eq!(dir.mknod("d", FileKind::Dir, 0o700, 0).unwrap_err().name(), "EINVAL");
        let null_dev = Dir::fs().stat("/dev/null", false).unwrap().rdev;
        match dir.mknod("null", FileKind::CharDevice, 0o600, null_dev) {
            Ok(()) => {
                let st = dir.stat("null", false).unwrap();
                assert_eq!((st.kind, st.rdev), (FileKind::CharDevice, null_dev));
            }
            Err(e) => assert_eq!(e.name(), "EPERM"),
        }

        dir.truncate("l", 2).unwrap(); // follows the symlink
        assert_eq!(std::fs::read(tmp.0.join("up/report")).unwrap(), b"da");
        dir.truncate("empty", 10).unwrap();
        assert_eq!(dir.stat("empty", false).unwrap().size, 10);
        assert_eq!(dir.truncate("up", 0).unwrap_err().name(), "EISDIR");
        assert_eq!(dir.truncate("fifo", 0).unwrap_err().name(), "EINVAL");
        assert_eq!(dir.truncate("empty", u64::MAX).unwrap_err().name(), "EINVAL");

        dir.access("empty", Access::READ | Access::WRITE, false, false).unwrap();
        dir.access("empty", Access::EXISTS, false, true).unwrap();
        // No execute bit at all: refused even to root.
        assert_eq!(dir.access("empty", Access::EXEC, false, true).unwrap_err().name(), "EACCES");
        assert_eq!(dir.access("missing", Access::EXISTS, false, false).unwrap_err().name(), "ENOENT");
        dir.symlink("missing", "dangling").unwrap();
        dir.access("dangling", Access::EXISTS, false, false).unwrap();
        assert_eq!(dir.access("dangling", Access::EXISTS, true, false).unwrap_err().name(), "ENOENT");
        assert!(dir.access("../x", Access::EXISTS, false, false).unwrap_err().is_escape());

        match dir.rename_with("empty", &dir, "moved", RenameMode::Whiteout) {
            Ok(()) => {
                let st = dir.stat("empty", false).unwrap();
                assert_eq!((st.kind, st.rdev), (FileKind::CharDevice, 0));
                assert_eq!(dir.stat("moved", false).unwrap().size, 10);
            }
            Err(e) => assert!(["EPERM", "EINVAL", "ENOSYS"].contains(&e.name().as_str()), "{}", e),
        }
    });
}

/// Extended attributes set, read (binary values kept whole), listed and removed; where the
/// file system keeps none, every call says EOPNOTSUPP.
#[test]
fn extended_attributes() {
    util::no_leaks(|| {
        let tmp = Scratch::new("xattr");
        let dir = Dir::fs().open_dir(&tmp.0).unwrap();
        std::fs::write(tmp.0.join("f"), b"").unwrap();
        dir.symlink("f", "l").unwrap();
        if let Err(e) = dir.set_xattr("f", "user.fdkit", b"a\0b", XattrMode::Any, false) {
            assert_eq!(e.name(), "EOPNOTSUPP");
            assert_eq!(dir.list_xattr("f", false).unwrap_err().name(), "EOPNOTSUPP");
            return;
        }
        assert_eq!(dir.xattr("f", "user.fdkit", false).unwrap(), b"a\0b");
        assert_eq!(dir.xattr("l", "user.fdkit", true).unwrap(), b"a\0b");
        assert_eq!(dir.set_xattr("f", "user.fdkit", b"x", XattrMode::Create, false).unwrap_err().name(), "EEXIST");
        assert_eq!(dir.set_xattr("f", "user.other", b"x", XattrMode::Replace, false).unwrap_err().name(), "ENODATA");
        dir.set_xattr("l", "user.fdkit", b"", XattrMode::Replace, true).unwrap();
        assert_eq!(dir.xattr("f", "user.fdkit", false).unwrap(), b"");
        dir.set_xattr("f", "user.second", b"2", XattrMode::Create, false).unwrap();
        let mut names: Vec<_> = dir.list_xattr("f", false).unwrap();
        names.retain(|n| n.to_str().map_or(false, |n| n.starts_with("user.")));
        names.sort();
        assert_eq!(names, ["user.fdkit", "user.second"]);
        dir.remove_xattr("l", "user.second", true).unwrap();
        assert_eq!(dir.xattr("f", "user.second", false).unwrap_err().name(), "ENODATA");
        assert_eq!(dir.remove_xattr("f", "user.second", false).unwrap_err().name(), "ENODATA");
        // User attributes are refused on a symlink itself.
        assert_eq!(dir.set_xattr("l", "user.x", b"1", XattrMode::Any, false).unwrap_err().name(), "EPERM");
        assert!(dir.xattr("../f", "user.fdkit", false).unwrap_err().is_escape());
        assert_eq!(dir.xattr("f", "user.a\0b", false).unwrap_err().name(), "EINVAL"); // NUL in the name
    });
}

/// The asynchronous forms of the calls above complete from the loop, never inside the
/// call, with the same effects.
#[test]
fn async_scoped_dirs_and_more_calls() {
    use std::cell::RefCell;
    use std::rc::Rc;
    util::no_leaks(|| {
        let tmp = Scratch::new("moreasync");
        let lp = fdkit::Loop::new().unwrap();
        let log = util::Completions::default();
        let note = |what: &'static str| log.note(what);
        let run = |lp: &fdkit::Loop| log.run(lp);
        let top = Dir::fs().open_dir(&tmp.0).unwrap();
        top.mkdir("d", 0o755).unwrap();
        std::fs::write(tmp.0.join("d/f"), b"12345").unwrap();
        top.symlink("/f", "d/abs").unwrap();

        let opened = Rc::new(RefCell::new(Vec::new()));
        let slot = opened.clone();
        lp.open_dir_with_async(&top, "d", DirFlags::IN_ROOT, move |res| slot.borrow_mut().push(res)).unwrap();
        let slot = opened.clone();
        lp.open_dir_with_async(&top, "d/abs", DirFlags::NO_FOLLOW, move |res| slot.borrow_mut().push(res)).unwrap();
        assert!(opened.borrow().is_empty(), "a callback ran inside its call");
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut results: Vec<_> = opened.borrow_mut().drain(..).collect();
        assert_eq!(results.len(), 2);
        results.sort_by_key(|r| r.is_err());
        assert_eq!(results[1].as_ref().unwrap_err().name(), "ENOTDIR");
        let root = results.remove(0).unwrap();
        assert_eq!(root.stat("abs", true).unwrap().size, 5); // "/f" starts from the root

        let unnamed = root.open(".", OpenFlags::TMPFILE | OpenFlags::WRITE, 0o600).unwrap();
        unnamed.write(b"tmp").unwrap();
        lp.link_fd_async(&unnamed, &root, "/published", note("link_fd")).unwrap();
        drop(unnamed); // the operation holds its own reference
        lp.hard_link_with_async(&root, "abs", &root, "followed", true, note("link follow")).unwrap();
        lp.hard_link_with_async(&root, "abs", &root, "linked", false, note("link")).unwrap();
        lp.mkfifo_async(&root, "fifo", 0o600, note("mkfifo")).unwrap();
        lp.mknod_async(&root, "sock", FileKind::Socket, 0o600, 0, note("mknod")).unwrap();
        lp.truncate_async(&root, "abs", 2, note("truncate")).unwrap();
        lp.access_async(&root, "f", Access::EXEC, false, true, note("access exec")).unwrap();
        lp.access_async(&root, "abs", Access::READ, true, false, note("access read")).unwrap();
        assert_eq!(
            run(&lp),
            [
                "access exec Err(\"EACCES\")",
                "access read Ok(())",
                "link Ok(())",
                "link follow Ok(())",
                "link_fd Ok(())",
                "mkfifo Ok(())",
                "mknod Ok(())",
                "truncate Ok(())"
            ]
        );
        assert_eq!(std::fs::read(tmp.0.join("d/published")).unwrap(), b"tmp");
        assert_eq!(root.stat("followed", false).unwrap().ino, root.stat("f", false).unwrap().ino);
        assert_eq!(root.stat("linked", false).unwrap().kind, FileKind::Symlink);
        assert_eq!(root.stat("fifo", false).unwrap().kind, FileKind::Fifo);
        assert_eq!(root.stat("sock", false).unwrap().kind, FileKind::Socket);
        assert_eq!(root.stat("f", false).unwrap().size, 2);

        lp.rename_async(&root, "published", &root, "renamed", RenameMode::Whiteout, note("whiteout")).unwrap();
        let got = run(&lp);
        if got == ["whiteout Ok(())"] {
            assert_eq!(root.stat("published", false).unwrap().kind, FileKind::CharDevice);
        } else {
            let refusals = ["whiteout Err(\"EPERM\")", "whiteout Err(\"EINVAL\")", "whiteout Err(\"ENOSYS\")"];
            assert!(refusals.contains(&got[0].as_str()), "{:?}", got);
        }

        lp.set_xattr_async(&root, "f", "user.fdkit", b"v\0", XattrMode::Create, false, note("setxattr")).unwrap();
        let got = run(&lp);
        if got == ["setxattr Err(\"EOPNOTSUPP\")"] {
            return;
        }
        assert_eq!(got, ["setxattr Ok(())"]);
        let values = Rc::new(RefCell::new(Vec::new()));
        let v = values.clone();
        lp.xattr_async(&root, "abs", "user.fdkit", true, move |res| v.borrow_mut().push(res.map_err(|e| e.name())))
            .unwrap();
        let v = values.clone();
        lp.xattr_async(&root, "f", "user.missing", false, move |res| v.borrow_mut().push(res.map_err(|e| e.name())))
            .unwrap();
        let names = Rc::new(RefCell::new(Vec::new()));
        let n = names.clone();
        lp.list_xattr_async(&root, "f", false, move |res| n.borrow_mut().extend(res.unwrap())).unwrap();
        assert!(values.borrow().is_empty() && names.borrow().is_empty(), "a callback ran inside its call");
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut values = values.borrow().clone();
        values.sort();
        assert_eq!(values, [Ok(b"v\0".to_vec()), Err("ENODATA".to_string())]);
        assert!(names.borrow().iter().any(|n| n == "user.fdkit"), "{:?}", names.borrow());

        lp.remove_xattr_async(&root, "f", "user.fdkit", false, note("removexattr")).unwrap();
        lp.remove_xattr_async(&root, "/../f", "user.none", false, note("removexattr none")).unwrap();
        assert_eq!(run(&lp), ["removexattr Ok(())", "removexattr none Err(\"ENODATA\")"]);
        assert_eq!(root.xattr("f", "user.fdkit", false).unwrap_err().name(), "ENODATA");
    });
}
