//! Access tokens: short-lived JWTs signed with HS256 under a key derived from the server secret.
//!
//! The algorithm is pinned (a token naming `none` or any other algorithm is refused before its
//! signature is looked at), issuer and audience are checked, and every key carries a `kid` so the
//! key from before a rotation keeps verifying until its tokens have expired.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "shanhuo";
pub const AUDIENCE: &str = "shanhuo-api";

/// What an access token says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: String,
    pub role: String,
    /// The official's area code, if any.
    pub area: Option<String>,
    /// The user's token version when issued; a higher version in the database revokes it.
    pub tv: i32,
    /// The sign-in this token belongs to (its refresh-token family), for revoking it whole.
    pub sid: String,
    /// This token's own id.
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is signed with an algorithm other than HS256")]
    WrongAlgorithm,
    #[error("the token's key is not known")]
    UnknownKey,
    #[error("the token's signature, issuer or audience is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    /// The signing key is derived from the secret with a purpose label, so the same secret can
    /// key other things without the keys being related.
    fn derive(secret: &SecretString) -> Self {
        let key = Sha256::new()
            .chain_update(b"shanhuo/access-token/v1\0")
            .chain_update(secret.expose_secret().as_bytes())
            .finalize();
        let fingerprint = Sha256::digest(key);
        Self {
            kid: hex(&fingerprint[..6]),
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }
}

pub struct TokenKeys {
    current: Key,
    previous: Option<Key>,
    access_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.current.kid)
            .field("previous_kid", &self.previous.as_ref().map(|k| &k.kid))
            .finish()
    }
}

impl TokenKeys {
    pub fn new(
        secret: &SecretString,
        previous: Option<&SecretString>,
        access_ttl: Duration,
    ) -> Self {
        Self {
            current: Key::derive(secret),
            previous: previous.map(Key::derive),
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Signs an access token for the holder, valid from now for the access TTL.
    pub fn issue(
        &self,
        sub: String,
        role: String,
        area: Option<String>,
        tv: i32,
        sid: String,
    ) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims {
            sub,
            role,
            area,
            tv,
            sid,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::WrongAlgorithm);
        }
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))
            .ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
                jsonwebtoken::errors::ErrorKind::InvalidToken
                | jsonwebtoken::errors::ErrorKind::Base64(_)
                | jsonwebtoken::errors::ErrorKind::Json(_)
                | jsonwebtoken::errors::ErrorKind::Utf8(_) => TokenError::Malformed,
                _ => TokenError::Invalid,
            })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 in lower-case hex, for storing refresh tokens and one-time codes.
pub fn sha256_hex(input: &[u8]) -> String {
    hex(&Sha256::digest(input))
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret), None, Duration::from_secs(900))
    }

    fn issue(keys: &TokenKeys) -> String {
        keys.issue("42".into(), "admin".into(), None, 3, "session".into())
    }

    /// Re-encodes a token's header or claims without re-signing.
    fn tamper(token: &str, part: usize, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut value: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[part]).unwrap()).unwrap();
        edit(&mut value);
        parts[part] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&value).unwrap());
        parts.join(".")
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let keys = keys("one secret that is long enough for tests");
        let claims = keys.verify(&issue(&keys)).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.role.as_str(), claims.tv),
            ("42", "admin", 3)
        );
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let keys = keys("one secret that is long enough for tests");
        let token = issue(&keys);
        let none = tamper(&token, 0, |h| h["alg"] = "none".into());
        let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
        // The library has no `none` algorithm at all, so the header does not even parse.
        assert_eq!(keys.verify(&unsigned), Err(TokenError::Malformed));
        assert_eq!(keys.verify(&none), Err(TokenError::Malformed));
        let rs256 = tamper(&token, 0, |h| h["alg"] = "RS256".into());
        assert_eq!(keys.verify(&rs256), Err(TokenError::WrongAlgorithm));
        let hs512 = tamper(&token, 0, |h| h["alg"] = "HS512".into());
        assert_eq!(keys.verify(&hs512), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn tampered_claims_wrong_keys_and_audiences_are_refused() {
        let keys_a = keys("one secret that is long enough for tests");
        let token = issue(&keys_a);
        let promoted = tamper(&token, 1, |c| c["sub"] = "1".into());
        assert_eq!(keys_a.verify(&promoted), Err(TokenError::Invalid));
        let elsewhere = tamper(&token, 1, |c| c["aud"] = "another-api".into());
        assert_eq!(keys_a.verify(&elsewhere), Err(TokenError::Invalid));

        let keys_b = keys("another secret that is long enough too");
        assert_eq!(keys_b.verify(&token), Err(TokenError::UnknownKey));
        let wrong_kid = tamper(&token, 0, |h| h["kid"] = keys_b.current.kid.clone().into());
        assert_eq!(keys_b.verify(&wrong_kid), Err(TokenError::Invalid));
        assert_eq!(keys_a.verify("not.a.token"), Err(TokenError::Malformed));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys("one secret that is long enough for tests");
        // Signed honestly with the right key, but expired beyond the leeway.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.current.kid.clone());
        let now = jsonwebtoken::get_current_timestamp();
        let old = AccessClaims {
            sub: "42".into(),
            role: "admin".into(),
            area: None,
            tv: 0,
            sid: "session".into(),
            jti: "old".into(),
            iat: now - 3600,
            exp: now - 60,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let expired = jsonwebtoken::encode(&header, &old, &keys.current.encoding).unwrap();
        assert_eq!(keys.verify(&expired), Err(TokenError::Expired));
    }

    #[test]
    fn the_previous_key_still_verifies_after_a_rotation() {
        let old_secret = SecretString::from("the secret before the rotation, long");
        let before = keys("the secret before the rotation, long");
        let token = issue(&before);
        let rotated = TokenKeys::new(
            &SecretString::from("the secret after the rotation, longer"),
            Some(&old_secret),
            Duration::from_secs(900),
        );
        assert!(rotated.verify(&token).is_ok());
        assert!(rotated.verify(&issue(&rotated)).is_ok());
        let forgotten = keys("the secret after the rotation, longer");
        assert_eq!(forgotten.verify(&token), Err(TokenError::UnknownKey));
    }
}
