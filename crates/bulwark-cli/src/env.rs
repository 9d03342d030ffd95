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
}
