//! The domain: rules, workflows and transactions. Nothing here knows about HTTP; the CLI and
//! the HTTP routes call the same functions.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod exit;
pub mod health;
pub mod households;
pub mod idempotency;
pub mod market;
pub mod monitoring;
pub mod otp;
pub mod pagination;
pub mod policy;
pub mod rate_limit;
pub mod reasons;
pub mod seed;
pub mod sessions;
pub mod trace;
pub mod users;

/// `LIKE '%…%'` with the user's own `%` and `_` taken literally.
pub(crate) fn contains_pattern(text: &str) -> sea_orm::sea_query::LikeExpr {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped.push('%');
    sea_orm::sea_query::LikeExpr::new(escaped).escape('!')
}
