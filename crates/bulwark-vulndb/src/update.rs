//! `db update`: downloading osv.dev's per-ecosystem `all.zip` archives and importing them in
//! one atomic swap.
//!
//! Each archive is downloaded into `<db dir>/.downloads/` as `<Ecosystem>.zip.part`, with a
//! small JSON sidecar holding what the server said about the object (validator, size, MD5).
//! The sidecar is what makes resumption safe: a partial file is only continued with
//! `Range` + `If-Range: <validator>`, so if the archive changed upstream (osv.dev rewrites
//! them continuously) the server answers 200 with the whole new object instead of splicing
//! two versions. Complete archives are verified, then all of them are handed to
//! [`import`](crate::import) at once, so the database changes by exactly one generation swap;
//! the archives are deleted afterwards.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use crate::import::{import_locked, lock};
use crate::{Error, ImportOptions, ImportReport};

/// osv.dev's public bucket of per-ecosystem exports.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems bulwark catalogs (or will): the default of [`UpdateOptions::ecosystems`].
/// conda is not among them because OSV publishes no conda feed.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "crates.io",
    "Go",
    "Maven",
    "NuGet",
    "RubyGems",
    "Packagist",
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
];

/// Directory in the database directory that downloads are written to.
const DOWNLOADS_DIR: &str = ".downloads";
/// The longest wait between two attempts, however many retries were asked for.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Settings for [`update`].
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Where the archives are: `<base_url>/<Ecosystem>/all.zip`.
    pub base_url: String,
    /// The ecosystems to download, as OSV spells them (`PyPI`, `crates.io`, `Red Hat`).
    pub ecosystems: Vec<String>,
    /// How many times a transient failure (connection error, timeout, 408/429/5xx, a body cut
    /// short, an archive that fails verification) is retried per ecosystem.
    pub retries: u32,
    /// The wait before the first retry; it doubles for each further one (at most a minute).
    pub retry_delay: Duration,
    /// The limit on connecting and on each read from the connection. There is no limit on a
    /// whole download: a large archive on a slow link is fine as long as bytes keep coming.
    pub timeout: Duration,
    /// Passed to the import.
    pub import: ImportOptions,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|&e| e.to_owned()).collect(),
            retries: 3,
            retry_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            import: ImportOptions::default(),
        }
    }
}

/// What an [`update`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateReport {
    /// Ecosystems downloaded and verified, with the archive's size in bytes.
    pub downloaded: Vec<(String, u64)>,
    /// Ecosystems that could not be downloaded, with the reason. Their records in the
    /// database, if any, are kept as they were.
    pub failed: Vec<(String, String)>,
    /// The import of the downloaded archives; `None` when nothing was requested.
    pub import: Option<ImportReport>,
}

/// Downloads each ecosystem's `all.zip` from `options.base_url` and imports those that
/// downloaded and verified, in one swap.
///
/// A partial download (cut connection, interrupted run) is resumed with an HTTP `Range`
/// request when the server supports it and the archive has not changed since; otherwise it
/// starts over. Transient failures are retried with exponential backoff; a 404 is not
/// retried. An archive is used only if its size matches what the server announced, its MD5
/// matches the server's `x-goog-hash` (when sent), and it is a zip of `*.json` entries.
/// Ecosystems that fail are listed in [`UpdateReport::failed`] and the others imported:
/// since imports merge, a failed ecosystem keeps its old records.
///
/// Holds the database's writer lock throughout, so concurrent updates and imports of the
/// same directory run one after the other. Proxies are taken from `HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, except for a loopback base URL.
///
/// # Errors
/// [`Error::UpdateFailed`] when ecosystems were requested and none could be downloaded (the
/// database is then untouched); [`Error::Lock`] or [`Error::Write`] when the lock or the
/// download directory cannot be created; any error of [`import`](crate::import).
pub fn update(db_dir: &Path, options: &UpdateOptions) -> Result<UpdateReport, Error> {
    let _lock = lock(db_dir)?;
    let downloads = db_dir.join(DOWNLOADS_DIR);
    fs::create_dir_all(&downloads).map_err(|source| Error::Write {
        path: downloads.clone(),
        source,
    })?;
    let base_url = options.base_url.trim_end_matches('/');
    let agent = agent(base_url, options.timeout);

    let mut report = UpdateReport {
        downloaded: Vec::new(),
        failed: Vec::new(),
        import: None,
    };
    let mut zips = Vec::new();
    for (index, ecosystem) in options.ecosystems.iter().enumerate() {
        if options.ecosystems[..index].contains(ecosystem) {
            continue;
        }
        if ecosystem.is_empty() {
            report
                .failed
                .push((ecosystem.clone(), "empty ecosystem name".to_owned()));
            continue;
        }
        // The encoded segment is also the file name: it is injective and has no separators.
        let segment = encode_segment(ecosystem);
        let url = format!("{base_url}/{segment}/all.zip");
        let download = Download {
            url,
            part: downloads.join(format!("{segment}.zip.part")),
            state: downloads.join(format!("{segment}.zip.part.json")),
            target: downloads.join(format!("{segment}.zip")),
        };
        match download.run(&agent, options) {
            Ok(size) => {
                report.downloaded.push((ecosystem.clone(), size));
                zips.push(download.target);
            }
            Err(error) => report.failed.push((ecosystem.clone(), describe(&error))),
        }
    }

    if zips.is_empty() {
        if report.failed.is_empty() {
            return Ok(report);
        }
        return Err(Error::UpdateFailed {
            base_url: base_url.to_owned(),
            failures: report.failed,
        });
    }
    let imported = import_locked(db_dir, &zips, &options.import);
    // Verified archives are not kept: the next update fetches fresh ones anyway, and the full
    // export is gigabytes.
    for zip in &zips {
        let _ignored = fs::remove_file(zip);
    }
    report.import = Some(imported?);
    Ok(report)
}

