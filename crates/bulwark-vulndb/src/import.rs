//! Importing OSV zips and directories into the database, merging with what is there, and
//! swapping the result in atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bulwark_inventory::PackageName;
use rayon::prelude::*;
use serde::Serialize;
use time::OffsetDateTime;

use crate::database::{
    CURRENT_FILE, EcosystemStatus, INDEX_FILE, META_FILE, Meta, RECORDS_FILE, SourceStatus,
};
use crate::format::{
    self, ALIASES_SECTION, FLAG_WITHDRAWN, FORMAT_VERSION, IDS_SECTION, PACKAGES_PREFIX,
    RECORDS_MAGIC, RECORDS_SECTION, RecordEntry, TableBuilder,
};
use crate::osv::EcosystemId;
use crate::{Advisory, Database, Error};

/// Records are parsed in parallel in batches of this many, then written in order.
const BATCH: usize = 1024;
/// Prefix of the directory a new generation is built in.
const TEMP_PREFIX: &str = ".tmp-";
/// Prefix of generation directories.
const GENERATION_PREFIX: &str = "generation-";

/// Settings for [`import`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The time to record as the import time (default: now). Tests set it.
    pub imported_at: Option<OffsetDateTime>,
}

/// What an [`import`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The database directory.
    pub dir: PathBuf,
    /// Per source, in the order given.
    pub sources: Vec<SourceReport>,
    /// Valid records read from all sources.
    pub read: u64,
    /// Records whose id was not in the database.
    pub added: u64,
    /// Records that replaced a stored one with an older `modified`.
    pub updated: u64,
    /// Records with the same `modified` as the stored one (which they replaced).
    pub unchanged: u64,
    /// Records ignored because the stored one has a newer `modified`.
    pub older_ignored: u64,
    /// Records that could not be used, with the reason.
    pub malformed: Vec<MalformedRecord>,
    /// Records in the database after the import.
    pub records: u64,
    /// Of those, withdrawn.
    pub withdrawn: u64,
}

/// One source in an [`ImportReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    /// The source path.
    pub path: PathBuf,
    /// Valid records read.
    pub records: u64,
    /// Malformed records skipped.
    pub malformed: u64,
}

/// A record that was skipped. The import goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedRecord {
    /// The zip or directory it came from.
    pub source: PathBuf,
    /// The zip entry name or the file path.
    pub entry: String,
    /// The record's id, if it could be read.
    pub id: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// What the merge needs of a record, without its content.
