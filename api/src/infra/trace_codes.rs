//! Trace codes: short, signed strings printed as QR codes. A code names a batch and an item in
//! it (item 0 is the code for the whole batch) and carries a truncated HMAC under a key derived
//! from the server secret, so a forged or mistyped code is refused by arithmetic alone, before
//! any database or cache lookup.
//!
//! Layout: one character naming the key (so codes signed before a secret rotation still
//! verify), then 20 characters of Crockford base32 (upper-case letters and digits, no I, L, O
//! or U) holding 100 bits: the batch id (32), the item number (24) and the MAC (44). Upper-case
//! alphanumerics let a QR code use its compact alphanumeric mode.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::pii::derive_key;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LEN: usize = 21;
const MAC_BITS: u32 = 44;
/// The most items one batch may have codes for.
pub const MAX_ITEM: u32 = (1 << 24) - 1;

/// What a genuine code names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceCode {
    pub batch_id: u32,
    /// 0 for the batch's own code; 1… for serialised items.
    pub item: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodeError {
    #[error("a trace code has 21 letters and digits")]
    Malformed,
    #[error("the code's key is not known")]
    UnknownKey,
    #[error("the code's signature does not match: it is forged or mistyped")]
    Forged,
}

struct SigningKey {
    id: u8,
    /// The HMAC with the key already absorbed: each code clones it instead of keying again.
    keyed: Hmac<Sha256>,
}

impl SigningKey {
    fn derive(secret: &SecretString) -> Self {
        let key = derive_key(b"shanhuo/trace-code/v1", secret.expose_secret());
        // The key's name is a function of the key, so a rotation renames it by itself.
        let id = ALPHABET[(key[31] % 32) as usize];
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
        Self { id, keyed }
    }

    fn mac(&self, batch_id: u32, item: u32) -> u64 {
        let mut mac = self.keyed.clone();
        mac.update(&[self.id]);
        mac.update(&batch_id.to_be_bytes());
        mac.update(&item.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        u64::from_be_bytes(tag[..8].try_into().expect("8 bytes")) >> (64 - MAC_BITS)
    }
}

/// Signs and checks trace codes with the current secret, and the one before a rotation.
pub struct TraceKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl std::fmt::Debug for TraceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceKeys")
            .field("id", &(self.current.id as char))
            .finish()
    }
}

impl TraceKeys {
    pub fn new(secret: &SecretString, previous: Option<&SecretString>) -> Self {
        Self {
            current: SigningKey::derive(secret),
            previous: previous.map(SigningKey::derive),
        }
    }

    /// The printed code for an item of a batch.
    pub fn sign(&self, code: TraceCode) -> String {
        assert!(code.item <= MAX_ITEM, "an item number fits in 24 bits");
        let key = &self.current;
        let bits: u128 = (u128::from(code.batch_id) << (24 + MAC_BITS))
            | (u128::from(code.item) << MAC_BITS)
            | u128::from(key.mac(code.batch_id, code.item));
        let mut out = String::with_capacity(CODE_LEN);
        out.push(key.id as char);
        for i in (0..20).rev() {
            out.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
        }
        out
    }

    /// What a code names, if it is genuine. Lower case, the look-alikes people type (O for 0,
    /// I and L for 1) and the groups a label prints (spaces, hyphens) are accepted.
    pub fn verify(&self, text: &str) -> Result<TraceCode, CodeError> {
        let values = values_of(text).ok_or(CodeError::Malformed)?;
        let id = ALPHABET[values[0] as usize];
        let bits = values[1..]
            .iter()
            .fold(0u128, |acc, v| (acc << 5) | u128::from(*v));
        let batch_id = (bits >> (24 + MAC_BITS)) as u32;
        let item = ((bits >> MAC_BITS) & u128::from(MAX_ITEM)) as u32;
        let presented = (bits & ((1u128 << MAC_BITS) - 1)) as u64;
        let mut known = false;
        for key in std::iter::once(&self.current).chain(&self.previous) {
            if key.id != id {
                continue;
            }
            known = true;
            let expected = key.mac(batch_id, item);
            if bool::from(expected.to_be_bytes().ct_eq(&presented.to_be_bytes())) {
                return Ok(TraceCode { batch_id, item });
            }
        }
        Err(if known {
            CodeError::Forged
        } else {
            CodeError::UnknownKey
        })
    }
}

/// Whether `c` only separates the groups of a typed or printed code.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '－' | '—' | '·')
}

