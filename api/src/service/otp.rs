//! One-time sign-in codes sent by SMS: 6 digits, kept only as a keyed hash in the database for
//! 5 minutes (configurable), at most 5 tries, a new code no sooner than 60 s after the last
//! (configurable), at most 10 texted a day to a phone and a configured number a day at the
//! request of one network. Only codes actually texted count: a refused request charges nothing.
//! The code, its tries and the daily limits are rows, not cache entries: no flood, eviction or
//! restart forgets them.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use entities::sign_in_code;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, IntoActiveModel, QuerySelect,
    TryInsertResult,
};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::rate_limit::{self, LimitError, SMS_PER_PHONE_DAY, SignInLimits};
use crate::{
    domain::Phone,
    infra::{
        db::Database,
        sms::{SmsError, SmsSender},
        tokens::sha256_hex,
    },
};

pub const MAX_TRIES: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    #[error("a code was sent less than a minute ago")]
    TooSoon { retry_after: Duration },
    #[error(transparent)]
    Limited(#[from] LimitError),
    #[error("the code is wrong or has expired")]
    Invalid,
    #[error("too many wrong codes; ask for a new one")]
    TooManyTries,
    #[error(transparent)]
    Sms(#[from] SmsError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// How long a code lives and how soon another may follow.
#[derive(Clone, Copy, Debug)]
pub struct OtpTimings {
    pub code_ttl: Duration,
    pub resend_after: Duration,
}

#[derive(Clone)]
pub struct Otp {
    db: Database,
    sender: Arc<dyn SmsSender>,
    /// Keys the stored hashes, so a copy of the database does not give the codes away.
    pepper: SecretString,
    timings: OtpTimings,
    limits: SignInLimits,
}

impl Otp {
    pub fn new(
        db: Database,
        sender: Arc<dyn SmsSender>,
        pepper: SecretString,
        timings: OtpTimings,
        limits: SignInLimits,
    ) -> Self {
        Self {
            db,
            sender,
            pepper,
            timings,
            limits,
        }
    }

    pub fn timings(&self) -> OtpTimings {
        self.timings
    }

    pub fn limits(&self) -> SignInLimits {
        self.limits
    }

    /// Sends a fresh code, replacing any earlier one.
    pub async fn send(&self, phone: &Phone, client_ip: &str) -> Result<(), OtpError> {
        let now = Utc::now();
        // Too soon is told before the day's limits count the try.
        let earlier = sign_in_code::Entity::find_by_id(phone.as_str())
            .one(self.db.conn())
            .await?;
        if let Some(earlier) = &earlier {
            let next_allowed = earlier.sent_at + self.timings.resend_after;
            if next_allowed > now {
                let wait = (next_allowed - now).to_std().unwrap_or_default();
                return Err(OtpError::TooSoon {
                    retry_after: Duration::from_secs(wait.as_secs_f64().ceil() as u64),
                });
            }
        }
        let network = rate_limit::network_of(client_ip);
        let per_network = rate_limit::sms_per_network(self.limits.sms_codes_per_network_per_day);
        rate_limit::check_durably(&self.db, per_network, &network).await?;
        rate_limit::check_durably(&self.db, SMS_PER_PHONE_DAY, phone.as_str()).await?;

        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        let row = sign_in_code::ActiveModel {
            phone: Set(phone.as_str().to_owned()),
            code_hash: Set(Some(self.hash(phone, &code))),
            tries: Set(0),
            sent_at: Set(now),
            expires_at: Set(now + self.timings.code_ttl),
        };
        let txn = self.db.begin_write().await?;
        // Locked, so two sends racing for one phone store one code between them.
        let stored = sign_in_code::Entity::find_by_id(phone.as_str())
            .lock_exclusive()
            .one(&txn)
            .await?;
        match stored {
            // A send that raced this one stored its code first: one text per resend interval.
            Some(stored) if stored.sent_at + self.timings.resend_after > now => {
                return Err(OtpError::TooSoon {
                    retry_after: self.timings.resend_after,
                });
            }
            Some(_) => {
                row.update(&txn).await?;
            }
            None => {
                // Two first sends for a phone at once: the row has no lock yet, so the second
                // to insert finds the first's.
                let inserted = sign_in_code::Entity::insert(row)
                    .on_conflict_do_nothing_on([sign_in_code::Column::Phone])
                    .exec_without_returning(&txn)
                    .await?;
                if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                    return Err(OtpError::TooSoon {
                        retry_after: self.timings.resend_after,
                    });
                }
            }
        }
        txn.commit().await?;
        if let Err(e) = self.sender.send_code(phone, &code).await {
            // Not sent: let the person ask again at once.
            sign_in_code::Entity::delete_by_id(phone.as_str())
                .exec(self.db.conn())
                .await?;
            return Err(e.into());
        }
        rate_limit::count_durably(&self.db, per_network, &network).await?;
        rate_limit::count_durably(&self.db, SMS_PER_PHONE_DAY, phone.as_str()).await?;
        Ok(())
    }

    /// Checks a code; a right code works once. Every try is written before it is answered.
    pub async fn check(&self, phone: &Phone, code: &str) -> Result<(), OtpError> {
        let txn = self.db.begin_write().await?;
        let Some(stored) = sign_in_code::Entity::find_by_id(phone.as_str())
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Err(OtpError::Invalid);
        };
        if stored.expires_at <= Utc::now() {
            return Err(OtpError::Invalid);
        }
        let tries = stored.tries + 1;
        let given = self.hash(phone, code.trim());
        let right = stored
            .code_hash
            .as_deref()
            .is_some_and(|hash| bool::from(hash.as_bytes().ct_eq(given.as_bytes())));
        let mut row = stored.into_active_model();
        row.tries = Set(tries);
        let answer = if tries > MAX_TRIES {
            row.code_hash = Set(None);
            Err(OtpError::TooManyTries)
        } else if right {
            row.code_hash = Set(None);
            Ok(())
        } else {
            Err(OtpError::Invalid)
        };
        row.update(&txn).await?;
        txn.commit().await?;
        answer
    }

    fn hash(&self, phone: &Phone, code: &str) -> String {
        sha256_hex(format!("{}\0{phone}\0{code}", self.pepper.expose_secret()).as_bytes())
    }
}
