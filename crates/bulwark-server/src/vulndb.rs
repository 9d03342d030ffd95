//! The vulnerability database the server matches with, swapped for the new generation when
//! `bulwark db import|update` writes one (those commands never modify a generation in place,
//! so an open handle stays valid while readers finish with it).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bulwark_vulndb::{Database, Error};

/// The current database, if one was imported.
pub(crate) struct VulnDb {
    dir: Option<PathBuf>,
    current: RwLock<Option<Arc<Database>>>,
}

impl VulnDb {
    /// Opens `dir`; a directory with nothing imported yet is fine (no matching until then).
    pub(crate) fn open(dir: Option<PathBuf>) -> Result<VulnDb, Error> {
        let current = match &dir {
            Some(dir) => match Database::open(dir) {
                Ok(db) => Some(Arc::new(db)),
                Err(Error::Missing { .. }) => {
                    tracing::warn!(
                        "no vulnerability database in `{}` yet: uploads are stored without findings until `bulwark db import` or `update` runs",
                        dir.display()
                    );
                    None
                }
                Err(error) => return Err(error),
            },
            None => None,
        };
        Ok(VulnDb {
            dir,
            current: RwLock::new(current),
        })
    }

    /// The database to match with now.
    pub(crate) fn get(&self) -> Option<Arc<Database>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The generation in use, if any.
    pub(crate) fn generation(&self) -> Option<String> {
        self.get().map(|db| db.generation_name())
    }

    /// Reopens the database when its directory points at another generation. Returns the
    /// new generation's name when it changed.
    pub(crate) fn refresh(&self) -> Result<Option<String>, Error> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let Some(on_disk) = Database::current_generation(dir)? else {
            return Ok(None);
        };
        if self.generation().as_deref() == Some(on_disk.as_str()) {
            return Ok(None);
        }
        let db = Database::open(dir)?;
        let name = db.generation_name();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(db));
        Ok(Some(name))
    }
}
