// SPDX-License-Identifier: MIT
//! Finds libfdkit with the pkg-config program (no crates: the build must work offline).
//! PKG_CONFIG selects the program; PKG_CONFIG_PATH may point at an installed prefix or at
//! a build tree's meson-uninstalled directory.
//!
//! Also writes `consts.rs`: the platform's errno, signal, rlimit and socket values, taken from the
//! C headers by compiling and running a small program (CC, default `cc`), because fdkit
//! passes those through as the platform defines them and the libc crate is not reachable.
use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

const PLATFORM_CONSTS: &[(&str, &str)] = &[
    ("EBADF", "i32"),
    ("ECANCELED", "i32"),
    ("EEXIST", "i32"),
    ("EINVAL", "i32"),
    ("ENODATA", "i32"),
    ("ENOENT", "i32"),
    ("ENOTSUP", "i32"),
    ("EPERM", "i32"),
    ("ESRCH", "i32"),
    ("EXDEV", "i32"),
    ("ESHUTDOWN", "i32"),
    ("SIGHUP", "i32"),
    ("SIGINT", "i32"),
    ("SIGKILL", "i32"),
    ("SIGPIPE", "i32"),
    ("SIGTERM", "i32"),
    ("SIGUSR1", "i32"),
    ("SIGUSR2", "i32"),
    ("RLIMIT_AS", "i32"),
    ("RLIMIT_CORE", "i32"),
    ("RLIMIT_CPU", "i32"),
    ("RLIMIT_DATA", "i32"),
    ("RLIMIT_FSIZE", "i32"),
    ("RLIMIT_NOFILE", "i32"),
    ("RLIMIT_NPROC", "i32"),
    ("RLIMIT_STACK", "i32"),
    ("AF_UNSPEC", "i32"),
    ("AF_UNIX", "i32"),
    ("AF_INET", "i32"),
    ("AF_INET6", "i32"),
    ("SOCK_STREAM", "i32"),
    ("SOCK_DGRAM", "i32"),
    ("SOL_SOCKET", "i32"),
    ("SO_KEEPALIVE", "i32"),
    ("SO_RCVBUF", "i32"),
    ("SO_REUSEADDR", "i32"),
    ("SO_SNDBUF", "i32"),
    ("SO_TYPE", "i32"),
    ("IPPROTO_TCP", "i32"),
    ("IPPROTO_IPV6", "i32"),
    ("TCP_NODELAY", "i32"),
    ("IPV6_V6ONLY", "i32"),
];

fn platform_consts(out_dir: &Path) {
    let mut program = String::from(
        "#include <errno.h>\n#include <netinet/in.h>\n#include <netinet/tcp.h>\n#include <signal.h>\n#include <stdio.h>\n\
         #include <sys/resource.h>\n#include <sys/socket.h>\nint main(void) {\n",
    );
    for (name, ty) in PLATFORM_CONSTS {
        program += &format!("  printf(\"pub const {}: {} = %d;\\n\", (int){});\n", name, ty, name);
    }
    program += "  return 0;\n}\n";
    let src = out_dir.join("consts.c");
    let exe = out_dir.join("consts");
    fs::write(&src, program).expect("fdkit: writing consts.c");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("fdkit: cannot run {}: {}", cc, e));
    assert!(status.success(), "fdkit: {} failed on consts.c", cc);
    let output = Command::new(&exe).output().expect("fdkit: running consts");
    assert!(output.status.success(), "fdkit: consts failed");
    fs::write(out_dir.join("consts.rs"), output.stdout).expect("fdkit: writing consts.rs");
}

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=CC");
    platform_consts(Path::new(&env::var("OUT_DIR").expect("OUT_DIR")));
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&program)
        .args(["--libs", "fdkit"])
        .output()
        .unwrap_or_else(|e| panic!("fdkit: cannot run {}: {}", program, e));
    if !output.status.success() {
        panic!(
            "fdkit: `{} --libs fdkit` failed (set PKG_CONFIG_PATH?): {}",
            program,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for flag in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", lib);
        }
    }
}
