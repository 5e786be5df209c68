//! Return-to-poverty monitoring (防返贫动态监测): households under monitoring, the cases of
//! their two procedures (identification, risk elimination) and every step those cases took.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MonitoredHouseholds::Table)
                    .col(big_pk_auto(MonitoredHouseholds::Id))
                    .col(big_integer(MonitoredHouseholds::HouseholdId))
                    .col(string_len(MonitoredHouseholds::VillageCode, 12))
                    .col(string_len(MonitoredHouseholds::Category, 24))
                    .col(string_len(MonitoredHouseholds::RiskTypes, 200))
                    .col(string_len(MonitoredHouseholds::Channel, 16))
                    .col(integer(MonitoredHouseholds::Year))
                    .col(string_len(MonitoredHouseholds::Status, 16))
                    .col(boolean(MonitoredHouseholds::Open))
                    .col(string_len_null(MonitoredHouseholds::Note, 500))
                    .col(big_integer_null(MonitoredHouseholds::CreatedBy))
                    .col(timestamp_with_time_zone(MonitoredHouseholds::CreatedAt))
                    .col(timestamp_with_time_zone(MonitoredHouseholds::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitored_households_household")
                            .from(MonitoredHouseholds::Table, MonitoredHouseholds::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitored_households_village")
                            .from(MonitoredHouseholds::Table, MonitoredHouseholds::VillageCode)
                            .to(Areas::Table, Areas::Code),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_monitored_households_household",
                vec![MonitoredHouseholds::HouseholdId, MonitoredHouseholds::Open],
            ),
            (
                "idx_monitored_households_village",
                vec![
                    MonitoredHouseholds::VillageCode,
                    MonitoredHouseholds::Status,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(MonitoredHouseholds::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MonitoringCases::Table)
                    .col(big_pk_auto(MonitoringCases::Id))
                    .col(big_integer(MonitoringCases::MonitoredId))
                    .col(big_integer(MonitoringCases::HouseholdId))
                    .col(string_len(MonitoringCases::VillageCode, 12))
                    .col(string_len(MonitoringCases::Procedure, 16))
                    .col(integer(MonitoringCases::Year))
                    .col(string_len(MonitoringCases::State, 16))
                    .col(boolean(MonitoringCases::Open))
                    .col(timestamp_with_time_zone_null(MonitoringCases::NoticeEndsAt))
                    .col(big_integer_null(MonitoringCases::StartedBy))
                    .col(timestamp_with_time_zone(MonitoringCases::CreatedAt))
                    .col(timestamp_with_time_zone(MonitoringCases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitoring_cases_monitored")
                            .from(MonitoringCases::Table, MonitoringCases::MonitoredId)
                            .to(MonitoredHouseholds::Table, MonitoredHouseholds::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_monitoring_cases_monitored",
                vec![MonitoringCases::MonitoredId, MonitoringCases::Open],
            ),
            (
                "idx_monitoring_cases_village",
                vec![MonitoringCases::VillageCode, MonitoringCases::State],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(MonitoringCases::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MonitoringCaseSteps::Table)
                    .col(big_pk_auto(MonitoringCaseSteps::Id))
                    .col(big_integer(MonitoringCaseSteps::CaseId))
                    .col(string_len_null(MonitoringCaseSteps::FromState, 16))
                    .col(string_len(MonitoringCaseSteps::ToState, 16))
                    .col(string_len(MonitoringCaseSteps::Action, 16))
                    .col(big_integer_null(MonitoringCaseSteps::ActorUserId))
                    .col(string_len_null(MonitoringCaseSteps::Reason, 500))
                    .col(timestamp_with_time_zone(MonitoringCaseSteps::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitoring_case_steps_case")
                            .from(MonitoringCaseSteps::Table, MonitoringCaseSteps::CaseId)
                            .to(MonitoringCases::Table, MonitoringCases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_monitoring_case_steps_case")
                    .table(MonitoringCaseSteps::Table)
                    .col(MonitoringCaseSteps::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MonitoringCaseSteps::Table.into_iden(),
            MonitoringCases::Table.into_iden(),
            MonitoredHouseholds::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MonitoredHouseholds {
    Table,
    Id,
    HouseholdId,
    VillageCode,
    Category,
    RiskTypes,
    Channel,
    Year,
    Status,
    Open,
    Note,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MonitoringCases {
    Table,
    Id,
    MonitoredId,
    HouseholdId,
    VillageCode,
    Procedure,
    Year,
    State,
    Open,
    NoticeEndsAt,
    StartedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MonitoringCaseSteps {
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
