//! `bulwark compare-versions`.

use predicates::prelude::*;

use crate::{bulwark, workspace_root};

#[test]
fn two_versions() {
    for (ecosystem, a, b, symbol) in [
        ("PyPI", "1.0rc1", "1.0", "<"),
        ("PyPI", "2.2.0+cu121", "2.2.0", ">"),
        ("Debian:12", "1:1.0", "2.0", ">"),
        ("Go", "v1.2.3", "v1.2.3+incompatible", "="),
        ("Maven", "1.0-alpha", "1.0", "<"),
    ] {
        bulwark()
            .args(["compare-versions", ecosystem, a, b])
            .assert()
            .success()
            .stdout(format!("{symbol}\n"));
    }
}

#[test]
fn pairs_from_stdin_with_an_error_line() {
    bulwark()
        .args(["compare-versions", "npm"])
        .write_stdin("1.0.0 2.0.0\n\n1.0.0-beta 1.0.0\nnot-a-version 1.0.0\n2.0.0 1.0.0\n")
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("<\n<\nerror: "))
        .stdout(predicate::str::ends_with(">\n"));
}

/// Every line of the Debian peer vectors through the command line (the library tests cover
/// every ecosystem; this checks the stdin path end to end).
#[test]
fn debian_vectors_through_stdin() {
    let vectors =
        fs_err::read_to_string(workspace_root().join("crates/bulwark-version/testdata/Debian.txt"))
            .unwrap();
    let mut input = String::new();
    let mut expected = String::new();
    for line in vectors
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split(' ').collect();
        let [a, op, b] = parts[..] else { continue };
        input.push_str(&format!("{a} {b}\n"));
        expected.push_str(op);
        expected.push('\n');
    }
    bulwark()
        .args(["compare-versions", "Debian"])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn unknown_ecosystem_gets_a_hint() {
    bulwark()
        .args(["compare-versions", "pypi", "1", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `PyPI`?"));
}
