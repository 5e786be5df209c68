//! The household registry (建档立卡): households and their members. ID numbers are stored only
//! sealed (key id + ciphertext), masked, and as a keyed hash whose unique index keeps one person
//! from being registered in two households.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Households::Table)
                    .col(big_pk_auto(Households::Id))
                    .col(string_len(Households::HouseholdNumber, 32).unique_key())
                    .col(string_len(Households::VillageCode, 12))
                    .col(string_len_null(Households::Phone, 16))
                    .col(string_len(Households::PovertyCause, 32))
                    .col(big_integer_null(Households::ResponsibleCadreId))
                    .col(integer(Households::RegisteredYear))
                    .col(string_len(Households::Status, 16))
                    .col(timestamp_with_time_zone(Households::CreatedAt))
                    .col(timestamp_with_time_zone(Households::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_households_village")
                            .from(Households::Table, Households::VillageCode)
                            .to(Areas::Table, Areas::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_households_cadre")
                            .from(Households::Table, Households::ResponsibleCadreId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_households_village_code", Households::VillageCode),
            ("idx_households_status", Households::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Households::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(HouseholdMembers::Table)
                    .col(big_pk_auto(HouseholdMembers::Id))
                    .col(big_integer(HouseholdMembers::HouseholdId))
                    .col(string_len(HouseholdMembers::Name, 64))
                    .col(string_len(HouseholdMembers::IdKeyId, 16))
                    .col(text(HouseholdMembers::IdCiphertext))
                    .col(string_len(HouseholdMembers::IdMasked, 18))
                    .col(string_len(HouseholdMembers::IdHash, 64).unique_key())
                    .col(string_len(HouseholdMembers::Relation, 16))
                    .col(string_len(HouseholdMembers::Sex, 8))
                    .col(date(HouseholdMembers::BirthDate))
                    .col(string_len(HouseholdMembers::LabourCapacity, 16))
                    .col(string_len(HouseholdMembers::Health, 16))
                    .col(string_len(HouseholdMembers::Schooling, 16))
                    .col(boolean(HouseholdMembers::MedicalInsurance))
                    .col(timestamp_with_time_zone(HouseholdMembers::CreatedAt))
                    .col(timestamp_with_time_zone(HouseholdMembers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_members_household")
                            .from(HouseholdMembers::Table, HouseholdMembers::HouseholdId)
                            .to(Households::Table, Households::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_household_members_household")
                    .table(HouseholdMembers::Table)
                    .col(HouseholdMembers::HouseholdId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HouseholdMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Households::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
    HouseholdNumber,
    VillageCode,
    Phone,
    PovertyCause,
    ResponsibleCadreId,
    RegisteredYear,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HouseholdMembers {
    Table,
    Id,
    HouseholdId,
    Name,
    IdKeyId,
    IdCiphertext,
    IdMasked,
    IdHash,
    Relation,
    Sex,
    BirthDate,
    LabourCapacity,
    Health,
    Schooling,
    MedicalInsurance,
    CreatedAt,
    UpdatedAt,
}