#[derive(Debug, Clone)]
struct RecordInfo {
    modified: (i64, u32),
    withdrawn: bool,
    aliases: Vec<String>,
    /// (base ecosystem, normalized name), sorted and distinct.
    keys: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Location {
    /// Record number in the existing database.
    Existing(u32),
    /// Offset and length in the scratch file of this import.
    Incoming(u64, u32),
}

#[derive(Debug)]
struct Merged {
    info: RecordInfo,
    location: Location,
}

/// A parsed source record, ready to be written.
struct Prepared {
    id: String,
    info: RecordInfo,
    blob: Vec<u8>,
}

/// Imports OSV records from `sources` into the database in `db_dir`, creating it if needed.
///
/// Each source is an OSV zip (a flat archive of `<ID>.json`, as osv.dev publishes
/// `<Ecosystem>/all.zip`), a directory searched recursively for `*.json`, or one `*.json`
/// record. Records already in the database are kept unless a source has the same id with a
/// `modified` time at least as new. Malformed records are reported in
/// [`ImportReport::malformed`] and skipped.
///
/// The new database is built next to the current one and swapped in with one rename; on any
/// error the existing database is left as it was.
///
/// Takes the directory's writer lock (`<db_dir>/.lock`), waiting for another import or
/// update of the same directory to finish first.
///
/// # Errors
/// A source that cannot be read (missing, not a zip, I/O error), an existing database that
/// cannot be read, or a failure writing the new one.
pub fn import(
    db_dir: &Path,
    sources: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, Error> {
    let _lock = lock(db_dir)?;
    import_locked(db_dir, sources, options)
}

/// Name of the lock file in the database directory. It is never removed: removing it would
/// let a second writer lock a new file while the first still holds the old one.
const LOCK_FILE: &str = ".lock";

/// Creates `db_dir` if needed and takes the exclusive lock that serializes writers (imports
/// and updates, in this and other processes), waiting for a writer that holds it. The lock
/// is released when the returned file is dropped (or the process exits). Readers do not lock:
/// generations are immutable and `CURRENT` is replaced atomically.
pub(crate) fn lock(db_dir: &Path) -> Result<File, Error> {
    fs::create_dir_all(db_dir).map_err(|source| Error::Write {
        path: db_dir.to_owned(),
        source,
    })?;
    let path = db_dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Lock {
            path: path.clone(),
            source,
        })?;
    file.lock().map_err(|source| Error::Lock { path, source })?;
    Ok(file)
}

/// [`import`] for a caller that holds [`lock`].
pub(crate) fn import_locked(
    db_dir: &Path,
    sources: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, Error> {
    for source in sources {
        fs::metadata(source).map_err(|source_error| Error::Read {
            path: source.clone(),
            source: source_error,
        })?;
    }
    let existing = match Database::open(db_dir) {
        Ok(database) => Some(database),
        Err(Error::Missing { .. }) => None,
        Err(error) => return Err(error),
    };
    fs::create_dir_all(db_dir).map_err(|source| Error::Write {
        path: db_dir.to_owned(),
        source,
    })?;
    remove_leftovers(db_dir, existing.as_ref());

    let imported_at = options.imported_at.unwrap_or_else(OffsetDateTime::now_utc);
    let generation_name = unique_name(GENERATION_PREFIX);
    let temp_dir = db_dir.join(format!("{TEMP_PREFIX}{generation_name}"));
    fs::create_dir(&temp_dir).map_err(|source| Error::Write {
        path: temp_dir.clone(),
        source,
    })?;
    let result =
        build(&temp_dir, existing.as_ref(), sources, imported_at, db_dir).and_then(|report| {
            let generation = db_dir.join(&generation_name);
            rename(&temp_dir, &generation)?;
            switch_current(db_dir, &generation_name).inspect_err(|_| {
                let _ignored = fs::remove_dir_all(&generation);
            })?;
            Ok(report)
        });
    match result {
        Ok(report) => {
            // The new generation is current; the old one is garbage. Readers that opened it
            // keep their file handles (on Unix), so removing it does not disturb them.
            if let Some(old) = existing {
                let old_generation = old.generation().to_owned();
                drop(old);
                let _ignored = fs::remove_dir_all(old_generation);
            }
            Ok(report)
        }
        Err(error) => {
            let _ignored = fs::remove_dir_all(&temp_dir);
            Err(error)
        }
    }
}

fn build(
    temp_dir: &Path,
    existing: Option<&Database>,
    sources: &[PathBuf],
    imported_at: OffsetDateTime,
    db_dir: &Path,
) -> Result<ImportReport, Error> {
    let mut merged: BTreeMap<String, Merged> = match existing {
        Some(database) => existing_records(database)?,
        None => BTreeMap::new(),
    };
    let mut report = ImportReport {
        dir: db_dir.to_owned(),
        sources: Vec::new(),
        read: 0,
        added: 0,
        updated: 0,
        unchanged: 0,
        older_ignored: 0,
        malformed: Vec::new(),
        records: 0,
        withdrawn: 0,
    };

    // New records go to a scratch file first, so memory holds only what the merge needs.
    let scratch_path = temp_dir.join("incoming.tmp");
    let scratch = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&scratch_path)
        .map_err(|source| Error::Write {
            path: scratch_path.clone(),
            source,
        })?;
    let mut scratch_writer = BufWriter::with_capacity(1 << 20, &scratch);
    let mut scratch_len = 0_u64;

    for source in sources {
        let mut source_report = SourceReport {
            path: source.clone(),
            records: 0,
            malformed: 0,
        };
        let mut handle_batch = |batch: Vec<Result<Prepared, MalformedRecord>>| {
            for item in batch {
                let prepared = match item {
                    Ok(prepared) => prepared,
                    Err(malformed) => {
                        source_report.malformed += 1;
                        report.malformed.push(malformed);
                        continue;
                    }
                };
                source_report.records += 1;
                let length = u32::try_from(prepared.blob.len()).map_err(|_| Error::Corrupt {
                    path: source.clone(),
                    problem: format!("record `{}` is larger than 4 GiB", prepared.id),
                })?;
                let keep_existing = match merged.get(&prepared.id) {
                    None => {
                        report.added += 1;
                        false
                    }
                    Some(stored) if stored.info.modified > prepared.info.modified => {
                        report.older_ignored += 1;
                        true
                    }
                    Some(stored) if stored.info.modified == prepared.info.modified => {
                        report.unchanged += 1;
                        false
                    }
                    Some(_) => {
                        report.updated += 1;
                        false
                    }
                };
                if keep_existing {
                    continue;
                }
                scratch_writer
                    .write_all(&prepared.blob)
                    .map_err(|source| Error::Write {
                        path: scratch_path.clone(),
                        source,
                    })?;
                merged.insert(
                    prepared.id,
                    Merged {
                        info: prepared.info,
                        location: Location::Incoming(scratch_len, length),
                    },
                );
                scratch_len += u64::from(length);
            }
            Ok(())
        };
        read_source(source, &mut handle_batch)?;
        report.read += source_report.records;
        report.sources.push(source_report);
    }
    scratch_writer.flush().map_err(|source| Error::Write {
        path: scratch_path.clone(),
        source,
    })?;
    drop(scratch_writer);

    let meta = write_generation(
        temp_dir,
        existing,
        &merged,
        &scratch,
        &scratch_path,
        imported_at,
        &report,
    )?;
    drop(scratch);
    fs::remove_file(&scratch_path).map_err(|source| Error::Write {
        path: scratch_path.clone(),
        source,
    })?;
    sync_dir(temp_dir)?;
    report.records = meta.records;
    report.withdrawn = meta.withdrawn;
    Ok(report)
}

/// Reads what the merge needs about every stored record from the index alone (no record is
/// decompressed): ids and `modified` from the id section and record table, package keys and
/// aliases by inverting their sections.
fn existing_records(database: &Database) -> Result<BTreeMap<String, Merged>, Error> {
    let index_path = database.generation().join(INDEX_FILE);
    let table = database.record_table()?;
    let mut infos: Vec<RecordInfo> = (0..table.len())
        .map(|number| {
            let entry = table.get(u32::try_from(number).unwrap_or(u32::MAX), &index_path)?;
            Ok(RecordInfo {
                modified: entry.modified(),
                withdrawn: entry.flags & FLAG_WITHDRAWN != 0,
                aliases: Vec::new(),
                keys: Vec::new(),
            })
        })
        .collect::<Result<_, Error>>()?;
    let record_info = |infos: &mut Vec<RecordInfo>, number: u32| -> Result<usize, Error> {
        let index = number as usize;
        if index >= infos.len() {
            return Err(format::corrupt(&index_path, "record number out of range"));
        }
        Ok(index)
    };
    for (alias, numbers) in database
        .table_required(ALIASES_SECTION)?
        .entries(&index_path)?
    {
        for number in numbers {
            let index = record_info(&mut infos, number)?;
            infos[index].aliases.push(alias.clone());
        }
    }
    let ecosystems: Vec<String> = database.package_sections().map(str::to_owned).collect();
    for ecosystem in ecosystems {
        let section = database.table_required(&format!("{PACKAGES_PREFIX}{ecosystem}"))?;
        for (name, numbers) in section.entries(&index_path)? {
            for number in numbers {
                let index = record_info(&mut infos, number)?;
                infos[index].keys.push((ecosystem.clone(), name.clone()));
            }
        }
    }
    let mut merged = BTreeMap::new();
    for (id, numbers) in database.table_required(IDS_SECTION)?.entries(&index_path)? {
        let [number] = numbers[..] else {
            return Err(format::corrupt(
                &index_path,
                format!("id `{id}` has no single record"),
            ));
        };
        let index = record_info(&mut infos, number)?;
        let mut info = infos[index].clone();
        info.keys.sort();
        merged.insert(
            id,
            Merged {
                info,
                location: Location::Existing(number),
            },
        );
    }
    if merged.len() != infos.len() {
        return Err(format::corrupt(
            &index_path,
            "id section does not cover every record",
        ));
    }
    Ok(merged)
}

/// Writes `records.bin`, `index.bin` and `meta.json` into `dir`, each synced.
fn write_generation(
    dir: &Path,
    existing: Option<&Database>,
    merged: &BTreeMap<String, Merged>,
    scratch: &File,
    scratch_path: &Path,
    imported_at: OffsetDateTime,
    report: &ImportReport,
) -> Result<Meta, Error> {
    let records_path = dir.join(RECORDS_FILE);
    let records_file = create(&records_path)?;
    let write_error = |source| Error::Write {
        path: records_path.clone(),
        source,
    };
    let mut writer = BufWriter::with_capacity(1 << 20, &records_file);
    writer.write_all(RECORDS_MAGIC).map_err(write_error)?;
    let mut offset = RECORDS_MAGIC.len() as u64;

    let mut entries = Vec::with_capacity(merged.len());
    let mut ids = TableBuilder::default();
    let mut aliases = TableBuilder::default();
    let mut packages: BTreeMap<&str, TableBuilder> = BTreeMap::new();
    let mut ecosystems: BTreeMap<String, EcosystemStatus> = BTreeMap::new();
    let mut withdrawn = 0;
    let mut without_package = 0;
    let mut newest: Option<(i64, u32)> = None;

    for (number, (id, record)) in merged.iter().enumerate() {
        let number = u32::try_from(number)
            .map_err(|_| format::corrupt(&records_path, "more than 4 billion records"))?;
        let blob = match record.location {
            Location::Existing(stored) => {
                let database = existing.ok_or_else(|| {
                    format::corrupt(&records_path, "stored record without a database")
                })?;
                let entry = database.record_table()?.get(stored, &records_path)?;
                database.record_blob(&entry)?
            }
            Location::Incoming(at, length) => {
                format::read_at(scratch, scratch_path, at, length as usize)?
            }
        };
        writer.write_all(&blob).map_err(write_error)?;
        let info = &record.info;
        entries.push(RecordEntry {
            offset,
            length: u32::try_from(blob.len()).unwrap_or(u32::MAX),
            flags: if info.withdrawn { FLAG_WITHDRAWN } else { 0 },
            modified_seconds: info.modified.0,
            modified_nanos: info.modified.1,
        });
        offset += blob.len() as u64;

        ids.insert(id, number);
        for alias in &info.aliases {
            if alias != id {
                aliases.insert(alias, number);
            }
        }
        let mut record_ecosystems = BTreeSet::new();
        for (ecosystem, name) in &info.keys {
            packages.entry(ecosystem).or_default().insert(name, number);
            record_ecosystems.insert(ecosystem.as_str());
        }
        for ecosystem in &record_ecosystems {
            let status = ecosystems.entry((*ecosystem).to_owned()).or_default();
            status.known = ecosystem.parse::<bulwark_inventory::Ecosystem>().is_ok();
            status.records += 1;
            status.withdrawn += u64::from(info.withdrawn);
        }
        withdrawn += u64::from(info.withdrawn);
        without_package += u64::from(record_ecosystems.is_empty());
        newest = newest.max(Some(info.modified));
    }
    writer.flush().map_err(write_error)?;
    drop(writer);
    sync(&records_file, &records_path)?;

    let index_path = dir.join(INDEX_FILE);
    let mut sections = vec![
        (RECORDS_SECTION.to_owned(), format::encode_records(&entries)),
        (IDS_SECTION.to_owned(), ids.encode(&index_path)?),
        (ALIASES_SECTION.to_owned(), aliases.encode(&index_path)?),
    ];
    for (ecosystem, table) in &packages {
        if let Some(status) = ecosystems.get_mut(*ecosystem) {
            status.packages = table.len() as u64;
        }
        sections.push((
            format!("{PACKAGES_PREFIX}{ecosystem}"),
            table.encode(&index_path)?,
        ));
    }
    let index = format::encode_index(&sections);
    write_synced(&index_path, &index)?;

    let mut source_statuses: Vec<SourceStatus> = existing
        .map(|database| database.meta().sources.clone())
        .unwrap_or_default();
    for source in &report.sources {
        source_statuses.retain(|known| known.path != source.path);
        source_statuses.push(SourceStatus {
            path: source.path.clone(),
            imported_at,
            records: source.records,
            malformed: source.malformed,
        });
    }
    let meta = Meta {
        format_version: FORMAT_VERSION,
        created_by: concat!("bulwark-vulndb ", env!("CARGO_PKG_VERSION")).to_owned(),
        imported_at,
        records: entries.len() as u64,
        withdrawn,
        records_without_package: without_package,
        newest_modified: newest.and_then(|(seconds, nanos)| {
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(seconds) * 1_000_000_000 + i128::from(nanos),
            )
            .ok()
        }),
        records_len: offset,
        index_len: index.len() as u64,
        ecosystems,
        sources: source_statuses,
    };
    let meta_path = dir.join(META_FILE);
    let meta_json = serde_json::to_vec_pretty(&meta).map_err(|source| Error::Meta {
        path: meta_path.clone(),
        source,
    })?;
    write_synced(&meta_path, &meta_json)?;
    Ok(meta)
}

