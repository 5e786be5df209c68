//! The records of sign-ins: refresh tokens, stored only as SHA-256 hashes, grouped in families
//! (the tokens rotated from one login). What a token's state means for signing in is `auth`'s;
//! this module keeps the records, so accounts (`users`) can end their sign-ins without
//! depending on how people sign in.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entities::refresh_token;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretString};

use crate::infra::tokens::sha256_hex;

/// Stores a new refresh token of `family` for `user_id`, valid for `ttl`, and answers it: the
/// only time it is seen whole.
pub async fn issue(
    conn: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    ttl: std::time::Duration,
) -> Result<SecretString, DbErr> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    refresh_token::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family.to_owned()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        expires_at: Set(now + ttl),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(SecretString::from(token))
}

/// The record of a presented refresh token, whatever its state.
pub async fn find(
    conn: &impl ConnectionTrait,
    presented: &SecretString,
) -> Result<Option<refresh_token::Model>, DbErr> {
    let hash = sha256_hex(presented.expose_secret().as_bytes());
    refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(conn)
        .await
}

/// Marks a token used; `false` when another request used it first.
pub async fn claim(
    conn: &impl ConnectionTrait,
    token_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token_id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(claimed.rows_affected > 0)
}

/// Revokes every refresh token a user holds (role change, disabling).
pub async fn revoke_all(conn: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Whether a sign-in was ended (logout, a reused token, a role change): its access tokens are
/// refused from then on.
pub async fn family_revoked(conn: &impl ConnectionTrait, family: &str) -> Result<bool, DbErr> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .one(conn)
        .await?
        .is_some())
}

/// Revokes the tokens of one sign-in.
pub async fn revoke_family(conn: &impl ConnectionTrait, family: &str) -> Result<(), DbErr> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
