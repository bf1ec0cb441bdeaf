// SPDX-License-Identifier: MIT
//! fs.h: confined directories, open, stat, read_dir, links.
mod util;

use fdkit::{Dir, FileKind, OpenFlags};
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
