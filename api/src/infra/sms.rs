//! Text messages with sign-in codes. The log sender (default) writes the code to the server log
//! for development; the HTTP sender posts to a gateway. Production refuses the log sender.
//!
//! The gateway protocol: `POST {url}` with `Authorization: Bearer {key}` and the JSON body
//! `{"phone": "13800138000", "template": "{template}", "params": {"code": "123456"}}`; any 2xx
//! answer means accepted.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::Phone;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the SMS gateway could not be reached: {0}")]
    Unreachable(String),
    #[error("the SMS gateway refused the message with status {status}")]
    Refused { status: u16 },
}

#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_code(&self, phone: &Phone, code: &str) -> Result<(), SmsError>;
}

/// Writes the code to the log, for development without a gateway.
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send_code(&self, phone: &Phone, code: &str) -> Result<(), SmsError> {
        tracing::info!(phone = %phone.masked(), "development SMS: sign-in code {code} (no gateway configured)");
        Ok(())
    }
}

/// Posts to an SMS gateway over HTTP.
pub struct HttpSms {
    client: reqwest::Client,
    url: String,
    api_key: Option<SecretString>,
    template: String,
}

impl HttpSms {
    pub fn new(url: String, api_key: Option<SecretString>, template: String) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout"),
            url,
            api_key,
            template,
        }
    }
}

#[async_trait::async_trait]
impl SmsSender for HttpSms {
    async fn send_code(&self, phone: &Phone, code: &str) -> Result<(), SmsError> {
        let mut request = self.client.post(&self.url).json(&serde_json::json!({
            "phone": phone.as_str(),
            "template": self.template,
            "params": { "code": code },
        }));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        // The error's text names the URL, never the body with the code.
        let response = request
            .send()
            .await
            .map_err(|e| SmsError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SmsError::Refused {
                status: response.status().as_u16(),
            })
        }
    }
}
