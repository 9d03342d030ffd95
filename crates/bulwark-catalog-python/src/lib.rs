//! Python catalogers: requirements files, `pyproject.toml`, lockfiles (`poetry.lock`,
//! `Pipfile.lock`, `pdm.lock`, `uv.lock`, `pylock.toml`) and installed distributions
//! (`*.dist-info`, `*.egg-info`).

mod dist_info;
mod lockfile;
mod pdm_lock;
mod pipfile_lock;
mod poetry_lock;
mod pylock;
mod pyproject;
mod requirement;
mod requirements;
mod uv_lock;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(requirements::RequirementsCataloger),
        Box::new(pyproject::PyprojectCataloger),
        Box::new(poetry_lock::PoetryLockCataloger),
        Box::new(pipfile_lock::PipfileLockCataloger),
        Box::new(pdm_lock::PdmLockCataloger),
        Box::new(uv_lock::UvLockCataloger),
        Box::new(pylock::PylockCataloger),
        Box::new(dist_info::DistInfoCataloger),
    ]
}
