//! Co-operatives (合作社) that sell their member households' goods.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cooperatives::Table)
                    .col(big_pk_auto(Cooperatives::Id))
                    .col(string_len(Cooperatives::Name, 64))
                    .col(string_len(Cooperatives::AreaCode, 12))
                    .col(big_integer(Cooperatives::ManagerUserId).unique_key())
                    .col(timestamp_with_time_zone(Cooperatives::CreatedAt))
                    .col(timestamp_with_time_zone(Cooperatives::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CooperativeMembers::Table)
                    .col(big_integer(CooperativeMembers::CooperativeId))
                    .col(big_integer(CooperativeMembers::HouseholdId))
                    .col(timestamp_with_time_zone(CooperativeMembers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CooperativeMembers::CooperativeId)
                            .col(CooperativeMembers::HouseholdId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cooperative_members_cooperative")
                            .from(CooperativeMembers::Table, CooperativeMembers::CooperativeId)
                            .to(Cooperatives::Table, Cooperatives::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cooperative_members_household")
                            .from(CooperativeMembers::Table, CooperativeMembers::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Which co-operative sold it, if one did: a column each, no constraint, so `down` can
        // drop it on every database.
        for table in [Listings::Table.into_iden(), Orders::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(big_integer_null(Listings::CooperativeId))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Listings::Table.into_iden(), Orders::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Listings::CooperativeId)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(CooperativeMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Cooperatives::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Cooperatives {
    Table,
    Id,
    Name,
    AreaCode,
    ManagerUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CooperativeMembers {
    Table,
    CooperativeId,
    HouseholdId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    CooperativeId,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
