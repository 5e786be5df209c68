//! Fixed-window rate limits and sign-in back-off. The limits that guard signing in (attempts
//! from a network, codes texted to a phone and from a network, failed sign-ins of a phone from
//! an address) are counted in the database, so no flood of other traffic, cache eviction or
//! restart resets them; the limit on anonymous traffic is counted in the cache, shared by every
//! server on Redis and per process when there is none.
//!
//! None of them can be aimed at somebody else: a phone's daily codes count only codes actually
//! texted to it, a failed sign-in slows down only the address it came from for that phone, and
//! an address is measured with its neighbours (its /24 or /48), sized by a setting for a whole
//! village sharing one connection.

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

/// The sign-in limits an operator sizes: how much one network (a village behind one
/// connection, a carrier's shared address) may do.
#[derive(Clone, Copy, Debug)]
pub struct SignInLimits {
    pub sms_codes_per_network_per_day: u32,
    pub sign_in_attempts_per_network_per_hour: u32,
}

/// Codes texted to one phone in a day.
pub const SMS_PER_PHONE_DAY: Rule = Rule {
    name: "sms-phone",
    limit: 10,
    window: Duration::from_secs(24 * 60 * 60),
};

/// Sign-in attempts from one network (the /24 or /48 around an address) in an hour.
pub fn login_per_network(limit: u32) -> Rule {
    Rule {
        name: "login-net",
        limit: i64::from(limit),
        window: Duration::from_secs(60 * 60),
    }
}

/// Codes texted at the request of one network in a day.
pub fn sms_per_network(limit: u32) -> Rule {
    Rule {
        name: "sms-net",
        limit: i64::from(limit),
        window: Duration::from_secs(24 * 60 * 60),
    }
}

/// The network an address is measured with: the /24 of an IPv4 address, the /48 of an IPv6
/// one (a household's or a village's whole allocation); anything else as it is.
pub fn network_of(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => network_of(&v4.to_string()),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
        Err(_) => address.to_owned(),
    }
}

/// The longest a phone waits after failed sign-ins from one address.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins in a row that cost no wait: a mistyped code or password, typed again.
pub const FREE_FAILURES: i64 = 2;

/// The wait after `failures` failed sign-ins in a row: none for the first [`FREE_FAILURES`],
/// then 1 s, 2 s, 4 s, … up to [`MAX_BACKOFF`].
pub fn backoff(failures: i64) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let exponent = (failures - FREE_FAILURES).clamp(1, 20) - 1;
    Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF)
}

/// Failures are forgotten a day after the last one.
const FAILURES_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_measured_with_their_network() {
        assert_eq!(network_of("203.0.113.7"), "203.0.113.0/24");
        assert_eq!(network_of("203.0.113.250"), "203.0.113.0/24");
        assert_eq!(network_of("2001:db8:12:34::1"), "2001:db8:12::/48");
        assert_eq!(network_of("::ffff:203.0.113.9"), "203.0.113.0/24");
        assert_eq!(network_of("unknown"), "unknown");
    }

    #[test]
    fn the_backoff_doubles_and_stays_short() {
        let waits: Vec<u64> = (1..=14).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            waits,
            [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(backoff(i64::MAX), MAX_BACKOFF);
    }
}

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

/// Fails when the subject has already used the window's limit, counting nothing: for limits
/// that count only what was done (a code texted), with [`count_durably`] once it is done.
pub async fn check_durably(db: &Database, rule: Rule, subject: &str) -> Result<(), LimitError> {
    let now = epoch_seconds();
    let window = Window::of(rule, now);
    let key = format!("{}:{subject}:{}", rule.name, window.index);
    let count = security_counter::Entity::find_by_id(key)
        .one(db.conn())
        .await?
        .map_or(0, |row| row.count);
    window.check(rule, count + 1, now)
}

/// Counts one event that was done, whatever the limit says.
pub async fn count_durably(db: &Database, rule: Rule, subject: &str) -> Result<(), LimitError> {
    match hit_durably(db, rule, subject).await {
        Err(LimitError::Exceeded { .. }) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

fn backoff_keys(phone: &str, address: &str) -> (String, String) {
    (
        format!("login-fail:{phone}:{address}"),
        format!("login-wait:{phone}:{address}"),
    )
}

/// Fails while the phone waits, from this address, after failed sign-ins.
pub async fn check_backoff(db: &Database, phone: &str, address: &str) -> Result<(), LimitError> {
    let (_, wait) = backoff_keys(phone, address);
    let now = Utc::now();
    match security_counter::Entity::find_by_id(wait)
        .one(db.conn())
        .await?
    {
        Some(row) if row.expires_at > now => Err(LimitError::Exceeded {
            retry_after: Duration::from_secs(
                (row.expires_at - now)
                    .to_std()
                    .unwrap_or_default()
                    .as_secs_f64()
                    .ceil() as u64,
            ),
        }),
        _ => Ok(()),
    }
}

/// Records a failed sign-in of the phone from the address: the next try from there waits
/// [`backoff`] of the failures in a row.
pub async fn record_failure(db: &Database, phone: &str, address: &str) -> Result<(), LimitError> {
    let (fail, wait) = backoff_keys(phone, address);
    let now = Utc::now();
    let kept = now + chrono::Duration::from_std(FAILURES_KEPT).unwrap_or_default();
    use sea_orm::sea_query::ExprTrait;
    let txn = db.begin_write().await?;
    security_counter::Entity::insert(security_counter::ActiveModel {
        key: Set(fail.clone()),
        count: Set(1),
        expires_at: Set(kept),
    })
    .on_conflict(
        OnConflict::column(security_counter::Column::Key)
            .value(
                security_counter::Column::Count,
                Expr::col((security_counter::Entity, security_counter::Column::Count)).add(1),
            )
            .value(security_counter::Column::ExpiresAt, kept)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let failures = security_counter::Entity::find_by_id(fail)
        .one(&txn)
        .await?
        .map_or(1, |row| row.count);
    let until = now + chrono::Duration::from_std(backoff(failures)).unwrap_or_default();
    security_counter::Entity::insert(security_counter::ActiveModel {
        key: Set(wait),
        count: Set(failures),
        expires_at: Set(until),
    })
    .on_conflict(
        OnConflict::column(security_counter::Column::Key)
            .update_columns([
                security_counter::Column::Count,
                security_counter::Column::ExpiresAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Forgets the failed sign-ins of the phone from the address, after one that succeeded.
pub async fn clear_failures(db: &Database, phone: &str, address: &str) -> Result<(), DbErr> {
    let (fail, wait) = backoff_keys(phone, address);
    security_counter::Entity::delete_many()
        .filter(security_counter::Column::Key.is_in([fail, wait]))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Removes the counts of windows that have ended; answers how many.
pub async fn purge_ended(db: &Database) -> Result<u64, DbErr> {
    let purged = security_counter::Entity::delete_many()
        .filter(security_counter::Column::ExpiresAt.lte(Utc::now()))
        .exec(db.conn())
        .await?;
    Ok(purged.rows_affected)
}
