//! Opening the database and looking records up.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_inventory::{Ecosystem, PackageName};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::format::{
    self, ALIASES_SECTION, FORMAT_VERSION, IDS_SECTION, PACKAGES_PREFIX, RECORDS_MAGIC,
    RECORDS_SECTION, RecordEntry, RecordTable, Table,
};
use crate::{Advisory, Error};

/// Name of the file in the database directory that names the current generation.
pub(crate) const CURRENT_FILE: &str = "CURRENT";
pub(crate) const META_FILE: &str = "meta.json";
pub(crate) const RECORDS_FILE: &str = "records.bin";
pub(crate) const INDEX_FILE: &str = "index.bin";

/// `meta.json`: what the database holds, written last by the importer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) format_version: u32,
    pub(crate) created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) imported_at: OffsetDateTime,
    pub(crate) records: u64,
    pub(crate) withdrawn: u64,
    pub(crate) records_without_package: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) newest_modified: Option<OffsetDateTime>,
    pub(crate) records_len: u64,
    pub(crate) index_len: u64,
    pub(crate) ecosystems: BTreeMap<String, EcosystemStatus>,
    pub(crate) sources: Vec<SourceStatus>,
}

/// Only the version, read first so a newer format is reported as such rather than as a parse
/// error.
#[derive(Deserialize)]
struct MetaVersion {
    format_version: u32,
}

/// What [`Database::status`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The database directory.
    pub dir: PathBuf,
    /// The on-disk format version.
    pub format_version: u32,
    /// Records stored (withdrawn ones included).
    pub records: u64,
    /// Withdrawn records (stored, never reported).
    pub withdrawn: u64,
    /// Records that name no package (git-only records); reachable by id only.
    pub records_without_package: u64,
    /// Malformed records skipped by the imports of the current sources.
    pub malformed: u64,
    /// The newest `modified` time of any record.
    #[serde(with = "time::serde::rfc3339::option")]
    pub newest_modified: Option<OffsetDateTime>,
    /// When the database was last written.
    #[serde(with = "time::serde::rfc3339")]
    pub imported_at: OffsetDateTime,
    /// Per base ecosystem (release suffixes folded in), by OSV spelling or raw name.
    pub ecosystems: BTreeMap<String, EcosystemStatus>,
    /// The sources imported, latest import of each path.
    pub sources: Vec<SourceStatus>,
}

/// Counts for one ecosystem in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EcosystemStatus {
    /// Whether bulwark knows this ecosystem (unknown ones are stored but cannot be matched).
    pub known: bool,
    /// Records with at least one affected package in this ecosystem.
    pub records: u64,
    /// Of those, withdrawn.
    pub withdrawn: u64,
    /// Distinct normalized package names.
    pub packages: u64,
}

/// One imported source in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// The path as given to the import.
    pub path: PathBuf,
    /// When it was imported.
    #[serde(with = "time::serde::rfc3339")]
    pub imported_at: OffsetDateTime,
    /// Valid records it held.
    pub records: u64,
    /// Malformed records it held.
    pub malformed: u64,
}

/// An opened database. Opening reads only `meta.json` and the section directory of
/// `index.bin`; each index section is read on first use and kept, and records are read and
/// parsed one by one when asked for. `Database` is `Sync`: lookups can run on many threads.
#[derive(Debug)]
pub struct Database {
    root: PathBuf,
    generation: PathBuf,
    meta: Meta,
    records_path: PathBuf,
    records_file: File,
    index_path: PathBuf,
    index_file: File,
    sections: BTreeMap<String, (u64, u64)>,
    record_table: OnceLock<RecordTable>,
    tables: BTreeMap<String, OnceLock<Table>>,
}

impl Database {
    /// The name of the generation `dir` currently points at, without opening it: `None` when
    /// nothing was imported there yet. Every import or update writes a new generation and
    /// swaps the pointer atomically, so a changed name means the data changed; a long-running
    /// process polls this to know when to reopen.
    ///
    /// # Errors
    /// [`Error::Read`] when the pointer file exists but cannot be read.
    pub fn current_generation(dir: &Path) -> Result<Option<String>, Error> {
        let current_path = dir.join(CURRENT_FILE);
        match std::fs::read_to_string(&current_path) {
            Ok(current) => Ok(Some(current.trim().to_owned())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read {
                path: current_path,
                source,
            }),
        }
    }

