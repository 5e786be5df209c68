//! What each plot grows, as the county's products: a batch from a plot is one of them. Plots
//! recorded before carry their crop as words; where the words name a product (its Chinese or
//! English name, or its code) that product becomes the plot's crop.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlotCrops::Table)
                    .col(big_integer(PlotCrops::PlotId))
                    .col(big_integer(PlotCrops::CategoryId))
                    .primary_key(
                        Index::create()
                            .col(PlotCrops::PlotId)
                            .col(PlotCrops::CategoryId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plot_crops_plot")
                            .from(PlotCrops::Table, PlotCrops::PlotId)
                            .to(Plots::Table, Plots::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plot_crops_category")
                            .from(PlotCrops::Table, PlotCrops::CategoryId)
                            .to(ProductCategories::Table, ProductCategories::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let backfill = Query::insert()
            .into_table(PlotCrops::Table)
            .columns([PlotCrops::PlotId, PlotCrops::CategoryId])
            .select_from(
                Query::select()
                    .column((Plots::Table, Plots::Id))
                    .column((ProductCategories::Table, ProductCategories::Id))
                    .from(Plots::Table)
                    .inner_join(
                        ProductCategories::Table,
                        Condition::any()
                            .add(
                                Expr::col((ProductCategories::Table, ProductCategories::NameZh))
                                    .equals((Plots::Table, Plots::Crop)),
                            )
                            .add(
                                Expr::col((ProductCategories::Table, ProductCategories::NameEn))
                                    .equals((Plots::Table, Plots::Crop)),
                            )
                            .add(
                                Expr::col((ProductCategories::Table, ProductCategories::Code))
                                    .equals((Plots::Table, Plots::Crop)),
                            ),
                    )
                    .distinct()
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(backfill).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlotCrops::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PlotCrops {
    Table,
    PlotId,
    CategoryId,
}

#[derive(DeriveIden)]
enum Plots {
    Table,
    Id,
    Crop,
}

#[derive(DeriveIden)]
enum ProductCategories {
    Table,
    Id,
    Code,
    NameZh,
    NameEn,
}