/// The agent for one update. Status codes are handled here, not turned into errors, and no
/// `Accept-Encoding` is sent (the `gzip` feature is off), so bytes on the wire are the
/// archive's bytes and `Range` offsets mean what they say.
fn agent(base_url: &str, timeout: Duration) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(timeout))
        .timeout_send_request(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout))
        .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")));
    if is_loopback(base_url) {
        // A mirror on this machine is never reached through a proxy (and tests must not be
        // sent to one that happens to be configured).
        config = config.proxy(None);
    }
    ureq::Agent::new_with_config(config.build())
}

/// Whether the URL's host is `localhost` or a loopback address.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`Red Hat` → `Red%20Hat`).
fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// An error and its causes on one line, for [`UpdateReport::failed`].
fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What the server said about the object being downloaded; saved beside the partial file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct PartState {
    url: String,
    /// A strong `ETag`, else `Last-Modified`: what `If-Range` sends.
    validator: Option<String>,
    /// The object's full size.
    size: Option<u64>,
    /// Base64 MD5 of the object, from `x-goog-hash`.
    md5: Option<String>,
}

/// A failed attempt and whether trying again may help.
struct Failure {
    error: Error,
    transient: bool,
}

impl Failure {
    fn transient(error: Error) -> Self {
        Self {
            error,
            transient: true,
        }
    }

    fn permanent(error: Error) -> Self {
        Self {
            error,
            transient: false,
        }
    }
}

/// One ecosystem's archive: where it comes from and the files it goes through.
struct Download {
    url: String,
    part: PathBuf,
    state: PathBuf,
    target: PathBuf,
}

impl Download {
    /// Downloads and verifies the archive into `target`, retrying; returns its size.
    fn run(&self, agent: &ureq::Agent, options: &UpdateOptions) -> Result<u64, Error> {
        // A complete archive left by an update whose import failed is stale by now.
        let _ignored = fs::remove_file(&self.target);
        let mut retried = 0;
        loop {
            match self.attempt(agent) {
                Ok(size) => return Ok(size),
                Err(failure) if failure.transient && retried < options.retries => {
                    retried += 1;
                    let factor = 1u32 << (retried - 1).min(16);
                    std::thread::sleep(
                        options
                            .retry_delay
                            .saturating_mul(factor)
                            .min(MAX_BACKOFF.max(options.retry_delay)),
                    );
                }
                Err(failure) => {
                    if !failure.transient {
                        self.discard();
                    }
                    return Err(failure.error);
                }
            }
        }
    }

    /// Removes the partial file and its sidecar.
    fn discard(&self) {
        let _ignored = fs::remove_file(&self.part);
        let _ignored = fs::remove_file(&self.state);
    }

