//! The marketplace's catalogue (product categories) and farmers' listings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProductCategories::Table)
                    .col(big_pk_auto(ProductCategories::Id))
                    .col(string_len(ProductCategories::Code, 32).unique_key())
                    .col(string_len(ProductCategories::NameZh, 32))
                    .col(string_len(ProductCategories::NameEn, 64))
                    .col(string_len(ProductCategories::DefaultUnit, 8))
                    .col(big_integer_null(ProductCategories::ReferencePriceFen))
                    .col(boolean(ProductCategories::Active))
                    .col(timestamp_with_time_zone(ProductCategories::CreatedAt))
                    .col(timestamp_with_time_zone(ProductCategories::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Listings::Table)
                    .col(big_pk_auto(Listings::Id))
                    .col(big_integer(Listings::SellerUserId))
                    .col(big_integer(Listings::HouseholdId))
                    .col(string_len(Listings::VillageCode, 12))
                    .col(big_integer(Listings::CategoryId))
                    .col(string_len(Listings::Title, 64))
                    .col(text(Listings::Description))
                    .col(big_integer(Listings::PriceFen))
                    .col(string_len(Listings::Unit, 8))
                    .col(big_integer(Listings::Stock))
                    .col(big_integer(Listings::MinOrder))
                    .col(string_len(Listings::Status, 16))
                    .col(timestamp_with_time_zone(Listings::CreatedAt))
                    .col(timestamp_with_time_zone(Listings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_listings_household")
                            .from(Listings::Table, Listings::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_listings_category")
                            .from(Listings::Table, Listings::CategoryId)
                            .to(ProductCategories::Table, ProductCategories::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_listings_status_category",
                vec![Listings::Status, Listings::CategoryId],
            ),
            ("idx_listings_village", vec![Listings::VillageCode]),
            ("idx_listings_household", vec![Listings::HouseholdId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Listings::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Listings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProductCategories::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ProductCategories {
    Table,
    Id,
    Code,
    NameZh,
    NameEn,
    DefaultUnit,
    ReferencePriceFen,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    Id,
    SellerUserId,
    HouseholdId,
    VillageCode,
    CategoryId,
    Title,
    Description,
    PriceFen,
    Unit,
    Stock,
    MinOrder,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
