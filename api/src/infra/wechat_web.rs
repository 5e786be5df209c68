//! WeChat Official Account (公众号) for pages opened inside WeChat: web authorisation
//! (网页授权) and the JS-SDK's signature.
//!
//! Web authorisation sends the browser to
//! `{authorize}?appid&redirect_uri&response_type=code&scope&state#wechat_redirect`; WeChat
//! comes back to `redirect_uri?code&state`, and the code is exchanged at
//! `GET {base}/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` for the
//! user's openid (and, with `snsapi_userinfo`, unionid; `GET {base}/sns/userinfo` adds the
//! nickname).
//!
//! The JS-SDK needs `wx.config` signed with the `jsapi_ticket`: SHA-1 over
//! `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` (the page's URL without its fragment). The
//! ticket comes from `GET {base}/cgi-bin/ticket/getticket?access_token&type=jsapi`, the access
//! token from `GET {base}/cgi-bin/token?grant_type=client_credential&appid&secret`. Both live
//! 7,200 s and WeChat limits how often they may be fetched, and fetching a new token ends the
//! old one: so they are kept in the shared cache, and one server at a time fetches them, under
//! a lock (`SET NX` with an expiry) that the others wait on. A ticket call that WeChat answers
//! with an expired or invalid token (40001, 40014, 42001) drops the cached token and fetches a
//! new one, once.

use std::{sync::Arc, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use sha1::{Digest, Sha1};

use crate::infra::cache::Cache;

/// How the authorisation asks: silently for the openid, or with the user's consent for the
/// unionid and nickname.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Base,
    UserInfo,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Base => "snsapi_base",
            Scope::UserInfo => "snsapi_userinfo",
        }
    }
}

/// Who WeChat says came back from the authorisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebUser {
    pub openid: String,
    /// Only with `snsapi_userinfo` (and an Official Account bound to an Open Platform account).
    pub unionid: Option<String>,
    /// Only with `snsapi_userinfo`.
    pub nickname: Option<String>,
    /// WeChat's stand-in user of a "snapshot" page (朋友圈快照页): not a real person yet.
    pub snapshot: bool,
}

/// What a page needs for `wx.config`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsConfig {
    pub app_id: String,
    pub timestamp: i64,
    pub nonce_str: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebError {
    /// 40029 invalid code, 40163 code already used.
    #[error("WeChat did not accept the authorisation code (errcode {0})")]
    InvalidCode(i64),
    /// 45011 / 45009: too many calls.
    #[error("WeChat is limiting calls (errcode {0})")]
    RateLimited(i64),
    /// -1: WeChat is busy.
    #[error("WeChat is busy (errcode -1)")]
    Busy,
    /// 40013 invalid appid, 40125 / 40001 at `cgi-bin/token` invalid secret, 40164 address not
    /// on the whitelist, 48001 not authorised: our configuration is wrong.
    #[error("WeChat refused this server's credentials (errcode {0})")]
    Misconfigured(i64),
    /// 48001 at `sns/userinfo`: the user did not consent.
    #[error("WeChat says the user did not consent (errcode 48001)")]
    NotAuthorised,
    #[error("WeChat answered errcode {errcode}: {errmsg}")]
    Other { errcode: i64, errmsg: String },
    #[error("WeChat could not be reached: {0}")]
    Unreachable(String),
    /// Another server is fetching the ticket and did not finish in time.
    #[error("the JS-SDK ticket is being fetched by another server")]
    TicketBusy,
}

/// Settings of the Official Account.
#[derive(Clone, Debug)]
pub struct WebSettings {
    pub appid: String,
    pub secret: SecretString,
    /// `https://api.weixin.qq.com`, or a stand-in.
    pub base_url: String,
    /// `https://open.weixin.qq.com/connect/oauth2/authorize`, or a stand-in.
    pub authorize_url: String,
}

/// The Official Account: authorisation and the JS-SDK's signature, over HTTP, with the token
/// and ticket in the shared cache.
#[derive(Clone)]
pub struct OfficialAccount {
    client: reqwest::Client,
    settings: Arc<WebSettings>,
    cache: Arc<dyn Cache>,
    /// How long a server waits for another's fetch of the ticket before giving up.
    wait: Duration,
}

/// How long the lock of a fetch lives: longer than the three calls it may make.
const LOCK_TTL: Duration = Duration::from_secs(35);
/// A token or ticket is kept until this long before WeChat says it expires.
const EARLY: i64 = 300;
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Answer<T> {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(flatten)]
    body: Option<T>,
}

#[derive(Deserialize)]
struct Grant {
    openid: Option<String>,
    access_token: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    is_snapshotuser: i64,
}

#[derive(Deserialize)]
struct Profile {
    nickname: Option<String>,
    unionid: Option<String>,
}

