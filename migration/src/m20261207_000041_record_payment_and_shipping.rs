//! How a buyer pays and how their goods travel: each seller's own instructions for paying
//! (until payments are verified by a payment provider), and on a shipped order the carrier and
//! its waybill number, which the buyer follows on the carrier's tracking page.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentInstructions::Table)
                    .col(
                        big_integer(PaymentInstructions::SellerUserId)
                            .primary_key()
                            .not_null(),
                    )
                    .col(string_len(PaymentInstructions::Instructions, 1000))
                    .col(timestamp_with_time_zone(PaymentInstructions::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                PaymentInstructions::Table,
                                PaymentInstructions::SellerUserId,
                            )
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One column a statement: SQLite alters a table one change at a time.
        for column in [
            string_len_null(Orders::Carrier, 16),
            string_len_null(Orders::WaybillNumber, 32),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Orders::WaybillNumber, Orders::Carrier] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PaymentInstructions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PaymentInstructions {
    Table,
    SellerUserId,
    Instructions,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Carrier,
    WaybillNumber,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
