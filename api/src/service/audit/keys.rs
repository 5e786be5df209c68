//! The audit keys, all kept outside the database: the HMAC key that links entries (and the keys
//! before it, so older entries still verify), and the Ed25519 key that signs checkpoints (and
//! the public keys before it).
//!
//! Every write path appends through `audit::append` with nothing but its transaction, so the
//! link key is process configuration like the log subscriber: installed once at start from the
//! settings, with the development key until then.

use std::sync::{Arc, LazyLock, RwLock};

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::DEVELOPMENT_SECRET_KEY;

/// Hex digits of a key id.
const KEY_ID_LEN: usize = 8;

/// The raw settings, as `Settings::audit_keys` hands them over.
#[derive(Clone, Debug, Default)]
pub struct AuditKeySettings {
    /// The link key; the development key when not set.
    pub link: Option<SecretString>,
    /// Link keys before rotations.
    pub previous_links: Vec<SecretString>,
    /// The 32-byte Ed25519 seed, hex or base64; the development seed when not set.
    pub signing: Option<SecretString>,
    /// Public keys before rotations, hex or base64.
    pub previous_public: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("SHANHUO_AUDIT_SIGNING_KEY must be a 32-byte seed in hex (64 digits) or base64")]
    SigningKey,
    #[error(
        "SHANHUO_AUDIT_PREVIOUS_PUBLIC_KEYS has {0:?}, which is not a 32-byte Ed25519 public key in hex or base64"
    )]
    PublicKey(String),
}

/// One link key and its id.
pub struct LinkKey {
    id: String,
    mac: Hmac<Sha256>,
}

impl LinkKey {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let digest = Sha256::digest(bytes);
        Self {
            id: hex(&digest)[..KEY_ID_LEN].to_owned(),
            mac: <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("any key length"),
        }
    }

    /// The first hex digits of the key's SHA-256, stored with each entry it links.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 of `message`, hex.
    pub fn link(&self, message: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(message);
        hex(&mac.finalize().into_bytes())
    }
}

/// A public key that checkpoints may be signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// The first hex digits of the SHA-256 of the key's 32 bytes.
    pub id: String,
    /// The key's 32 bytes, base64.
    pub base64: String,
    /// Whether the server signs with it now (the others are from before a rotation).
    pub current: bool,
    key: VerifyingKey,
}

impl PublicKey {
    fn new(key: VerifyingKey, current: bool) -> Self {
        Self {
            id: hex(&Sha256::digest(key.as_bytes()))[..KEY_ID_LEN].to_owned(),
            base64: STANDARD.encode(key.as_bytes()),
            current,
            key,
        }
    }

    pub fn verifies(&self, message: &[u8], signature_hex: &str) -> bool {
        let Some(bytes) = unhex(signature_hex).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

/// Every audit key the server knows.
pub struct AuditKeys {
    link: LinkKey,
    previous_links: Vec<LinkKey>,
    signing: SigningKey,
    /// The current public key first.
    public: Vec<PublicKey>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("link", &self.link.id)
            .field(
                "previous_links",
                &self
                    .previous_links
                    .iter()
                    .map(|k| &k.id)
                    .collect::<Vec<_>>(),
            )
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl AuditKeys {
    pub fn new(settings: &AuditKeySettings) -> Result<Self, KeyError> {
        let link = match &settings.link {
            Some(key) => LinkKey::new(key),
            None => LinkKey::new(&development_link_key()),
        };
        let seed = match &settings.signing {
            Some(seed) => decode_32(seed.expose_secret()).ok_or(KeyError::SigningKey)?,
            None => Sha256::digest(format!("{DEVELOPMENT_SECRET_KEY}:audit-signing")).into(),
        };
        let signing = SigningKey::from_bytes(&seed);
        let mut public = vec![PublicKey::new(signing.verifying_key(), true)];
        for raw in &settings.previous_public {
            let key = decode_32(raw)
                .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
                .ok_or_else(|| KeyError::PublicKey(raw.clone()))?;
            if public.iter().all(|p| p.key != key) {
                public.push(PublicKey::new(key, false));
            }
        }
        Ok(Self {
            link,
            previous_links: settings.previous_links.iter().map(LinkKey::new).collect(),
            signing,
            public,
        })
    }

    /// The keys of a development machine.
    pub fn development() -> Self {
        Self::new(&AuditKeySettings::default()).expect("the development keys are valid")
    }

    /// The key new entries are linked with.
    pub fn link_key(&self) -> &LinkKey {
        &self.link
    }

    /// The link key with this id: the current one or one from before a rotation.
    pub fn link_key_by_id(&self, id: &str) -> Option<&LinkKey> {
        std::iter::once(&self.link)
            .chain(&self.previous_links)
            .find(|k| k.id == id)
    }

    /// The public keys checkpoints may be signed with, the current one first.
    pub fn public_keys(&self) -> &[PublicKey] {
        &self.public
    }

    pub fn public_key_by_id(&self, id: &str) -> Option<&PublicKey> {
        self.public.iter().find(|k| k.id == id)
    }

    /// The id of the key `sign` signs with.
    pub fn signing_key_id(&self) -> &str {
        &self.public[0].id
    }

    /// Ed25519 signature of `message`, hex.
    pub fn sign(&self, message: &[u8]) -> String {
        hex(&self.signing.sign(message).to_bytes())
    }

    /// Makes these the keys `append` links with and `verify` checks with from now on.
    pub fn install(self: &Arc<Self>) {
        *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = self.clone();
    }
}

/// The development link key: derived from the development secret, refused in production.
fn development_link_key() -> SecretString {
    SecretString::from(format!("{DEVELOPMENT_SECRET_KEY}:audit"))
}

static INSTALLED: LazyLock<RwLock<Arc<AuditKeys>>> =
    LazyLock::new(|| RwLock::new(Arc::new(AuditKeys::development())));

/// The keys the settings named at start (the development keys until then).
pub fn installed() -> Arc<AuditKeys> {
    INSTALLED.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// 32 bytes from 64 hex digits or from base64.
fn decode_32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 {
        unhex(text)?
    } else {
        STANDARD.decode(text).ok()?
    };
    bytes.try_into().ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_reads_as_hex_or_base64_and_anything_else_is_refused() {
        let seed = [7u8; 32];
        let as_hex = hex(&seed);
        let as_base64 = STANDARD.encode(seed);
        for text in [as_hex.as_str(), as_base64.as_str()] {
            assert_eq!(decode_32(text), Some(seed));
        }
        assert_eq!(decode_32("not a key"), None);
        assert_eq!(decode_32(&hex(&[7u8; 31])), None);
    }

    #[test]
    fn a_signature_verifies_only_under_its_own_key_and_message() {
        let keys = AuditKeys::development();
        let signature = keys.sign(b"head");
        let public = &keys.public_keys()[0];
        assert!(public.verifies(b"head", &signature));
        assert!(!public.verifies(b"other head", &signature));
        assert!(!public.verifies(b"head", "00"));
    }
}
