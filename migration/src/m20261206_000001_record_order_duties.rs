//! Who took the seller's steps on an order and how its income was confirmed, so that nobody
//! takes both sides of one sale and an order bought by someone close to the producing household
//! counts as income only once a second official confirms it. Orders completed before this are
//! marked `unrecorded`: who completed them was not kept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one change at a time.
        for column in [
            big_integer_null(Orders::PaidByUserId),
            big_integer_null(Orders::ShippedByUserId),
            big_integer_null(Orders::CompletedByUserId),
            string_len_null(Orders::IncomeConfirmation, 16),
            big_integer_null(Orders::ConfirmedByUserId),
            timestamp_with_time_zone_null(Orders::ConfirmedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE orders SET income_confirmation = 'unrecorded' WHERE status = 'completed'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Orders::ConfirmedAt,
            Orders::ConfirmedByUserId,
            Orders::IncomeConfirmation,
            Orders::CompletedByUserId,
            Orders::ShippedByUserId,
            Orders::PaidByUserId,
        ] {
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
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    PaidByUserId,
    ShippedByUserId,
    CompletedByUserId,
    IncomeConfirmation,
    ConfirmedByUserId,
    ConfirmedAt,
}
