//! What an official's page of production and sales reads: what the area produces (from the
//! batches farmers record) and where its goods sell (completed orders), for a year or every
//! year.

use std::sync::Arc;

use chrono::Utc;

use super::{
    MarketError,
    sales::{self, SalesStats},
};
use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::{
        policy::Actor,
        trace::{
            TraceError,
            stats::{self as production, ProductionStats},
        },
    },
};

#[derive(Clone, Debug)]
pub struct ProductionAndSales {
    pub made: ProductionStats,
    pub sold: SalesStats,
    /// This year in Beijing, for the years to choose from.
    pub this_year: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// No such area, or not one the official governs.
    #[error("the area is not the official's")]
    NotYours,
    #[error(transparent)]
    Production(TraceError),
    #[error(transparent)]
    Sales(MarketError),
}

impl From<TraceError> for StatsError {
    fn from(err: TraceError) -> Self {
        match err {
            TraceError::NotFound | TraceError::Forbidden => Self::NotYours,
            other => Self::Production(other),
        }
    }
}

impl From<MarketError> for StatsError {
    fn from(err: MarketError) -> Self {
        match err {
            MarketError::NotFound | MarketError::Forbidden => Self::NotYours,
            other => Self::Sales(other),
        }
    }
}

/// Production and sales of an area the official governs (default: their own; the county for
/// an admin) in `year`, or every year when `None`.
pub async fn of(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    area: Option<AreaCode>,
    year: Option<i32>,
) -> Result<ProductionAndSales, StatsError> {
    let made = production::stats(db, actor, area.clone(), year).await?;
    let sold = sales::stats(db, cache, actor, area, year).await?;
    Ok(ProductionAndSales {
        made,
        sold,
        this_year: crate::domain::county_time::year_of(Utc::now()),
    })
}
