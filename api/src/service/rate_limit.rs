//! Fixed-window rate limits. The limits that guard signing in (logins, texted codes) are
//! counted in the database, so no flood of other traffic, cache eviction or restart resets them;
//! the limit on anonymous traffic is counted in the cache, shared by every server on Redis and
//! per process when there is none.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use entities::security_counter;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::infra::{
    cache::{Cache, CacheError},
    db::Database,
};

/// At most `limit` events per `window` for one subject (a phone, an address).
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub limit: i64,
    pub window: Duration,
}

pub const LOGIN_PER_PHONE: Rule = Rule {
    name: "login-phone",
    limit: 10,
    window: Duration::from_secs(15 * 60),
};
pub const LOGIN_PER_IP: Rule = Rule {
    name: "login-ip",
    limit: 50,
    window: Duration::from_secs(15 * 60),
};
pub const SMS_PER_PHONE_DAY: Rule = Rule {
    name: "sms-phone",
    limit: 10,
    window: Duration::from_secs(24 * 60 * 60),
};
pub const SMS_PER_IP_DAY: Rule = Rule {
    name: "sms-ip",
    limit: 10,
    window: Duration::from_secs(24 * 60 * 60),
};

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("too many requests; try again in {} s", retry_after.as_secs())]
    Exceeded { retry_after: Duration },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The window an event at `now` (seconds since the epoch) falls in.
struct Window {
    index: u64,
    ends: u64,
}

impl Window {
    fn of(rule: Rule, now: u64) -> Self {
        let length = rule.window.as_secs().max(1);
        let index = now / length;
        Self {
            index,
            ends: (index + 1) * length,
        }
    }

    fn check(&self, rule: Rule, count: i64, now: u64) -> Result<(), LimitError> {
        if count > rule.limit {
            Err(LimitError::Exceeded {
                retry_after: Duration::from_secs(self.ends - now),
            })
        } else {
            Ok(())
        }
    }
}

fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Counts one event for the subject in the cache and fails once the window's limit is passed.
pub async fn hit(cache: &dyn Cache, rule: Rule, subject: &str) -> Result<(), LimitError> {
    let now = epoch_seconds();
    let window = Window::of(rule, now);
    let key = format!("rate:{}:{subject}:{}", rule.name, window.index);
    let count = cache.increment(&key, 1, rule.window).await?;
    window.check(rule, count, now)
}

/// Counts one event for the subject in the database and fails once the window's limit is
/// passed; the event counts even when it is refused, as a wrong password does.
pub async fn hit_durably(db: &Database, rule: Rule, subject: &str) -> Result<(), LimitError> {
    let now = epoch_seconds();
    let window = Window::of(rule, now);
    let key = format!("{}:{subject}:{}", rule.name, window.index);
    let expires_at = DateTime::<Utc>::from_timestamp(window.ends as i64, 0).unwrap_or_default();
    use sea_orm::sea_query::ExprTrait;
    let txn = db.begin_write().await?;
    security_counter::Entity::insert(security_counter::ActiveModel {
        key: Set(key.clone()),
        count: Set(1),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(security_counter::Column::Key)
            .value(
                security_counter::Column::Count,
                Expr::col((security_counter::Entity, security_counter::Column::Count)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let count = security_counter::Entity::find_by_id(key)
        .one(&txn)
        .await?
        .map_or(1, |row| row.count);
    txn.commit().await?;
    window.check(rule, count, now)
}

/// Removes the counts of windows that have ended; answers how many.
pub async fn purge_ended(db: &Database) -> Result<u64, DbErr> {
    let purged = security_counter::Entity::delete_many()
        .filter(security_counter::Column::ExpiresAt.lte(Utc::now()))
        .exec(db.conn())
        .await?;
    Ok(purged.rows_affected)
}
