//! WeChat mini-program sign-in: the client's `wx.login` code is exchanged for the user's openid
//! with `code2session` (`GET {base}/sns/jscode2session?appid&secret&js_code&grant_type`).
//! WeChat answers errors as `{"errcode": …, "errmsg": …}`, often with a text/plain content type.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Who WeChat says the code belongs to. The session key WeChat also returns is not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeChatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeChatError {
    /// 40029 invalid code, 40163 code already used.
    #[error("WeChat did not accept the login code (errcode {0})")]
    InvalidCode(i64),
    /// 45011: too many calls.
    #[error("WeChat is limiting calls (errcode 45011)")]
    RateLimited,
    /// 40226: WeChat blocks this user as high-risk.
    #[error("WeChat blocks this user (errcode 40226)")]
    Blocked,
    /// -1: WeChat is busy.
    #[error("WeChat is busy (errcode -1)")]
    Busy,
    /// 40013 invalid appid, 40125 invalid secret: our configuration is wrong.
    #[error("WeChat refused this server's credentials (errcode {0})")]
    Misconfigured(i64),
    #[error("WeChat answered errcode {errcode}: {errmsg}")]
    Other { errcode: i64, errmsg: String },
    #[error("WeChat could not be reached: {0}")]
    Unreachable(String),
}

#[async_trait::async_trait]
pub trait WeChat: Send + Sync {
    async fn code_to_session(&self, js_code: &str) -> Result<WeChatIdentity, WeChatError>;
}

/// The real `code2session` over HTTP.
pub struct HttpWeChat {
    client: reqwest::Client,
    base_url: String,
    appid: String,
    secret: SecretString,
}

impl HttpWeChat {
    pub fn new(base_url: &str, appid: String, secret: SecretString) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout"),
            base_url: base_url.trim_end_matches('/').to_owned(),
            appid,
            secret,
        }
    }
}

#[derive(Deserialize)]
struct Code2SessionAnswer {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[async_trait::async_trait]
impl WeChat for HttpWeChat {
    async fn code_to_session(&self, js_code: &str) -> Result<WeChatIdentity, WeChatError> {
        let response = self
            .client
            .get(format!("{}/sns/jscode2session", self.base_url))
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose_secret()),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            // Without the URL: it carries the secret.
            .map_err(|e| WeChatError::Unreachable(e.without_url().to_string()))?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| WeChatError::Unreachable(e.without_url().to_string()))?;
        let answer: Code2SessionAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| WeChatError::Unreachable(format!("unreadable answer: {e}")))?;
        match (answer.errcode, answer.openid) {
            (0, Some(openid)) if !openid.is_empty() => Ok(WeChatIdentity {
                openid,
                unionid: answer.unionid.filter(|u| !u.is_empty()),
            }),
            (40029 | 40163, _) => Err(WeChatError::InvalidCode(answer.errcode)),
            (45011, _) => Err(WeChatError::RateLimited),
            (40226, _) => Err(WeChatError::Blocked),
            (-1, _) => Err(WeChatError::Busy),
            (40013 | 40125, _) => Err(WeChatError::Misconfigured(answer.errcode)),
            (errcode, _) => Err(WeChatError::Other {
                errcode,
                errmsg: answer.errmsg,
            }),
        }
    }
}
