//! Whether the parts the server stands on answer.

use crate::{
    infra::{cache::Cache, db::Database},
    service::market::photos::Photos,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// `None` when the database answered, otherwise why not.
    pub database: Option<String>,
    /// `None` when the cache answered, otherwise why not.
    pub cache: Option<String>,
    /// The cache answers from a stand-in because Redis is away: the server still answers
    /// every request, more slowly.
    pub cache_degraded: bool,
    /// `None` when a small file could be written to the photo store and removed, otherwise why
    /// not: a full disk fails uploads, so it fails readiness too.
    pub storage: Option<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database.is_none() && self.cache.is_none() && self.storage.is_none()
    }
}

pub async fn readiness(db: &Database, cache: &dyn Cache, photos: &Photos) -> Readiness {
    let (database, pinged, storage) = tokio::join!(db.ping(), cache.ping(), photos.probe_storage());
    Readiness {
        database: database.err().map(|e| e.to_string()),
        cache: pinged.err().map(|e| e.to_string()),
        cache_degraded: cache.degraded(),
        storage: storage.err().map(|e| e.to_string()),
    }
}