    fn attempt(&self, agent: &ureq::Agent) -> Result<u64, Failure> {
        let state = self.fetch(agent)?;
        match verify(&self.url, &self.part, &state) {
            Ok(size) => {
                fs::rename(&self.part, &self.target).map_err(|source| {
                    Failure::permanent(Error::Write {
                        path: self.target.clone(),
                        source,
                    })
                })?;
                let _ignored = fs::remove_file(&self.state);
                Ok(size)
            }
            Err(error) => {
                // Whatever is wrong is in bytes already on disk: start over.
                self.discard();
                Err(Failure::transient(error))
            }
        }
    }

    /// One request: resumes the partial file if it can, else downloads from the start.
    /// Returns the object's state once the body has been read to its end.
    fn fetch(&self, agent: &ureq::Agent) -> Result<PartState, Failure> {
        let have = fs::metadata(&self.part).map_or(0, |meta| meta.len());
        let saved = read_state(&self.state).filter(|state| state.url == self.url);
        let resume = match &saved {
            Some(state) if have > 0 => state.validator.clone().map(|v| (have, v)),
            _ => None,
        };
        if resume.is_none() {
            self.discard();
        }

        let mut request = agent.get(&self.url);
        if let Some((offset, validator)) = &resume {
            request = request
                .header("Range", format!("bytes={offset}-"))
                .header("If-Range", validator.as_str());
        }
        let response = request
            .call()
            .map_err(|error| self.request_failure(error))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let (state, append) = match status {
            200 => (
                state_from(&self.url, headers, content_length(headers)),
                false,
            ),
            206 => {
                let asked = resume.as_ref().map(|(offset, _)| *offset);
                let Some((_, total)) =
                    content_range(headers).filter(|&(start, _)| Some(start) == asked)
                else {
                    self.discard();
                    return Err(Failure::transient(Error::Verify {
                        url: self.url.clone(),
                        problem: "206 Partial Content for a range not asked for".to_owned(),
                    }));
                };
                let mut state = saved.clone().unwrap_or_default();
                state.size = total.or(state.size);
                if let Some(md5) = md5_from(headers) {
                    state.md5 = Some(md5);
                }
                (state, true)
            }
            404 => {
                return Err(Failure::permanent(Error::NotFound {
                    url: self.url.clone(),
                }));
            }
            416 => {
                // The partial file does not fit the object any more: start over.
                self.discard();
                return Err(Failure::transient(Error::HttpStatus {
                    url: self.url.clone(),
                    status,
                }));
            }
            _ => {
                let error = Error::HttpStatus {
                    url: self.url.clone(),
                    status,
                };
                return Err(if status == 408 || status == 429 || status >= 500 {
                    Failure::transient(error)
                } else {
                    Failure::permanent(error)
                });
            }
        };
        write_state(&self.state, &state).map_err(Failure::permanent)?;

        let file = if append {
            File::options().append(true).open(&self.part)
        } else {
            File::create(&self.part)
        }
        .map_err(|source| {
            Failure::permanent(Error::Write {
                path: self.part.clone(),
                source,
            })
        })?;
        let mut reader = response.into_body().into_reader();
        copy_body(&mut reader, file, &self.part).map_err(|failure| match failure {
            CopyError::Read(source) => Failure::transient(self.io_failure(source)),
            CopyError::Write(error) => Failure::permanent(error),
        })?;

        let have = fs::metadata(&self.part).map_or(0, |meta| meta.len());
        if let Some(size) = state.size
            && have < size
        {
            // Keep what arrived; the retry asks for the rest.
            return Err(Failure::transient(self.io_failure(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the body ended after {have} of {size} bytes"),
            ))));
        }
        Ok(state)
    }

    fn request_failure(&self, error: ureq::Error) -> Failure {
        let transient = matches!(
            error,
            ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::HostNotFound
                | ureq::Error::ConnectionFailed
                | ureq::Error::Protocol(_)
                | ureq::Error::BodyStalled
                | ureq::Error::ConnectProxyFailed(_)
        );
        let error = Error::Http {
            url: self.url.clone(),
            source: Box::new(error),
        };
        Failure { error, transient }
    }

    fn io_failure(&self, source: io::Error) -> Error {
        Error::Http {
            url: self.url.clone(),
            source: Box::new(source),
        }
    }
}

enum CopyError {
    Read(io::Error),
    Write(Error),
}

