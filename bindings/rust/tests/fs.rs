//! fs.h: confined directories, the calls made beneath them, and escapes refused.
mod util;

use fdkit::{platform, Dir, Kind, OpenFlags};
use std::path::PathBuf;

fn temp_top(name: &str) -> PathBuf {
    let top = std::env::temp_dir().join(format!("fdkit-rust-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    std::fs::create_dir_all(top.join("root")).unwrap();
    std::fs::write(top.join("secret"), "outside").unwrap();
    top
}

#[test]
fn files_directories_links_and_stat() {
    util::no_leaks(|| {
        let top = temp_top("fs");
        let root = Dir::fs().open_dir(top.join("root")).unwrap();
        let f = root.open("a.txt", OpenFlags::WRONLY | OpenFlags::CREAT, 0o640).unwrap();
        assert_eq!(f.write(b"hello").unwrap(), 5);
        drop(f);
        root.mkdir("sub", 0o755).unwrap();
        root.symlink("../a.txt", "sub/link").unwrap();
        assert_eq!(root.readlink("sub/link").unwrap(), b"../a.txt");
        let mut buf = [0u8; 16];
        let n = root.open("sub/link", OpenFlags::RDONLY, 0).unwrap().read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        let st = root.stat("a.txt", true).unwrap();
        assert_eq!((st.kind, st.size, st.perm), (Kind::Regular, 5, 0o640));
        assert_eq!(root.stat("sub/link", false).unwrap().kind, Kind::Symlink);
        assert_eq!(root.read_dir("").unwrap(), vec![b"a.txt".to_vec(), b"sub".to_vec()]);
        let sub = root.open_dir("sub").unwrap();
        assert_eq!(sub.clone().stat("link", false).unwrap().kind, Kind::Symlink);
        drop(sub);
        root.unlink("sub/link").unwrap();
        root.rmdir("sub").unwrap();
        root.unlink("a.txt").unwrap();
        assert_eq!(root.stat("a.txt", true).unwrap_err().name(), "ENOENT");
        drop(root);
        std::fs::remove_dir_all(&top).unwrap();
    });
}

#[test]
fn escapes_are_refused_with_exdev() {
    util::no_leaks(|| {
        let top = temp_top("escape");
        let root = Dir::fs().open_dir(top.join("root")).unwrap();
        root.symlink("../secret", "out").unwrap();
        root.symlink("/etc", "abs").unwrap();
        for path in ["../secret", "out", "abs/passwd", "/etc/passwd"] {
            let err = root.open(path, OpenFlags::RDONLY, 0).unwrap_err();
            assert_eq!(err.name(), "EXDEV", "{}", path);
            assert!(err.detail().contains("escapes"), "{}", err);
        }
        assert_eq!(root.open_dir("..").unwrap_err().name(), "EXDEV");
        assert_eq!(root.open("a\0b", OpenFlags::RDONLY, 0).unwrap_err().errno(), platform::EINVAL);
        drop(root);
        std::fs::remove_dir_all(&top).unwrap();
    });
}
