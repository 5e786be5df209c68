//! Listing photos: an upload is checked and resized off the async threads (a bounded number at
//! once), stored under the SHA-256 of its bytes so the same photo is kept once, and shown on the
//! farmer's own listing in the order added.

use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;
use chrono::Utc;
use entities::{listing, listing_photo, photo};
use image::ImageFormat;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Semaphore;

use super::{MarketError, listings::owns};
use crate::{
    infra::{
        blobs::{BlobError, BlobStore, Blobs},
        db::Database,
        imaging::{self, Declared, PhotoLimits, PhotoRejection, ProcessedPhoto, Variant},
        tokens::sha256_hex,
    },
    service::{
        idempotency::{self, Claim, Kept},
        policy::Actor,
    },
};

/// Photos one listing shows at most, as WeChat's picker allows.
pub const MAX_PHOTOS_PER_LISTING: usize = 9;

/// Processing and storage for photos, shared by every request.
#[derive(Clone, Debug)]
pub struct Photos {
    blobs: Blobs,
    /// How many photos are decoded at once; the rest wait.
    permits: Arc<Semaphore>,
    limits: PhotoLimits,
}

impl Photos {
    /// The store the photos are kept in, which keeps other attachments too.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// `workers` 0 means one per CPU core.
    pub fn new(blobs: Blobs, workers: usize, limits: PhotoLimits) -> Self {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers
        };
        Self {
            blobs,
            permits: Arc::new(Semaphore::new(workers)),
            limits,
        }
    }

    /// Photos kept in `store`, processed by `workers` threads (0: one a core).
    pub fn open(store: &BlobStore, workers: usize) -> anyhow::Result<Self> {
        Ok(Self::new(
            Blobs::open(store)?,
            workers,
            PhotoLimits::default(),
        ))
    }

    /// Checks, resizes and stores an upload, unless the same bytes are stored already. Answers
    /// the photo's id (the SHA-256 of the bytes).
    pub async fn store(
        &self,
        db: &Database,
        actor: &Actor,
        bytes: Vec<u8>,
        declared: Declared,
    ) -> Result<photo::Model, MarketError> {
        // The kind is checked against the name and the type before anything else, so an
        // upload of bytes stored already is held to the same rule as a new one.
        imaging::check_declared(&bytes, declared).map_err(MarketError::Photo)?;
        let id = content_id(&bytes);
        if let Some(stored) = photo::Entity::find_by_id(&id).one(db.conn()).await? {
            return Ok(stored);
        }
        let processed = self.process(bytes, declared).await?;
        let mut written = Vec::with_capacity(processed.variants.len());
        for encoded in &processed.variants {
            let file = key(&id, encoded.variant);
            if let Err(e) = self.blobs.put(&file, encoded.jpeg.clone()).await {
                self.remove_files(&written).await;
                return Err(MarketError::Storage(e));
            }
            written.push(file);
        }
        match self.record(db, actor, &id, &processed).await {
            Ok(stored) => Ok(stored),
            Err(e) => {
                // Files without their row would be found by nobody.
                self.remove_files(&written).await;
                Err(e)
            }
        }
    }

    /// The photo's row, once its files are stored.
    async fn record(
        &self,
        db: &Database,
        actor: &Actor,
        id: &str,
        processed: &ProcessedPhoto,
    ) -> Result<photo::Model, MarketError> {
        let original = &processed.variants[0];
        let row = photo::ActiveModel {
            id: Set(id.to_owned()),
            width: Set(original.width as i32),
            height: Set(original.height as i32),
            source_format: Set(format_code(processed.source_format).into()),
            uploaded_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        };
        // Two uploads of the same photo at once both get here; the first row stands.
        photo::Entity::insert(row)
            .on_conflict_do_nothing_on([photo::Column::Id])
            .exec(db.conn())
            .await?;
        photo::Entity::find_by_id(id)
            .one(db.conn())
            .await?
            .ok_or(MarketError::NotFound)
    }

    /// Removes the files of an upload that failed part-way; a file that cannot be removed is
    /// logged, and the error the farmer sees stays the one that stopped the upload.
    async fn remove_files(&self, keys: &[String]) {
        for key in keys {
            if let Err(e) = self.blobs.delete(key).await {
                tracing::warn!(key, error = %e, "a partly stored photo's file stays behind");
            }
        }
    }

    /// Whether the photo store takes writes now (for readiness).
    pub async fn probe_storage(&self) -> Result<(), BlobError> {
        self.blobs.probe().await
    }

    async fn process(
        &self,
        bytes: Vec<u8>,
        declared: Declared,
    ) -> Result<ProcessedPhoto, MarketError> {
        self.with_image(bytes, declared, |bytes, declared, limits| {
            imaging::process(bytes, declared, limits)
        })
        .await
        .map_err(MarketError::Photo)
    }

    /// Runs image work on an upload off the async threads, at most as many at once as there
    /// are photo workers; everything that decodes uploaded images goes through here.
    pub async fn with_image<T: Send + 'static>(
        &self,
        bytes: Vec<u8>,
        declared: Declared,
        work: impl FnOnce(&[u8], Declared, &PhotoLimits) -> Result<T, PhotoRejection> + Send + 'static,
    ) -> Result<T, PhotoRejection> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the photo semaphore is never closed");
        let limits = self.limits;
        tokio::task::spawn_blocking(move || work(&bytes, declared, &limits))
            .await
            .unwrap_or_else(|e| Err(PhotoRejection::Corrupt(format!("decoding failed: {e}"))))
    }

    /// One stored size of a photo.
    pub async fn read(&self, id: &str, variant: Variant) -> Result<Bytes, MarketError> {
        if !is_content_id(id) {
            return Err(MarketError::NotFound);
        }
        match self.blobs.get(&key(id, variant)).await {
            Ok(bytes) => Ok(bytes),
            Err(BlobError::NotFound(_)) => Err(MarketError::NotFound),
            Err(e) => Err(MarketError::Storage(e)),
        }
    }

    /// Stores an upload and adds it to the farmer's own listing, after its other photos.
    /// Adding a photo the listing shows already changes nothing.
    pub async fn add_to_listing(
        &self,
        db: &Database,
        actor: &Actor,
        listing_id: i64,
        bytes: Vec<u8>,
        declared: Declared,
    ) -> Result<Vec<photo::Model>, MarketError> {
        self.add_to_listing_keyed(db, actor, listing_id, bytes, declared, None)
            .await
    }

    /// [`Photos::add_to_listing`], once for a client's key.
    pub async fn add_to_listing_keyed(
        &self,
        db: &Database,
        actor: &Actor,
        listing_id: i64,
        bytes: Vec<u8>,
        declared: Declared,
        key: Option<&str>,
    ) -> Result<Vec<photo::Model>, MarketError> {
        let request = serde_json::json!([listing_id, sha256_hex(&bytes)]);
        let claim = Claim::new(actor, key, "listing_photo", request)?;
        // Checked before the work of decoding, and again under the lock before writing.
        owned_listing(db.conn(), actor, listing_id, false).await?;
        if idempotency::earlier(db.conn(), claim.as_ref())
            .await?
            .is_some()
        {
            return Ok(of_listings(db, &[listing_id])
                .await?
                .remove(&listing_id)
                .unwrap_or_default());
        }
        let stored = self.store(db, actor, bytes, declared).await?;

        let txn = db.begin_write().await?;
        owned_listing(&txn, actor, listing_id, true).await?;
        let current = listing_photo::Entity::find()
            .filter(listing_photo::Column::ListingId.eq(listing_id))
            .all(&txn)
            .await?;
        if !current.iter().any(|p| p.photo_id == stored.id) {
            if current.len() >= MAX_PHOTOS_PER_LISTING {
                return Err(MarketError::Invalid(
                    crate::service::reasons::too_many_photos(MAX_PHOTOS_PER_LISTING),
                ));
            }
            let position = current.iter().map(|p| p.position + 1).max().unwrap_or(0);
            listing_photo::Entity::insert(listing_photo::ActiveModel {
                listing_id: Set(listing_id),
                photo_id: Set(stored.id.clone()),
                position: Set(position),
                created_at: Set(Utc::now()),
            })
            .exec(&txn)
            .await?;
        }
        // The photo's id: the listing is the request's own.
        match idempotency::keep(&txn, claim.as_ref(), &stored.id).await {
            Ok(()) => txn.commit().await?,
            Err(Kept::Raced) => drop(txn),
            Err(Kept::Failed(e)) => return Err(e.into()),
        }
        Ok(of_listings(db, &[listing_id])
            .await?
            .remove(&listing_id)
            .unwrap_or_default())
    }

    /// Takes a photo off the farmer's own listing (the stored file stays: another listing may
    /// show the same photo).
    pub async fn remove_from_listing(
        &self,
        db: &Database,
        actor: &Actor,
        listing_id: i64,
        photo_id: &str,
    ) -> Result<Vec<photo::Model>, MarketError> {
        let txn = db.begin_write().await?;
        owned_listing(&txn, actor, listing_id, true).await?;
        let removed = listing_photo::Entity::delete_many()
            .filter(listing_photo::Column::ListingId.eq(listing_id))
            .filter(listing_photo::Column::PhotoId.eq(photo_id))
            .exec(&txn)
            .await?;
        if removed.rows_affected == 0 {
            return Err(MarketError::NotFound);
        }
        txn.commit().await?;
        Ok(of_listings(db, &[listing_id])
            .await?
            .remove(&listing_id)
            .unwrap_or_default())
    }
}