/// Reads one source, handing parsed records to `handle` in batches, in a stable order (zip
/// entry order; sorted paths for directories).
fn read_source(
    source: &Path,
    handle: &mut dyn FnMut(Vec<Result<Prepared, MalformedRecord>>) -> Result<(), Error>,
) -> Result<(), Error> {
    let metadata = fs::metadata(source).map_err(|error| Error::Read {
        path: source.to_owned(),
        source: error,
    })?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        collect_json_files(source, &mut files)?;
        files.sort();
        for batch in files.chunks(BATCH) {
            let prepared = batch
                .par_iter()
                .map(|path| {
                    let entry = path.display().to_string();
                    match fs::read(path) {
                        Ok(json) => prepare(&json, source, entry),
                        Err(error) => Err(MalformedRecord {
                            source: source.to_owned(),
                            entry,
                            id: None,
                            reason: format!("cannot read file: {error}"),
                        }),
                    }
                })
                .collect();
            handle(prepared)?;
        }
        return Ok(());
    }

    if source
        .extension()
        .is_some_and(|extension| extension == "json")
    {
        let json = fs::read(source).map_err(|error| Error::Read {
            path: source.to_owned(),
            source: error,
        })?;
        return handle(vec![prepare(&json, source, source.display().to_string())]);
    }

    let file = File::open(source).map_err(|error| Error::Read {
        path: source.to_owned(),
        source: error,
    })?;
    let reader = SharedFile {
        file: Arc::new(file),
        position: 0,
        len: metadata.len(),
    };
    let archive = zip::ZipArchive::new(reader).map_err(|error| Error::Zip {
        path: source.to_owned(),
        source: error,
    })?;
    let entries: Vec<usize> = (0..archive.len())
        .filter(|&index| {
            archive
                .name_for_index(index)
                .and_then(Result::ok)
                .is_some_and(|name| name.ends_with(".json") && !name.ends_with('/'))
        })
        .collect();
    for batch in entries.chunks(BATCH) {
        let prepared = batch
            .par_iter()
            .map_init(
                || archive.clone(),
                |archive, &index| read_zip_entry(archive, index, source),
            )
            .collect();
        handle(prepared)?;
    }
    Ok(())
}

