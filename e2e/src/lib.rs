//! The end-to-end harness: starts the real `shanhuo` binary on a free port against a fresh
//! database, waits until `/readyz` answers, and hands tests a base URL to drive over HTTP.
//!
//! The binary is `E2E_SHANHUO_BIN` when set, otherwise the workspace's own build beside this
//! test binary. `cargo test --workspace` builds it fresh before any test runs (the `api`
//! package's tests need it); after changing the server, run `cargo build -p api` before
//! `cargo test -p e2e` alone. Building it from here instead would rebuild `api` with other
//! features each time and make every run slow.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

pub use api::testing::TestDatabase;

/// A running server, stopped (SIGKILL) when dropped if the test did not stop it.
pub struct TestServer {
    pub base_url: String,
    pub database: TestDatabase,
    pub client: reqwest::Client,
    child: Child,
    port: u16,
    env: Vec<(String, String)>,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// The server on a fresh database, migrated and seeded with the demo county as `serve`
    /// does on first start.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// As [`start`](Self::start), with extra environment variables for the server.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_on(TestDatabase::empty().await, env).await
    }

    /// The server on a database a test has prepared (with the command line, say), with extra
    /// environment variables.
    pub async fn start_on(database: TestDatabase, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let port = free_port();
        let log_path = dir.path().join("server.log");
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let child = spawn_server(&database, dir.path(), port, &log_path, &env);
        let mut server = Self {
            base_url: format!("http://127.0.0.1:{port}"),
            database,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            child,
            port,
            env,
            log_path,
            _dir: dir,
        };
        server.wait_until_ready().await;
        server
    }

    /// Stops the server with SIGTERM and starts it again on the same database, port and
    /// settings, as a deployment or a crash and a process manager would.
    pub async fn restart(&mut self) {
        self.terminate();
        self.wait_for_exit(Duration::from_secs(30)).await;
        self.start_again().await;
    }

    /// Kills the server with SIGKILL (a crash, the kernel's out-of-memory killer: no shutdown
    /// runs) and starts it again on the same database, port, files and settings.
    pub async fn kill_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL was delivered");
        self.child.wait().expect("the killed server is reaped");
        self.start_again().await;
    }

    async fn start_again(&mut self) {
        self.child = spawn_server(
            &self.database,
            self._dir.path(),
            self.port,
            &self.log_path,
            &self.env,
        );
        self.wait_until_ready().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GETs a path and returns the status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("a response");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("a JSON body"))
    }

    /// POSTs JSON and returns the status and the JSON body (`null` when there is none).
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("a response");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Sends a request with a bearer token and returns the status and JSON body, if any.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
    ) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .request(method, self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("a response");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, as a process manager does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was delivered");
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_for_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be polled") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {within:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be polled") {
                panic!("the server exited early ({status}); log:\n{}", self.log());
            }
            if let Ok(resp) = self.client.get(self.url("/readyz")).send().await
                && resp.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready within a minute; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `shanhuo serve` on `database`, appending to the log at `log_path`.
fn spawn_server(
    database: &TestDatabase,
    dir: &Path,
    port: u16,
    log_path: &Path,
    env: &[(String, String)],
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("a log file");
    let mut command = Command::new(shanhuo_binary());
    command
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHANHUO_LISTEN", format!("127.0.0.1:{port}"))
        .env("SHANHUO_DATA_DIR", dir.join("data"))
        .env("SHANHUO_LOG", "info")
        .env("DATABASE_URL", &database.url)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("a log handle"))
        .stderr(log);
    if let Some(schema) = &database.schema {
        command.env("SHANHUO_DATABASE_SCHEMA", schema);
    }
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        command
            .env("REDIS_URL", redis)
            .env("SHANHUO_CACHE_PREFIX", format!("e2e:{port}:"));
    }
    // The demo county's areas only; its 45,000 households are the CLI test's to load.
    command.env("SHANHUO_SEED_DEMO_HOUSEHOLDS", "false");
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("the shanhuo binary starts")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The server binary: `E2E_SHANHUO_BIN`, or the workspace build beside this test binary.
pub fn shanhuo_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("E2E_SHANHUO_BIN") {
                return PathBuf::from(path);
            }
            // target/<profile>/deps/e2e-… → target/<profile>/shanhuo
            let exe = std::env::current_exe().expect("the test binary's path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("the test binary lives in target/<profile>/deps");
            let binary = profile_dir.join(format!("shanhuo{}", std::env::consts::EXE_SUFFIX));
            if !binary.exists() {
                build_server(profile_dir);
            }
            binary
        })
        .clone()
}

fn build_server(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "--quiet", "-p", "api", "--bin", "shanhuo"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        command.arg("--release");
    }
    if let Some(target_dir) = profile_dir.parent() {
        command.env("CARGO_TARGET_DIR", target_dir);
    }
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "building the shanhuo binary failed");
}
