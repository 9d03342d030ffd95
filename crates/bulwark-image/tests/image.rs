//! Images built by the tests themselves (no checked-in blobs), read end to end with the real
//! OS and Python catalogers.

use std::io::Write;
use std::path::Path;

use bulwark_catalog::{Cataloger, Progress, Resolver};
use bulwark_image::{ImageFormat, catalog_image, looks_like_image, read_image};
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// One tar entry of a layer.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn tar_bytes(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        match entry {
            Entry::File(path, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                // `append_data` would reject `..` paths; write the name raw, as an attacker would.
                set_raw_path(&mut header, path);
                header.set_cksum();
                builder.append(&header, *data).unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                set_raw_path(&mut header, path);
                header.set_cksum();
                builder.append(&header, &[][..]).unwrap();
            }
            Entry::Symlink(path, target) | Entry::Hardlink(path, target) => {
                header.set_entry_type(if matches!(entry, Entry::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                header.set_size(0);
                set_raw_path(&mut header, path);
                header.set_link_name(target).unwrap();
                header.set_cksum();
                builder.append(&header, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn set_raw_path(header: &mut tar::Header, path: &str) {
    let name = &mut header.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

const DPKG_STATUS: &[u8] = b"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n\nPackage: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n";

/// 200 KiB: more than is kept in memory, so it is read from the archive (uncompressed layer)
/// or from the spill file (compressed layer).
fn big_file(fill: u8) -> Vec<u8> {
    let mut bytes = vec![fill; 200 * 1024];
    bytes[..5].copy_from_slice(b"START");
    let end = bytes.len() - 3;
    bytes[end..].copy_from_slice(b"END");
    bytes
}

fn assert_big_files_read_back(image: &bulwark_image::Image) {
    use std::io::{Read, Seek, SeekFrom};
    for (path, fill) in [
        ("usr/share/big-base.bin", b'a'),
        ("usr/share/big-python.bin", b'b'),
    ] {
        assert_eq!(image.fs.read(path).unwrap(), big_file(fill), "{path}");
        let mut file = image.fs.open(path).unwrap();
        let mut tail = Vec::new();
        file.seek(SeekFrom::End(-3)).unwrap();
        file.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, b"END", "{path}");
    }
}

fn metadata(name: &str, version: &str) -> Vec<u8> {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").into_bytes()
}

/// The three layers every test image has: a Debian base, a Python environment, and an
/// update that removes one distribution and replaces another.
fn layers() -> Vec<Vec<u8>> {
    let site = "opt/venv/lib/python3.11/site-packages";
    let numpy = metadata("numpy", "1.26.0");
    let six = metadata("six", "1.16.0");
    let requests = metadata("requests", "2.31.0");
    let requests_new = metadata("requests", "2.32.3");
    let big_base = big_file(b'a');
    let big_python = big_file(b'b');
    let base = tar_bytes(&[
        Entry::File("usr/share/big-base.bin", &big_base),
        Entry::Dir("etc/"),
        Entry::Symlink("etc/os-release", "../usr/lib/os-release"),
        Entry::File("usr/lib/os-release", OS_RELEASE),
        Entry::File("var/lib/dpkg/status", DPKG_STATUS),
        Entry::File("usr/bin/tool", b"\x7fELF not really"),
        Entry::Hardlink("usr/bin/tool-alias", "usr/bin/tool"),
    ]);
    let record = b"numpy/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n";
    let python = tar_bytes(&[
        Entry::File("usr/share/big-python.bin", &big_python),
        Entry::File(&format!("{site}/numpy-1.26.0.dist-info/METADATA"), &numpy),
        Entry::File(&format!("{site}/numpy-1.26.0.dist-info/RECORD"), record),
        Entry::File(&format!("{site}/six-1.16.0.dist-info/METADATA"), &six),
        Entry::File(
            &format!("{site}/requests-2.31.0.dist-info/METADATA"),
            &requests,
        ),
    ]);
    let update = tar_bytes(&[
        Entry::File(&format!("{site}/.wh.six-1.16.0.dist-info"), b""),
        Entry::File(&format!("{site}/.wh.requests-2.31.0.dist-info"), b""),
        Entry::File(
            &format!("{site}/requests-2.32.3.dist-info/METADATA"),
            &requests_new,
        ),
    ]);
    vec![base, python, update]
}

fn catalogers() -> Vec<Box<dyn Cataloger>> {
    let mut all = bulwark_catalog_python::catalogers();
    all.extend(bulwark_catalog_os::catalogers());
    all
}

/// `name@version (layer index)` for every component.
fn summary(path: &Path, diff_ids: &[String]) -> Vec<String> {
    let inventory = catalog_image(path, "image", &catalogers(), &Progress::default()).unwrap();
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    inventory
        .components
        .iter()
        .filter(|c| c.kind != bulwark_inventory::ComponentKind::Container)
        .map(|c| {
            let layer = c.locations.first().and_then(|l| l.layer.clone()).unwrap();
            let index = diff_ids.iter().position(|d| *d == layer).unwrap();
            format!("{}@{} L{index}", c.name, c.version.as_deref().unwrap_or(""))
        })
        .collect()
}

fn expected() -> Vec<&'static str> {
    vec![
        "numpy@1.26.0 L1",
        "requests@2.32.3 L2",
        "libssl3@3.0.11-1~deb12u2 L0",
        "zlib1g@1:1.2.13.dfsg-1 L0",
    ]
}

fn config(diff_ids: &[String]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// A classic `docker save` archive, layers as `<id>/layer.tar` (the middle one gzipped, the
/// last zstd-compressed, as `docker save` never does but registries do).
fn docker_archive(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let layers = layers();
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256(l)))
        .collect();
    let stored = [
        layers[0].clone(),
        gzip(&layers[1]),
        zstd::encode_all(&layers[2][..], 3).unwrap(),
    ];
    let config = config(&diff_ids);
    let config_name = format!("{}.json", sha256(&config));
    let mut archive = tar::Builder::new(Vec::new());
    let mut layer_names = Vec::new();
    for (index, blob) in stored.iter().enumerate() {
        let name = format!("layer{index}/layer.tar");
        append(&mut archive, &name, blob);
        layer_names.push(name);
    }
    append(&mut archive, &config_name, &config);
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": ["ml-serving.registry.invalid/app:1.0"],
        "Layers": layer_names,
    }]);
    append(
        &mut archive,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    let path = dir.join("docker.tar");
    fs_err::write(&path, archive.into_inner().unwrap()).unwrap();
    (path, diff_ids)
}

