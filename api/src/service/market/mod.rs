//! The marketplace (上行): the catalogue of the county's goods and farmers' listings.

pub mod catalogue;
pub mod cooperatives;
pub mod demo;
pub mod goods_pages;
pub mod listings;
pub mod order_book;
pub mod orders;
pub mod payment;
pub mod photos;
pub mod production_and_sales;
pub mod sales;
pub mod shipping;
pub mod storefront;

use sea_orm::DbErr;

use crate::infra::{blobs::BlobError, imaging::PhotoRejection};

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    #[error("category {0} exists already")]
    CategoryTaken(String),
    #[error("only {available} left in stock")]
    OutOfStock {
        available: i64,
        unit: entities::listing::Unit,
    },
    #[error("this idempotency key was used for a different order")]
    IdempotencyKeyReused,
    #[error("the key was sent before with another request")]
    KeyReused,
    #[error("whoever took the seller's side of an order does not complete it for the buyer")]
    BothSides,
    #[error("this step is not allowed now")]
    StepNotAllowed { allowed: Vec<orders::OrderAction> },
    #[error(transparent)]
    Photo(PhotoRejection),
    #[error(transparent)]
    Storage(BlobError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<crate::service::idempotency::KeyError> for MarketError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}
