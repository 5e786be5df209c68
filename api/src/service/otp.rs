//! One-time sign-in codes sent by SMS: 6 digits, kept only as a keyed hash in the cache for
//! 5 minutes (configurable), at most 5 tries, a new code no sooner than 60 s after the last
//! (configurable), at most 10 a day per phone and per client address.

use std::{sync::Arc, time::Duration};

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::rate_limit::{self, LimitError, SMS_PER_IP_DAY, SMS_PER_PHONE_DAY};
use crate::{
    domain::Phone,
    infra::{
        cache::{Cache, CacheError},
        sms::{SmsError, SmsSender},
        tokens::sha256_hex,
    },
};

pub const MAX_TRIES: i64 = 5;

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
    Cache(#[from] CacheError),
}

/// How long a code lives and how soon another may follow.
#[derive(Clone, Copy, Debug)]
pub struct OtpTimings {
    pub code_ttl: Duration,
    pub resend_after: Duration,
}

#[derive(Clone)]
pub struct Otp {
    cache: Arc<dyn Cache>,
    sender: Arc<dyn SmsSender>,
    /// Keys the stored hashes, so a copy of the cache does not give the codes away.
    pepper: SecretString,
    timings: OtpTimings,
}

impl Otp {
    pub fn new(
        cache: Arc<dyn Cache>,
        sender: Arc<dyn SmsSender>,
        pepper: SecretString,
        timings: OtpTimings,
    ) -> Self {
        Self {
            cache,
            sender,
            pepper,
            timings,
        }
    }

    pub fn timings(&self) -> OtpTimings {
        self.timings
    }

    /// Sends a fresh code, replacing any earlier one.
    pub async fn send(&self, phone: &Phone, client_ip: &str) -> Result<(), OtpError> {
        let cooldown = format!("otp:cooldown:{phone}");
        let resend_after = self.timings.resend_after;
        if !resend_after.is_zero()
            && !self
                .cache
                .set_if_absent(&cooldown, b"1", resend_after)
                .await?
        {
            return Err(OtpError::TooSoon {
                retry_after: resend_after,
            });
        }
        rate_limit::hit(self.cache.as_ref(), SMS_PER_PHONE_DAY, phone.as_str()).await?;
        rate_limit::hit(self.cache.as_ref(), SMS_PER_IP_DAY, client_ip).await?;

        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        self.cache
            .set(
                &code_key(phone),
                self.hash(phone, &code).as_bytes(),
                self.timings.code_ttl,
            )
            .await?;
        self.cache.delete(&tries_key(phone)).await?;
        if let Err(e) = self.sender.send_code(phone, &code).await {
            // Not sent: let the person ask again at once.
            self.cache.delete(&cooldown).await?;
            self.cache.delete(&code_key(phone)).await?;
            return Err(e.into());
        }
        Ok(())
    }

    /// Checks a code; a right code works once.
    pub async fn check(&self, phone: &Phone, code: &str) -> Result<(), OtpError> {
        let tries = self
            .cache
            .increment(&tries_key(phone), 1, self.timings.code_ttl)
            .await?;
        if tries > MAX_TRIES {
            self.cache.delete(&code_key(phone)).await?;
            return Err(OtpError::TooManyTries);
        }
        let Some(stored) = self.cache.get(&code_key(phone)).await? else {
            return Err(OtpError::Invalid);
        };
        let given = self.hash(phone, code.trim());
        if !bool::from(stored.as_slice().ct_eq(given.as_bytes())) {
            return Err(OtpError::Invalid);
        }
        self.cache.delete(&code_key(phone)).await?;
        self.cache.delete(&tries_key(phone)).await?;
        Ok(())
    }

    fn hash(&self, phone: &Phone, code: &str) -> String {
        sha256_hex(format!("{}\0{phone}\0{code}", self.pepper.expose_secret()).as_bytes())
    }
}

fn code_key(phone: &Phone) -> String {
    format!("otp:code:{phone}")
}

fn tries_key(phone: &Phone) -> String {
    format!("otp:tries:{phone}")
}
