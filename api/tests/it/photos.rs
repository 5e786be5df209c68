//! Listing photos over HTTP: what is refused and why, what is stored, and how it is served.

use std::io::Cursor;

use api::{
    service::{
        market::listings::{self, ListingFields},
        policy::Actor,
    },
    testing::TestApp,
};
use entities::{listing::ListingStatus, user::Role};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use poem::test::{TestForm, TestFormField};
use serde_json::Value;

use crate::support::{self, jpeg_of, json_of, picture};

const VILLAGE: &str = "500235101201";

struct Shop {
    app: TestApp,
    token: String,
    listing_id: i64,
}

async fn shop() -> Shop {
    shop_with(|_| {}).await
}

async fn shop_with(adjust: impl FnOnce(&mut api::config::Settings)) -> Shop {
    let app = TestApp::spawn_with(adjust).await;
    let household = support::household_in(&app, VILLAGE, 1).await;
    let farmer = support::farmer_account(&app, "13600000001", household).await;
    let listing_id = listing_of(&app, farmer.id, household).await;
    let (token, _) = support::tokens(&app, "13600000001").await;
    Shop {
        app,
        token,
        listing_id,
    }
}

async fn listing_of(app: &TestApp, user_id: i64, household_id: i64) -> i64 {
    let category = api::service::market::catalogue::list(&app.state.db, false)
        .await
        .unwrap()[0]
        .id;
    let actor = Actor {
        user_id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household_id),
    };
    listings::create(
        &app.state.db,
        &actor,
        ListingFields {
            category_id: Some(category),
            title: Some("红苕粉".into()),
            price_fen: Some(2500),
            stock: Some(10),
            status: Some(ListingStatus::OnSale),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

impl Shop {
    async fn upload(&self, bytes: Vec<u8>, file_name: &str, content_type: &str) -> (u16, Value) {
        self.upload_to(self.listing_id, &self.token, bytes, file_name, content_type)
            .await
    }

    async fn upload_to(
        &self,
        listing_id: i64,
        token: &str,
        bytes: Vec<u8>,
        file_name: &str,
        content_type: &str,
    ) -> (u16, Value) {
        let resp = self
            .app
            .client
            .post(format!("/api/v1/listings/{listing_id}/photos"))
            .header("authorization", format!("Bearer {token}"))
            .multipart(
                TestForm::new().field(
                    TestFormField::bytes(bytes)
                        .name("file")
                        .filename(file_name)
                        .content_type(content_type),
                ),
            )
            .send()
            .await;
        let status = resp.0.status().as_u16();
        (status, json_of(resp).await)
    }

    async fn fetch(&self, url: &str) -> poem::test::TestResponse {
        self.app.client.get(url).send().await
    }
}

fn png_of(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// A marker no encoder writes by itself: it can only come from the uploaded EXIF.
const GPS_MARKER: &[u8] = b"GPS 29.9310N 107.7390E";

/// An EXIF block (APP1 segment) with orientation 6 (the camera was turned: rotate 90° clockwise
/// to view) and a GPS directory holding an area description.
fn exif_segment(orientation: u16) -> Vec<u8> {
    // TIFF, little-endian. IFD0 at 8: two entries (Orientation, GPS IFD pointer).
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    let ifd0_len = 2 + 2 * 12 + 4;
    let gps_at = 8 + ifd0_len as u32;
    tiff.extend(2u16.to_le_bytes());
    // Orientation: SHORT, count 1, value in place.
    tiff.extend(0x0112u16.to_le_bytes());
    tiff.extend(3u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(u32::from(orientation).to_le_bytes());
    // GPSInfo: LONG offset of the GPS IFD.
    tiff.extend(0x8825u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(gps_at.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    // GPS IFD: one entry, GPSAreaInformation (UNDEFINED) pointing after the IFD.
    let data_at = gps_at + 2 + 12 + 4;
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x001Cu16.to_le_bytes());
    tiff.extend(7u16.to_le_bytes());
    tiff.extend((GPS_MARKER.len() as u32).to_le_bytes());
    tiff.extend(data_at.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(GPS_MARKER);

    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    segment(0xE1, &payload)
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out
}

/// `jpeg` with `segments` inserted right after its start-of-image marker.
fn with_segments(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for s in segments {
        out.extend(s);
    }
    out.extend(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The JPEG's marker segments before its image data.
fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        markers.push(jpeg[at + 1]);
        at += 2 + u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
    }
    markers
}

#[tokio::test]
async fn a_phone_photo_is_turned_upright_stripped_of_gps_and_stored_in_three_sizes() {
    let shop = shop().await;
    // 3000 × 1800 as the sensor saw it; orientation 6 means it is viewed 1800 wide, 3000 high.
    let photo = with_segments(&jpeg_of(&picture(3000, 1800)), &[exif_segment(6)]);
    assert!(contains(&photo, GPS_MARKER));
    let (status, body) = shop.upload(photo, "IMG_0001.JPG", "image/jpeg").await;
    assert_eq!(status, 201, "{body}");
    let shown = &body[0];
    assert_eq!(
        (shown["width"].as_i64(), shown["height"].as_i64()),
        (Some(1229), Some(2048))
    );

    for (url, side) in [
        (&shown["original_url"], (1229, 2048)),
        (&shown["large_url"], (432, 720)),
        (&shown["small_url"], (144, 240)),
    ] {
        let resp = shop.fetch(url.as_str().unwrap()).await;
        resp.assert_status_is_ok();
        resp.assert_content_type("image/jpeg");
        let bytes = resp.0.into_body().into_vec().await.unwrap();
        let stored = image::load_from_memory(&bytes).unwrap();
        assert_eq!((stored.width(), stored.height()), side, "{url}");
        assert!(!contains(&bytes, GPS_MARKER), "GPS data left in {url}");
        assert!(!contains(&bytes, b"Exif"), "EXIF left in {url}");
        assert!(
            jpeg_markers(&bytes)
                .iter()
                .all(|m| !(0xE1..=0xEF).contains(m) && *m != 0xFE),
            "metadata segments left in {url}: {:x?}",
            jpeg_markers(&bytes)
        );
    }

    // The listing shows it.
    let listing = json_of(
        shop.fetch(&format!("/api/v1/listings/{}", shop.listing_id))
            .await,
    )
    .await;
    assert_eq!(listing["photos"][0]["id"], shown["id"]);
}

#[tokio::test]
async fn photos_are_served_for_a_year_with_an_etag() {
    let shop = shop().await;
    let (status, body) = shop
        .upload(png_of(&picture(300, 200)), "tangerines.png", "image/png")
        .await;
    assert_eq!(status, 201, "{body}");
    let url = body[0]["small_url"].as_str().unwrap().to_owned();
    let resp = shop.fetch(&url).await;
    resp.assert_status_is_ok();
    resp.assert_header("cache-control", "public, max-age=31536000, immutable");
    let etag = resp.0.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'));

    let again = shop
        .app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await;
    again.assert_status(poem::http::StatusCode::NOT_MODIFIED);

    let missing = shop
        .fetch(&format!("/api/v1/photos/{}/240", "0".repeat(64)))
        .await;
    missing.assert_status(poem::http::StatusCode::NOT_FOUND);
    let bad_size = shop.fetch(&url.replace("/240", "/9999")).await;
    bad_size.assert_status(poem::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn what_is_not_a_sound_photo_is_refused_with_its_reason() {
    let shop = shop().await;
    let png = png_of(&picture(64, 48));
    let jpeg = jpeg_of(&picture(640, 480));

    // A PNG named and sent as a JPEG.
    let (status, body) = shop.upload(png.clone(), "photo.jpg", "image/jpeg").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("photo.type_mismatch"))
    );
    assert!(body["details"]["reason"].as_str().unwrap().contains("PNG"));

    // A file cut short in transfer.
    let (status, body) = shop
        .upload(jpeg[..jpeg.len() * 2 / 3].to_vec(), "cut.jpg", "image/jpeg")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("photo.corrupt"))
    );

    // A 50,000 × 50,000 PNG: its header asks for 10 GB; refused before anything is decoded.
    let (status, body) = shop
        .upload(png_bomb(50_000, 50_000), "bomb.png", "image/png")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("photo.too_many_pixels"))
    );

    // A megabyte of EXIF in twenty APP1 segments.
    let block = segment(0xE1, &[b'x'; 60_000]);
    let heavy = with_segments(&jpeg, &vec![block; 20]);
    let (status, body) = shop.upload(heavy, "heavy.jpg", "image/jpeg").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("photo.metadata_too_large"))
    );

    // Not an image at all.
    let (status, body) = shop
        .upload(b"%PDF-1.7 not a photo".to_vec(), "notes.jpg", "image/jpeg")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("photo.not_an_image"))
    );

    // None of them left a photo behind.
    let listing = json_of(
        shop.fetch(&format!("/api/v1/listings/{}", shop.listing_id))
            .await,
    )
    .await;
    assert_eq!(listing["photos"].as_array().unwrap().len(), 0);

    // The format is read from the bytes: a PNG sent without a type or extension is taken.
    let (status, body) = shop.upload(png, "photo", "application/octet-stream").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn the_kind_agrees_with_both_the_name_and_the_type_even_for_bytes_stored_already() {
    let shop = shop().await;
    let jpeg = jpeg_of(&picture(320, 240));

    // A JPEG named .png is refused whatever type it is sent as, and one sent as a PNG whatever
    // its name.
    for (name, content_type) in [
        ("photo.png", "image/jpeg"),
        ("photo.jpg", "image/png"),
        ("photo.txt", "image/jpeg"),
        ("photo.jpg", "text/plain"),
    ] {
        let (status, body) = shop.upload(jpeg.clone(), name, content_type).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("photo.type_mismatch")),
            "{name} as {content_type}: {body}"
        );
    }

    // Once the bytes are stored, the same rule holds.
    let (status, body) = shop.upload(jpeg.clone(), "photo.jpg", "image/jpeg").await;
    assert_eq!(status, 201, "{body}");
    for (name, content_type) in [("photo.png", "image/jpeg"), ("photo.jpg", "image/png")] {
        let (status, body) = shop.upload(jpeg.clone(), name, content_type).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("photo.type_mismatch")),
            "stored bytes as {name}, {content_type}: {body}"
        );
    }
    let (status, body) = shop.upload(jpeg, "IMG_0001.JPEG", "image/jpeg").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_refused_before_it_is_read() {
    let shop = shop_with(|s| s.photo_limit_bytes = 64 * 1024).await;
    let big = jpeg_of(&DynamicImage::ImageRgb8(ImageBuffer::from_fn(
        800,
        800,
        |x, y| Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, (x ^ y) as u8]),
    )));
    assert!(big.len() > 64 * 1024);
    let (status, body) = shop.upload(big, "big.jpg", "image/jpeg").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("request.body_too_large"))
    );
}

