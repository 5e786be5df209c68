//! Label sheets: a run of 1,000 item codes signed and laid out as the A4 PDF the farmer prints,
//! and as the PNG pages, timed in release. The goal: a 1,000-label sheet in a few seconds at
//! most.
//!
//! Run with `cargo bench -p api --bench labels`.

use std::time::Instant;

use api::{
    config::Settings,
    infra::{
        labels::{self, LabelFonts},
        trace_codes::TraceKeys,
    },
    service::trace::labels::LabelRun,
};
use chrono::Utc;

const LABELS: i64 = 1_000;
const ROUNDS: usize = 5;

fn main() {
    let settings = Settings::default();
    let keys = TraceKeys::new(&settings.secret_key, None);
    let run = LabelRun {
        run: entities::trace_code_run::Model {
            id: 1,
            batch_id: 4_242,
            first_item: 1,
            last_item: LABELS,
            created_by: 1,
            created_at: Utc::now(),
        },
        product: "红薯粉条".into(),
        place: "大坪乡红岩村".into(),
    };
    let pages = run
        .page_range(None, None)
        .expect("the whole run fits one file");
    let fonts = LabelFonts::new(settings.label_font.clone());
    println!(
        "{LABELS} labels, {} A4 pages of {}, base URL {} (Chinese font for PNG: {})",
        pages.end(),
        labels::LABELS_PER_PAGE,
        settings.public_base_url,
        if fonts.has_chinese() { "found" } else { "none" }
    );

    let mut pdf_ms = Vec::new();
    let mut size = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let sheet = labels::pdf(&run.labels(&keys, &settings.public_base_url, pages.clone()));
        pdf_ms.push(started.elapsed().as_secs_f64() * 1e3);
        size = sheet.len();
    }
    let started = Instant::now();
    let mut png_bytes = 0;
    for page in pages.clone() {
        let page_labels = run.labels(&keys, &settings.public_base_url, page..=page);
        png_bytes += labels::png(&page_labels, &fonts).len();
    }
    let png_ms = started.elapsed().as_secs_f64() * 1e3;

    pdf_ms.sort_by(f64::total_cmp);
    println!(
        "  PDF (codes signed, QR codes encoded, drawn, compressed): median {:.0} ms, best {:.0} ms \
         of {ROUNDS}; {:.0} KB, {:.2} KB a label",
        pdf_ms[ROUNDS / 2],
        pdf_ms[0],
        size as f64 / 1024.0,
        size as f64 / 1024.0 / LABELS as f64
    );
    println!(
        "  PNG, every page at {} dpi: {:.0} ms in all, {:.0} ms a page, {:.0} KB a page",
        labels::PNG_DPI,
        png_ms,
        png_ms / *pages.end() as f64,
        png_bytes as f64 / 1024.0 / *pages.end() as f64
    );
    println!("  PDF time / 3 s goal: {:.3}", pdf_ms[ROUNDS / 2] / 3_000.0);
}
