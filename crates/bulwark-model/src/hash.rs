//! SHA-256 of model files, streamed: a 70 GB checkpoint is read once in 1 MiB pieces at
//! disk speed, never held in memory. Files of one model are hashed in parallel (rayon).

use std::io::{self, Read};

use bulwark_catalog::Resolver;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Read size: large enough that the digest, not the system calls, sets the pace.
const CHUNK: usize = 1 << 20;

/// The lowercase hex SHA-256 of everything `reader` yields.
pub fn sha256_reader<R: Read>(mut reader: R) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The SHA-256 of the file at `path`, opened through the resolver (symbolic links in a hub
/// cache resolve to their blobs).
pub fn sha256_file(resolver: &dyn Resolver, path: &str) -> io::Result<String> {
    sha256_reader(resolver.open(path)?)
}

/// Hashes `paths` in parallel; each result pairs a path with its digest or error.
pub fn sha256_files(
    resolver: &dyn Resolver,
    paths: &[String],
) -> Vec<(String, io::Result<String>)> {
    paths
        .par_iter()
        .map(|path| (path.clone(), sha256_file(resolver, path)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_known_input() {
        assert_eq!(
            sha256_reader(&b"abc"[..]).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
