//! Fixed-window rate limits kept in the cache, so they hold across every API server when the
//! cache is Redis.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::infra::cache::{Cache, CacheError};

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
}

/// Counts one event for the subject and fails once the window's limit is passed.
pub async fn hit(cache: &dyn Cache, rule: Rule, subject: &str) -> Result<(), LimitError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let window = rule.window.as_secs().max(1);
    let index = now / window;
    let key = format!("rate:{}:{subject}:{index}", rule.name);
    let count = cache.increment(&key, 1, rule.window).await?;
    if count > rule.limit {
        let retry_after = Duration::from_secs((index + 1) * window - now);
        Err(LimitError::Exceeded { retry_after })
    } else {
        Ok(())
    }
}
