// SPDX-License-Identifier: MIT
//! fdkit's own constants are copied by hand into src/sys.rs (convention 8 makes their values
//! part of the ABI): each `pub const FDK_*` must equal its #define in include/fdkit/*.h.
use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// A constant's value as C or Rust writes it: decimal or hex, a `u` suffix, parentheses
/// around a negative number, or the largest 64-bit unsigned value by name.
fn parse_int(text: &str) -> Option<i128> {
    let text = text.trim().trim_start_matches('(').trim_end_matches(')');
    if text == "UINT64_MAX" || text == "u64::MAX" {
        return Some(i128::from(u64::MAX));
    }
    let text = text.trim_end_matches(|c| c == 'u' || c == 'U');
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = match digits.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(if negative { -value } else { value })
}

fn header_constants() -> HashMap<String, i128> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/fdkit");
    let mut found = HashMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().map_or(true, |e| e != "h") {
            continue;
        }
        for line in fs::read_to_string(&path).unwrap().lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("#define") {
                continue;
            }
            if let (Some(name), Some(value)) = (words.next(), words.next()) {
                if let (true, Some(v)) = (name.starts_with("FDK_"), parse_int(value)) {
                    found.insert(name.to_string(), v);
                }
            }
        }
    }
    found
}

fn sys_source() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys.rs")).unwrap()
}

/// A constant added to a header reaches the binding too. Left out: the headers' own
/// version (the binding asks the loaded library, fdk_version) and FDK_EESCAPE, which is
/// the platform's -EXDEV (platform::EXDEV).
#[test]
fn every_header_constant_is_copied() {
    let sys = sys_source();
    let mut missing: Vec<String> = header_constants()
        .into_keys()
        .filter(|name| !name.starts_with("FDK_VERSION_") && name != "FDK_EESCAPE")
        .filter(|name| !sys.contains(&format!("pub const {}:", name)))
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "constants of include/fdkit missing from src/sys.rs: {:?}", missing);
}

#[test]
fn every_copied_constant_equals_the_header() {
    let headers = header_constants();
    let sys = sys_source();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in sys.lines() {
        // pub const FDK_NAME: type = value;
        let rest = match line.trim().strip_prefix("pub const FDK_") {
            Some(rest) => rest,
            None => continue,
        };
        let name = format!("FDK_{}", rest.split(':').next().unwrap());
        let value = rest.split('=').nth(1).and_then(|v| parse_int(v.trim_end_matches(';')));
        checked += 1;
        if value.is_none() || headers.get(&name) != value.as_ref() {
            wrong.push(format!("{} = {:?}, header {:?}", name, value, headers.get(&name)));
        }
    }
    assert!(checked > 20, "only {} constants found in sys.rs", checked);
    assert!(wrong.is_empty(), "constants that differ from include/fdkit: {:?}", wrong);
}
