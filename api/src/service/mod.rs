//! The domain: rules, workflows and transactions. Nothing here knows about HTTP; the CLI and
//! the HTTP routes call the same functions.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod health;
pub mod households;
pub mod otp;
pub mod pagination;
pub mod policy;
pub mod rate_limit;
pub mod seed;
pub mod users;