fn read_zip_entry(
    archive: &mut zip::ZipArchive<SharedFile>,
    index: usize,
    source: &Path,
) -> Result<Prepared, MalformedRecord> {
    let entry_name = archive
        .name_for_index(index)
        .and_then(Result::ok)
        .map(|name| name.into_owned())
        .unwrap_or_else(|| format!("#{index}"));
    let malformed = |reason: String| MalformedRecord {
        source: source.to_owned(),
        entry: entry_name.clone(),
        id: None,
        reason,
    };
    let mut file = archive
        .by_index(index)
        .map_err(|error| malformed(format!("cannot read zip entry: {error}")))?;
    let mut json = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0).min(1 << 26));
    file.read_to_end(&mut json)
        .map_err(|error| malformed(format!("cannot read zip entry: {error}")))?;
    drop(file);
    prepare(&json, source, entry_name.clone())
}

/// Parses and checks one record and compresses its original JSON for storage.
fn prepare(json: &[u8], source: &Path, entry: String) -> Result<Prepared, MalformedRecord> {
    let advisory: Advisory = serde_json::from_slice(json).map_err(|error| MalformedRecord {
        source: source.to_owned(),
        entry: entry.clone(),
        id: id_of_broken_record(json),
        reason: error.to_string(),
    })?;
    let blob = format::compress(json).map_err(|error| MalformedRecord {
        source: source.to_owned(),
        entry,
        id: Some(advisory.id.clone()),
        reason: format!("cannot compress: {error}"),
    })?;
    Ok(Prepared {
        info: RecordInfo {
            modified: (
                advisory.modified.unix_timestamp(),
                advisory.modified.nanosecond(),
            ),
            withdrawn: advisory.is_withdrawn(),
            aliases: advisory.aliases.clone(),
            keys: package_keys(&advisory),
        },
        id: advisory.id,
        blob,
    })
}

