//! Help (帮扶) and visits (走访): what each registered or monitored household was given, by
//! kind, and what a cadre found at its door. Both are append-only records.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HelpRecords::Table)
                    .col(big_pk_auto(HelpRecords::Id))
                    .col(big_integer(HelpRecords::HouseholdId))
                    .col(string_len(HelpRecords::VillageCode, 12))
                    .col(string_len(HelpRecords::Kind, 24))
                    .col(date(HelpRecords::GivenOn))
                    .col(big_integer_null(HelpRecords::AmountFen))
                    .col(string_len_null(HelpRecords::Note, 500))
                    .col(big_integer(HelpRecords::RecordedBy))
                    .col(timestamp_with_time_zone(HelpRecords::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_help_records_household")
                            .from(HelpRecords::Table, HelpRecords::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_help_records_household")
                    .table(HelpRecords::Table)
                    .col(HelpRecords::HouseholdId)
                    .col(HelpRecords::GivenOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_help_records_village")
                    .table(HelpRecords::Table)
                    .col(HelpRecords::VillageCode)
                    .col(HelpRecords::GivenOn)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HouseholdVisits::Table)
                    .col(big_pk_auto(HouseholdVisits::Id))
                    .col(big_integer(HouseholdVisits::HouseholdId))
                    .col(string_len(HouseholdVisits::VillageCode, 12))
                    .col(date(HouseholdVisits::VisitedOn))
                    .col(string_len(HouseholdVisits::Findings, 500))
                    .col(string_len_null(HouseholdVisits::PhotoId, 64))
                    .col(big_integer(HouseholdVisits::VisitedBy))
                    .col(timestamp_with_time_zone(HouseholdVisits::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_visits_household")
                            .from(HouseholdVisits::Table, HouseholdVisits::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_visits_photo")
                            .from(HouseholdVisits::Table, HouseholdVisits::PhotoId)
                            .to(Photos::Table, Photos::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_household_visits_household")
                    .table(HouseholdVisits::Table)
                    .col(HouseholdVisits::HouseholdId)
                    .col(HouseholdVisits::VisitedOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HouseholdVisits::Table.into_iden(),
            HelpRecords::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum HelpRecords {
    Table,
    Id,
    HouseholdId,
    VillageCode,
    Kind,
    GivenOn,
    AmountFen,
    Note,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HouseholdVisits {
    Table,
    Id,
    HouseholdId,
    VillageCode,
    VisitedOn,
    Findings,
    PhotoId,
    VisitedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
}
