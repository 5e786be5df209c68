//! Orders keep their buyers' idempotency keys in the shared `idempotency_keys` table, as every
//! other creation does, instead of two columns of their own. Each key an order kept is carried
//! over with the order's id as what it made and a digest of the order's request computed as
//! the order service computes it, so a buyer's retry after the upgrade still finds its order.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, QueryResult},
};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "uq_orders_buyer_idempotency_key";

/// What the order service's claim names an order's creation.
const OPERATION: &str = "order";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let keyed = Query::select()
            .columns([
                Orders::Id,
                Orders::BuyerUserId,
                Orders::IdempotencyKey,
                Orders::ListingId,
                Orders::Quantity,
                Orders::ProvinceCode,
                Orders::CityCode,
                Orders::Address,
                Orders::RecipientName,
                Orders::RecipientPhone,
            ])
            .from(Orders::Table)
            .and_where(Expr::col(Orders::IdempotencyKey).is_not_null())
            .order_by(Orders::Id, Order::Asc)
            .to_owned();
        for row in db.query_all(&keyed).await? {
            let id: i64 = row.try_get("", "id")?;
            let digest = request_digest(&row)?;
            // The key's time is the order's: a key older than the shared table keeps is new
            // again, as it would have been there.
            let carried = Query::insert()
                .into_table(IdempotencyKeys::Table)
                .columns([
                    IdempotencyKeys::UserId,
                    IdempotencyKeys::Key,
                    IdempotencyKeys::Operation,
                    IdempotencyKeys::RequestDigest,
                    IdempotencyKeys::Resource,
                    IdempotencyKeys::CreatedAt,
                ])
                .select_from(
                    Query::select()
                        .column(Orders::BuyerUserId)
                        .column(Orders::IdempotencyKey)
                        .expr(Expr::val(OPERATION))
                        .expr(Expr::val(digest))
                        .expr(Expr::val(id.to_string()))
                        .column(Orders::PlacedAt)
                        .from(Orders::Table)
                        .and_where(Expr::col(Orders::Id).eq(id))
                        .to_owned(),
                )
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned();
            db.execute(&carried).await?;
        }
        manager
            .drop_index(Index::drop().name(INDEX).table(Orders::Table).to_owned())
            .await?;
        for column in [Orders::IdempotencyKey, Orders::RequestDigest] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Orders::IdempotencyKey, Orders::RequestDigest] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(string_len_null(column, 64))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Orders::Table)
                    .col(Orders::BuyerUserId)
                    .col(Orders::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The keys go back to their orders (with the shared table's digest, which the order
        // service of before does not compute: a retry of those is refused, never doubled).
        let db = manager.get_connection();
        let kept = Query::select()
            .columns([
                IdempotencyKeys::UserId,
                IdempotencyKeys::Key,
                IdempotencyKeys::RequestDigest,
                IdempotencyKeys::Resource,
            ])
            .from(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::Operation).eq(OPERATION))
            .to_owned();
        for row in db.query_all(&kept).await? {
            let key: String = row.try_get("", "key")?;
            let digest: String = row.try_get("", "request_digest")?;
            let resource: String = row.try_get("", "resource")?;
            let Ok(id) = resource.parse::<i64>() else {
                continue;
            };
            let back = Query::update()
                .table(Orders::Table)
                .value(Orders::IdempotencyKey, key)
                .value(Orders::RequestDigest, digest)
                .and_where(Expr::col(Orders::Id).eq(id))
                .to_owned();
            db.execute(&back).await?;
        }
        let gone = Query::delete()
            .from_table(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::Operation).eq(OPERATION))
            .to_owned();
        db.execute(&gone).await?;
        Ok(())
    }
}

/// SHA-256 of `["order", request]`, the request as the order service lists it: listing,
/// quantity, province, city, address, recipient's name and phone (stored trimmed).
fn request_digest(row: &QueryResult) -> Result<String, DbErr> {
    let listing_id: i64 = row.try_get("", "listing_id")?;
    let quantity: i64 = row.try_get("", "quantity")?;
    let province: String = row.try_get("", "province_code")?;
    let city: String = row.try_get("", "city_code")?;
    let address: String = row.try_get("", "address")?;
    let name: String = row.try_get("", "recipient_name")?;
    let phone: String = row.try_get("", "recipient_phone")?;
    let canonical = serde_json::json!([
        OPERATION,
        [
            listing_id,
            quantity,
            province,
            city,
            address.trim(),
            name.trim(),
            phone
        ]
    ]);
    Ok(Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    BuyerUserId,
    IdempotencyKey,
    RequestDigest,
    ListingId,
    Quantity,
    ProvinceCode,
    CityCode,
    Address,
    RecipientName,
    RecipientPhone,
    PlacedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Operation,
    RequestDigest,
    Resource,
    CreatedAt,
}
