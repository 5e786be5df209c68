//! Personal data at rest: ID numbers are sealed with AES-256-GCM (a fresh nonce each time, the
//! key's id stored beside the ciphertext so keys can rotate) and found again through a keyed
//! hash (HMAC-SHA256), which allows exact-match search and duplicate detection without
//! decrypting anything.
//!
//! The search key must stay fixed for the hashes to keep matching; the encryption key can
//! rotate: data sealed under the previous key still opens.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, KeyInit},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const NONCE_BYTES: usize = 12;

/// A sealed value as stored: which key sealed it, and nonce + ciphertext in base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("the value was sealed with key {0}, which this server does not have")]
    UnknownKey(String),
    #[error("the sealed value is damaged or was altered")]
    Corrupt,
}

struct SealingKey {
    id: String,
    cipher: Aes256Gcm,
}

impl SealingKey {
    fn derive(secret: &str) -> Self {
        let key = derive_key(b"shanhuo/pii-encryption/v1", secret);
        Self {
            id: URL_SAFE_NO_PAD.encode(&Sha256::digest(key)[..6]),
            cipher: Aes256Gcm::new_from_slice(&key).expect("a 32-byte key"),
        }
    }
}

pub struct PiiVault {
    current: SealingKey,
    previous: Option<SealingKey>,
    search_key: [u8; 32],
}

/// The keys personal data is sealed and found with.
pub struct PiiKeys {
    /// Seals what is stored from now on.
    pub encryption: SecretString,
    /// The key before a rotation: what it sealed still opens.
    pub previous: Option<SecretString>,
    /// Keys the searchable hash; must never change once data is stored.
    pub search: SecretString,
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiVault")
            .field("key_id", &self.current.id)
            .finish_non_exhaustive()
    }
}

impl PiiVault {
    /// A vault on the configured keys.
    pub fn from_keys(keys: &PiiKeys) -> Self {
        Self::new(
            keys.encryption.expose_secret(),
            keys.previous.as_ref().map(|k| k.expose_secret()),
            keys.search.expose_secret(),
        )
    }

    pub fn new(encryption: &str, previous: Option<&str>, search: &str) -> Self {
        Self {
            current: SealingKey::derive(encryption),
            previous: previous.map(SealingKey::derive),
            search_key: derive_key(b"shanhuo/pii-search/v1", search),
        }
    }

    pub fn seal(&self, plain: &str) -> Sealed {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .expect("AES-GCM sealing of a short value cannot fail");
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.current.id.clone(),
            ciphertext: URL_SAFE_NO_PAD.encode(stored),
        }
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, PiiError> {
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| PiiError::UnknownKey(sealed.key_id.clone()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(&sealed.ciphertext)
            .map_err(|_| PiiError::Corrupt)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(PiiError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| PiiError::Corrupt)?;
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| PiiError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| PiiError::Corrupt)
    }

    /// The keyed hash used to find a value without decrypting: the same value always gives the
    /// same hash under the same search key, and nothing can be learnt from it without the key.
    pub fn search_hash(&self, plain: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.search_key)
            .expect("HMAC takes any key length");
        mac.update(plain.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A 32-byte key for one purpose (`label`) from a configured secret.
pub(crate) fn derive_key(label: &[u8], secret: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(label)
        .chain_update([0])
        .chain_update(secret.as_bytes())
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "11010519491231002X";

    fn vault() -> PiiVault {
        PiiVault::new(
            "encryption key of some length",
            None,
            "search key of some length",
        )
    }

    #[test]
    fn a_sealed_value_opens_to_itself_and_shows_nothing_of_it() {
        let vault = vault();
        let sealed = vault.seal(ID);
        assert!(!sealed.ciphertext.contains(ID));
        assert!(!sealed.ciphertext.contains("19491231"));
        assert_eq!(vault.open(&sealed).unwrap(), ID);
        assert_ne!(vault.seal(ID), sealed, "a fresh nonce every time");
    }

    #[test]
    fn an_altered_ciphertext_or_unknown_key_is_refused() {
        let vault = vault();
        let mut sealed = vault.seal(ID);
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed.ciphertext).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        sealed.ciphertext = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(vault.open(&sealed), Err(PiiError::Corrupt));

        let other = PiiVault::new("another encryption key entirely", None, "s");
        let foreign = other.seal(ID);
        assert!(matches!(vault.open(&foreign), Err(PiiError::UnknownKey(_))));
    }

    #[test]
    fn values_sealed_before_a_rotation_still_open() {
        let before = PiiVault::new("the old encryption key", None, "search");
        let sealed = before.seal(ID);
        let after = PiiVault::new(
            "the new encryption key",
            Some("the old encryption key"),
            "search",
        );
        assert_eq!(after.open(&sealed).unwrap(), ID);
        assert_ne!(after.seal(ID).key_id, sealed.key_id);
        assert_eq!(before.search_hash(ID), after.search_hash(ID));
    }

    #[test]
    fn the_search_hash_is_stable_and_keyed() {
        let vault = vault();
        assert_eq!(vault.search_hash(ID), vault.search_hash(ID));
        assert_eq!(vault.search_hash(ID).len(), 64);
        assert_ne!(
            vault.search_hash(ID),
            vault.search_hash("110105194912310021")
        );
        let other = PiiVault::new("encryption key of some length", None, "another search key");
        assert_ne!(vault.search_hash(ID), other.search_hash(ID));
    }
}