/// The digits of a code as typed: separators skipped, look-alikes read; `None` unless there
/// are exactly 21 of them.
fn values_of(text: &str) -> Option<[u8; CODE_LEN]> {
    let mut values = [0u8; CODE_LEN];
    let mut n = 0;
    for c in text.chars().filter(|&c| !is_separator(c)) {
        let b = u8::try_from(c).ok()?;
        *values.get_mut(n)? = digit(b)?;
        n += 1;
    }
    (n == CODE_LEN).then_some(values)
}

/// A code in the one spelling the server prints (upper case, no groups, look-alikes read).
/// What is not a code at all is only trimmed and upper-cased, to be shown back as typed.
pub fn canonical(text: &str) -> String {
    match values_of(text) {
        Some(values) => values
            .iter()
            .map(|&v| ALPHABET[v as usize] as char)
            .collect(),
        None => text.trim().to_uppercase(),
    }
}

/// A code in groups of four, as a label prints it for typing: `1000 0008 000A W8S1 99TT 7`.
/// What is not a canonical code is answered as it is.
pub fn grouped(code: &str) -> String {
    if code.len() != CODE_LEN || !code.bytes().all(|b| ALPHABET.contains(&b)) {
        return code.to_owned();
    }
    let mut out = String::with_capacity(code.len() + code.len() / 4);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The value of one Crockford base32 character.
fn digit(b: u8) -> Option<u8> {
    let b = match b.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TraceKeys {
        TraceKeys::new(
            &SecretString::from("a-secret-of-thirty-two-characters!!"),
            None,
        )
    }

    #[test]
    fn a_signed_code_verifies_to_what_it_names() {
        let keys = keys();
        for code in [
            TraceCode {
                batch_id: 1,
                item: 0,
            },
            TraceCode {
                batch_id: 42,
                item: 100_000,
            },
            TraceCode {
                batch_id: u32::MAX,
                item: MAX_ITEM,
            },
        ] {
            let text = keys.sign(code);
            assert_eq!(text.len(), CODE_LEN);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
            assert_eq!(keys.verify(&text), Ok(code));
            assert_eq!(keys.verify(&text.to_ascii_lowercase()), Ok(code));
        }
    }

    #[test]
    fn any_changed_character_is_caught() {
        let keys = keys();
        let text = keys.sign(TraceCode {
            batch_id: 7,
            item: 3,
        });
        for at in 1..CODE_LEN {
            let mut bytes = text.clone().into_bytes();
            bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(keys.verify(&changed), Err(CodeError::Forged), "{changed}");
        }
        assert_eq!(keys.verify("not a code"), Err(CodeError::Malformed));
        assert_eq!(keys.verify(&text[..20]), Err(CodeError::Malformed));
    }

    #[test]
    fn a_code_typed_in_its_printed_groups_verifies_and_reads_back_canonical() {
        let keys = keys();
        let code = TraceCode {
            batch_id: 8,
            item: 99,
        };
        let text = keys.sign(code);
        let printed = grouped(&text);
        assert_eq!(
            printed.split(' ').map(str::len).collect::<Vec<_>>(),
            [4, 4, 4, 4, 4, 1]
        );
        for typed in [
            printed.clone(),
            printed.to_lowercase(),
            printed.replace(' ', "-"),
            format!("  {}\u{3000}", printed.replace(' ', "\u{3000}")),
        ] {
            assert_eq!(keys.verify(&typed), Ok(code), "{typed}");
            assert_eq!(canonical(&typed), text, "{typed}");
        }
        let looks_alike = text.replace('0', "o").replace('1', "l");
        assert_eq!(canonical(&looks_alike), text);
        assert_eq!(canonical(" <b>hi</b> "), "<B>HI</B>");
        assert_eq!(grouped("<B>HI</B>"), "<B>HI</B>");
        assert_eq!(keys.verify(&format!("{text}0")), Err(CodeError::Malformed));
    }

    #[test]
    fn codes_signed_before_a_rotation_still_verify() {
        let old = SecretString::from("the-secret-before-the-rotation-000");
        let new = SecretString::from("the-secret-after-the-rotation-1111");
        let before = TraceKeys::new(&old, None).sign(TraceCode {
            batch_id: 9,
            item: 1,
        });
        let rotated = TraceKeys::new(&new, Some(&old));
        assert_eq!(
            rotated.verify(&before),
            Ok(TraceCode {
                batch_id: 9,
                item: 1
            })
        );
        let forgotten = TraceKeys::new(&new, None);
        assert!(forgotten.verify(&before).is_err());
    }
}
