//! Listing photos: how long a 12-megapixel phone JPEG takes to become a stored original and
//! thumbnails, and the peak memory of the process doing it (measured in a child process, so
//! nothing else counts); then how many uploads per second the server sustains over HTTP with
//! several farmers uploading at once, for full-size camera photos and for the ~1280-pixel
//! photos WeChat sends after compressing.
//!
//! Run with `cargo bench -p api --bench photos`.

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use api::{
    http,
    infra::{
        blobs::Blobs,
        imaging::{self, PhotoLimits},
    },
    testing::{self, TestApp},
};
use image::{DynamicImage, ImageBuffer, Rgb, codecs::jpeg::JpegEncoder};
use poem::EndpointExt;

/// The child process's mode: process the JPEG at this path once and report.
const CHILD: &str = "SHANHUO_PHOTO_BENCH_FILE";
const RUNS: usize = 5;
const UPLOADERS: usize = 8;
const UPLOAD_FOR: Duration = Duration::from_secs(15);

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        return process_once(Path::new(&path));
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let camera = camera_jpeg(4000, 3000, 0);
    let path = dir.path().join("camera.jpg");
    std::fs::write(&path, &camera).expect("the photo is written");
    println!(
        "12-megapixel photo: 4000 × 3000 JPEG, {:.1} MB",
        camera.len() as f64 / 1e6
    );

    let mut took = Vec::new();
    let mut peak_kb = 0;
    for _ in 0..RUNS {
        let (ms, peak) = run_child(&path);
        took.push(ms);
        peak_kb = peak_kb.max(peak);
    }
    took.sort_by(f64::total_cmp);
    println!(
        "  to stored original + 720 + 240 thumbnails: median {:.0} ms, fastest {:.0} ms, slowest {:.0} ms ({RUNS} runs)",
        took[RUNS / 2],
        took[0],
        took[RUNS - 1]
    );
    println!(
        "  peak memory of the process: {:.0} MB (the decoded image alone is {:.0} MB)",
        peak_kb as f64 / 1024.0,
        4000.0 * 3000.0 * 3.0 / 1024.0 / 1024.0
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(uploads(camera));
}

/// In the child: decode, orient, resize, encode and store, timed.
fn process_once(path: &Path) {
    let bytes = std::fs::read(path).expect("the photo is read");
    let store = tempfile::tempdir().expect("a temporary folder");
    let blobs = Blobs::local(store.path()).expect("a local store");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let processed = imaging::process(
        &bytes,
        imaging::declared_format(Some("image/jpeg"), Some("photo.jpg")),
        &PhotoLimits::default(),
    )
    .expect("the photo is accepted");
    runtime.block_on(async {
        for variant in processed.variants {
            blobs
                .put(&format!("p/{}.jpg", variant.variant.name()), variant.jpeg)
                .await
                .expect("stored");
        }
    });
    println!("{}", started.elapsed().as_secs_f64() * 1000.0);
}

// The child is reaped by `wait4`, which also hands back its resource usage.
#[allow(clippy::zombie_processes)]
fn run_child(path: &Path) -> (f64, i64) {
    let child = Command::new(std::env::current_exe().expect("this benchmark's path"))
        .env(CHILD, path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `usage` is plain data the kernel fills in; `pid` is our own child, reaped here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "waiting for the child failed");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout {
        use std::io::Read;
        let _ = stdout.read_to_string(&mut output);
    }
    let ms = output
        .trim()
        .parse()
        .expect("the child prints milliseconds");
    (ms, usage.ru_maxrss)
}

/// A photo-like picture: smooth light, texture and noise, so it compresses as a real one does.
/// `seed` makes each one different.
fn camera_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32 ^ seed.wrapping_mul(0x85EB_CA6B);
    let image = ImageBuffer::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as i32 - 12;
        let wave = (((x as f32 / 37.0).sin() + (y as f32 / 53.0).cos()) * 30.0) as i32;
        let r = (x * 160 / width) as i32 + 60 + wave + noise;
        let g = (y * 150 / height) as i32 + 70 - wave / 2 + noise;
        let b = 110 + wave / 3 + noise + seed as i32 % 40;
        Rgb([r, g, b].map(|c| c.clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 92))
        .expect("encoding");
    out
}

