//! Household income by year and source, the basis of the per-capita income an exit assessment
//! checks. One row per household, year and source; completed orders add to `ecommerce`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HouseholdIncomes::Table)
                    .col(big_pk_auto(HouseholdIncomes::Id))
                    .col(big_integer(HouseholdIncomes::HouseholdId))
                    .col(integer(HouseholdIncomes::Year))
                    .col(string_len(HouseholdIncomes::Source, 16))
                    .col(big_integer(HouseholdIncomes::AmountFen))
                    .col(big_integer_null(HouseholdIncomes::UpdatedBy))
                    .col(timestamp_with_time_zone(HouseholdIncomes::CreatedAt))
                    .col(timestamp_with_time_zone(HouseholdIncomes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_incomes_household")
                            .from(HouseholdIncomes::Table, HouseholdIncomes::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_household_incomes_household_year_source")
                    .table(HouseholdIncomes::Table)
                    .col(HouseholdIncomes::HouseholdId)
                    .col(HouseholdIncomes::Year)
                    .col(HouseholdIncomes::Source)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HouseholdIncomes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum HouseholdIncomes {
    Table,
    Id,
    HouseholdId,
    Year,
    Source,
    AmountFen,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
