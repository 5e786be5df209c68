//! Password hashing with Argon2id, off the async threads (a hash takes tens of milliseconds).

use std::sync::LazyLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use secrecy::{ExposeSecret, SecretString};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    Length,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Hashes with a fresh random salt, giving a PHC string (`$argon2id$v=19$…`).
pub async fn hash(password: &SecretString) -> Result<String, PasswordError> {
    let chars = password.expose_secret().chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(PasswordError::Length);
    }
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Hashing(e.to_string()))?
}

/// A hash of nothing anyone knows, checked when there is no real hash so that an unknown phone
/// takes as long to refuse as a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(uuid::Uuid::new_v4().as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Whether the password matches the stored hash. With no hash, does the same work and says no.
pub async fn verify(password: &SecretString, stored: Option<&str>) -> bool {
    let password = password.clone();
    let stored = stored.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let has_real_hash = stored.is_some();
        let phc = stored.unwrap_or_else(|| DECOY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        // The comparison inside is constant-time.
        let matches = Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        has_real_hash && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let password = SecretString::from("山货-correct-horse");
        let stored = hash(&password).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&password, Some(&stored)).await);
        assert!(!verify(&SecretString::from("山货-wrong-horse"), Some(&stored)).await);
        assert!(!verify(&password, None).await);
        assert_ne!(
            stored,
            hash(&password).await.unwrap(),
            "each hash has its own salt"
        );
    }

    #[tokio::test]
    async fn passwords_outside_the_length_limits_are_refused() {
        assert!(matches!(
            hash(&SecretString::from("short")).await,
            Err(PasswordError::Length)
        ));
        let long = SecretString::from("x".repeat(129));
        assert!(matches!(hash(&long).await, Err(PasswordError::Length)));
    }
}