/// The photo with a comment segment carrying `n`: the same pixels, a different file, so the
/// server cannot answer from its content-addressed store.
fn variant_of(jpeg: &[u8], n: u64) -> Vec<u8> {
    let comment = format!("upload {n}");
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xFE]);
    out.extend(((comment.len() + 2) as u16).to_be_bytes());
    out.extend(comment.as_bytes());
    out.extend(&jpeg[2..]);
    out
}

async fn uploads(camera: Vec<u8>) {
    let app = TestApp::spawn_with(|s| s.anonymous_requests_per_minute = 0).await;
    let village = "500235101201";
    let mut uploaders = Vec::new();
    for n in 1..=UPLOADERS as u32 {
        let household = testing::one_person_household(&app.state, village, n).await;
        let phone = format!("136000000{n:02}");
        testing::account(
            &app.state.db,
            &phone,
            entities::user::Role::Farmer,
            Some(household),
            "bench-password",
        )
        .await;
        uploaders.push(phone);
    }

    let addr = testing::serve_locally(http::routes(app.state.clone()).map_to_response()).await;
    let base = format!("http://{addr}/api/v1");
    let client = reqwest::Client::new();

    let category = api::service::market::catalogue::list(&app.state.db, false)
        .await
        .expect("categories")[0]
        .id;
    let mut farmers = Vec::new();
    for phone in &uploaders {
        let login: serde_json::Value = client
            .post(format!("{base}/auth/login/password"))
            .json(&serde_json::json!({ "phone": phone, "password": "bench-password" }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("tokens");
        let token = login["access_token"].as_str().expect("a token").to_owned();
        let listing: serde_json::Value = client
            .post(format!("{base}/listings"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "category_id": category, "title": "红苕粉", "price_fen": 2500, "stock": 10,
                "status": "on_sale"
            }))
            .send()
            .await
            .expect("a listing")
            .json()
            .await
            .expect("the listing");
        farmers.push((token, listing["id"].as_i64().expect("an id")));
    }

    let wechat = {
        let full = image::load_from_memory(&camera).expect("decodes");
        let small = full.thumbnail(1280, 1280);
        let mut out = Vec::new();
        small
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 80))
            .expect("encoding");
        out
    };

    println!("\nuploads over HTTP, {UPLOADERS} farmers at once, {UPLOAD_FOR:?} each:");
    for (what, photo) in [
        ("12 MP camera photo", camera),
        ("WeChat 1280 px photo", wechat),
    ] {
        let photo = Arc::new(photo);
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = farmers
            .iter()
            .cloned()
            .map(|(token, listing)| {
                let (client, base, photo, counter) =
                    (client.clone(), base.clone(), photo.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while started.elapsed() < UPLOAD_FOR {
                        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let sent = Instant::now();
                        let status =
                            upload(&client, &base, &token, listing, variant_of(&photo, n)).await;
                        // A listing shows nine photos; take them off to keep uploading.
                        if status == 422 {
                            clear(&client, &base, &token, listing).await;
                            continue;
                        }
                        assert_eq!(status, 201, "upload refused");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.expect("an uploader"));
        }
        let took = started.elapsed().as_secs_f64();
        latencies.sort();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "  {what} ({:.2} MB): {} uploads in {took:.1} s = {:.1} uploads/s; latency p50 {:.0} ms, p99 {:.0} ms",
            photo.len() as f64 / 1e6,
            latencies.len(),
            latencies.len() as f64 / took,
            pct(0.5).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
        );
    }
}

async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    listing: i64,
    photo: Vec<u8>,
) -> u16 {
    let boundary = "shanhuo-bench-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"IMG.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend(photo);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    client
        .post(format!("{base}/listings/{listing}/photos"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the upload is answered")
        .status()
        .as_u16()
}

async fn clear(client: &reqwest::Client, base: &str, token: &str, listing: i64) {
    let shown: serde_json::Value = client
        .get(format!("{base}/listings/{listing}"))
        .send()
        .await
        .expect("the listing")
        .json()
        .await
        .expect("JSON");
    for photo in shown["photos"].as_array().into_iter().flatten() {
        let id = photo["id"].as_str().expect("an id");
        client
            .delete(format!("{base}/listings/{listing}/photos/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("removed");
    }
}
