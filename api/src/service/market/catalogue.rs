//! Product categories: the county's goods, each with a default unit and a guide price. Managed
//! by county officials; everyone may read them.

use chrono::Utc;
use entities::{
    listing::Unit,
    product_category::{self, Model as Category},
    user::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use super::MarketError;
use crate::{
    infra::db::Database,
    service::{
        idempotency::{self, Claim},
        policy::Actor,
    },
};

/// The county's goods, present from the start: (code, 中文, English, unit, guide price in fen).
pub const DEFAULT_CATEGORIES: &[(&str, &str, &str, Unit, Option<i64>)] = &[
    (
        "sweet_potato_vermicelli",
        "红苕粉",
        "Sweet-potato vermicelli",
        Unit::Jin,
        Some(1_500),
    ),
    (
        "potato_chips",
        "洋芋片",
        "Potato chips",
        Unit::Box,
        Some(2_500),
    ),
    (
        "free_range_eggs",
        "土鸡蛋",
        "Free-range eggs",
        Unit::Piece,
        Some(150),
    ),
    (
        "chrysanthemum",
        "菊花",
        "Chrysanthemum",
        Unit::Jin,
        Some(6_000),
    ),
    (
        "black_fungus",
        "黑木耳",
        "Black fungus",
        Unit::Jin,
        Some(5_000),
    ),
    (
        "red_tangerine",
        "红橘",
        "Red tangerine",
        Unit::Jin,
        Some(400),
    ),
    ("wild_honey", "土蜂蜜", "Wild honey", Unit::Jin, Some(8_000)),
    ("cured_pork", "腊肉", "Cured pork", Unit::Jin, Some(4_500)),
    ("walnuts", "核桃", "Walnuts", Unit::Jin, Some(2_000)),
    ("konjac", "魔芋", "Konjac", Unit::Jin, Some(600)),
    ("green_tea", "绿茶", "Green tea", Unit::Jin, Some(20_000)),
    ("chestnuts", "板栗", "Chestnuts", Unit::Jin, Some(1_000)),
];

/// Adds the default categories that are missing; returns how many were added.
pub async fn ensure_defaults(db: &Database) -> Result<usize, MarketError> {
    let txn = db.begin_write().await?;
    let existing: Vec<String> = product_category::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let now = Utc::now();
    let missing: Vec<product_category::ActiveModel> = DEFAULT_CATEGORIES
        .iter()
        .filter(|(code, ..)| !existing.iter().any(|e| e == code))
        .map(
            |(code, zh, en, unit, price)| product_category::ActiveModel {
                code: Set((*code).to_owned()),
                name_zh: Set((*zh).to_owned()),
                name_en: Set((*en).to_owned()),
                default_unit: Set(*unit),
                reference_price_fen: Set(*price),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .collect();
    let added = missing.len();
    product_category::Entity::insert_many(missing)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(added)
}

/// Every category in code order; inactive ones only when asked.
pub async fn list(db: &Database, include_inactive: bool) -> Result<Vec<Category>, MarketError> {
    let mut query = product_category::Entity::find().order_by_asc(product_category::Column::Code);
    if !include_inactive {
        query = query.filter(product_category::Column::Active.eq(true));
    }
    Ok(query.all(db.conn()).await?)
}

/// A category to add or the changes to one; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct CategoryFields {
    pub code: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub default_unit: Option<Unit>,
    /// `Some(None)` clears it.
    pub reference_price_fen: Option<Option<i64>>,
    pub active: Option<bool>,
}

fn may_manage(actor: &Actor) -> bool {
    matches!(actor.role, Role::CountyOfficial | Role::Admin)
}

fn check(fields: &CategoryFields) -> Result<(), MarketError> {
    let invalid = |reason| Err(MarketError::Invalid(reason));
    if let Some(code) = &fields.code
        && (code.is_empty()
            || code.len() > 32
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    {
        return invalid(crate::service::reasons::category_code_format());
    }
    for name in [&fields.name_zh, &fields.name_en].into_iter().flatten() {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 32 {
            return invalid(crate::service::reasons::category_name_length());
        }
    }
    if let Some(Some(price)) = fields.reference_price_fen
        && !(1..=100_000_000).contains(&price)
    {
        return invalid(crate::service::reasons::guide_price_range());
    }
    Ok(())
}

pub async fn create(
    db: &Database,
    actor: &Actor,
    fields: CategoryFields,
) -> Result<Category, MarketError> {
    create_keyed(db, actor, fields, None).await
}

/// [`create`], once for a client's key: the same request sent again answers the category the
/// first one added; the key with another request is refused.
pub async fn create_keyed(
    db: &Database,
    actor: &Actor,
    fields: CategoryFields,
    key: Option<&str>,
) -> Result<Category, MarketError> {
    if !may_manage(actor) {
        return Err(MarketError::Forbidden);
    }
    let claim = Claim::new(
        actor,
        key,
        "category",
        serde_json::json!([
            fields.code,
            fields.name_zh.as_deref().map(str::trim),
            fields.name_en.as_deref().map(str::trim),
            fields.default_unit.map(|u| format!("{u:?}")),
            fields.reference_price_fen,
            fields.active,
        ]),
    )?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return category_made(db, idempotency::id_of(&earlier)?).await;
    }
    check(&fields)?;
    let (Some(code), Some(name_zh), Some(name_en), Some(unit)) = (
        fields.code.clone(),
        fields.name_zh.clone(),
        fields.name_en.clone(),
        fields.default_unit,
    ) else {
        return Err(MarketError::Invalid(
            crate::service::reasons::category_incomplete(),
        ));
    };
    let txn = db.begin_write().await?;
    if product_category::Entity::find()
        .filter(product_category::Column::Code.eq(&code))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(MarketError::CategoryTaken(code));
    }
    let now = Utc::now();
    let category = product_category::ActiveModel {
        code: Set(code),
        name_zh: Set(name_zh.trim().to_owned()),
        name_en: Set(name_en.trim().to_owned()),
        default_unit: Set(unit),
        reference_price_fen: Set(fields.reference_price_fen.flatten()),
        active: Set(fields.active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let resource = category.id.to_string();
    if let Some(winner) = idempotency::commit(db, txn, claim.as_ref(), &resource).await? {
        return category_made(db, idempotency::id_of(&winner)?).await;
    }
    Ok(category)
}

/// The category an earlier request with the same key added.
async fn category_made(db: &Database, id: i64) -> Result<Category, MarketError> {
    product_category::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(MarketError::NotFound)
}

/// Changes names, unit, guide price or whether new listings may use it; the code stays.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: i64,
    fields: CategoryFields,
) -> Result<Category, MarketError> {
    if !may_manage(actor) {
        return Err(MarketError::Forbidden);
    }
    if fields.code.is_some() {
        return Err(MarketError::Invalid(
            crate::service::reasons::category_code_fixed(),
        ));
    }
    check(&fields)?;
    let txn = db.begin_write().await?;
    let category = product_category::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let mut active = category.into_active_model();
    if let Some(name) = fields.name_zh {
        active.name_zh = Set(name.trim().to_owned());
    }
    if let Some(name) = fields.name_en {
        active.name_en = Set(name.trim().to_owned());
    }
    if let Some(unit) = fields.default_unit {
        active.default_unit = Set(unit);
    }
    if let Some(price) = fields.reference_price_fen {
        active.reference_price_fen = Set(price);
    }
    if let Some(flag) = fields.active {
        active.active = Set(flag);
    }
    active.updated_at = Set(Utc::now());
    let category = active.update(&txn).await?;
    txn.commit().await?;
    Ok(category)
}
