//! Signing in and staying signed in: every login method ends in the same token pair, a
//! 15-minute access JWT and a 30-day opaque refresh token.
//!
//! Refresh tokens are stored only as SHA-256 hashes and rotate on every use. Tokens rotated from
//! one login form a family; presenting a token that was already used means it was copied, so the
//! whole family is revoked. Access tokens are checked against the user's token version (raised
//! when a role changes or the account is disabled) and against their sign-in's refresh tokens:
//! once the sign-in is revoked (logout, a reused refresh token) its access tokens are refused.
//! Both checks read the database. A server remembers a token found good under the shared change
//! stamp ([`super::changes`]) it read first, and trusts that for at most [`CHECKED_FOR`] while
//! the stamp stands: every revocation moves it, so every server checks again at once; a cache
//! that forgot the stamp gives a new one, so a forgetful cache only costs a read.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use entities::{refresh_token, user};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use secrecy::SecretString;

use super::{
    changes,
    otp::{Otp, OtpError, OtpTimings},
    policy::Actor,
    rate_limit::{self, LimitError},
    sessions,
    users::UserError,
};
use crate::{
    domain::{AreaCode, Phone},
    infra::{
        cache::Cache,
        db::Database,
        passwords,
        tokens::{TokenError, TokenKeys},
        wechat::{WeChat, WeChatError},
        wechat_web::{WebError, WebUser},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown phone and wrong password look the same, so accounts cannot be discovered.
    #[error("the phone number or password is wrong")]
    InvalidCredentials,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the refresh token is not valid")]
    RefreshInvalid,
    #[error("the refresh token has expired")]
    RefreshExpired,
    #[error("the refresh token was already used; every token of this sign-in is revoked")]
    RefreshReused,
    #[error("the access token is not valid: {0}")]
    TokenInvalid(TokenError),
    #[error("the access token has expired")]
    TokenExpired,
    #[error("the access token has been revoked")]
    TokenRevoked,
    #[error("a mobile number has 11 digits and starts with 13 to 19")]
    InvalidPhone,
    #[error("WeChat sign-in is not configured on this server")]
    WeChatDisabled,
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    #[error(transparent)]
    WeChatWeb(#[from] WebError),
    /// WeChat's stand-in user of a snapshot page: the person has not opened the full page.
    #[error("WeChat sent a snapshot page's stand-in user")]
    WeChatSnapshot,
    #[error(transparent)]
    Account(#[from] UserError),
    #[error(transparent)]
    Code(#[from] OtpError),
    #[error(transparent)]
    Limited(#[from] LimitError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What a successful sign-in or refresh hands the client.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: Duration,
    pub refresh_token: SecretString,
    pub refresh_expires_in: Duration,
    pub user: user::Model,
}

/// How long a server trusts an access token it found good while the change stamp stands: the
/// longest a revocation the cache did not hear of goes unseen.
pub const CHECKED_FOR: Duration = Duration::from_secs(30);

/// The sign-in machinery, shared by every route and command that needs it.
#[derive(Clone)]
pub struct Auth {
    db: Database,
    /// Holds the change stamp.
    cache: Arc<dyn Cache>,
    /// Access tokens found good: by user, sign-in and token version, the stamp read before the
    /// check and who the token speaks for.
    checked: moka::sync::Cache<(i64, String, i32), (Arc<str>, Actor)>,
    keys: Arc<TokenKeys>,
    otp: Otp,
    /// `None` when WeChat sign-in is not configured.
    wechat: Option<Arc<dyn WeChat>>,
    refresh_ttl: Duration,
}

impl Auth {
    pub fn new(
        db: Database,
        cache: Arc<dyn Cache>,
        keys: Arc<TokenKeys>,
        otp: Otp,
        wechat: Option<Arc<dyn WeChat>>,
        refresh_ttl: Duration,
    ) -> Self {
        Self {
            db,
            cache,
            checked: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CHECKED_FOR)
                .build(),
            keys,
            otp,
            wechat,
            refresh_ttl,
        }
    }

    /// A WeChat mini-program `wx.login` code. The first sign-in of an openid makes a buyer's
    /// account bound to it.
    pub async fn login_with_wechat(
        &self,
        js_code: &str,
        client_ip: &str,
    ) -> Result<TokenPair, AuthError> {
        let wechat = self.wechat.as_ref().ok_or(AuthError::WeChatDisabled)?;
        self.count_login_attempt(None, client_ip).await?;
        let identity = wechat.code_to_session(js_code).await?;
        let txn = self.db.begin_write().await?;
        let user = super::users::find_or_register_wechat(
            &txn,
            &identity.openid,
            identity.unionid.as_deref(),
            client_ip,
        )
        .await?;
        self.start_session(txn, user).await
    }

    /// A WeChat user back from the Official Account's authorisation: the account bound to
    /// their openid (or unionid). Someone WeChat names for the first time becomes a buyer when
    /// `register` says so; otherwise `None`, and the pages ask who they are.
    pub async fn login_with_wechat_web(
        &self,
        wechat_user: &WebUser,
        register: bool,
        client_ip: &str,
    ) -> Result<Option<TokenPair>, AuthError> {
        if wechat_user.snapshot {
            return Err(AuthError::WeChatSnapshot);
        }
        self.count_login_attempt(None, client_ip).await?;
        let txn = self.db.begin_write().await?;
        let unionid = wechat_user.unionid.as_deref();
        let user = match super::users::find_wechat_web(&txn, &wechat_user.openid, unionid).await? {
            Some(user) => user,
            None if register => {
                super::users::register_wechat_web(
                    &txn,
                    &wechat_user.openid,
                    unionid,
                    wechat_user.nickname.as_deref(),
                    client_ip,
                )
                .await?
            }
            None => return Ok(None),
        };
        self.start_session(txn, user).await.map(Some)
    }

    /// Binds the Official Account's WeChat to the account signed in to the pages, so WeChat
    /// signs it in from then on.
    pub async fn bind_wechat_web(
        &self,
        actor: &Actor,
        wechat_user: &WebUser,
        client_ip: &str,
    ) -> Result<user::Model, AuthError> {
        if wechat_user.snapshot {
            return Err(AuthError::WeChatSnapshot);
        }
        let txn = self.db.begin_write().await?;
        let current = user::Entity::find_by_id(actor.user_id)
            .one(&txn)
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        let bound =
            super::users::bind_wechat_web(&txn, &current, &wechat_user.openid, client_ip).await?;
        txn.commit().await?;
        Ok(bound)
    }

    /// Binds a phone, proven by a texted code, to the signed-in account (merging a WeChat-only
    /// account into the phone's existing one) and signs in afresh as the resulting account.
    pub async fn bind_phone(
        &self,
        actor: &Actor,
        phone: &str,
        code: &str,
        client_ip: &str,
    ) -> Result<TokenPair, AuthError> {
        let phone = self.verified_phone(phone, code, client_ip).await?;
        let txn = self.db.begin_write().await?;
        let current = user::Entity::find_by_id(actor.user_id)
            .one(&txn)
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        let account = super::users::bind_phone(&txn, &current, &phone, client_ip).await?;
        self.start_session(txn, account).await
    }

    /// Phone and password. Every failure before the password is checked costs a full hash too.
    pub async fn login_with_password(
        &self,
        phone: &str,
        password: &SecretString,
        client_ip: &str,
    ) -> Result<TokenPair, AuthError> {
        let phone = Phone::parse(phone).ok();
        self.count_login_attempt(phone.as_ref(), client_ip).await?;
        let user = match &phone {
            Some(phone) => super::users::find_by_phone(&self.db, phone).await?,
            None => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        if !passwords::verify(password, stored).await {
            if let Some(phone) = &phone {
                rate_limit::record_failure(&self.db, phone.as_str(), client_ip).await?;
            }
            return Err(AuthError::InvalidCredentials);
        }
        if let Some(phone) = &phone {
            rate_limit::clear_failures(&self.db, phone.as_str(), client_ip).await?;
        }
        let user = user.ok_or(AuthError::InvalidCredentials)?;
        let txn = self.db.begin_write().await?;
        self.start_session(txn, user).await
    }

    /// Texts a sign-in code to the phone; says how long it lives and when another may follow.
    pub async fn send_sign_in_code(
        &self,
        phone: &str,
        client_ip: &str,
    ) -> Result<OtpTimings, AuthError> {
        let phone = Phone::parse(phone).map_err(|_| AuthError::InvalidPhone)?;
        self.otp.send(&phone, client_ip).await?;
        Ok(self.otp.timings())
    }

    /// Phone and texted code. A phone seen for the first time becomes a buyer's account;
    /// officials invited for an area and farmers sign in to the accounts made for them.
    pub async fn login_with_code(
        &self,
        phone: &str,
        code: &str,
        client_ip: &str,
    ) -> Result<TokenPair, AuthError> {
        let phone = self.verified_phone(phone, code, client_ip).await?;
        let txn = self.db.begin_write().await?;
        let user = super::users::find_or_register_buyer(&txn, &phone, client_ip).await?;
        self.start_session(txn, user).await
    }

    /// Starts a new sign-in (a new refresh-token family) for an account that may sign in, and
    /// commits the transaction that found or made the account.
    async fn start_session(
        &self,
        txn: DatabaseTransaction,
        user: user::Model,
    ) -> Result<TokenPair, AuthError> {
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let family = uuid::Uuid::new_v4().to_string();
        let pair = self.issue_pair(&txn, user, &family).await?;
        txn.commit().await?;
        Ok(pair)
    }

    /// The phone, once its texted code checks out; every try counts against the limits, as a
    /// sign-in's does.
    pub async fn verified_phone(
        &self,
        phone: &str,
        code: &str,
        client_ip: &str,
    ) -> Result<Phone, AuthError> {
        let phone = Phone::parse(phone).map_err(|_| AuthError::InvalidPhone)?;
        self.count_login_attempt(Some(&phone), client_ip).await?;
        match self.otp.check(&phone, code).await {
            Ok(()) => {
                rate_limit::clear_failures(&self.db, phone.as_str(), client_ip).await?;
                Ok(phone)
            }
            Err(e @ (OtpError::Invalid | OtpError::TooManyTries)) => {
                rate_limit::record_failure(&self.db, phone.as_str(), client_ip).await?;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses a phone still waiting, from this address, after failed sign-ins (charging
    /// nothing), then counts the attempt against the address's network.
    async fn count_login_attempt(
        &self,
        phone: Option<&Phone>,
        client_ip: &str,
    ) -> Result<(), AuthError> {
        if let Some(phone) = phone {
            rate_limit::check_backoff(&self.db, phone.as_str(), client_ip).await?;
        }
        let limit = self.otp.limits().sign_in_attempts_per_network_per_hour;
        rate_limit::hit_durably(
            &self.db,
            rate_limit::login_per_network(limit),
            &rate_limit::network_of(client_ip),
        )
        .await?;
        Ok(())
    }

    /// Trades a refresh token for a new pair, retiring the old token.
    pub async fn refresh(&self, presented: &SecretString) -> Result<TokenPair, AuthError> {
        let txn = self.db.begin_write().await?;
        let token = sessions::find(&txn, presented)
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        if token.revoked_at.is_some() {
            return Err(AuthError::RefreshInvalid);
        }
        let now = Utc::now();
        if token.expires_at <= now {
            return Err(AuthError::RefreshExpired);
        }
        // Claim the token; only one of two racing refreshes can.
        if !sessions::claim(&txn, token.id, now).await? {
            sessions::revoke_family(&txn, &token.family_id).await?;
            txn.commit().await?;
            // The request is refused, so only this says the sign-in ended.
            changes::changed(self.cache.as_ref()).await;
            tracing::warn!(
                user_id = token.user_id,
                family = %token.family_id,
                "a refresh token was used twice; its whole family is revoked"
            );
            return Err(AuthError::RefreshReused);
        }
        let user = user::Entity::find_by_id(token.user_id)
            .one(&txn)
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let pair = self.issue_pair(&txn, user, &token.family_id).await?;
        txn.commit().await?;
        Ok(pair)
    }

    /// Ends a sign-in: its refresh tokens are revoked, and every access token issued to it is
    /// refused from now until it would have expired anyway.
    pub async fn logout(&self, access_token: &str) -> Result<(), AuthError> {
        let claims = self.keys.verify(access_token).map_err(token_error)?;
        sessions::revoke_family(self.db.conn(), &claims.sid).await?;
        Ok(())
    }

    /// Who a page sign-in speaks for. The browser keeps the sign-in's refresh token in a cookie
    /// that scripts cannot read and presents it with every page; it is not rotated (pages load
    /// side by side, and rotation would end the sign-in on the second), but it must be current:
    /// never used for a refresh, not revoked, not expired, its account not disabled.
    pub async fn authenticate_page(&self, presented: &SecretString) -> Result<Actor, AuthError> {
        let token = self.current_refresh_token(presented).await?;
        let user = user::Entity::find_by_id(token.user_id)
            .one(self.db.conn())
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        Ok(actor_of(&user))
    }

    /// Ends a page sign-in, as [`Auth::logout`] ends an app's.
    pub async fn logout_page(&self, presented: &SecretString) -> Result<(), AuthError> {
        let token = self.current_refresh_token(presented).await?;
        sessions::revoke_family(self.db.conn(), &token.family_id).await?;
        Ok(())
    }

    async fn current_refresh_token(
        &self,
        presented: &SecretString,
    ) -> Result<refresh_token::Model, AuthError> {
        let token = sessions::find(self.db.conn(), presented)
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        if token.revoked_at.is_some() || token.used_at.is_some() {
            return Err(AuthError::RefreshInvalid);
        }
        if token.expires_at <= Utc::now() {
            return Err(AuthError::RefreshExpired);
        }
        Ok(token)
    }

    /// Who an access token speaks for, if it still may; `stamp` is the change stamp read for
    /// the request, before anything else.
    pub async fn authenticate(
        &self,
        access_token: &str,
        stamp: Option<&Arc<str>>,
    ) -> Result<Actor, AuthError> {
        let claims = self.keys.verify(access_token).map_err(token_error)?;
        let user_id: i64 = claims
            .sub
            .parse()
            .map_err(|_| AuthError::TokenInvalid(TokenError::Invalid))?;
        let key = (user_id, claims.sid, claims.tv);
        if let Some(stamp) = stamp
            && let Some((checked_at, actor)) = self.checked.get(&key)
            && checked_at == *stamp
        {
            return Ok(actor);
        }
        let actor = self.check_access(&key).await?;
        if let Some(stamp) = stamp {
            self.checked.insert(key, (stamp.clone(), actor.clone()));
        }
        Ok(actor)
    }

    /// The database's word on a token of user `user_id` from sign-in `sid` at token version
    /// `tv`.
    async fn check_access(
        &self,
        (user_id, sid, tv): &(i64, String, i32),
    ) -> Result<Actor, AuthError> {
        let user = user::Entity::find_by_id(*user_id)
            .one(self.db.conn())
            .await?
            .ok_or(AuthError::TokenRevoked)?;
        if user.disabled || user.token_version != *tv {
            return Err(AuthError::TokenRevoked);
        }
        if sessions::family_revoked(self.db.conn(), sid).await? {
            return Err(AuthError::TokenRevoked);
        }
        Ok(actor_of(&user))
    }

    async fn issue_pair(
        &self,
        conn: &impl ConnectionTrait,
        user: user::Model,
        family: &str,
    ) -> Result<TokenPair, AuthError> {
        let refresh_token = sessions::issue(conn, user.id, family, self.refresh_ttl).await?;
        let access_token = self.keys.issue(
            user.id.to_string(),
            role_name(user.role).to_owned(),
            user.area_code.clone(),
            user.token_version,
            family.to_owned(),
        );
        Ok(TokenPair {
            access_token,
            access_expires_in: self.keys.access_ttl(),
            refresh_token,
            refresh_expires_in: self.refresh_ttl,
            user,
        })
    }
}

fn token_error(e: TokenError) -> AuthError {
    match e {
        TokenError::Expired => AuthError::TokenExpired,
        other => AuthError::TokenInvalid(other),
    }
}

pub fn actor_of(user: &user::Model) -> Actor {
    Actor {
        user_id: user.id,
        role: user.role,
        area: user
            .area_code
            .as_deref()
            .and_then(|a| AreaCode::parse(a).ok()),
        household_id: user.household_id,
    }
}

/// The role's name as clients and tokens spell it.
pub fn role_name(role: user::Role) -> &'static str {
    use user::Role;
    match role {
        Role::Farmer => "farmer",
        Role::Buyer => "buyer",
        Role::VillageCadre => "village_cadre",
        Role::TownshipOfficial => "township_official",
        Role::CountyOfficial => "county_official",
        Role::Admin => "admin",
    }
}