/// Copies the body into the file, telling read errors (transient) from write errors.
fn copy_body(reader: &mut impl Read, file: File, path: &Path) -> Result<(), CopyError> {
    let write_error = |source| {
        CopyError::Write(Error::Write {
            path: path.to_owned(),
            source,
        })
    };
    let mut writer = BufWriter::with_capacity(1 << 16, file);
    let mut buffer = vec![0; 1 << 16];
    let read_result = loop {
        match reader.read(&mut buffer) {
            Ok(0) => break Ok(()),
            Ok(n) => writer.write_all(&buffer[..n]).map_err(write_error)?,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => break Err(CopyError::Read(error)),
        }
    };
    // What arrived before a read error is kept for resumption, so flush it either way.
    writer.flush().map_err(write_error)?;
    read_result
}

/// The state announced by a 200 response.
fn state_from(url: &str, headers: &ureq::http::HeaderMap, size: Option<u64>) -> PartState {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    // If-Range needs a strong validator; a weak ETag would never match.
    let validator = header("etag")
        .filter(|etag| !etag.starts_with("W/"))
        .or_else(|| header("last-modified"));
    PartState {
        url: url.to_owned(),
        validator,
        size,
        md5: md5_from(headers),
    }
}

fn content_length(headers: &ureq::http::HeaderMap) -> Option<u64> {
    headers
        .get("content-length")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `Content-Range: bytes START-END/TOTAL` → (START, TOTAL if not `*`).
fn content_range(headers: &ureq::http::HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get("content-range")?.to_str().ok()?;
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

/// The `md5=` value of Google Cloud Storage's `x-goog-hash` headers (one header per hash, or
/// several comma-separated in one).
fn md5_from(headers: &ureq::http::HeaderMap) -> Option<String> {
    headers
        .get_all("x-goog-hash")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|hash| hash.trim().strip_prefix("md5=").map(str::to_owned))
}

fn read_state(path: &Path) -> Option<PartState> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn write_state(path: &Path, state: &PartState) -> Result<(), Error> {
    let bytes = serde_json::to_vec(state).map_err(|source| Error::Meta {
        path: path.to_owned(),
        source,
    })?;
    fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Checks a complete download: announced size, announced MD5, a zip whose entries are all
/// `*.json`. Returns its size.
fn verify(url: &str, path: &Path, state: &PartState) -> Result<u64, Error> {
    let invalid = |problem: String| Error::Verify {
        url: url.to_owned(),
        problem,
    };
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if let Some(expected) = state.size
        && size != expected
    {
        return Err(invalid(format!(
            "{size} bytes, but the server announced {expected}"
        )));
    }
    if let Some(expected) = &state.md5 {
        let mut hasher = Md5::new();
        let mut buffer = vec![0; 1 << 16];
        loop {
            let n = file.read(&mut buffer).map_err(read_error)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let actual = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
        if &actual != expected {
            return Err(invalid(format!(
                "MD5 {actual}, but the server announced {expected}"
            )));
        }
    }
    let archive = zip::ZipArchive::new(file)
        .map_err(|error| invalid(format!("not a readable zip archive ({error})")))?;
    for name in archive.file_names() {
        let name = name.map_err(|error| invalid(format!("unreadable entry name ({error})")))?;
        if !name.ends_with(".json") {
            return Err(invalid(format!("entry `{name}` is not an OSV JSON record")));
        }
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Cursor};
    use std::net::TcpListener;
    use std::thread::JoinHandle;
    use std::time::Instant;

    use time::macros::datetime;

    use super::*;
    use crate::{Database, Status, import};

    /// A request as the test server saw it.
    #[derive(Debug)]
    struct Request {
        path: String,
        headers: Vec<(String, String)>,
    }

    impl Request {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }
    }

    /// A response; `cut_at` sends only that many body bytes (after a full `Content-Length`)
    /// and closes the connection.
    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        cut_at: Option<usize>,
    }

    impl Reply {
        fn ok(body: &[u8]) -> Self {
            Self {
                status: 200,
                headers: vec![("ETag".to_owned(), "\"v1\"".to_owned())],
                body: body.to_vec(),
                cut_at: None,
            }
        }

        fn status(status: u16) -> Self {
            Self {
                status,
                headers: Vec::new(),
                body: b"error".to_vec(),
                cut_at: None,
            }
        }

        fn header(mut self, name: &str, value: &str) -> Self {
            self.headers.push((name.to_owned(), value.to_owned()));
            self
        }
    }

    /// Serves exactly `expected` requests on loopback (one per connection), then stops; it
    /// also stops after 20 seconds whatever happened. The thread returns the requests.
    fn serve(
        expected: usize,
        mut handler: impl FnMut(usize, &Request) -> Reply + Send + 'static,
    ) -> (String, JoinHandle<Vec<Request>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut requests = Vec::new();
            while requests.len() < expected && Instant::now() < deadline {
                let mut stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                    Err(error) => panic!("accept: {error}"),
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let request = Request { path, headers };
                let reply = handler(requests.len(), &request);
                requests.push(request);
                let mut head = format!(
                    "HTTP/1.1 {} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (name, value) in &reply.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let sent = reply.cut_at.unwrap_or(reply.body.len());
                // The client may hang up early (it does not read error bodies); that is fine.
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&reply.body[..sent]);
                let _ = stream.flush();
            }
            requests
        });
        (base, thread)
    }

    /// A zip of the given files (relative to `testdata/osv/`, or literal `(name, bytes)`).
    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn record(path: &str) -> (&str, Vec<u8>) {
        let full = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/osv")
            .join(path);
        let name = path.rsplit('/').next().unwrap();
        (name, fs::read(full).unwrap())
    }

    fn pypi_zip() -> Vec<u8> {
        zip_of(&[
            record("PyPI/PYSEC-2020-341.json"),
            record("PyPI/PYSEC-2021-13.json"),
            record("PyPI/PYSEC-2021-98.json"),
        ])
    }

    fn go_zip() -> Vec<u8> {
        zip_of(&[record("Go/GO-2022-0493.json")])
    }

    fn md5_base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
    }

    fn options(base: &str, ecosystems: &[&str], retries: u32) -> UpdateOptions {
        UpdateOptions {
            base_url: base.to_owned(),
            ecosystems: ecosystems.iter().map(|&e| e.to_owned()).collect(),
            retries,
            retry_delay: Duration::from_millis(10),
            timeout: Duration::from_secs(5),
            import: ImportOptions {
                imported_at: Some(datetime!(2026-01-02 03:04:05 UTC)),
            },
        }
    }

    fn status(db: &Path) -> Status {
        Database::open(db).unwrap().status()
    }

    fn leftover_downloads(db: &Path) -> Vec<String> {
        fs::read_dir(db.join(DOWNLOADS_DIR))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn downloads_verifies_and_imports_two_ecosystems() {
        let pypi = pypi_zip();
        let go = go_zip();
        let (pypi_len, go_len) = (pypi.len() as u64, go.len() as u64);
        let (base, server) = serve(2, move |_, request| match request.path.as_str() {
            "/PyPI/all.zip" => Reply::ok(&pypi).header(
                "x-goog-hash",
                &format!("crc32c=AAAAAA==,md5={}", md5_base64(&pypi)),
            ),
            "/Go/all.zip" => Reply::ok(&go)
                .header("x-goog-hash", "crc32c=AAAAAA==")
                .header("x-goog-hash", &format!("md5={}", md5_base64(&go))),
            _ => Reply::status(404),
        });
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        // A trailing slash on the base URL is tolerated.
        let report = update(&db, &options(&format!("{base}/"), &["PyPI", "Go"], 0)).unwrap();
        let requests = server.join().unwrap();

        assert_eq!(
            report.downloaded,
            [("PyPI".to_owned(), pypi_len), ("Go".to_owned(), go_len)]
        );
        assert!(report.failed.is_empty());
        let imported = report.import.unwrap();
        assert_eq!((imported.read, imported.added), (4, 4));
        let status = status(&db);
        assert_eq!(status.records, 4);
        assert_eq!(status.ecosystems["PyPI"].records, 3);
        assert_eq!(status.ecosystems["Go"].records, 1);
        assert!(requests.iter().all(|r| r.header("range").is_none()));
        assert!(leftover_downloads(&db).is_empty());
        // The lock file stays and does not disturb opening or a second import.
        assert!(db.join(".lock").exists());
    }

    #[test]
    fn resumes_a_cut_download_with_range() {
        let pypi = pypi_zip();
        let half = pypi.len() / 2;
        let (base, server) = serve(2, move |index, request| {
            if index == 0 {
                let mut reply = Reply::ok(&pypi);
                reply.cut_at = Some(half);
                reply
            } else {
                let start: usize = request
                    .header("range")
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.strip_suffix('-'))
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                let mut reply = Reply::ok(&pypi[start..]).header(
                    "Content-Range",
                    &format!("bytes {start}-{}/{}", pypi.len() - 1, pypi.len()),
                );
                reply.status = 206;
                reply
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let report = update(&db, &options(&base, &["PyPI"], 2)).unwrap();
        let requests = server.join().unwrap();

        assert_eq!(requests.len(), 2);
        assert_eq!(
            requests[1].header("range"),
            Some(format!("bytes={half}-").as_str())
        );
        assert_eq!(requests[1].header("if-range"), Some("\"v1\""));
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(status(&db).ecosystems["PyPI"].records, 3);
    }

    #[test]
    fn restarts_when_the_server_ignores_range() {
        let pypi = pypi_zip();
        let half = pypi.len() / 2;
        let (base, server) = serve(2, move |index, _| {
            let mut reply = Reply::ok(&pypi);
            if index == 0 {
                reply.cut_at = Some(half);
            }
            reply
        });
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let report = update(&db, &options(&base, &["PyPI"], 1)).unwrap();
        let requests = server.join().unwrap();

        assert!(requests[1].header("range").is_some());
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(status(&db).ecosystems["PyPI"].records, 3);
    }

    #[test]
    fn retries_server_errors() {
        let go = go_zip();
        let (base, server) = serve(3, move |index, _| {
            if index < 2 {
                Reply::status(500)
            } else {
                Reply::ok(&go)
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let report = update(&db, &options(&base, &["Go"], 3)).unwrap();
        let requests = server.join().unwrap();

        assert_eq!(requests.len(), 3);
        assert_eq!(report.downloaded.len(), 1);
        assert_eq!(status(&db).ecosystems["Go"].records, 1);
    }

    #[test]
    fn a_missing_ecosystem_is_reported_and_the_others_imported() {
        let go = go_zip();
        let (base, server) = serve(2, move |_, request| {
            if request.path == "/Go/all.zip" {
                Reply::ok(&go)
            } else {
                Reply::status(404)
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let report = update(&db, &options(&base, &["Red Hat", "Go"], 3)).unwrap();
        let requests = server.join().unwrap();

        // Not retried: one request each, with the space percent-encoded.
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].path, "/Red%20Hat/all.zip");
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].0, "Red Hat");
        assert!(
            report.failed[0]
                .1
                .contains(&format!("no such ecosystem at `{base}/Red%20Hat/all.zip`")),
            "{}",
            report.failed[0].1
        );
        assert_eq!(report.downloaded[0].0, "Go");
        assert_eq!(status(&db).records, 1);
    }

    #[test]
    fn invalid_archives_leave_the_database_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/osv/PyPI");
        import(&db, &[seed], &options("", &[], 0).import).unwrap();
        let before = status(&db);

        let go = go_zip();
        let not_json = zip_of(&[("README.txt", b"hello".to_vec())]);
        let (base, server) = serve(3, move |_, request| match request.path.as_str() {
            "/PyPI/all.zip" => Reply::ok(b"PK\x03\x04 this is not a zip archive"),
            "/Go/all.zip" => Reply::ok(&go).header("x-goog-hash", "md5=AAAAAAAAAAAAAAAAAAAAAA=="),
            _ => Reply::ok(&not_json),
        });
        let error = update(&db, &options(&base, &["PyPI", "Go", "Alpine"], 0)).unwrap_err();
        let requests = server.join().unwrap();

        assert_eq!(requests.len(), 3);
        let Error::UpdateFailed { failures, .. } = &error else {
            panic!("unexpected error: {error}");
        };
        let reasons: Vec<&str> = failures.iter().map(|(_, r)| r.as_str()).collect();
        assert!(
            reasons[0].contains("not a readable zip archive"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("MD5"), "{reasons:?}");
        assert!(
            reasons[2].contains("`README.txt` is not an OSV JSON record"),
            "{reasons:?}"
        );
        assert_eq!(status(&db), before);
        assert!(leftover_downloads(&db).is_empty());
    }

    #[test]
    fn nothing_requested_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let report = update(dir.path(), &options("http://127.0.0.1:9", &[], 0)).unwrap();
        assert!(report.downloaded.is_empty() && report.import.is_none());
    }

    #[test]
    fn url_helpers() {
        assert_eq!(encode_segment("Red Hat"), "Red%20Hat");
        assert_eq!(encode_segment("crates.io"), "crates.io");
        assert_eq!(encode_segment("Ubuntu:Pro/x"), "Ubuntu%3APro%2Fx");
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://[::1]:80"));
        assert!(is_loopback("https://user@localhost/"));
        assert!(!is_loopback(DEFAULT_BASE_URL));
    }
}
