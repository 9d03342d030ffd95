//! `bulwark db`.

use predicates::prelude::*;
use serde_json::Value;

use crate::{bulwark, workspace_root};

#[test]
fn import_then_status() {
    let db = tempfile::tempdir().unwrap();
    let testdata = workspace_root().join("crates/bulwark-vulndb/testdata");
    bulwark()
        .args(["db", "import"])
        .arg(testdata.join("osv"))
        .arg(testdata.join("malformed"))
        .arg("--db")
        .arg(db.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: ").and(predicate::str::contains("not-json")))
        .stderr(predicate::str::contains("malformed"));

    let output = bulwark()
        .args(["db", "status", "--json"])
        .env("BULWARK_DB_DIR", db.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(status["records"].as_u64().unwrap() > 0);
    assert_eq!(status["malformed"], 3);
    assert!(status["ecosystems"]["PyPI"]["records"].as_u64().unwrap() > 0);

    bulwark()
        .args(["db", "status"])
        .arg("--db")
        .arg(db.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("PyPI").and(predicate::str::contains("ago")));
}

#[test]
fn status_without_a_database_says_what_to_do() {
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args(["db", "status", "--db"])
        .arg(db.path().join("none"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run `bulwark db import"));
}

#[test]
fn import_of_a_missing_path_fails_and_names_it() {
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args(["db", "import", "/nonexistent/osv.zip", "--db"])
        .arg(db.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/osv.zip"));
}

/// Serves `PyPI/all.zip` (and 404 for anything else) to `requests` connections on loopback,
/// then stops.
fn serve_osv(zip: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let found = request_line.starts_with("GET /PyPI/all.zip ");
            let (status, body): (&str, &[u8]) = if found {
                ("200 OK", &zip)
            } else {
                ("404 Not Found", b"")
            };
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, handle)
}

#[test]
fn update_from_a_loopback_mirror() {
    let records = workspace_root().join("crates/bulwark-vulndb/testdata/osv/PyPI");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut names: Vec<_> = fs_err::read_dir(&records)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in &names {
        zip.start_file(
            path.file_name().unwrap().to_string_lossy(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut zip, &fs_err::read(path).unwrap()).unwrap();
    }
    let zip = zip.finish().unwrap().into_inner();
    let (base, server) = serve_osv(zip, 2);
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args([
            "db",
            "update",
            "--source",
            &base,
            "--ecosystem",
            "PyPI",
            "--ecosystem",
            "npm",
            "--db",
        ])
        .arg(db.path())
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: npm: no such ecosystem"))
        .stderr(predicate::str::contains("downloaded PyPI"));
    server.join().unwrap();
    let output = bulwark()
        .args(["db", "status", "--json", "--db"])
        .arg(db.path())
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["ecosystems"]["PyPI"]["records"], names.len());
}