#[derive(Deserialize)]
struct Token {
    access_token: Option<String>,
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct Ticket {
    ticket: Option<String>,
    expires_in: Option<i64>,
}

/// What a token-using call can say about the token.
fn token_expired(errcode: i64) -> bool {
    matches!(errcode, 40001 | 40014 | 42001)
}

fn failure(errcode: i64, errmsg: String) -> WebError {
    match errcode {
        40029 | 40163 => WebError::InvalidCode(errcode),
        45009 | 45011 => WebError::RateLimited(errcode),
        -1 => WebError::Busy,
        40013 | 40125 | 40164 | 40243 | 41004 => WebError::Misconfigured(errcode),
        48001 => WebError::NotAuthorised,
        errcode => WebError::Other { errcode, errmsg },
    }
}

/// The `wx.config` signature (JS-SDK 附录1): SHA-1 in hex over the four fields in this order,
/// their values as they are.
pub fn js_signature(ticket: &str, nonce_str: &str, timestamp: i64, url: &str) -> String {
    let text =
        format!("jsapi_ticket={ticket}&noncestr={nonce_str}&timestamp={timestamp}&url={url}");
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl OfficialAccount {
    pub fn new(settings: WebSettings, cache: Arc<dyn Cache>) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .build()
                .expect("an HTTP client with a timeout"),
            settings: Arc::new(WebSettings {
                base_url: settings.base_url.trim_end_matches('/').to_owned(),
                ..settings
            }),
            cache,
            wait: Duration::from_secs(12),
        }
    }

    pub fn appid(&self) -> &str {
        &self.settings.appid
    }

