//! What the farmer's goods pages show, each gathered in one call: their goods with the photo
//! each is shown by, one listing with its photos; and new goods listed with the photo taken
//! for them.

use crate::infra::imaging::Declared;
use entities::listing::Model as Listing;

use super::{
    MarketError,
    listings::{self, ListingFields, ListingFilter},
    photos::{self, Photos},
};
use crate::{
    infra::{db::Database, tokens::sha256_hex},
    service::{
        idempotency::{self, Claim},
        pagination::PageRequest,
        policy::Actor,
    },
};

/// One of the farmer's goods on their list.
#[derive(Clone, Debug)]
pub struct Goods {
    pub listing: Listing,
    /// The id of the photo it is shown by, if it has one.
    pub cover: Option<String>,
}

/// The farmer's own goods in every state, newest first, at most `limit` of them.
pub async fn own_goods(
    db: &Database,
    actor: &Actor,
    limit: u64,
) -> Result<Vec<Goods>, MarketError> {
    let page = listings::browse(
        db,
        &ListingFilter::default(),
        Some(actor),
        &PageRequest::new(None, Some(limit)),
    )
    .await?;
    let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
    let mut covers = photos::covers(db, &ids).await?;
    Ok(page
        .items
        .into_iter()
        .map(|listing| Goods {
            cover: covers.remove(&listing.id),
            listing,
        })
        .collect())
}

/// One of the farmer's own listings, with what its page shows of it.
#[derive(Clone, Debug)]
pub struct OwnListing {
    pub listing: Listing,
    /// Its photos' ids, cover first.
    pub photos: Vec<String>,
}

/// The farmer's own listing `id`; another's is not found.
pub async fn own_listing(db: &Database, actor: &Actor, id: i64) -> Result<OwnListing, MarketError> {
    let listing = listings::get(db, Some(actor), id).await?;
    if !listings::owns(actor, &listing) {
        return Err(MarketError::NotFound);
    }
    let photos = photos::ids_of(db, id).await?;
    Ok(OwnListing { listing, photos })
}

/// Lists new goods with the photo taken for them, if one was (its bytes and the format its
/// upload declared): the photo is checked and stored first, then the listing is saved with it,
/// or nothing is listed.
pub async fn list_with_photo(
    db: &Database,
    photos: &Photos,
    actor: &Actor,
    fields: ListingFields,
    photo: Option<(Vec<u8>, Declared)>,
    key: Option<&str>,
) -> Result<Listing, MarketError> {
    let photo_digest = photo.as_ref().map(|(bytes, _)| sha256_hex(bytes));
    let request = serde_json::json!([fields.request(), photo_digest]);
    let claim = Claim::new(actor, key, "listing", request)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return listings::listing_made(db, idempotency::id_of(&earlier)?).await;
    }
    let mut stored = Vec::new();
    if let Some((bytes, declared)) = photo {
        stored.push(photos.store(db, actor, bytes, declared).await?);
    }
    listings::create_claimed(db, actor, fields, &stored, claim.as_ref()).await
}