fn append(archive: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive.append_data(&mut header, name, data).unwrap();
}

/// An OCI image layout directory with gzip layers.
fn oci_layout(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let layers = layers();
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256(l)))
        .collect();
    let root = dir.join("oci");
    let blobs = root.join("blobs/sha256");
    fs_err::create_dir_all(&blobs).unwrap();
    let mut descriptors = Vec::new();
    for layer in &layers {
        let blob = gzip(layer);
        let digest = sha256(&blob);
        fs_err::write(blobs.join(&digest), &blob).unwrap();
        descriptors.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": format!("sha256:{digest}"),
            "size": blob.len(),
        }));
    }
    let config = config(&diff_ids);
    fs_err::write(blobs.join(sha256(&config)), &config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{}", sha256(&config)), "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    fs_err::write(blobs.join(sha256(&manifest)), &manifest).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", sha256(&manifest)),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "1.0"},
        }],
    });
    fs_err::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs_err::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    (root, diff_ids)
}

/// Packs a directory as a tar, with Docker >= 25's legacy links `<id>/layer.tar ->
/// ../blobs/sha256/<hex>` beside the blobs.
fn pack_dir(root: &Path, out: &Path, layer_links: bool) {
    let mut archive = tar::Builder::new(Vec::new());
    archive.append_dir_all(".", root).unwrap();
    if layer_links {
        for entry in fs_err::read_dir(root.join("blobs/sha256")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            archive
                .append_link(
                    &mut header,
                    format!("{name}x/layer.tar"),
                    format!("../blobs/sha256/{name}"),
                )
                .unwrap();
        }
    }
    fs_err::write(out, archive.into_inner().unwrap()).unwrap();
}

#[test]
fn docker_archive_layers_apply_in_order_with_whiteouts() {
    let dir = tempfile::tempdir().unwrap();
    let (path, diff_ids) = docker_archive(dir.path());
    assert!(looks_like_image(&path));
    assert_eq!(summary(&path, &diff_ids), expected());
    // Companion files (os-release through its symlink, RECORD) were kept and read.
    let inventory = catalog_image(&path, "image", &catalogers(), &Progress::default()).unwrap();
    let purls: Vec<_> = inventory
        .components
        .iter()
        .filter_map(|c| c.purl.as_ref().map(|p| p.as_str().to_owned()))
        .collect();
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/libssl3@") && p.contains("distro=debian-12")),
        "{purls:?}"
    );
    let numpy = inventory
        .components
        .iter()
        .find(|c| c.name == "numpy")
        .unwrap();
    assert_eq!(numpy.files.len(), 1);
    // The image itself is a component, named after its tag and identified by its config.
    let container = inventory
        .components
        .iter()
        .find(|c| c.kind == bulwark_inventory::ComponentKind::Container)
        .unwrap();
    assert_eq!(container.name, "ml-serving.registry.invalid/app");
    let purl = container.purl.as_ref().unwrap().as_str();
    assert!(purl.starts_with("pkg:oci/app@sha256:"), "{purl}");
    assert!(
        purl.ends_with("?arch=amd64&repository_url=ml-serving.registry.invalid%2Fapp&tag=1.0"),
        "{purl}"
    );
    let image = read_image(&path, "image", &|_| true).unwrap();
    assert_big_files_read_back(&image);
    assert_eq!(image.format, Some(ImageFormat::DockerArchive));
    assert_eq!(image.tags, ["ml-serving.registry.invalid/app:1.0"]);
    assert_eq!(image.fs.layers(), diff_ids);
    // The hard link reads as its target; the symlink resolves inside the image.
    assert_eq!(
        image.fs.read("usr/bin/tool-alias").unwrap(),
        b"\x7fELF not really"
    );
    assert!(
        image
            .fs
            .read_to_string("etc/os-release")
            .unwrap()
            .contains("bookworm")
    );
}

