//! The photo store failing for real: a small tmpfs mounted for the test, filled up (ENOSPC),
//! short of inodes part-way through an upload, or read-only (EROFS). Uploads answer 507 with
//! their code, the farmer's pages say so and keep the form, nothing half-written stays behind,
//! and readiness says the store is the trouble.
//!
//! Mounting needs root with CAP_SYS_ADMIN, as the tests and CI run; where it cannot be done the
//! tests fail, saying why, rather than pass without having tried.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use api::{
    service::{market::photos, policy::Actor},
    testing::TestApp,
};
use entities::{listing, photo, user::Role};
use poem::{http::StatusCode, test::TestForm, test::TestFormField};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support::{self, jpeg_of, json_of, picture};

const VILLAGE: &str = "500235101201";
const FARMER_PHONE: &str = "13600000077";

/// A tmpfs mounted on a folder of its own, unmounted when dropped.
struct Tmpfs {
    folder: tempfile::TempDir,
}

impl Tmpfs {
    /// `options` as `mount -o` takes them: `size=64k`, `nr_inodes=7`.
    fn mount(options: &str) -> Self {
        let folder = tempfile::tempdir().expect("a folder to mount on");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(folder.path())
            .output()
            .unwrap_or_else(|e| panic!("`mount` cannot be run: {e}"));
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill it, and needs root with CAP_SYS_ADMIN: \
             mount -t tmpfs -o {options} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { folder }
    }

    fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Writes a file until the kernel answers ENOSPC: the disk is full.
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.path().join("filler")).expect("a filler");
        let block = vec![0u8; 4096];
        loop {
            match filler.write_all(&block).and_then(|()| filler.sync_all()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => return,
                Err(e) => panic!("filling the tmpfs failed otherwise: {e}"),
            }
        }
    }

    fn remount_read_only(&self) {
        let out = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .output()
            .expect("`mount` runs");
        assert!(
            out.status.success(),
            "remounting read-only failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// Everything under `root`, files and folders, as paths relative to it, sorted.
fn tree(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder") {
            let path = entry.expect("an entry").path();
            out.push(path.strip_prefix(root).unwrap().to_owned());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

struct Shop {
    app: TestApp,
    token: String,
    listing_id: i64,
}

/// A farmer with a listing, the app's files on `data_dir`.
async fn shop_on(data_dir: &Path) -> Shop {
    let data_dir = data_dir.to_owned();
    let app = TestApp::spawn_with(|s| s.data_dir = data_dir).await;
    let household = support::household_in(&app, VILLAGE, 1).await;
    let farmer = support::farmer_account(&app, FARMER_PHONE, household).await;
    let actor = Actor {
        user_id: farmer.id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household),
    };
    let listing_id = api::service::market::listings::create(
        &app.state.db,
        &actor,
        api::service::market::listings::ListingFields {
            category_id: Some(support::category_id(&app, "sweet_potato_vermicelli").await),
            title: Some("手工红苕粉".into()),
            price_fen: Some(2500),
            stock: Some(10),
            status: Some(entities::listing::ListingStatus::OnSale),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let (token, _) = support::tokens(&app, FARMER_PHONE).await;
    Shop {
        app,
        token,
        listing_id,
    }
}

impl Shop {
    async fn upload(&self, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
        let resp = self
            .app
            .client
            .post(format!("/api/v1/listings/{}/photos", self.listing_id))
            .header("authorization", format!("Bearer {}", self.token))
            .multipart(
                TestForm::new().field(
                    TestFormField::bytes(bytes)
                        .name("file")
                        .filename("IMG_0001.jpg")
                        .content_type("image/jpeg"),
                ),
            )
            .send()
            .await;
        let status = resp.0.status();
        (status, json_of(resp).await)
    }

    async fn readiness(&self) -> (StatusCode, serde_json::Value) {
        let resp = self.app.client.get("/readyz").send().await;
        let status = resp.0.status();
        (status, json_of(resp).await)
    }

    async fn photo_rows(&self) -> u64 {
        photo::Entity::find()
            .count(self.app.state.db.conn())
            .await
            .unwrap()
    }
}

fn assert_storage_full(status: StatusCode, body: &serde_json::Value) {
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["code"], "server.storage_full", "{body}");
    assert_eq!(body["message"], "存储空间不足，请联系管理员", "{body}");
}

#[tokio::test]
async fn a_full_disk_answers_507_leaves_nothing_behind_and_readiness_says_so() {
    let disk = Tmpfs::mount("size=256k");
    let shop = shop_on(disk.path()).await;
    let (status, ready) = shop.readiness().await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["checks"]["storage"], "ok");
    let before = tree(disk.path());
    assert_eq!(before, [PathBuf::from("files")], "the probe left nothing");

    disk.fill();
    let (status, body) = shop.upload(jpeg_of(&picture(1600, 1200))).await;
    assert_storage_full(status, &body);
    assert_eq!(
        tree(disk.path()),
        [PathBuf::from("files"), PathBuf::from("filler")],
        "no photo file and no folder made for one"
    );
    assert_eq!(shop.photo_rows().await, 0);

    let (status, ready) = shop.readiness().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["code"], "server.not_ready");
    assert_eq!(ready["details"]["database"], "ok");
    assert_eq!(ready["details"]["cache"], "ok");
    let storage = ready["details"]["storage"].as_str().unwrap();
    assert!(storage.contains("No space left"), "{storage}");

    // Room again: the same upload goes through, and readiness recovers.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let (status, body) = shop.upload(jpeg_of(&picture(1600, 1200))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(shop.readiness().await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_disk_that_fills_part_way_through_an_upload_keeps_none_of_its_files() {
    // Inodes for the mount itself, files/, photos/, the two-letter folder, the photo's folder,
    // its original and its 720 thumbnail: the 240 thumbnail finds no inode left.
    let disk = Tmpfs::mount("size=4m,nr_inodes=7");
    let shop = shop_on(disk.path()).await;
    let (status, body) = shop.upload(jpeg_of(&picture(1600, 1200))).await;
    assert_storage_full(status, &body);
    assert_eq!(
        tree(disk.path()),
        [PathBuf::from("files")],
        "the original and the 720 thumbnail were removed, and their folders"
    );
    assert_eq!(shop.photo_rows().await, 0);
    assert!(
        photos::ids_of(&shop.app.state.db, shop.listing_id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_read_only_disk_answers_507_and_fails_readiness() {
    let disk = Tmpfs::mount("size=1m");
    let shop = shop_on(disk.path()).await;
    disk.remount_read_only();
    let (status, body) = shop.upload(jpeg_of(&picture(800, 600))).await;
    assert_storage_full(status, &body);
    let (status, ready) = shop.readiness().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    let storage = ready["details"]["storage"].as_str().unwrap();
    assert!(storage.contains("Read-only"), "{storage}");
    assert_eq!(tree(disk.path()), [PathBuf::from("files")]);
}

/// The anti-forgery token on a page's forms.
fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    html[start..].split('"').next().expect("a token").to_owned()
}

#[tokio::test]
async fn the_farmers_pages_say_the_store_is_full_and_keep_what_he_typed() {
    let disk = Tmpfs::mount("size=256k");
    let shop = shop_on(disk.path()).await;
    let (_, refresh) = support::tokens(&shop.app, FARMER_PHONE).await;
    let cookie = format!("shanhuo_session={refresh}");
    let page = shop
        .app
        .client
        .get("/f/listings/new")
        .header("cookie", &cookie)
        .send()
        .await;
    let csrf = csrf_in(&page.0.into_body().into_string().await.unwrap());
    disk.fill();

    let category = support::category_id(&shop.app, "sweet_potato_vermicelli").await;
    let form = TestForm::new()
        .text("csrf", &csrf)
        .text("category", category.to_string())
        .text("title", "高山土豆 10斤装")
        .text("price", "12.5")
        .text("unit", "jin")
        .text("stock", "50")
        .text("description", "今年新挖的")
        .text("on_sale", "1")
        .field(
            TestFormField::bytes(jpeg_of(&picture(1200, 900)))
                .name("photo")
                .filename("IMG_0002.jpg")
                .content_type("image/jpeg"),
        );
    let resp = shop
        .app
        .client
        .post("/f/listings/new")
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::INSUFFICIENT_STORAGE);
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(html.contains("存储空间不足，请联系管理员"), "{html}");
    for typed in [
        "value=\"高山土豆 10斤装\"",
        "value=\"12.5\"",
        "value=\"50\"",
        "今年新挖的",
    ] {
        assert!(html.contains(typed), "the form keeps {typed}: {html}");
    }
    let listings = listing::Entity::find()
        .count(shop.app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(
        listings, 1,
        "only the listing the test made; none half-made"
    );

    // One more photo on an existing listing: its page again, saying why.
    let resp = shop
        .app
        .client
        .post(format!("/f/listings/{}/photos", shop.listing_id))
        .header("cookie", &cookie)
        .multipart(
            TestForm::new().text("csrf", &csrf).field(
                TestFormField::bytes(jpeg_of(&picture(640, 480)))
                    .name("photo")
                    .filename("IMG_0003.jpg")
                    .content_type("image/jpeg"),
            ),
        )
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::INSUFFICIENT_STORAGE);
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(html.contains("存储空间不足，请联系管理员"), "{html}");
    assert!(
        html.contains("手工红苕粉"),
        "the listing's own page: {html}"
    );
    assert_eq!(
        tree(disk.path()),
        [PathBuf::from("files"), PathBuf::from("filler")]
    );
}