#[tokio::test]
async fn only_the_listings_farmer_adds_photos_and_the_same_photo_is_stored_once() {
    let shop = shop().await;
    let app = &shop.app;
    let other_household = support::household_in(app, VILLAGE, 2).await;
    let other = support::farmer_account(app, "13600000002", other_household).await;
    let other_listing = listing_of(app, other.id, other_household).await;
    let (other_token, _) = support::tokens(app, "13600000002").await;
    let photo = jpeg_of(&picture(500, 400));

    // Someone else's listing is not found.
    let (status, body) = shop
        .upload_to(
            other_listing,
            &shop.token,
            photo.clone(),
            "a.jpg",
            "image/jpeg",
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("market.not_found"))
    );

    // The same photo on two listings, and twice on one: one stored photo, one entry each.
    let (status, first) = shop.upload(photo.clone(), "a.jpg", "image/jpeg").await;
    assert_eq!(status, 201);
    let (status, again) = shop.upload(photo.clone(), "a.jpg", "image/jpeg").await;
    assert_eq!(status, 201);
    assert_eq!(again.as_array().unwrap().len(), 1);
    let (status, theirs) = shop
        .upload_to(other_listing, &other_token, photo, "b.jpg", "image/jpeg")
        .await;
    assert_eq!(status, 201);
    assert_eq!(first[0]["id"], theirs[0]["id"]);
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entities::photo::Entity::find()
            .count(app.state.db.conn())
            .await
            .unwrap(),
        1
    );
    let stored_files = walk(&app.files.path().join("files"));
    assert_eq!(stored_files, 3, "three sizes of one photo");

    // Taking it off one listing leaves the other's.
    let id = first[0]["id"].as_str().unwrap();
    let resp = app
        .client
        .delete(format!("/api/v1/listings/{}/photos/{id}", shop.listing_id))
        .header("authorization", format!("Bearer {}", shop.token))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json_of(resp).await.as_array().unwrap().len(), 0);
    let theirs = json_of(
        shop.fetch(&format!("/api/v1/listings/{other_listing}"))
            .await,
    )
    .await;
    assert_eq!(theirs["photos"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_listing_shows_at_most_nine_photos() {
    let shop = shop().await;
    for n in 0..9u32 {
        let (status, _) = shop
            .upload(jpeg_of(&picture(100 + n, 80)), "p.jpg", "image/jpeg")
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = shop
        .upload(jpeg_of(&picture(200, 80)), "p.jpg", "image/jpeg")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("market.invalid"))
    );
}

/// Files under `dir` (none when it does not exist).
fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk(&p) } else { 1 })
        .sum()
}

