//! Whether the parts the server stands on answer.

use crate::infra::{cache::Cache, db::Database};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// `None` when the database answered, otherwise why not.
    pub database: Option<String>,
    /// `None` when the cache answered, otherwise why not.
    pub cache: Option<String>,
    /// The cache answers from a stand-in because Redis is away: the server still answers
    /// every request, more slowly.
    pub cache_degraded: bool,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database.is_none() && self.cache.is_none()
    }
}

pub async fn readiness(db: &Database, cache: &dyn Cache) -> Readiness {
    let cache_state = cache;
    let (database, cache) = tokio::join!(db.ping(), cache.ping());
    Readiness {
        database: database.err().map(|e| e.to_string()),
        cache: cache.err().map(|e| e.to_string()),
        cache_degraded: cache_state.degraded(),
    }
}
