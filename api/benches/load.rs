//! The public reads under load, and the bulk writes, on the embedded default (SQLite with the
//! in-process cache) and on PostgreSQL + Redis: the release server measured from outside with
//! wrk (2 threads; server and load share the machine), each row beside `GET /healthz` measured
//! in the same run, so the ratios are what to read. Then the demo seed and the registry import
//! (44,559 households, 135,000 people) timed on both databases.
//!
//! Run with `cargo bench -p api --bench load`. Needs `wrk` and `psql` on the PATH; PostgreSQL
//! and Redis are `BENCH_DATABASE_URL` / `BENCH_REDIS_URL` (default the machine's:
//! `postgres://postgres@127.0.0.1:5432/test`, `redis://127.0.0.1:6379`); the bench makes
//! databases of its own there and drops them, and keeps its Redis keys under a prefix of its own.
//!
//! To look at one row (under a profiler, say): `LOAD_BENCH_ON=embedded` or `postgres` runs one
//! side only, and `LOAD_BENCH_ROWS=trace` only the rows whose name holds the words given
//! (comma-separated), beside `/healthz`.

use std::{
    collections::HashMap,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use api::{
    app::{self, AppState},
    config::Settings,
    infra::{
        cache::{Cache, MemoryCache},
        trace_codes::TraceCode,
    },
    service::{
        households::{
            export::{MemberLine, SheetKind, SheetWriter},
            sheet::Column,
        },
        seed,
    },
};
use entities::{listing, trace_code_run, user::Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MEASURE_SECS: u32 = 8;
const COUNTY: &str = "500235000000";
const OFFICIAL_PHONE: &str = "13600000009";
const OFFICIAL_PASSWORD: &str = "bench-password-2026";

/// One row of the table: what is asked, over how many connections, by whom.
struct Row {
    name: &'static str,
    path: String,
    connections: u32,
    token: Option<String>,
}

/// What wrk measured.
struct Measured {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

#[tokio::main]
async fn main() {
    for tool in ["wrk", "psql"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "the load bench needs `{tool}` on the PATH"
        );
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let registry = write_registry(dir.path());
    let postgres = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let redis =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());

    let mut writes = Vec::new();
    let only_on = std::env::var("LOAD_BENCH_ON").ok();
    let only_rows: Vec<String> = std::env::var("LOAD_BENCH_ROWS")
        .map(|rows| rows.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    for (name, on_postgres) in [
        ("embedded (SQLite, in-process cache)", false),
        ("PostgreSQL + Redis", true),
    ] {
        if only_on
            .as_deref()
            .is_some_and(|on| on != if on_postgres { "postgres" } else { "embedded" })
        {
            continue;
        }
        let data = dir.path().join(if on_postgres { "pg" } else { "sqlite" });
        std::fs::create_dir_all(&data).expect("a data folder");
        let (seeded, imported, _databases) = if on_postgres {
            let seeded = PgDatabase::create(&postgres);
            let imported = PgDatabase::create(&postgres);
            (
                seeded.url.clone(),
                imported.url.clone(),
                vec![seeded, imported],
            )
        } else {
            let sqlite = |file: &str| format!("sqlite://{}?mode=rwc", data.join(file).display());
            (
                sqlite("seeded.sqlite"),
                sqlite("imported.sqlite"),
                Vec::new(),
            )
        };
        let redis_url = on_postgres.then_some(redis.as_str());

        // The writes: the whole demo seed, and the registry imported into a county without one.
        let seed = run_cli(&seeded, &data, redis_url, &["seed", "demo"]);
        run_cli(
            &imported,
            &data,
            redis_url,
            &["seed", "demo", "--without-households"],
        );
        let file = registry.to_str().expect("a UTF-8 path");
        let import = run_cli(&imported, &data, redis_url, &["import", "households", file]);
        writes.push((name, seed, import));

        // The reads, on the seeded county.
        let (code, listing) = prepare_reads(&seeded, &data).await;
        let port = free_port();
        let mut server = start_server(&seeded, &data, port, redis_url);
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(port).await;
        let token = sign_in(port).await;
        let mut forged = code.clone();
        let last = forged.pop().expect("a code");
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let rows = [
            row("GET /healthz", "/healthz", 64, None),
            row(
                "GET /api/v1/trace/{code}",
                &format!("/api/v1/trace/{code}"),
                64,
                None,
            ),
            row("GET /t/{code}", &format!("/t/{code}"), 64, None),
            row(
                "GET /api/v1/trace/{forged}",
                &format!("/api/v1/trace/{forged}"),
                64,
                None,
            ),
            row(
                "GET /api/v1/areas/{county}",
                &format!("/api/v1/areas/{COUNTY}"),
                64,
                None,
            ),
            row("GET /m", "/m", 64, None),
            row(
                "GET /m/listings/{id}",
                &format!("/m/listings/{listing}"),
                64,
                None,
            ),
            row("GET /healthz (16)", "/healthz", 16, None),
            row(
                "GET /api/v1/progress (16)",
                "/api/v1/progress",
                16,
                Some(token),
            ),
        ];
        println!(
            "\n{name}: wrk -t2, {MEASURE_SECS} s a row after a warm-up; ratio to /healthz at the same connections"
        );
        println!(
            "  {:<28} {:>11} {:>9} {:>9} {:>7}",
            "request", "requests/s", "p50 ms", "p99 ms", "ratio"
        );
        let mut yardstick: HashMap<u32, f64> = HashMap::new();
        let chosen = |row: &Row| {
            row.path == "/healthz"
                || only_rows.is_empty()
                || only_rows
                    .iter()
                    .any(|words| row.name.contains(words.as_str()))
        };
        for row in rows.iter().filter(|row| chosen(row)) {
            // A short first pass fills every cache a real server would have warm.
            wrk(&base, row, 2);
            let measured = wrk(&base, row, MEASURE_SECS);
            if row.path == "/healthz" {
                yardstick.insert(row.connections, measured.per_second);
            }
            let ratio = yardstick
                .get(&row.connections)
                .map_or(f64::NAN, |healthz| measured.per_second / healthz);
            println!(
                "  {:<28} {:>11.0} {:>9.2} {:>9.2} {:>7.2}{}",
                row.name,
                measured.per_second,
                measured.p50_ms,
                measured.p99_ms,
                ratio,
                if measured.errors > 0 {
                    format!("   ({} errors)", measured.errors)
                } else {
                    String::new()
                }
            );
        }
        let _ = server.kill();
        let _ = server.wait();
    }

    println!("\nwrites (release binary, one transaction each)");
    for (name, seed, import) in &writes {
        println!(
            "  {name:<38} seed demo {:>6.1} s   registry import {:>6.1} s",
            seed.as_secs_f64(),
            import.as_secs_f64()
        );
    }
    if let [(_, seed_sqlite, import_sqlite), (_, seed_pg, import_pg)] = writes.as_slice() {
        println!(
            "  PostgreSQL / SQLite: seed {:.2}, import {:.2}",
            seed_pg.as_secs_f64() / seed_sqlite.as_secs_f64(),
            import_pg.as_secs_f64() / import_sqlite.as_secs_f64()
        );
    }
}

fn row(name: &'static str, path: &str, connections: u32, token: Option<String>) -> Row {
    Row {
        name,
        path: path.to_owned(),
        connections,
        token,
    }
}

/// The demo registry in the import template's layout, as a CSV file.
fn write_registry(dir: &Path) -> PathBuf {
    let names: HashMap<String, String> = seed::demo_areas()
        .into_iter()
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    let mut writer = SheetWriter::new(SheetKind::Csv, &Column::IMPORTED).expect("a sheet writer");
    for household in seed::demo_households() {
        for line in MemberLine::of_new(&household, &names[&household.village.to_string()]) {
            writer.write(&line).expect("a row");
        }
    }
    let file = dir.join("registry.csv");
    std::fs::write(&file, writer.finish().expect("the sheet")).expect("the file is written");
    file
}

/// A PostgreSQL database of the bench's own, dropped with it.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> Self {
        let name = format!("shanhuo_bench_{}", uuid_suffix());
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let base = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let database = Self {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        };
        database.psql(&format!("CREATE DATABASE \"{}\"", database.name));
        database
    }

    fn psql(&self, sql: &str) {
        let done = Command::new("psql")
            .args([&self.admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
            .output()
            .expect("psql runs");
        assert!(
            done.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.psql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

fn uuid_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

fn cache_prefix() -> String {
    format!("bench:{}:", uuid_suffix())
}

/// Runs the release binary's command on `url` and answers how long it took.
fn run_cli(url: &str, data: &Path, redis_url: Option<&str>, args: &[&str]) -> Duration {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_shanhuo"));
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("SHANHUO_DATA_DIR", data)
        .env("SHANHUO_LOG", "warn")
        .env_remove("REDIS_URL");
    if let Some(redis) = redis_url {
        command
            .env("REDIS_URL", redis)
            .env("SHANHUO_CACHE_PREFIX", cache_prefix());
    }
    let done = command.output().expect("the shanhuo binary runs");
    assert!(
        done.status.success(),
        "shanhuo {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&done.stderr)
    );
    started.elapsed()
}

/// An issued code of one of the demo's batches, signed as the server signs it, and one listing;
/// and a county official who signs in with a password.
async fn prepare_reads(url: &str, data: &Path) -> (String, i64) {
    let settings = Settings {
        database_url: url.to_owned(),
        data_dir: data.to_owned(),
        ..Default::default()
    };
    let db = app::connect_database(&settings)
        .await
        .expect("the database opens");
    let cache: std::sync::Arc<dyn Cache> = std::sync::Arc::new(MemoryCache::new(100));
    let state = AppState::new(settings, db, cache).expect("the state builds");
    let run = trace_code_run::Entity::find()
        .order_by_asc(trace_code_run::Column::Id)
        .one(state.db.conn())
        .await
        .expect("code runs are read")
        .expect("the demo has issued codes");
    let listing = listing::Entity::find()
        .order_by_asc(listing::Column::Id)
        .one(state.db.conn())
        .await
        .expect("listings are read")
        .expect("the demo has listings");
    let official = api::testing::account(
        &state.db,
        OFFICIAL_PHONE,
        Role::CountyOfficial,
        None,
        OFFICIAL_PASSWORD,
    )
    .await;
    let mut official: entities::user::ActiveModel = official.into();
    official.area_code = Set(Some(COUNTY.to_owned()));
    official
        .update(state.db.conn())
        .await
        .expect("the official's area is set");
    let code = state.trace_keys.sign(TraceCode {
        batch_id: run.batch_id as u32,
        item: run.first_item as u32,
    });
    (code, listing.id)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start_server(url: &str, data: &Path, port: u16, redis_url: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shanhuo"));
    command
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("SHANHUO_LISTEN", format!("127.0.0.1:{port}"))
        .env("SHANHUO_DATA_DIR", data)
        .env("SHANHUO_SEED_DEMO", "false")
        .env("SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE", "0")
        .env("SHANHUO_SCAN_WARN_AFTER", "1000000000")
        .env("SHANHUO_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(redis) = redis_url {
        command
            .env("REDIS_URL", redis)
            .env("SHANHUO_CACHE_PREFIX", cache_prefix());
    }
    command.spawn().expect("the server starts")
}

async fn wait_until_ready(port: u16) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if exchange(
            port,
            "GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
        )
        .await
        .is_ok_and(|answer| answer.starts_with("HTTP/1.1 200"))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server did not become ready");
}

/// The county official's access token, signed in by password as an app would.
async fn sign_in(port: u16) -> String {
    let body = format!(r#"{{"phone":"{OFFICIAL_PHONE}","password":"{OFFICIAL_PASSWORD}"}}"#);
    let request = format!(
        "POST /api/v1/auth/login/password HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(port, &request).await.expect("the sign-in answers");
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|_| panic!("the sign-in failed: {answer}"));
    value["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("the sign-in failed: {answer}"))
        .to_owned()
}

/// One request on a connection of its own, and the whole answer.
async fn exchange(port: u16, request: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// `wrk -t2 -c<connections> -d<secs>s --latency`, read back.
fn wrk(base: &str, row: &Row, secs: u32) -> Measured {
    let mut command = Command::new("wrk");
    command.args([
        "-t2".to_owned(),
        format!("-c{}", row.connections),
        format!("-d{secs}s"),
        "--latency".to_owned(),
    ]);
    if let Some(token) = &row.token {
        command.args(["-H".to_owned(), format!("Authorization: Bearer {token}")]);
    }
    let out = command
        .arg(format!("{base}{}", row.path))
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let number_after = |label: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(str::trim)
    };
    let per_second = number_after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("wrk said:\n{text}"));
    let errors = number_after("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        + number_after("Socket errors:").map_or(0, |_| 1);
    Measured {
        per_second,
        p50_ms: millis(number_after("50%").unwrap_or("nan")),
        p99_ms: millis(number_after("99%").unwrap_or("nan")),
        errors,
    }
}

/// wrk's `1.23ms`, `456.00us` or `1.02s` in milliseconds.
fn millis(value: &str) -> f64 {
    let (number, factor) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (value, f64::NAN)
    };
    number.parse::<f64>().map_or(f64::NAN, |n| n * factor)
}
