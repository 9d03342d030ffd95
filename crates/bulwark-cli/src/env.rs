//! Every environment variable bulwark reads, in one place.

/// Names of environment variables.
pub(crate) struct EnvVars;

impl EnvVars {
    /// Seconds since the Unix epoch to stamp into SBOMs instead of the current time, for
    /// reproducible documents (<https://reproducible-builds.org/specs/source-date-epoch/>).
    pub(crate) const SOURCE_DATE_EPOCH: &'static str = "SOURCE_DATE_EPOCH";
    /// The vulnerability database directory; `--db` overrides it.
    pub(crate) const BULWARK_DB_DIR: &'static str = "BULWARK_DB_DIR";
    /// Log filter (`bulwark=debug`); `--verbose` sets a default.
    pub(crate) const BULWARK_LOG: &'static str = "BULWARK_LOG";
    /// `0` (or `false`, `no`, `off`) skips hashing model files in `bulwark sbom` (and in
    /// `bulwark scan -o cyclonedx-json`; other scans never hash them): a 70 GB checkpoint is
    /// then inventoried from its headers alone.
    pub(crate) const BULWARK_MODEL_HASHES: &'static str = "BULWARK_MODEL_HASHES";
}

/// Whether a boolean environment variable is set to a false value.
pub(crate) fn is_off(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    })
}
