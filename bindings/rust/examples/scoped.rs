// SPDX-License-Identifier: MIT
//! The fourth example of doc/bindings/rust.md (scoped dirs and the calls that came with them).
use fdkit::{Access, Dir, DirFlags, FileKind, OpenFlags, XattrMode};

fn main() -> fdkit::Result<()> {
    let base = std::env::temp_dir().join(format!("fdkit-scoped-example-{}", std::process::id()));
    Dir::fs().mkdir(&base, 0o755)?;
    let top = Dir::fs().open_dir(&base)?;
    top.mkdir("image", 0o755)?;
    top.mkdir("image/etc", 0o755)?;

    // A root: ".." stays in it, absolute paths and symlink targets start from it.
    let image = top.open_dir_with("image", DirFlags::IN_ROOT | DirFlags::NO_XDEV)?;
    image.symlink("/etc", "config")?;
    assert_eq!(image.stat("../../config", true)?.kind, FileKind::Dir);

    // Write a file unnamed, then publish it whole: it appears complete or not at all.
    let unnamed = image.open("/etc", OpenFlags::TMPFILE | OpenFlags::WRITE, 0o640)?;
    unnamed.write(b"port = 80\n")?;
    image.link_fd(&unnamed, "/etc/site.conf")?;
    image.access("config/site.conf", Access::READ, true, false)?;

    // Extended attributes, where the file system keeps them.
    match image.set_xattr("etc/site.conf", "user.origin", b"example", XattrMode::Create, false) {
        Ok(()) => assert_eq!(image.xattr("etc/site.conf", "user.origin", false)?, b"example"),
        Err(e) => assert_eq!(e.name(), "EOPNOTSUPP"),
    }

    // Following symlinks can be refused outright.
    let strict = top.open_dir_with("image", DirFlags::NO_SYMLINKS)?;
    assert_eq!(strict.stat("config/site.conf", true).unwrap_err().name(), "ELOOP");

    drop((unnamed, image, strict, top));
    std::fs::remove_dir_all(&base).expect("remove the example's directory");
    Ok(())
}
