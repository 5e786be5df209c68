//! The scan hot path under load: the release server on SQLite (and Redis when `REDIS_URL` is
//! set), 64 keep-alive connections from one small HTTP/1.1 load generator, first against the
//! trivial `GET /healthz`, then against `GET /api/v1/trace/{code}` for a genuine code whose
//! records are already remembered. Prints requests per second, p50 and p99 latency for each,
//! and the ratio (the goal: the scan answers at least half as many requests as `/healthz`).
//! Then the scan again on a server whose cache is a Redis of the bench's own, while Redis
//! answers and after it is killed: the ratio says how much of its speed a scan keeps while
//! Redis is away (needs `redis-server` on the PATH).
//!
//! Run with `cargo bench -p api --bench trace_load`.

use std::{
    net::{SocketAddr, TcpListener},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use api::{
    app::{self, AppState, MigrateOnStart},
    config::Settings,
    infra::{
        cache::{Cache, MemoryCache},
        trace_codes::TraceCode,
    },
    service::{
        policy::Actor,
        trace::production::{self, NewBatch},
    },
    testing,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNECTIONS: usize = 64;
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.sqlite").display()
    );
    let code = prepare(&url, dir.path()).await;

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = start_server(&url, dir.path(), port);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    wait_until_ready(addr).await;
    println!(
        "release server on SQLite{}, {CONNECTIONS} connections, {} s each after {} s of warm-up",
        if std::env::var("REDIS_URL").is_ok() {
            " + Redis"
        } else {
            ", in-process cache"
        },
        MEASURE.as_secs(),
        WARM_UP.as_secs()
    );

    let trace_path = format!("/api/v1/trace/{code}");
    let healthz = load(addr, "/healthz").await;
    let trace = load(addr, &trace_path).await;
    for (name, run) in [
        ("GET /healthz", &healthz),
        ("GET /api/v1/trace/{code}", &trace),
    ] {
        println!(
            "  {name:<26} {:>9.0} requests/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} errors)",
            run.per_second(),
            run.percentile(0.50),
            run.percentile(0.99),
            run.latencies.len(),
            run.errors
        );
    }
    let ratio = trace.per_second() / healthz.per_second();
    println!(
        "  scan / healthz throughput: {ratio:.2} ({})",
        if ratio >= 0.5 {
            "at least half: met"
        } else {
            "below half: NOT met"
        }
    );
    let _ = server.kill();
    let _ = server.wait();

    let mut redis = testing::OwnRedis::start().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let data = dir.path().join("on-redis");
    let mut on_redis = start_server_on(&url, &data, port, Some(&redis.url()));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    wait_until_ready(addr).await;
    let up = load(addr, &trace_path).await;
    redis.stop();
    let down = load(addr, &trace_path).await;
    println!("the scan on a server with Redis as its cache:");
    for (name, run) in [("Redis up", &up), ("Redis down", &down)] {
        println!(
            "  {name:<26} {:>9.0} requests/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} errors)",
            run.per_second(),
            run.percentile(0.50),
            run.percentile(0.99),
            run.latencies.len(),
            run.errors
        );
    }
    println!(
        "  Redis down / Redis up throughput: {:.2}",
        down.per_second() / up.per_second()
    );
    let _ = on_redis.kill();
    let _ = on_redis.wait();
}

