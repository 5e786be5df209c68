//! What the market's pages show, each gathered in one call: the goods on sale with the choices
//! that narrow them (categories, townships, the chosen township's villages), and one listing
//! with its photos and where it comes from.

use entities::{area::AreaLevel, listing::Model as Listing, product_category::Model as Category};

use super::{
    MarketError, catalogue,
    listings::{self, ListingFilter},
    photos,
};
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{
        areas::{self, Area},
        pagination::PageRequest,
    },
};

/// What a browse asks for.
#[derive(Clone, Debug, Default)]
pub struct BrowseFilter {
    pub category_id: Option<i64>,
    /// A township, a village or the county.
    pub area: Option<AreaCode>,
    /// The last listing of the page before.
    pub after: Option<String>,
    /// Listings a page holds.
    pub limit: u64,
}

/// The goods on sale that a browse finds, and the choices beside them.
#[derive(Clone, Debug)]
pub struct Browse {
    /// Every active category.
    pub categories: Vec<Category>,
    /// The county's townships.
    pub townships: Vec<Area>,
    /// The township asked for, or the asked village's: its villages are offered.
    pub township: Option<AreaCode>,
    pub villages: Vec<Area>,
    /// Newest first.
    pub listings: Vec<ListingCell>,
    /// Where the next page starts, if there is one.
    pub next_after: Option<String>,
}

/// A listing as a list shows it: its cover photo and its village.
#[derive(Clone, Debug)]
pub struct ListingCell {
    pub listing: Listing,
    /// The cover photo's id.
    pub cover: Option<String>,
    /// The village's name.
    pub village: String,
}

/// Areas a choice offers at most.
const AREAS: u64 = 100;

/// The goods on sale in a category and an area, page by page, with the categories, the
/// townships and (once a township or one of its villages is chosen) its villages to choose from.
pub async fn browse(db: &Database, filter: &BrowseFilter) -> Result<Browse, MarketError> {
    let categories = catalogue::list(db, false).await?;
    let townships = match areas::county_code(db.conn()).await? {
        Some(county) => children(db, &county).await,
        None => Vec::new(),
    };
    let township = filter
        .area
        .as_ref()
        .and_then(|a| match a.level() {
            AreaLevel::Village => a.parent(),
            _ => Some(a.clone()),
        })
        .filter(|t| t.level() == AreaLevel::Township);
    let villages = match &township {
        Some(township) => children(db, township).await,
        None => Vec::new(),
    };
    let page = listings::browse(
        db,
        &ListingFilter {
            category_id: filter.category_id,
            area: filter.area.clone(),
            ..Default::default()
        },
        None,
        &PageRequest::new(filter.after.clone(), Some(filter.limit)),
    )
    .await?;
    let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
    let mut covers = photos::covers(db, &ids).await?;
    let places =
        areas::names_of(db.conn(), page.items.iter().map(|l| l.village_code.clone())).await?;
    let listings = page
        .items
        .into_iter()
        .map(|listing| ListingCell {
            cover: covers.remove(&listing.id),
            village: places
                .get(&listing.village_code)
                .cloned()
                .unwrap_or_default(),
            listing,
        })
        .collect();
    Ok(Browse {
        categories,
        townships,
        township,
        villages,
        listings,
        next_after: page.next_after,
    })
}

/// The areas directly below `code`; none where the tree is not loaded.
async fn children(db: &Database, code: &AreaCode) -> Vec<Area> {
    areas::children(db, code, &PageRequest::new(None, Some(AREAS)))
        .await
        .map(|page| page.items)
        .unwrap_or_default()
}

/// One listing as the public sees it.
#[derive(Clone, Debug)]
pub struct ListingView {
    pub listing: Listing,
    /// Its photos' ids, the cover first.
    pub photos: Vec<String>,
    /// Its township's and village's names, as one: 龙沙镇凤凰村.
    pub place: String,
    /// Whether the certificate rules (承诺达标合格证) cover its product.
    pub certificate_required: bool,
    /// The certificates in force of the batches it sells.
    pub certificates: Vec<entities::certificate::Model>,
}

/// A listing on sale or sold out, with its photos and where it comes from.
pub async fn listing(db: &Database, id: i64) -> Result<ListingView, MarketError> {
    let listing = listings::get(db, None, id).await?;
    let photos = photos::ids_of(db, listing.id).await?;
    let township = AreaCode::parse(&listing.village_code)
        .ok()
        .and_then(|village| village.parent());
    let mut codes = vec![listing.village_code.clone()];
    codes.extend(township.as_ref().map(|t| t.as_str().to_owned()));
    let names = areas::names_of(db.conn(), codes).await?;
    let name = |code: &str| names.get(code).map_or("", String::as_str);
    let place = format!(
        "{}{}",
        township.as_ref().map_or("", |t| name(t.as_str())),
        name(&listing.village_code)
    );
    let certificate_required =
        crate::service::trace::certificates::in_scope(db.conn(), listing.category_id)
            .await
            .map_err(trace_failure)?;
    let mut certificates = Vec::new();
    for batch_id in crate::service::trace::production::batches_of_listing(db.conn(), listing.id)
        .await
        .map_err(trace_failure)?
    {
        if let Some(c) = crate::service::trace::certificates::live_of_batch(db.conn(), batch_id)
            .await
            .map_err(trace_failure)?
        {
            certificates.push(c);
        }
    }
    Ok(ListingView {
        listing,
        photos,
        place,
        certificate_required,
        certificates,
    })
}

/// A trace failure met while reading a listing: only the database fails there.
fn trace_failure(e: crate::service::trace::TraceError) -> MarketError {
    match e {
        crate::service::trace::TraceError::Database(e) => MarketError::Database(e),
        e => MarketError::Database(sea_orm::DbErr::Custom(e.to_string())),
    }
}