    /// Where to send the browser for the authorisation; WeChat comes back to `redirect_uri`
    /// with `code` and `state`.
    pub fn authorize_url(&self, redirect_uri: &str, scope: Scope, state: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("appid", self.settings.appid.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state),
        ])
        .expect("plain strings encode");
        format!("{}?{query}#wechat_redirect", self.settings.authorize_url)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Answer<T>, WebError> {
        let response = self
            .client
            .get(format!("{}{path}", self.settings.base_url))
            .query(query)
            .send()
            .await
            // Without the URL: it carries the secret or a token.
            .map_err(|e| WebError::Unreachable(e.without_url().to_string()))?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| WebError::Unreachable(e.without_url().to_string()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| WebError::Unreachable(format!("unreadable answer: {e}")))
    }

    /// The user behind an authorisation `code` (which works once) asked with `scope`. With
    /// `snsapi_userinfo` the nickname is asked for too.
    pub async fn user_of_code(&self, code: &str, scope: Scope) -> Result<WebUser, WebError> {
        let answer: Answer<Grant> = self
            .call(
                "/sns/oauth2/access_token",
                &[
                    ("appid", self.settings.appid.as_str()),
                    ("secret", self.settings.secret.expose_secret()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await?;
        let grant = match (answer.errcode, answer.body) {
            (0, Some(grant)) if grant.openid.as_deref().is_some_and(|o| !o.is_empty()) => grant,
            (0, _) => return Err(failure(0, "no openid in the answer".into())),
            (errcode, _) => return Err(failure(errcode, answer.errmsg)),
        };
        let openid = grant.openid.unwrap_or_default();
        let mut user = WebUser {
            unionid: grant.unionid.filter(|u| !u.is_empty()),
            nickname: None,
            snapshot: grant.is_snapshotuser == 1,
            openid,
        };
        // Only a grant of the user-info scope may read the profile; a silent grant's user is
        // the openid alone.
        if let (Scope::UserInfo, Some(token)) = (scope, grant.access_token.as_deref()) {
            let answer: Answer<Profile> = self
                .call(
                    "/sns/userinfo",
                    &[
                        ("access_token", token),
                        ("openid", &user.openid),
                        ("lang", "zh_CN"),
                    ],
                )
                .await?;
            match (answer.errcode, answer.body) {
                (0, Some(profile)) => {
                    user.nickname = profile.nickname.filter(|n| !n.trim().is_empty());
                    user.unionid = profile.unionid.filter(|u| !u.is_empty()).or(user.unionid);
                }
                (errcode, _) => return Err(failure(errcode, answer.errmsg)),
            }
        }
        Ok(user)
    }

    /// `wx.config` for the page at `url` (its fragment is left out), signed with the ticket.
    pub async fn js_config(&self, url: &str) -> Result<JsConfig, WebError> {
        let url = url.split('#').next().unwrap_or(url);
        let ticket = self.jsapi_ticket().await?;
        let timestamp = chrono::Utc::now().timestamp();
        let nonce_str = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        Ok(JsConfig {
            app_id: self.settings.appid.clone(),
            signature: js_signature(&ticket, &nonce_str, timestamp, url),
            timestamp,
            nonce_str,
        })
    }

    /// The keys of this account: one hash tag, so a Redis Cluster keeps them in one slot.
    fn key(&self, what: &str) -> String {
        format!("wechat:{{{}}}:{what}", self.settings.appid)
    }

    async fn cached(&self, what: &str) -> Option<String> {
        match self.cache.get(&self.key(what)).await {
            Ok(value) => value.and_then(|v| String::from_utf8(v).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "the cache could not be read for WeChat's {what}");
                None
            }
        }
    }

    async fn keep(&self, what: &str, value: &str, expires_in: Option<i64>) {
        let secs = (expires_in.unwrap_or(7200) - EARLY).max(60);
        let ttl = Duration::from_secs(u64::try_from(secs).unwrap_or(60));
        if let Err(e) = self.cache.set(&self.key(what), value.as_bytes(), ttl).await {
            tracing::warn!(error = %e, "WeChat's {what} could not be kept in the cache");
        }
    }

    /// The JS-SDK ticket: from the cache, or fetched by one server at a time while the others
    /// wait for it to appear.
    pub async fn jsapi_ticket(&self) -> Result<String, WebError> {
        if let Some(ticket) = self.cached("jsapi-ticket").await {
            return Ok(ticket);
        }
        let lock = self.key("refresh-lock");
        let started = tokio::time::Instant::now();
        loop {
            let taken = match self.cache.set_if_absent(&lock, b"1", LOCK_TTL).await {
                Ok(taken) => taken,
                // Without a cache to agree in, this server fetches for itself.
                Err(e) => {
                    tracing::warn!(error = %e, "no lock for WeChat's ticket; fetching without");
                    return self.fetch_ticket().await;
                }
            };
            if taken {
                // Another server may have finished between our look and the lock.
                let fetched = match self.cached("jsapi-ticket").await {
                    Some(ticket) => Ok(ticket),
                    None => self.fetch_ticket().await,
                };
                if let Err(e) = self.cache.delete(&lock).await {
                    tracing::warn!(error = %e, "the lock of WeChat's ticket stays until it expires");
                }
                return fetched;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if let Some(ticket) = self.cached("jsapi-ticket").await {
                return Ok(ticket);
            }
            if started.elapsed() > self.wait {
                return Err(WebError::TicketBusy);
            }
        }
    }

    /// Fetches the ticket (holding the lock), with the cached token or a new one; an expired
    /// token is renewed once.
    async fn fetch_ticket(&self) -> Result<String, WebError> {
        let mut token = match self.cached("access-token").await {
            Some(token) => token,
            None => self.fetch_token().await?,
        };
        let mut renewed = false;
        loop {
            let answer: Answer<Ticket> = self
                .call(
                    "/cgi-bin/ticket/getticket",
                    &[("access_token", token.as_str()), ("type", "jsapi")],
                )
                .await?;
            match (answer.errcode, answer.body) {
                (
                    0,
                    Some(Ticket {
                        ticket: Some(ticket),
                        expires_in,
                    }),
                ) if !ticket.is_empty() => {
                    self.keep("jsapi-ticket", &ticket, expires_in).await;
                    return Ok(ticket);
                }
                (errcode, _) if token_expired(errcode) && !renewed => {
                    tracing::info!(errcode, "WeChat says the access token expired; renewing it");
                    let _ = self.cache.delete(&self.key("access-token")).await;
                    token = self.fetch_token().await?;
                    renewed = true;
                }
                (errcode, _) => return Err(failure(errcode, answer.errmsg)),
            }
        }
    }

    async fn fetch_token(&self) -> Result<String, WebError> {
        let answer: Answer<Token> = self
            .call(
                "/cgi-bin/token",
                &[
                    ("grant_type", "client_credential"),
                    ("appid", self.settings.appid.as_str()),
                    ("secret", self.settings.secret.expose_secret()),
                ],
            )
            .await?;
        match (answer.errcode, answer.body) {
            (
                0,
                Some(Token {
                    access_token: Some(token),
                    expires_in,
                }),
            ) if !token.is_empty() => {
                self.keep("access-token", &token, expires_in).await;
                Ok(token)
            }
            // At `cgi-bin/token` 40001 means the secret is wrong.
            (40001, _) => Err(WebError::Misconfigured(40001)),
            (errcode, _) => Err(failure(errcode, answer.errmsg)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JS-SDK 说明文档, 附录1: the documented example and its signature.
    #[test]
    fn the_signature_matches_wechats_documented_example() {
        assert_eq!(
            js_signature(
                "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                "Wm3WZYTPz0wzccnW",
                1414587457,
                "http://mp.weixin.qq.com?params=value",
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }

    #[test]
    fn the_authorisation_address_is_wechats_with_its_fragment() {
        let oa = OfficialAccount::new(
            WebSettings {
                appid: "wx520c15f417810387".into(),
                secret: SecretString::from("s"),
                base_url: "https://api.weixin.qq.com".into(),
                authorize_url: "https://open.weixin.qq.com/connect/oauth2/authorize".into(),
            },
            Arc::new(crate::infra::cache::MemoryCache::new(10)),
        );
        assert_eq!(
            oa.authorize_url("https://a.example/login/wechat/back", Scope::Base, "xyz"),
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387\
             &redirect_uri=https%3A%2F%2Fa.example%2Flogin%2Fwechat%2Fback&response_type=code\
             &scope=snsapi_base&state=xyz#wechat_redirect"
        );
    }
}
