//! Finds libfdkit with the pkg-config program (no crates: the build must work offline).
//! PKG_CONFIG selects the program; PKG_CONFIG_PATH may point at an installed prefix or at
//! a build tree's meson-uninstalled directory.
//!
//! It also takes the platform values the binding needs (errno values it raises itself,
//! socket domains and types) from the C headers, through a program built with CC or cc,
//! since without the libc crate std names none of them.
use std::env;
use std::path::PathBuf;
use std::process::Command;

const HEADERS: &[&str] = &["errno.h", "sys/socket.h"];
const CONSTANTS: &[&str] = &["EINVAL", "AF_UNIX", "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET"];

fn write_platform_constants() {
    // Some (SOCK_STREAM...) are enumerators in glibc, which the preprocessor cannot see
    // through: a small program prints them all.
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let mut source: String = HEADERS.iter().map(|h| format!("#include <{}>\n", h)).collect();
    source.push_str("#include <stdio.h>\nint main(void) {\n");
    for name in CONSTANTS {
        source.push_str(&format!("  printf(\"pub const {}: i32 = %d;\\n\", (int){});\n", name, name));
    }
    source.push_str("  return 0;\n}\n");
    let (c_file, program) = (out_dir.join("platform.c"), out_dir.join("platform"));
    std::fs::write(&c_file, source).unwrap();
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .arg(&c_file)
        .arg("-o")
        .arg(&program)
        .status()
        .unwrap_or_else(|e| panic!("fdkit: cannot run {} for platform constants: {}", cc, e));
    assert!(status.success(), "fdkit: {} failed on the platform constants program", cc);
    let output = Command::new(&program).output().expect("fdkit: running the platform constants program");
    assert!(output.status.success(), "fdkit: the platform constants program failed");
    std::fs::write(out_dir.join("platform.rs"), output.stdout).unwrap();
}

fn main() {
    write_platform_constants();
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
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
