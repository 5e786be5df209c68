//! The `shanhuo` command: each subcommand is a thin call into `app` or `service`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

use crate::{
    app::{self, AppState, MigrateOnStart},
    config::{RunMode, Settings},
    service::seed,
    telemetry,
};

#[derive(Debug, Parser)]
#[command(
    name = "shanhuo",
    version,
    about = "山货: traceable mountain goods and the county's poverty-exit records"
)]
pub struct Cli {
    /// TOML settings file (default: ./shanhuo.toml if it exists).
    #[arg(long, global = true, env = "SHANHUO_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load data into the database.
    Seed {
        #[command(subcommand)]
        what: SeedWhat,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Production mode (same as SHANHUO_ENV=production): refuses default secrets, SQLite and
    /// a missing Redis, logs JSON, never seeds demo data.
    #[arg(long)]
    production: bool,
    /// In production, apply pending migrations before serving (always done in development).
    #[arg(long)]
    migrate: bool,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply pending migrations.
    Up {
        /// Apply only this many.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Revert applied migrations, the last one by default.
    Down {
        #[arg(long)]
        steps: Option<u32>,
    },
    /// List migrations and whether each has run.
    Status,
}

#[derive(Debug, Subcommand)]
enum SeedWhat {
    /// The synthetic demo county 500235: 40 townships, 400 villages, 162 poor villages.
    /// Running it again changes nothing.
    Demo,
}

impl Cli {
    pub async fn run(self) -> ExitCode {
        let mut settings = match Settings::load(self.config.clone()) {
            Ok(settings) => settings,
            Err(e) => {
                eprintln!("shanhuo: {e}");
                return ExitCode::from(2);
            }
        };
        if let Command::Serve(args) = &self.command
            && args.production
        {
            settings.env = RunMode::Production;
        }
        telemetry::init(&settings.log, settings.log_format());
        match self.command.run(settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e:#}");
                eprintln!("shanhuo: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

impl Command {
    async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self {
            Command::Serve(args) => {
                settings.check_production_safety()?;
                let migrate = if !settings.is_production() || args.migrate {
                    MigrateOnStart::Apply
                } else {
                    MigrateOnStart::Require
                };
                let state = AppState::connect(settings).await?;
                app::prepare(&state, migrate).await?;
                app::serve(state).await
            }
            Command::Migrate { action } => {
                let db = app::connect_database(&settings).await?;
                match action {
                    MigrateAction::Up { steps } => db.migrate_up(steps).await?,
                    MigrateAction::Down { steps } => db.migrate_down(steps).await?,
                    MigrateAction::Status => {}
                }
                for state in db.migration_states().await? {
                    let mark = if state.applied { "applied" } else { "pending" };
                    println!("{mark:8} {}", state.name);
                }
                Ok(())
            }
            Command::Seed {
                what: SeedWhat::Demo,
            } => {
                let db = app::connect_database(&settings).await?;
                db.migrate_up(None).await?;
                let report = seed::seed_demo(&db).await?;
                println!(
                    "demo county {}: {} areas added ({} already there are unchanged)",
                    seed::DEMO_COUNTY_CODE,
                    report.areas_inserted,
                    seed::demo_areas().len() - report.areas_inserted,
                );
                Ok(())
            }
        }
    }
}
