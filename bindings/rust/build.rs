//! Finds libfdkit with the pkg-config program (no crates: the build must work offline).
//! PKG_CONFIG selects the program; PKG_CONFIG_PATH may point at an installed prefix or at
//! a build tree's meson-uninstalled directory.
use std::env;
use std::process::Command;

fn main() {
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
