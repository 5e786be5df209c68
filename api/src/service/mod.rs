//! The domain: rules, workflows and transactions. Nothing here knows about HTTP; the CLI and
//! the HTTP routes call the same functions.

pub mod areas;
pub mod health;
pub mod pagination;
pub mod seed;