    /// The name of the generation this handle reads (see [`Database::current_generation`]).
    pub fn generation_name(&self) -> String {
        self.generation
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Opens the database in `dir`.
    ///
    /// # Errors
    /// [`Error::Missing`] when nothing was imported there yet; [`Error::NewerFormat`] when a
    /// newer bulwark wrote it; [`Error::Corrupt`], [`Error::Read`], [`Error::Meta`] otherwise.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let current_path = dir.join(CURRENT_FILE);
        let current = match std::fs::read_to_string(&current_path) {
            Ok(current) => current,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Missing {
                    dir: dir.to_owned(),
                });
            }
            Err(source) => {
                return Err(Error::Read {
                    path: current_path,
                    source,
                });
            }
        };
        let name = current.trim();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format::corrupt(&current_path, "does not name a generation"));
        }
        let generation = dir.join(name);
        let meta = read_meta(&generation)?;

        let records_path = generation.join(RECORDS_FILE);
        let records_file = open_read(&records_path)?;
        check_len(&records_file, &records_path, meta.records_len)?;
        let magic = format::read_at(&records_file, &records_path, 0, RECORDS_MAGIC.len())?;
        if magic != RECORDS_MAGIC {
            return Err(format::corrupt(&records_path, "not a bulwark records file"));
        }

        let index_path = generation.join(INDEX_FILE);
        let index_file = open_read(&index_path)?;
        check_len(&index_file, &index_path, meta.index_len)?;
        let sections = format::read_index_directory(&index_file, &index_path, meta.index_len)?;
        for required in [RECORDS_SECTION, IDS_SECTION, ALIASES_SECTION] {
            if !sections.contains_key(required) {
                return Err(format::corrupt(
                    &index_path,
                    format!("section `{required}` is missing"),
                ));
            }
        }
        let tables = sections
            .keys()
            .filter(|name| name.as_str() != RECORDS_SECTION)
            .map(|name| (name.clone(), OnceLock::new()))
            .collect();
        Ok(Self {
            root: dir.to_owned(),
            generation,
            meta,
            records_path,
            records_file,
            index_path,
            index_file,
            sections,
            record_table: OnceLock::new(),
            tables,
        })
    }

    /// The database directory this was opened from.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Every record with an `affected[]` entry for `name` in `ecosystem` (any release suffix:
    /// `Debian:11` and `Debian:12` records are both returned), ordered by id. Withdrawn records
    /// are included; check [`Advisory::is_withdrawn`].
    ///
    /// # Errors
    /// When the index or a stored record cannot be read.
    pub fn advisories_for(
        &self,
        ecosystem: Ecosystem,
        name: &PackageName,
    ) -> Result<Vec<Advisory>, Error> {
        self.advisories_for_raw(ecosystem.as_str(), name.as_str())
    }

    /// Like [`Database::advisories_for`], with the base ecosystem as a string and the name
    /// already normalized, so that ecosystems bulwark does not know (stored under their raw
    /// name, names as written) can be looked up too.
    ///
    /// # Errors
    /// When the index or a stored record cannot be read.
    pub fn advisories_for_raw(
        &self,
        ecosystem: &str,
        normalized_name: &str,
    ) -> Result<Vec<Advisory>, Error> {
        let section = format!("{PACKAGES_PREFIX}{ecosystem}");
        let Some(table) = self.table(&section)? else {
            return Ok(Vec::new());
        };
        let numbers = table.lookup(normalized_name, &self.index_path)?;
        numbers
            .into_iter()
            .map(|number| self.record(number))
            .collect()
    }

    /// The record with id `id`; failing that, the first record (by id) that lists `id` among
    /// its aliases.
    ///
    /// # Errors
    /// When the index or the stored record cannot be read.
    pub fn get(&self, id: &str) -> Result<Option<Advisory>, Error> {
        if let Some(number) = self.id_number(id)? {
            return self.record(number).map(Some);
        }
        let aliases = self.table_required(ALIASES_SECTION)?;
        match aliases.lookup(id, &self.index_path)?.first() {
            Some(number) => self.record(*number).map(Some),
            None => Ok(None),
        }
    }

    /// The record with id `id` and every record that lists `id` as an alias, ordered by id.
    ///
    /// # Errors
    /// When the index or a stored record cannot be read.
    pub fn find(&self, id: &str) -> Result<Vec<Advisory>, Error> {
        let aliases = self.table_required(ALIASES_SECTION)?;
        let mut numbers = aliases.lookup(id, &self.index_path)?;
        numbers.extend(self.id_number(id)?);
        numbers.sort_unstable();
        numbers.dedup();
        numbers
            .into_iter()
            .map(|number| self.record(number))
            .collect()
    }

    /// The stored JSON of the record with id `id` exactly as it was imported.
    ///
    /// # Errors
    /// When the index or the stored record cannot be read.
    pub fn get_json(&self, id: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.id_number(id)? {
            Some(number) => {
                let entry = self.record_table()?.get(number, &self.index_path)?;
                self.record_json(&entry, id).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Every record id, in order (for listings and exports; reads the whole id index).
    ///
    /// # Errors
    /// When the index cannot be read.
    pub fn ids(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .table_required(IDS_SECTION)?
            .entries(&self.index_path)?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// What the database holds and how old it is.
    pub fn status(&self) -> Status {
        Status {
            dir: self.root.clone(),
            format_version: self.meta.format_version,
            records: self.meta.records,
            withdrawn: self.meta.withdrawn,
            records_without_package: self.meta.records_without_package,
            malformed: self.meta.sources.iter().map(|s| s.malformed).sum(),
            newest_modified: self.meta.newest_modified,
            imported_at: self.meta.imported_at,
            ecosystems: self.meta.ecosystems.clone(),
            sources: self.meta.sources.clone(),
        }
    }

    fn id_number(&self, id: &str) -> Result<Option<u32>, Error> {
        let ids = self.table_required(IDS_SECTION)?;
        Ok(ids.lookup(id, &self.index_path)?.first().copied())
    }

    pub(crate) fn record(&self, number: u32) -> Result<Advisory, Error> {
        let entry = self.record_table()?.get(number, &self.index_path)?;
        let json = self.record_json(&entry, &format!("#{number}"))?;
        serde_json::from_slice(&json).map_err(|source| Error::RecordParse {
            id: record_id_hint(&json).unwrap_or_else(|| format!("#{number}")),
            path: self.records_path.clone(),
            source,
        })
    }

    pub(crate) fn record_json(&self, entry: &RecordEntry, id: &str) -> Result<Vec<u8>, Error> {
        let blob = self.record_blob(entry)?;
        format::decompress(&blob).map_err(|source| Error::RecordData {
            id: id.to_owned(),
            path: self.records_path.clone(),
            source,
        })
    }

    /// The compressed bytes of one record (the importer copies these unchanged).
    pub(crate) fn record_blob(&self, entry: &RecordEntry) -> Result<Vec<u8>, Error> {
        let end = entry.offset.checked_add(u64::from(entry.length));
        if entry.offset < RECORDS_MAGIC.len() as u64
            || end.is_none_or(|e| e > self.meta.records_len)
        {
            return Err(format::corrupt(
                &self.records_path,
                "record lies outside the file",
            ));
        }
        format::read_at(
            &self.records_file,
            &self.records_path,
            entry.offset,
            entry.length as usize,
        )
    }

    pub(crate) fn record_table(&self) -> Result<&RecordTable, Error> {
        if let Some(table) = self.record_table.get() {
            return Ok(table);
        }
        let bytes = self.section_bytes(RECORDS_SECTION)?;
        let table = RecordTable::new(bytes, &self.index_path)?;
        if table.len() as u64 != self.meta.records {
            return Err(format::corrupt(
                &self.index_path,
                "record table does not match meta.json",
            ));
        }
        Ok(self.record_table.get_or_init(|| table))
    }

    pub(crate) fn table_required(&self, name: &str) -> Result<&Table, Error> {
        self.table(name)?.ok_or_else(|| {
            format::corrupt(&self.index_path, format!("section `{name}` is missing"))
        })
    }

    fn table(&self, name: &str) -> Result<Option<&Table>, Error> {
        let Some(slot) = self.tables.get(name) else {
            return Ok(None);
        };
        if let Some(table) = slot.get() {
            return Ok(Some(table));
        }
        let table = Table::new(self.section_bytes(name)?, &self.index_path)?;
        Ok(Some(slot.get_or_init(|| table)))
    }

    /// Names of the package sections, as base ecosystem names.
    pub(crate) fn package_sections(&self) -> impl Iterator<Item = &str> {
        self.sections
            .keys()
            .filter_map(|name| name.strip_prefix(PACKAGES_PREFIX))
    }

    fn section_bytes(&self, name: &str) -> Result<Vec<u8>, Error> {
        let (offset, length) = self.sections.get(name).copied().ok_or_else(|| {
            format::corrupt(&self.index_path, format!("section `{name}` is missing"))
        })?;
        let length = usize::try_from(length)
            .map_err(|_| format::corrupt(&self.index_path, "section too large"))?;
        format::read_at(&self.index_file, &self.index_path, offset, length)
    }

    pub(crate) fn meta(&self) -> &Meta {
        &self.meta
    }

    pub(crate) fn generation(&self) -> &Path {
        &self.generation
    }
}

fn read_meta(generation: &Path) -> Result<Meta, Error> {
    let path = generation.join(META_FILE);
    let bytes = std::fs::read(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let version: MetaVersion = serde_json::from_slice(&bytes).map_err(|source| Error::Meta {
        path: path.clone(),
        source,
    })?;
    if version.format_version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            dir: generation.to_owned(),
            found: version.format_version,
            supported: FORMAT_VERSION,
        });
    }
    if version.format_version < FORMAT_VERSION {
        return Err(Error::OlderFormat {
            dir: generation.to_owned(),
            found: version.format_version,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(&bytes).map_err(|source| Error::Meta { path, source })
}

fn open_read(path: &Path) -> Result<File, Error> {
    File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn check_len(file: &File, path: &Path, expected: u64) -> Result<(), Error> {
    let actual = file
        .metadata()
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?
        .len();
    if actual != expected {
        return Err(format::corrupt(
            path,
            format!("file is {actual} bytes long, meta.json says {expected}"),
        ));
    }
    Ok(())
}

/// The `id` of a record that failed to parse, for the error message.
fn record_id_hint(json: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_slice::<IdOnly>(json).ok().map(|r| r.id)
}
