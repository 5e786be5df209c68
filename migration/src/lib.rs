//! Schema migrations, run by `shanhuo migrate` and by `serve` on the embedded default.
//!
//! Each migration is frozen in time: it names its tables and columns with its own `DeriveIden`
//! enums and never imports `entities`, so later changes to the entities cannot rewrite history.
//! Every migration has a `down` that undoes exactly its `up`, and runs on SQLite, PostgreSQL and
//! MySQL/MariaDB.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_areas;
mod m20261127_000001_create_identity;
mod m20261127_000002_create_households;
mod m20261127_000003_create_household_incomes;
mod m20261127_000004_create_exit;
mod m20261127_000005_create_progress_snapshots;
mod m20261127_000006_create_catalogue_and_listings;
mod m20261127_000007_create_photos_and_orders;
mod m20261127_000008_create_cooperatives;
mod m20261127_000009_create_plots_batches_codes;
mod m20261127_000010_create_code_scans;
mod m20261127_000011_create_trace_events;
mod m20261202_000001_durable_security_and_scans;
mod m20261202_000002_create_audit_checkpoints;
mod m20261202_000003_record_household_exits;
mod m20261206_000001_create_trace_reports;
mod m20261206_000001_record_order_duties;
mod m20261206_000001_record_village_delisting;
mod m20261206_000002_create_code_scan_places;
mod m20261207_000021_create_idempotency_keys;
mod m20261207_000022_create_plot_crops;
mod m20261207_000041_record_payment_and_shipping;
mod m20261209_000020_create_farm_inputs_and_certificates;
mod m20261209_000030_create_monitoring;
mod m20261209_000040_bind_wechat_web_openid;
mod m20261210_000010_move_order_keys;
mod m20261210_000020_create_sector_records;
mod m20261210_000030_create_help_and_visits;
mod m20261210_000030_let_villagers_object_to_exits;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_areas::Migration),
            Box::new(m20261127_000001_create_identity::Migration),
            Box::new(m20261127_000002_create_households::Migration),
            Box::new(m20261127_000003_create_household_incomes::Migration),
            Box::new(m20261127_000004_create_exit::Migration),
            Box::new(m20261127_000005_create_progress_snapshots::Migration),
            Box::new(m20261127_000006_create_catalogue_and_listings::Migration),
            Box::new(m20261127_000007_create_photos_and_orders::Migration),
            Box::new(m20261127_000008_create_cooperatives::Migration),
            Box::new(m20261127_000009_create_plots_batches_codes::Migration),
            Box::new(m20261127_000010_create_code_scans::Migration),
            Box::new(m20261127_000011_create_trace_events::Migration),
            Box::new(m20261202_000001_durable_security_and_scans::Migration),
            Box::new(m20261202_000002_create_audit_checkpoints::Migration),
            Box::new(m20261202_000003_record_household_exits::Migration),
            Box::new(m20261206_000001_record_village_delisting::Migration),
            Box::new(m20261206_000002_create_code_scan_places::Migration),
            Box::new(m20261206_000001_create_trace_reports::Migration),
            Box::new(m20261206_000001_record_order_duties::Migration),
            Box::new(m20261207_000021_create_idempotency_keys::Migration),
            Box::new(m20261207_000022_create_plot_crops::Migration),
            Box::new(m20261207_000041_record_payment_and_shipping::Migration),
            Box::new(m20261209_000020_create_farm_inputs_and_certificates::Migration),
            Box::new(m20261209_000030_create_monitoring::Migration),
            Box::new(m20261209_000040_bind_wechat_web_openid::Migration),
            Box::new(m20261210_000010_move_order_keys::Migration),
            Box::new(m20261210_000020_create_sector_records::Migration),
            Box::new(m20261210_000030_create_help_and_visits::Migration),
            Box::new(m20261210_000030_let_villagers_object_to_exits::Migration),
        ]
    }
}
