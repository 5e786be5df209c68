//! One stamp, shared by every server through the cache, that moves whenever the records may
//! have changed: every write that succeeds gives it a new random value (the HTTP layer does so
//! after each one, commands that write outside the server do so when they end, and a refusal
//! that still wrote — a refresh token used twice revokes its sign-in — does so itself).
//!
//! What a server keeps in its own memory from the records (rendered public reads, access tokens
//! found good, the audit log's head) is kept under the stamp it read before reading the
//! records, and used again only while the stamp is unchanged. A stamp the cache lost (evicted,
//! flushed, Redis restarted) is replaced by a new value, never by an earlier one; while the
//! cache is away there is no stamp, and nothing is used again.

use std::{sync::Arc, time::Duration};

use crate::infra::cache::Cache;

/// The stamp's key in the shared cache.
const STAMP_KEY: &str = "kept:public:stamp";

/// The stamp outlives anything kept under it by far; when it is gone a new one is made.
const STAMP_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The stamp now; `None` while the cache is away.
pub async fn stamp(cache: &dyn Cache) -> Option<Arc<str>> {
    if cache.degraded() {
        return None;
    }
    match cache.get(STAMP_KEY).await {
        Ok(Some(stamp)) => Some(String::from_utf8_lossy(&stamp).into()),
        Ok(None) => {
            // Lost: a stamp nothing was kept under. Of two servers making one, the first
            // stands.
            let fresh = new_stamp();
            let _ = cache
                .set_if_absent(STAMP_KEY, fresh.as_bytes(), STAMP_TTL)
                .await;
            let stamp = cache.get(STAMP_KEY).await.ok()??;
            Some(String::from_utf8_lossy(&stamp).into())
        }
        Err(_) => None,
    }
}

/// Tells every server that the records may have changed.
pub async fn changed(cache: &dyn Cache) {
    if let Err(e) = cache
        .set(STAMP_KEY, new_stamp().as_bytes(), STAMP_TTL)
        .await
    {
        tracing::warn!(error = %e, "the shared change stamp could not be moved");
    }
}

fn new_stamp() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
