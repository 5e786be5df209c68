//! De-listing: the checks of a household's assessment (两不愁三保障 and safe water) per year,
//! village indicators per year, and exit cases with every step they took.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HouseholdChecks::Table)
                    .col(big_pk_auto(HouseholdChecks::Id))
                    .col(big_integer(HouseholdChecks::HouseholdId))
                    .col(integer(HouseholdChecks::Year))
                    .col(string_len(HouseholdChecks::Check, 16))
                    .col(boolean(HouseholdChecks::Passed))
                    .col(string_len_null(HouseholdChecks::Note, 500))
                    .col(string_len_null(HouseholdChecks::EvidenceUrl, 500))
                    .col(big_integer(HouseholdChecks::CheckedBy))
                    .col(timestamp_with_time_zone(HouseholdChecks::CheckedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_checks_household")
                            .from(HouseholdChecks::Table, HouseholdChecks::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_household_checks_household_year_check")
                    .table(HouseholdChecks::Table)
                    .col(HouseholdChecks::HouseholdId)
                    .col(HouseholdChecks::Year)
                    .col(HouseholdChecks::Check)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VillageIndicators::Table)
                    .col(big_pk_auto(VillageIndicators::Id))
                    .col(string_len(VillageIndicators::VillageCode, 12))
                    .col(integer(VillageIndicators::Year))
                    .col(boolean(VillageIndicators::HardenedRoad))
                    .col(boolean(VillageIndicators::SafeWater))
                    .col(boolean(VillageIndicators::Power))
                    .col(boolean(VillageIndicators::Broadband))
                    .col(boolean(VillageIndicators::Clinic))
                    .col(boolean(VillageIndicators::CulturalRoom))
                    .col(big_integer(VillageIndicators::CollectiveIncomeFen))
                    .col(big_integer(VillageIndicators::RecordedBy))
                    .col(timestamp_with_time_zone(VillageIndicators::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_village_indicators_village")
                            .from(VillageIndicators::Table, VillageIndicators::VillageCode)
                            .to(Areas::Table, Areas::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_village_indicators_village_year")
                    .table(VillageIndicators::Table)
                    .col(VillageIndicators::VillageCode)
                    .col(VillageIndicators::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ExitCases::Table)
                    .col(big_pk_auto(ExitCases::Id))
                    .col(string_len(ExitCases::Subject, 16))
                    .col(big_integer_null(ExitCases::HouseholdId))
                    .col(string_len(ExitCases::VillageCode, 12))
                    .col(integer(ExitCases::Year))
                    .col(string_len(ExitCases::State, 16))
                    .col(boolean(ExitCases::Open))
                    .col(timestamp_with_time_zone_null(ExitCases::NoticeEndsAt))
                    .col(big_integer(ExitCases::ProposedBy))
                    .col(timestamp_with_time_zone(ExitCases::CreatedAt))
                    .col(timestamp_with_time_zone(ExitCases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_exit_cases_household")
                            .from(ExitCases::Table, ExitCases::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_exit_cases_village")
                            .from(ExitCases::Table, ExitCases::VillageCode)
                            .to(Areas::Table, Areas::Code),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_exit_cases_household",
                vec![ExitCases::HouseholdId, ExitCases::Open],
            ),
            (
                "idx_exit_cases_village",
                vec![ExitCases::VillageCode, ExitCases::Subject, ExitCases::State],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(ExitCases::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ExitCaseSteps::Table)
                    .col(big_pk_auto(ExitCaseSteps::Id))
                    .col(big_integer(ExitCaseSteps::CaseId))
                    .col(string_len_null(ExitCaseSteps::FromState, 16))
                    .col(string_len(ExitCaseSteps::ToState, 16))
                    .col(string_len(ExitCaseSteps::Action, 16))
                    .col(big_integer(ExitCaseSteps::ActorUserId))
                    .col(string_len_null(ExitCaseSteps::Reason, 500))
                    .col(timestamp_with_time_zone(ExitCaseSteps::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_exit_case_steps_case")
                            .from(ExitCaseSteps::Table, ExitCaseSteps::CaseId)
                            .to(ExitCases::Table, ExitCases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_exit_case_steps_case")
                    .table(ExitCaseSteps::Table)
                    .col(ExitCaseSteps::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ExitCaseSteps::Table.into_iden(),
            ExitCases::Table.into_iden(),
            VillageIndicators::Table.into_iden(),
            HouseholdChecks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum HouseholdChecks {
    Table,
    Id,
    HouseholdId,
    Year,
    Check,
    Passed,
    Note,
    EvidenceUrl,
    CheckedBy,
    CheckedAt,
}

#[derive(DeriveIden)]
enum VillageIndicators {
    Table,
    Id,
    VillageCode,
    Year,
    HardenedRoad,
    SafeWater,
    Power,
    Broadband,
    Clinic,
    CulturalRoom,
    CollectiveIncomeFen,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum ExitCases {
    Table,
    Id,
    Subject,
    HouseholdId,
    VillageCode,
    Year,
    State,
    Open,
    NoticeEndsAt,
    ProposedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ExitCaseSteps {
    Table,
    Id,
    CaseId,
    FromState,
    ToState,
    Action,
    ActorUserId,
    Reason,
    At,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Code,
}
