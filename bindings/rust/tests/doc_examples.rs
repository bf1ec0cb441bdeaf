// SPDX-License-Identifier: MIT
//! The examples of doc/bindings/rust.md: each ```rust block is the text of one program in
//! examples/ (after its first `//!` line), and every program runs to success.
use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLES: [&str; 4] = ["pipe", "areas", "processes", "scoped"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc_blocks() -> Vec<String> {
    let page = std::fs::read_to_string(manifest_dir().join("../../doc/bindings/rust.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match current.as_mut() {
            None if line == "```rust" => current = Some(String::new()),
            Some(_) if line.starts_with("```") => blocks.push(current.take().unwrap()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

// cargo test builds the examples next to the directory of this test's binary.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

#[test]
fn doc_blocks_are_the_example_programs() {
    let blocks = doc_blocks();
    assert_eq!(blocks.len(), EXAMPLES.len(), "rust.md should show {} programs", EXAMPLES.len());
    for (block, name) in blocks.iter().zip(EXAMPLES) {
        let file = std::fs::read_to_string(manifest_dir().join("examples").join(format!("{}.rs", name))).unwrap();
        // The page shows the program without the file's licence line and leading doc comment.
        let program: String = file
            .lines()
            .skip_while(|line| line.starts_with("// SPDX-License-Identifier") || line.starts_with("//!"))
            .map(|line| format!("{}\n", line))
            .collect();
        assert_eq!(block.as_str(), program, "rust.md and examples/{}.rs differ", name);
    }
}

#[test]
fn example_programs_run() {
    for name in EXAMPLES {
        let out = Command::new(example_binary(name)).output().unwrap();
        assert!(out.status.success(), "examples/{} failed: {}\n{}", name, out.status,
                String::from_utf8_lossy(&out.stderr));
    }
}