/// A county with one farmer's batch; answers the batch's own code.
async fn prepare(url: &str, dir: &std::path::Path) -> String {
    let settings = Settings {
        database_url: url.to_owned(),
        data_dir: dir.to_owned(),
        seed_demo_households: false,
        ..Default::default()
    };
    let db = app::connect_database(&settings)
        .await
        .expect("the database opens");
    let cache: Arc<dyn Cache> = Arc::new(MemoryCache::new(1_000));
    let state = AppState::new(settings, db, cache).expect("the state builds");
    app::prepare(&state, MigrateOnStart::Apply)
        .await
        .expect("migrated and seeded");
    let household = testing::one_person_household(&state, "500235101201", 1).await;
    let farmer = testing::account(
        &state.db,
        "13600000001",
        entities::user::Role::Farmer,
        Some(household),
        "bench-password",
    )
    .await;
    let actor = Actor {
        user_id: farmer.id,
        role: farmer.role,
        area: None,
        household_id: Some(household),
    };
    let category = api::service::market::catalogue::list(&state.db, false)
        .await
        .expect("categories")[0]
        .id;
    let batch = production::create_batch(
        &state.db,
        &*state.clock,
        &actor,
        NewBatch {
            category_id: category,
            plot_id: None,
            quantity: 500,
            unit: None,
            produced_on: state.clock.today(),
            note: String::new(),
            listing_ids: Vec::new(),
        },
    )
    .await
    .expect("a batch");
    state.trace_keys.sign(TraceCode {
        batch_id: batch.id as u32,
        item: 0,
    })
}

fn start_server(url: &str, dir: &std::path::Path, port: u16) -> Child {
    start_server_on(url, dir, port, None)
}

/// The server, on Redis at `redis_url` when given, else on its in-process cache.
fn start_server_on(url: &str, dir: &std::path::Path, port: u16, redis_url: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shanhuo"));
    let inherited = std::env::var("REDIS_URL").ok();
    command.env_remove("REDIS_URL");
    if let Some(redis_url) = redis_url.or(inherited.as_deref()) {
        command.env("REDIS_URL", redis_url);
    }
    command
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("SHANHUO_LISTEN", format!("127.0.0.1:{port}"))
        .env("SHANHUO_DATA_DIR", dir)
        .env("SHANHUO_SEED_DEMO", "false")
        .env("SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE", "0")
        .env("SHANHUO_SCAN_WARN_AFTER", "1000000000")
        .env("SHANHUO_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.spawn().expect("the server starts")
}

async fn wait_until_ready(addr: SocketAddr) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(mut conn) = Connection::open(addr).await
            && conn.get("/readyz").await.is_ok_and(|status| status == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

struct Run {
    latencies: Vec<Duration>,
    errors: usize,
    took: Duration,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.took.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let at = ((self.latencies.len() as f64 * p) as usize).min(self.latencies.len() - 1);
        self.latencies[at].as_secs_f64() * 1000.0
    }
}

/// `CONNECTIONS` keep-alive connections asking for `path` as fast as answers come.
async fn load(addr: SocketAddr, path: &str) -> Run {
    let warm_until = Instant::now() + WARM_UP;
    let stop_at = warm_until + MEASURE;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let path = path.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(200_000);
                let mut errors = 0;
                let mut conn = Connection::open(addr).await.expect("a connection");
                loop {
                    let sent = Instant::now();
                    if sent >= stop_at {
                        break;
                    }
                    match conn.get(&path).await {
                        Ok(200) if sent >= warm_until => latencies.push(sent.elapsed()),
                        Ok(200) => {}
                        _ => {
                            errors += 1;
                            conn = Connection::open(addr).await.expect("a connection");
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut run = Run {
        latencies: Vec::new(),
        errors: 0,
        took: MEASURE,
    };
    for task in tasks {
        let (latencies, errors) = task.await.expect("a connection's task");
        run.latencies.extend(latencies);
        run.errors += errors;
    }
    run.latencies.sort();
    run
}

/// One HTTP/1.1 keep-alive connection: a request, then its whole answer, in turn.
struct Connection {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    /// The answer's status; the body is read and dropped.
    async fn get(&mut self, path: &str) -> std::io::Result<u16> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        self.stream.write_all(request.as_bytes()).await?;
        self.buffer.clear();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end]).unwrap_or("");
                let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while self.buffer.len() < end + 4 + length {
                    let n = self.stream.read(&mut chunk).await?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                return Ok(status);
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
