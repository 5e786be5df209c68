//! Listing photos (content-addressed) and buyers' orders.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Photos::Table)
                    .col(string_len(Photos::Id, 64).primary_key())
                    .col(integer(Photos::Width))
                    .col(integer(Photos::Height))
                    .col(string_len(Photos::SourceFormat, 8))
                    .col(big_integer(Photos::UploadedBy))
                    .col(timestamp_with_time_zone(Photos::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ListingPhotos::Table)
                    .col(big_integer(ListingPhotos::ListingId))
                    .col(string_len(ListingPhotos::PhotoId, 64))
                    .col(integer(ListingPhotos::Position))
                    .col(timestamp_with_time_zone(ListingPhotos::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ListingPhotos::ListingId)
                            .col(ListingPhotos::PhotoId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_listing_photos_listing")
                            .from(ListingPhotos::Table, ListingPhotos::ListingId)
                            .to(Listings::Table, Listings::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_listing_photos_photo")
                            .from(ListingPhotos::Table, ListingPhotos::PhotoId)
                            .to(Photos::Table, Photos::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(big_pk_auto(Orders::Id))
                    .col(big_integer(Orders::ListingId))
                    .col(big_integer(Orders::HouseholdId))
                    .col(string_len(Orders::VillageCode, 12))
                    .col(big_integer(Orders::CategoryId))
                    .col(big_integer(Orders::SellerUserId))
                    .col(big_integer(Orders::BuyerUserId))
                    .col(big_integer(Orders::Quantity))
                    .col(string_len(Orders::Unit, 8))
                    .col(big_integer(Orders::UnitPriceFen))
                    .col(big_integer(Orders::AmountFen))
                    .col(string_len(Orders::ProvinceCode, 6))
                    .col(string_len(Orders::CityCode, 6))
                    .col(string_len(Orders::Address, 200))
                    .col(string_len(Orders::RecipientName, 32))
                    .col(string_len(Orders::RecipientPhone, 11))
                    .col(string_len(Orders::Status, 16))
                    .col(string_len_null(Orders::IdempotencyKey, 64))
                    .col(string_len_null(Orders::RequestDigest, 64))
                    .col(timestamp_with_time_zone(Orders::PlacedAt))
                    .col(timestamp_with_time_zone_null(Orders::PaidAt))
                    .col(timestamp_with_time_zone_null(Orders::ShippedAt))
                    .col(timestamp_with_time_zone_null(Orders::DeliveredAt))
                    .col(timestamp_with_time_zone_null(Orders::CompletedAt))
                    .col(timestamp_with_time_zone_null(Orders::CancelledAt))
                    .col(string_len_null(Orders::CancelReason, 200))
                    .col(integer_null(Orders::IncomeYear))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_listing")
                            .from(Orders::Table, Orders::ListingId)
                            .to(Listings::Table, Listings::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_household")
                            .from(Orders::Table, Orders::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_orders_buyer_idempotency_key")
                    .table(Orders::Table)
                    .col(Orders::BuyerUserId)
                    .col(Orders::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_orders_listing", vec![Orders::ListingId]),
            ("idx_orders_household", vec![Orders::HouseholdId]),
            ("idx_orders_seller", vec![Orders::SellerUserId]),
            (
                "idx_orders_status_completed",
                vec![Orders::Status, Orders::CompletedAt],
            ),
            ("idx_orders_village", vec![Orders::VillageCode]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Orders::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Orders::Table.into_iden(),
            ListingPhotos::Table.into_iden(),
            Photos::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
    Width,
    Height,
    SourceFormat,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ListingPhotos {
    Table,
    ListingId,
    PhotoId,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    ListingId,
    HouseholdId,
    VillageCode,
    CategoryId,
    SellerUserId,
    BuyerUserId,
    Quantity,
    Unit,
    UnitPriceFen,
    AmountFen,
    ProvinceCode,
    CityCode,
    Address,
    RecipientName,
    RecipientPhone,
    Status,
    IdempotencyKey,
    RequestDigest,
    PlacedAt,
    PaidAt,
    ShippedAt,
    DeliveredAt,
    CompletedAt,
    CancelledAt,
    CancelReason,
    IncomeYear,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