/// The (base ecosystem, normalized name) pairs a record is indexed under.
fn package_keys(advisory: &Advisory) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = advisory
        .affected
        .iter()
        .filter_map(|affected| affected.package.as_ref())
        .filter_map(|package| {
            let name = package.name.trim();
            if name.is_empty() {
                return None;
            }
            match &package.ecosystem.base {
                EcosystemId::Known(ecosystem) => Some((
                    ecosystem.as_str().to_owned(),
                    PackageName::new(*ecosystem, name).as_str().to_owned(),
                )),
                EcosystemId::Unknown(raw) if !raw.trim().is_empty() => {
                    Some((raw.clone(), name.to_owned()))
                }
                EcosystemId::Unknown(_) => None,
            }
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn id_of_broken_record(json: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    value.get("id")?.as_str().map(str::to_owned)
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let read_error = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        let file_type = fs::metadata(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            collect_json_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Points `CURRENT` at `generation` with a write to a temporary file and a rename, the one
/// step that switches readers over.
fn switch_current(db_dir: &Path, generation: &str) -> Result<(), Error> {
    let temp = db_dir.join(unique_name(&format!("{TEMP_PREFIX}{CURRENT_FILE}-")));
    write_synced(&temp, format!("{generation}\n").as_bytes())?;
    let current = db_dir.join(CURRENT_FILE);
    if let Err(error) = rename(&temp, &current) {
        let _ignored = fs::remove_file(&temp);
        return Err(error);
    }
    sync_dir(db_dir)
}

/// Removes what interrupted imports left: temporary directories and generations other than
/// the current one.
fn remove_leftovers(db_dir: &Path, existing: Option<&Database>) {
    let current = existing.map(Database::generation);
    let Ok(entries) = fs::read_dir(db_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        let stale_generation =
            name.starts_with(GENERATION_PREFIX) && Some(path.as_path()) != current;
        if name.starts_with(TEMP_PREFIX) || stale_generation {
            let _ignored = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// `prefix` followed by the time, the process id and a per-process counter: unique among the
/// imports of this and other processes.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}-{}-{}",
        OffsetDateTime::now_utc().unix_timestamp_nanos(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn create(path: &Path) -> Result<File, Error> {
    File::create_new(path).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = create(path)?;
    file.write_all(bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })?;
    sync(&file, path)
}

fn sync(file: &File, path: &Path) -> Result<(), Error> {
    file.sync_all().map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(|source| Error::Write {
        path: to.to_owned(),
        source,
    })
}

/// Makes a directory's entries (new files, renames) durable. Only Unix can open a directory
/// for this; elsewhere it is a no-op.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
        sync(&handle, dir)?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A cloneable reader over one open file, reading with positioned reads, so each rayon worker
/// can read zip entries through its own clone of the archive.
#[derive(Debug, Clone)]
struct SharedFile {
    file: Arc<File>,
    position: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = format::read_some_at(&self.file, buffer, self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let position = match target {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = position.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.position)
    }
}
