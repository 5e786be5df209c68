//! The outside parts the services stand on: database, cache, passwords and tokens (and later
//! object storage, QR, images, SMS, WeChat), each behind a small type with one real
//! implementation and, where an embedded default serves, a second.

pub mod blobs;
pub mod cache;
pub mod certificate_label;
pub mod db;
pub mod imaging;
pub mod labels;
pub mod passwords;
pub mod pii;
pub mod qr;
pub mod sms;
pub mod tokens;
pub mod trace_codes;
pub mod wechat;
pub mod wechat_web;
