//! Traceability (溯源): plots and batches, signed trace codes, and what a buyer's scan finds.

pub mod batch_pages;
pub mod certificates;
pub mod codes;
pub mod demo;
pub mod events;
pub mod inputs;
pub mod labels;
pub mod production;
pub mod reports;
pub mod scan_journal;
pub mod scans;
pub mod stats;
pub mod verdict;

use sea_orm::DbErr;

use crate::infra::imaging::PhotoRejection;

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    #[error("a household's plots lie in its own village")]
    PlotOutsideVillage,
    #[error("the key was sent before with another request")]
    KeyReused,
    #[error(transparent)]
    Photo(PhotoRejection),
    #[error("no QR code could be read in the photo")]
    NoCodeInPhoto,
    #[error("drawing failed: {0}")]
    Drawing(String),
    #[error(transparent)]
    Storage(crate::infra::blobs::BlobError),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Journal(#[from] scan_journal::JournalError),
}

impl From<crate::service::idempotency::KeyError> for TraceError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}