/// The photos of each listing, cover first.
pub async fn of_listings(
    db: &Database,
    listing_ids: &[i64],
) -> Result<HashMap<i64, Vec<photo::Model>>, MarketError> {
    let mut by_listing: HashMap<i64, Vec<photo::Model>> = HashMap::new();
    if listing_ids.is_empty() {
        return Ok(by_listing);
    }
    let rows = listing_photo::Entity::find()
        .filter(listing_photo::Column::ListingId.is_in(listing_ids.iter().copied()))
        .order_by_asc(listing_photo::Column::ListingId)
        .order_by_asc(listing_photo::Column::Position)
        .find_also_related(photo::Entity)
        .all(db.conn())
        .await?;
    for (link, photo) in rows {
        if let Some(photo) = photo {
            by_listing.entry(link.listing_id).or_default().push(photo);
        }
    }
    Ok(by_listing)
}

/// The photo each listing is shown by (its first), by listing id; a listing without photos
/// has none.
pub async fn covers(
    db: &Database,
    listing_ids: &[i64],
) -> Result<HashMap<i64, String>, MarketError> {
    Ok(of_listings(db, listing_ids)
        .await?
        .into_iter()
        .filter_map(|(id, photos)| photos.into_iter().next().map(|cover| (id, cover.id)))
        .collect())
}

/// The ids of one listing's photos, the cover first.
pub async fn ids_of(db: &Database, listing_id: i64) -> Result<Vec<String>, MarketError> {
    Ok(of_listings(db, &[listing_id])
        .await?
        .remove(&listing_id)
        .unwrap_or_default()
        .into_iter()
        .map(|photo| photo.id)
        .collect())
}

async fn owned_listing(
    conn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    listing_id: i64,
    lock: bool,
) -> Result<listing::Model, MarketError> {
    let mut query = listing::Entity::find_by_id(listing_id);
    if lock {
        query = query.lock_exclusive();
    }
    query
        .one(conn)
        .await?
        .filter(|l| owns(actor, l))
        .ok_or(MarketError::NotFound)
}

/// A photo's name: the lower-case hex SHA-256 of the uploaded bytes.
pub fn content_id(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

fn is_content_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn key(id: &str, variant: Variant) -> String {
    format!("photos/{}/{}/{}.jpg", &id[..2], id, variant.name())
}

fn format_code(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => "jpeg",
    }
}
