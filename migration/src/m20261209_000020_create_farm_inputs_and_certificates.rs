//! Farm inputs (投入品) recorded per plot or flock, and the compliance certificates
//! (承诺达标合格证) issued per batch on them; which of the county's products the certificate rules
//! cover is marked on each product category.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FarmInputs::Table)
                    .col(big_pk_auto(FarmInputs::Id))
                    .col(big_integer(FarmInputs::HouseholdId))
                    .col(big_integer_null(FarmInputs::PlotId))
                    .col(string_len_null(FarmInputs::Flock, 32))
                    .col(string_len(FarmInputs::VillageCode, 12))
                    .col(string_len(FarmInputs::Kind, 16))
                    .col(string_len(FarmInputs::ProductName, 64))
                    .col(string_len_null(FarmInputs::RegistrationNo, 32))
                    .col(string_len_null(FarmInputs::ActiveIngredient, 64))
                    .col(string_len(FarmInputs::Dose, 64))
                    .col(string_len(FarmInputs::Method, 32))
                    .col(date(FarmInputs::AppliedOn))
                    .col(integer(FarmInputs::IntervalDays))
                    .col(big_integer(FarmInputs::RecordedBy))
                    .col(timestamp_with_time_zone(FarmInputs::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_farm_inputs_household")
                            .from(FarmInputs::Table, FarmInputs::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_farm_inputs_plot")
                            .from(FarmInputs::Table, FarmInputs::PlotId)
                            .to(Plots::Table, Plots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_farm_inputs_household_day")
                    .table(FarmInputs::Table)
                    .col(FarmInputs::HouseholdId)
                    .col(FarmInputs::AppliedOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_farm_inputs_village")
                    .table(FarmInputs::Table)
                    .col(FarmInputs::VillageCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(big_pk_auto(Certificates::Id))
                    .col(big_integer(Certificates::BatchId))
                    .col(big_integer(Certificates::HouseholdId))
                    .col(string_len(Certificates::VillageCode, 12))
                    .col(string_len(Certificates::ProductName, 64))
                    .col(big_integer(Certificates::Quantity))
                    .col(string_len(Certificates::Unit, 8))
                    .col(string_len(Certificates::Origin, 128))
                    .col(date(Certificates::IssuedOn))
                    .col(string_len(Certificates::IssuerName, 64))
                    .col(string_len(Certificates::IssuerPhone, 20))
                    .col(text(Certificates::Promise))
                    .col(string_len(Certificates::Basis, 24))
                    .col(string_len_null(Certificates::ReportKey, 128))
                    .col(string_len_null(Certificates::ReportType, 32))
                    .col(text(Certificates::InputCertificateIds))
                    .col(big_integer(Certificates::IssuedBy))
                    .col(timestamp_with_time_zone(Certificates::IssuedAt))
                    .col(date(Certificates::KeepUntil))
                    .col(timestamp_with_time_zone_null(Certificates::WithdrawnAt))
                    .col(big_integer_null(Certificates::WithdrawnBy))
                    .col(string_len_null(Certificates::WithdrawReason, 200))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_batch")
                            .from(Certificates::Table, Certificates::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_certificates_batch")
                    .table(Certificates::Table)
                    .col(Certificates::BatchId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_certificates_village")
                    .table(Certificates::Table)
                    .col(Certificates::VillageCode)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ProductCategories::Table)
                    .add_column(string_len_null(ProductCategories::CertificateClass, 24))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ProductCategories::Table)
                    .drop_column(ProductCategories::CertificateClass)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Certificates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(FarmInputs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FarmInputs {
    Table,
    Id,
    HouseholdId,
    PlotId,
    Flock,
    VillageCode,
    Kind,
    ProductName,
    RegistrationNo,
    ActiveIngredient,
    Dose,
    Method,
    AppliedOn,
    IntervalDays,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    BatchId,
    HouseholdId,
    VillageCode,
    ProductName,
    Quantity,
    Unit,
    Origin,
    IssuedOn,
    IssuerName,
    IssuerPhone,
    Promise,
    Basis,
    ReportKey,
    ReportType,
    InputCertificateIds,
    IssuedBy,
    IssuedAt,
    KeepUntil,
    WithdrawnAt,
    WithdrawnBy,
    WithdrawReason,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plots {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProductCategories {
    Table,
    CertificateClass,
}