#[test]
fn oci_layout_directory_and_tar_give_the_same_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let (root, diff_ids) = oci_layout(dir.path());
    assert!(looks_like_image(&root));
    assert_eq!(summary(&root, &diff_ids), expected());

    assert_big_files_read_back(&read_image(&root, "oci", &|_| true).unwrap());

    let packed = dir.path().join("oci.tar");
    pack_dir(&root, &packed, true);
    assert_eq!(summary(&packed, &diff_ids), expected());

    // Compressed as a whole, as `docker save | gzip` leaves it.
    let gzipped = dir.path().join("oci.tar.gz");
    fs_err::write(&gzipped, gzip(&fs_err::read(&packed).unwrap())).unwrap();
    assert!(looks_like_image(&gzipped));
    assert_eq!(summary(&gzipped, &diff_ids), expected());
}

#[test]
fn a_flat_root_filesystem_tar_is_one_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rootfs.tar");
    let mut all = layers().remove(0);
    // Strip the end-of-archive blocks so the second layer's entries follow on.
    all.truncate(all.len() - 1024);
    all.extend(&layers()[1]);
    fs_err::write(&path, &all).unwrap();
    let inventory = catalog_image(&path, "rootfs", &catalogers(), &Progress::default()).unwrap();
    let names: Vec<_> = inventory
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["numpy", "requests", "six", "libssl3", "zlib1g"]);
}

#[test]
fn hostile_entries_are_skipped_and_reported_without_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let evil = tar_bytes(&[
        Entry::File("../../../../tmp/bulwark-escape", b"x"),
        Entry::File("/etc/absolute-is-fine", b"inside"),
        Entry::Symlink("etc/passwd-link", "../../../../../etc/passwd"),
        Entry::Hardlink("etc/hard", "../../etc/shadow"),
    ]);
    let path = dir.path().join("evil.tar");
    fs_err::write(&path, &evil).unwrap();
    let image = read_image(&path, "evil", &|_| true).unwrap();
    let messages: Vec<_> = image.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("points outside the root"));
    assert!(messages[1].contains("hard link"));
    assert_eq!(image.fs.files(), ["etc/absolute-is-fine"]);
    // The escaping symlink resolves inside the image, where there is no passwd.
    assert!(image.fs.read("etc/passwd-link").is_err());
    assert!(!Path::new("/tmp/bulwark-escape").exists());
}

#[test]
fn a_truncated_layer_keeps_what_it_held_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = docker_archive(dir.path());
    // Rebuild the archive with the python layer cut in half.
    let layers = layers();
    let mut cut = layers[1].clone();
    // Past the big file and numpy's METADATA, inside the next entry.
    cut.truncate(512 + 200 * 1024 + 1536);
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256(l)))
        .collect();
    let config = config(&diff_ids);
    let mut archive = tar::Builder::new(Vec::new());
    append(&mut archive, "a/layer.tar", &layers[0]);
    append(&mut archive, "b/layer.tar", &cut);
    append(&mut archive, "c.json", &config);
    let manifest =
        serde_json::json!([{"Config": "c.json", "Layers": ["a/layer.tar", "b/layer.tar"]}]);
    append(
        &mut archive,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    fs_err::write(&path, archive.into_inner().unwrap()).unwrap();
    let inventory = catalog_image(&path, "image", &catalogers(), &Progress::default()).unwrap();
    assert!(
        inventory
            .problems
            .iter()
            .any(|p| p.path == "b/layer.tar" && p.message.contains("could not be read to its end"))
    );
    let names: Vec<_> = inventory
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["numpy", "libssl3", "zlib1g"]);
}
