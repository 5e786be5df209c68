//! The marketplace (上行): the catalogue of the county's goods and farmers' listings.

pub mod catalogue;
pub mod listings;

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error("category {0} exists already")]
    CategoryTaken(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}
