//! What the farmer's batch pages show, each gathered in one call: their batches with what a
//! new one may be recorded with, and one batch with its journey and its runs of codes.

use entities::{
    batch::Model as Batch,
    listing::Model as Listing,
    plot::Model as Plot,
    product_category::{self, Model as Category},
    revoked_code::Model as Revoked,
    trace_code_run::Model as Run,
    trace_event::Model as TraceEvent,
};
use std::collections::HashMap;

use sea_orm::EntityTrait;

use super::{TraceError, codes, events, production};
use crate::{
    infra::{db::Database, trace_codes::TraceKeys},
    service::{
        market::{
            catalogue,
            listings::{self, ListingFilter},
        },
        pagination::PageRequest,
        policy::Actor,
    },
};

/// A farmer has at most this many of their listings to choose from for a new batch.
const GOODS_TO_CHOOSE: u64 = 100;

/// The household's batches, and what a new one may be recorded with.
#[derive(Clone, Debug)]
pub struct Batches {
    /// The most recent, newest first.
    pub batches: Vec<Batch>,
    /// The active categories: what a batch may be of, and what the listed ones are.
    pub categories: Vec<Category>,
    /// The household's plots, that a batch may come from.
    pub plots: Vec<Plot>,
    /// The products each plot grows, by plot.
    pub crops: HashMap<i64, Vec<i64>>,
    /// The farmer's listings, that a batch may be sold as.
    pub goods: Vec<Listing>,
}

/// The farmer's household's most recent batches (at most `limit`) and what a new one may be
/// recorded with; none for an account bound to no household, as batches are a household's.
pub async fn own_batches(
    db: &Database,
    actor: &Actor,
    limit: u64,
) -> anyhow::Result<Option<Batches>> {
    let Some(household) = actor.household_id else {
        return Ok(None);
    };
    let batches = production::own_batches(db, actor, limit).await?;
    let plots = production::plots_of(db, actor, household).await?;
    let ids: Vec<i64> = plots.iter().map(|p| p.id).collect();
    let crops = production::crops_of(db.conn(), &ids).await?;
    let categories = catalogue::list(db, false).await?;
    let goods = listings::browse(
        db,
        &ListingFilter::default(),
        Some(actor),
        &PageRequest::new(None, Some(GOODS_TO_CHOOSE)),
    )
    .await?
    .items;
    Ok(Some(Batches {
        batches,
        categories,
        plots,
        crops,
        goods,
    }))
}

/// The household's plots with what each grows, and the products a plot may grow.
#[derive(Clone, Debug)]
pub struct Plots {
    /// First recorded first, each with the products it grows.
    pub plots: Vec<(Plot, Vec<i64>)>,
    /// The active categories.
    pub categories: Vec<Category>,
}

impl Plots {
    /// What a plot grows, as the county's products are called.
    pub fn crop_names<'a>(&'a self, crops: &[i64]) -> Vec<&'a Category> {
        self.categories
            .iter()
            .filter(|c| crops.contains(&c.id))
            .collect()
    }
}

/// The farmer's household's plots; none for an account bound to no household.
pub async fn own_plots(db: &Database, actor: &Actor) -> anyhow::Result<Option<Plots>> {
    let Some(household) = actor.household_id else {
        return Ok(None);
    };
    let plots = production::plots_of(db, actor, household).await?;
    let ids: Vec<i64> = plots.iter().map(|p| p.id).collect();
    let mut crops = production::crops_of(db.conn(), &ids).await?;
    let categories = catalogue::list(db, false).await?;
    Ok(Some(Plots {
        plots: plots
            .into_iter()
            .map(|p| {
                let of = crops.remove(&p.id).unwrap_or_default();
                (p, of)
            })
            .collect(),
        categories,
    }))
}

/// One of the household's batches, with what its page shows.
#[derive(Clone, Debug)]
pub struct OwnBatch {
    pub batch: Batch,
    /// What it is, also when that category is no longer offered.
    pub product: Option<Category>,
    /// Its signed batch code.
    pub code: String,
    /// The steps of its journey in the order they happened.
    pub journey: Vec<TraceEvent>,
    /// Its runs of item codes, first issued first.
    pub runs: Vec<Run>,
    /// Its codes taken out of use, by item.
    pub revoked: Vec<Revoked>,
}

/// The farmer's household's batch `id`; another's is not found.
pub async fn own_batch(
    db: &Database,
    keys: &TraceKeys,
    actor: &Actor,
    id: i64,
) -> Result<OwnBatch, TraceError> {
    let batch = production::get_batch(db, actor, id).await?;
    if actor.household_id != Some(batch.household_id) {
        return Err(TraceError::NotFound);
    }
    let journey = events::of_batch(db.conn(), id).await?;
    let runs = codes::runs_of(db, actor, id).await?;
    let revoked = codes::revoked_of(db, actor, id).await?;
    let product = product_category::Entity::find_by_id(batch.category_id)
        .one(db.conn())
        .await?;
    Ok(OwnBatch {
        code: codes::batch_code(keys, batch.id),
        batch,
        product,
        journey,
        runs,
        revoked,
    })
}
