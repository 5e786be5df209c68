//! The `shanhuo` command: each subcommand is a thin call into `app` or `service`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use entities::user::Role;
use secrecy::SecretString;

use crate::{
    app::{self, AppState, MigrateOnStart},
    config::{RunMode, Settings},
    domain::{AreaCode, Phone},
    infra::pii::PiiVault,
    service::{
        audit::{self, checkpoints, keys::AuditKeys},
        exit::{
            progress,
            rules::ExitRules,
            village_sheet::{self, VillageImportReport, VillageSheetError},
        },
        households::import::{self, ImportError, ImportReport, Problem},
        market::photos::Photos,
        seed,
        users::{self, Invitation, Origin},
    },
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
    /// Create the first admin and invite officials.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Import registry data from officials' spreadsheets.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Record today's progress for the county and each township (the server does it hourly).
    Progress {
        #[command(subcommand)]
        action: ProgressAction,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Create an admin who signs in with phone and password. The password is read from the
    /// first line of standard input, so it never appears in the shell history.
    CreateAdmin {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
    },
    /// Create an official's account for an area; they sign in with an SMS code.
    Invite {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        /// village-cadre, township-official or county-official.
        #[arg(long, value_enum)]
        role: OfficialRole,
        /// The area's code (a village for a cadre, a township, or the county).
        #[arg(long)]
        area: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OfficialRole {
    VillageCadre,
    TownshipOfficial,
    CountyOfficial,
}

impl From<OfficialRole> for Role {
    fn from(role: OfficialRole) -> Self {
        match role {
            OfficialRole::VillageCadre => Role::VillageCadre,
            OfficialRole::TownshipOfficial => Role::TownshipOfficial,
            OfficialRole::CountyOfficial => Role::CountyOfficial,
        }
    }
}

#[derive(Debug, Subcommand)]
enum ImportWhat {
    /// Households and members from a CSV or XLSX file in the registry template's layout.
    /// Writes all of it in one transaction, or nothing if any row has a problem; exits
    /// non-zero and lists every problem by row and column when there are any.
    Households {
        file: PathBuf,
        /// Check the file and report problems without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Villages from a CSV or XLSX file in the village export's layout: poor-village flags,
    /// rural populations and de-listings (on record as imported). All or nothing, as for
    /// households.
    Villages {
        file: PathBuf,
        /// Check the file and report problems without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProgressAction {
    /// Take today's snapshot now, replacing any taken earlier today.
    Snapshot,
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Check every link under the audit keys, every sequence number and every checkpoint
    /// (stored, and saved copies); names the first entry that does not hold and exits non-zero.
    Verify {
        /// Saved checkpoints: the JSON of `GET /api/v1/audit/checkpoints` (a page, or a list of
        /// pages or checkpoints).
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Sign a checkpoint of the chain's head now (the server signs one every day).
    Checkpoint,
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
    /// The synthetic demo county 500235: 40 townships, 400 villages, 162 poor villages and
    /// in them 135,000 registered poor people in about 45,000 households. Running it again
    /// changes nothing.
    Demo {
        /// Only the area tree, no households.
        #[arg(long)]
        without_households: bool,
    },
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
        // Every command that writes the audit log links with the configured key.
        match AuditKeys::new(&settings.audit_keys()) {
            Ok(keys) => std::sync::Arc::new(keys).install(),
            Err(e) => {
                eprintln!("shanhuo: {e}");
                return ExitCode::from(2);
            }
        }
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
            Command::Users { action } => {
                let db = app::connect_database(&settings).await?;
                let user = match action {
                    UsersAction::CreateAdmin { phone, name } => {
                        let mut password = String::new();
                        std::io::stdin().read_line(&mut password)?;
                        let password = SecretString::from(password.trim_end_matches(['\r', '\n']));
                        users::create_admin(&db, Phone::parse(&phone)?, name, &password).await?
                    }
                    UsersAction::Invite {
                        phone,
                        name,
                        role,
                        area,
                    } => {
                        let invitation = Invitation {
                            phone: Phone::parse(&phone)?,
                            display_name: name,
                            role: role.into(),
                            area: AreaCode::parse(&area)?,
                        };
                        users::invite_official(&db, None, invitation, &Origin::default()).await?
                    }
                };
                println!(
                    "user {} created: {} ({:?}{})",
                    user.id,
                    user.display_name,
                    user.role,
                    user.area_code
                        .map(|a| format!(", area {a}"))
                        .unwrap_or_default()
                );
                Ok(())
            }
            Command::Import {
                what: ImportWhat::Households { file, dry_run },
            } => {
                let db = app::connect_database(&settings).await?;
                let vault = PiiVault::from_keys(&settings.pii_keys());
                let file = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                let started = std::time::Instant::now();
                let outcome =
                    import::import_file(&db, &vault, None, file, dry_run, &Origin::default()).await;
                let report = match outcome {
                    Ok(report) => report,
                    Err(ImportError::Rejected(report)) => *report,
                    Err(e) => return Err(e.into()),
                };
                print_import_report(&report, started.elapsed());
                if report.problem_count > 0 {
                    anyhow::bail!("{} problems; nothing was written", report.problem_count);
                }
                if !dry_run {
                    tell_servers(&settings).await;
                }
                Ok(())
            }
            Command::Import {
                what: ImportWhat::Villages { file, dry_run },
            } => {
                let db = app::connect_database(&settings).await?;
                let file = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                let started = std::time::Instant::now();
                let outcome =
                    village_sheet::import_file(&db, None, file, dry_run, &Origin::default()).await;
                let report = match outcome {
                    Ok(report) => report,
                    Err(VillageSheetError::Rejected(report)) => *report,
                    Err(e) => return Err(e.into()),
                };
                print_village_report(&report, started.elapsed());
                if report.problem_count > 0 {
                    anyhow::bail!("{} problems; nothing was written", report.problem_count);
                }
                if !dry_run {
                    tell_servers(&settings).await;
                }
                Ok(())
            }
            Command::Progress {
                action: ProgressAction::Snapshot,
            } => {
                let db = app::connect_database(&settings).await?;
                let rules = ExitRules::new(&settings.exit_rules())?;
                let areas = progress::take_snapshots(&db, &rules).await?;
                println!("progress recorded for {areas} areas");
                Ok(())
            }
            Command::Audit {
                action: AuditAction::Verify { checkpoints: file },
            } => {
                let saved = match &file {
                    Some(file) => {
                        let text = std::fs::read_to_string(file)
                            .with_context(|| format!("cannot read {}", file.display()))?;
                        checkpoints::parse_saved(&text).with_context(|| {
                            format!("{} is not a list of audit checkpoints", file.display())
                        })?
                    }
                    None => Vec::new(),
                };
                let db = app::connect_database(&settings).await?;
                let check = audit::verify_with(&db, &audit::keys::installed(), &saved).await?;
                if !check.is_intact() {
                    anyhow::bail!("{check}");
                }
                println!("{check}; {} saved checkpoints checked", saved.len());
                Ok(())
            }
            Command::Audit {
                action: AuditAction::Checkpoint,
            } => {
                let db = app::connect_database(&settings).await?;
                let signed = checkpoints::create(&db, &audit::keys::installed()).await?;
                println!("{}", serde_json::to_string_pretty(&signed)?);
                Ok(())
            }
            Command::Seed {
                what: SeedWhat::Demo { without_households },
            } => {
                let db = app::connect_database(&settings).await?;
                db.migrate_up(None).await?;
                let vault = PiiVault::from_keys(&settings.pii_keys());
                let rules = ExitRules::new(&settings.exit_rules())?;
                let registry = seed::DemoRegistry {
                    vault: &vault,
                    rules: &rules,
                };
                let photos = Photos::open(&settings.blob_store(), settings.photo_workers)?;
                let cache = app::connect_cache(&settings).await?;
                // The goods the certificate rules cover are marked before the demo's batches
                // are certified.
                crate::service::market::catalogue::ensure_defaults(&db).await?;
                crate::service::trace::certificates::apply_scope(
                    &db,
                    &settings.certificate_categories,
                )
                .await?;
                let report = seed::seed_demo_county(
                    &db,
                    (!without_households).then_some(registry),
                    &photos,
                    &cache,
                    &crate::domain::county_time::SystemClock,
                )
                .await?;
                crate::service::changes::changed(cache.as_ref()).await;
                if report.categories_added > 0 {
                    println!("product categories: {} added", report.categories_added);
                }
                println!(
                    "demo county {}: {} areas, {} households with {} people added, \
                     {} households recorded as exited (what was already there is unchanged)",
                    seed::DEMO_COUNTY_CODE,
                    report.county.areas_inserted,
                    report.county.households_inserted,
                    report.county.people_inserted,
                    report.county.households_exited,
                );
                if !without_households {
                    println!(
                        "demo marketplace: {} listings with photos, {} orders ({} completed) added",
                        report.market.listings, report.market.orders, report.market.completed
                    );
                    println!(
                        "demo traceability: {} batches with {} events and {} item codes added",
                        report.trace.batches, report.trace.events, report.trace.codes
                    );
                }
                Ok(())
            }
        }
    }
}

/// Tells running servers, through Redis, that what public reads show may have changed. Servers
/// on the in-process cache cannot be told: their kept copies expire within minutes.
async fn tell_servers(settings: &Settings) {
    if settings.redis_url.is_some()
        && let Ok(cache) = app::connect_cache(settings).await
    {
        crate::service::changes::changed(cache.as_ref()).await;
    }
}

/// Every problem by row and column, and the headers not read.
fn print_problems(problems: &[Problem], problem_count: usize, ignored_columns: &[String]) {
    for problem in problems {
        let column = problem
            .column
            .map(|c| format!(" 「{c}」"))
            .unwrap_or_default();
        println!("row {}{column}: {}", problem.row, problem.message);
    }
    if problem_count > problems.len() {
        println!("… and {} more problems", problem_count - problems.len());
    }
    if !ignored_columns.is_empty() {
        println!("columns not read: {}", ignored_columns.join(", "));
    }
}

fn verdict(committed: bool, problem_count: usize) -> &'static str {
    if committed {
        "imported"
    } else if problem_count > 0 {
        "not imported"
    } else {
        "checked (dry run), nothing written"
    }
}

fn rows_of(notices: &[Problem]) -> String {
    notices
        .iter()
        .take(10)
        .map(|n| n.row.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_village_report(report: &VillageImportReport, took: std::time::Duration) {
    print_problems(
        &report.problems,
        report.problem_count,
        &report.ignored_columns,
    );
    if report.villages_delisted > 0 {
        println!(
            "{} villages de-listed (on record as imported)",
            report.villages_delisted
        );
    }
    if report.notice_count > 0 {
        println!(
            "{} villages in an exit procedure imported as not de-listed (rows {})",
            report.notice_count,
            rows_of(&report.notices)
        );
    }
    println!(
        "{} villages, {} changed, in {}: {} in {:.1} s",
        report.villages,
        report.changed,
        report.format.unwrap_or("the file"),
        verdict(report.committed, report.problem_count),
        took.as_secs_f64()
    );
}

fn print_import_report(report: &ImportReport, took: std::time::Duration) {
    print_problems(
        &report.problems,
        report.problem_count,
        &report.ignored_columns,
    );
    if report.households_exited > 0 {
        println!(
            "{} households exited (on record as imported)",
            report.households_exited
        );
    }
    if report.notice_count > 0 {
        println!(
            "{} households in an exit procedure imported as poor (rows {})",
            report.notice_count,
            rows_of(&report.notices)
        );
    }
    println!(
        "{} households, {} members in {}: {} in {:.1} s",
        report.households,
        report.members,
        report.format.unwrap_or("the file"),
        verdict(report.committed, report.problem_count),
        took.as_secs_f64()
    );
}