/// A PNG whose header claims `width` × `height` RGBA pixels, followed by a little real image
/// data: what a decompression bomb looks like before its data is inflated.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend(data);
        out.extend(crc32(&crc_input).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    // A zlib stream of one stored block of zeros: the first rows of the image.
    let zeros = vec![0u8; 4096];
    let mut idat = vec![0x78, 0x01, 0x01];
    idat.extend((zeros.len() as u16).to_le_bytes());
    idat.extend((!(zeros.len() as u16)).to_le_bytes());
    idat.extend(&zeros);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn photos_go_to_s3_compatible_storage_when_a_bucket_is_configured() {
    let s3 = api::testing::FakeS3::start().await;
    let shop = shop_with(|s| s3.configure(s)).await;
    let (status, body) = shop
        .upload(jpeg_of(&picture(1600, 1200)), "p.jpg", "image/jpeg")
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body[0]["id"].as_str().unwrap();

    let stored: Vec<String> = s3.objects.lock().unwrap().keys().cloned().collect();
    let prefix = format!("{}/photos/{}/{id}", s3.bucket, &id[..2]);
    assert_eq!(
        stored,
        ["240", "720", "original"].map(|size| format!("{prefix}/{size}.jpg"))
    );
    assert_eq!(
        walk(&shop.app.files.path().join("files")),
        0,
        "nothing in the local folder"
    );

    let resp = shop.fetch(body[0]["large_url"].as_str().unwrap()).await;
    resp.assert_status_is_ok();
    let served = resp.0.into_body().into_vec().await.unwrap();
    assert_eq!(
        served,
        s3.objects.lock().unwrap()[&format!("{prefix}/720.jpg")]
    );
}
