//! conda catalogers: installed environments (`conda-meta/*.json`), `environment.yml` and
//! `conda-lock.yml`.

mod conda_meta;
mod environment_yml;
mod conda_lock;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(conda_meta::CondaMetaCataloger),
        Box::new(environment_yml::EnvironmentYmlCataloger),
        Box::new(conda_lock::CondaLockCataloger),
    ]
}
