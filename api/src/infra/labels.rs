//! Label sheets for printing trace codes: A4 pages of 3 × 8 labels, 70 × 37 mm each (the common
//! self-adhesive sheet), every label with its QR code, the product, the village and the code in
//! text. As a PDF for the printer, and as one PNG a page (200 dpi) for phones and shops that
//! print pictures.
//!
//! The PDF draws each QR module as a vector rectangle, so it prints sharp at any resolution, and
//! writes Chinese in Adobe's standard Song typeface (`STSong-Light`, Adobe-GB1), which every PDF
//! reader supplies: no font is embedded and a sheet stays small. The PNG needs a font file with
//! Chinese glyphs (WenQuanYi Micro Hei, Noto Sans CJK, …); see [`LabelFonts`].

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{GrayImage, ImageFormat, Luma};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, types::CidFontType};
use qrcode::{Color, EcLevel, QrCode};

pub const COLUMNS: usize = 3;
pub const ROWS: usize = 8;
pub const LABELS_PER_PAGE: usize = COLUMNS * ROWS;

const PT_PER_MM: f32 = 72.0 / 25.4;
const PAGE_W_MM: f32 = 210.0;
const PAGE_H_MM: f32 = 297.0;
const LABEL_W_MM: f32 = 70.0;
const LABEL_H_MM: f32 = 37.0;
/// The sheet's label grid starts this far from the top edge.
const TOP_MM: f32 = 0.5;
/// The square the QR code (with its quiet zone) fits in, at the label's left.
const QR_BOX_MM: f32 = 31.0;
/// Text starts right of the QR code and keeps this far from the label's right edge.
const TEXT_RIGHT_MM: f32 = 3.0;
/// The PNG's resolution.
pub const PNG_DPI: f32 = 200.0;
const QUIET_ZONE: usize = 4;

/// One label: the URL its QR code carries and the lines printed beside it.
#[derive(Clone, Debug)]
pub struct Label {
    pub url: String,
    pub code: String,
    pub product: String,
    /// Township and village.
    pub place: String,
    /// Item number, printed small under the code.
    pub item: i64,
    /// Where the code can be typed by a phone that cannot scan: `shanhuo.example.cn/m/trace`.
    pub typed_at: String,
}

/// The short address where a code is typed, as a label prints it: the public address without
/// its scheme, then `/m/trace`.
pub fn typing_address(public_base_url: &str) -> String {
    let base = public_base_url.trim_end_matches('/');
    let host = base.split_once("://").map_or(base, |(_, rest)| rest);
    format!("{host}/m/trace")
}

/// Where label `index` (0-based within its page) sits: its top-left corner in mm from the page's
/// top-left.
fn label_origin(index: usize) -> (f32, f32) {
    let (row, column) = (index / COLUMNS, index % COLUMNS);
    (column as f32 * LABEL_W_MM, TOP_MM + row as f32 * LABEL_H_MM)
}

/// A QR code's dark modules, quiet zone included: `(width, is_dark(x, y))`.
pub(crate) struct Modules {
    pub(crate) width: usize,
    dark: Vec<bool>,
}

impl Modules {
    pub(crate) fn of(url: &str) -> Self {
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
            .expect("a scan URL fits a QR code");
        let inner = code.width();
        let width = inner + 2 * QUIET_ZONE;
        let mut dark = vec![false; width * width];
        for (i, color) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % inner, i / inner);
            dark[(y + QUIET_ZONE) * width + x + QUIET_ZONE] = color == Color::Dark;
        }
        Self { width, dark }
    }

    /// Runs of dark modules in each row, as `(row, first column, length)`: one rectangle a run
    /// keeps the PDF small.
    pub(crate) fn runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.width).flat_map(move |y| {
            let row = &self.dark[y * self.width..(y + 1) * self.width];
            let mut runs = Vec::new();
            let mut x = 0;
            while x < self.width {
                if row[x] {
                    let start = x;
                    while x < self.width && row[x] {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
            runs
        })
    }
}

/// The widths the PDF lays text out with: Chinese characters a full em, others half.
pub(crate) fn text_em(text: &str) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum()
}

/// `text` cut to fit `width` at `size` (both in the same unit), ending in "…" when cut.
fn fit(text: &str, size: f32, width: f32, em: impl Fn(&str) -> f32) -> String {
    if em(text) * size <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if (em(&out) + 1.0) * size > width {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

/// One line of text beside a label's QR code.
struct TextLine {
    size_pt: f32,
    /// From the label's top.
    baseline_mm: f32,
    text: String,
    /// Set in the code typeface (Courier) in the PDF rather than the Chinese one.
    code: bool,
}

/// The width beside a QR code that text may take.
const TEXT_WIDTH_MM: f32 = LABEL_W_MM - QR_BOX_MM - TEXT_RIGHT_MM;

/// The size of the code's two lines, in points: large enough to read and type from.
pub const CODE_PT: f32 = 8.0;

/// The lines beside a QR code: product, township and village, the code in groups of four on
/// two lines, the item number, and the address where the code can be typed.
/// `fit_to_width` cuts a name to the text width as the output measures it, at a size in points.
fn text_lines(label: &Label, fit_to_width: impl Fn(&str, f32) -> String) -> [TextLine; 6] {
    let line = |size_pt: f32, baseline_mm: f32, text: String, code: bool| TextLine {
        size_pt,
        baseline_mm,
        text,
        code,
    };
    let grouped = crate::infra::trace_codes::grouped(&label.code);
    // Three groups on the first line, the rest on the second.
    let (first, second) = grouped.split_at(grouped.len().min(14));
    [
        line(11.0, 9.5, fit_to_width(&label.product, 11.0), false),
        line(8.0, 14.5, fit_to_width(&label.place, 8.0), false),
        line(CODE_PT, 20.0, first.trim().to_owned(), true),
        line(CODE_PT, 23.5, second.trim().to_owned(), true),
        line(
            7.0,
            28.0,
            format!("No.{}  扫码验真，或输码：", label.item),
            false,
        ),
        line(6.0, 32.5, fit_to_width(&label.typed_at, 6.0), false),
    ]
}

/// UTF-16BE, as the `UniGB-UTF16-H` encoding reads it.
pub(crate) fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Adobe's Song (`STSong-Light`), supplied by the reader, as font `song`; ASCII in it is half
/// an em wide.
pub(crate) fn song_font(pdf: &mut Pdf, song: Ref, song_cid: Ref, song_descriptor: Ref) {
    pdf.type0_font(song)
        .base_font(Name(b"STSong-Light"))
        .encoding_predefined(Name(b"UniGB-UTF16-H"))
        .descendant_font(song_cid);
    let mut cid = pdf.cid_font(song_cid);
    cid.subtype(CidFontType::Type0)
        .base_font(Name(b"STSong-Light"))
        .system_info(pdf_writer::types::SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"GB1"),
            supplement: 2,
        })
        .font_descriptor(song_descriptor)
        .default_width(1000.0);
    cid.widths().consecutive(1, [500.0; 95]);
    cid.finish();
    pdf.font_descriptor(song_descriptor)
        .name(Name(b"STSong-Light"))
        .flags(pdf_writer::types::FontFlags::SYMBOLIC)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
}

/// A PDF with the labels, `LABELS_PER_PAGE` to an A4 page, in order.
pub fn pdf(labels: &[Label]) -> Vec<u8> {
    let page_w = PAGE_W_MM * PT_PER_MM;
    let page_h = PAGE_H_MM * PT_PER_MM;
    let mut next_id = Ref::new(1);
    let catalog = next_id.bump();
    let tree = next_id.bump();
    let song = next_id.bump();
    let song_cid = next_id.bump();
    let song_descriptor = next_id.bump();
    let courier = next_id.bump();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    song_font(&mut pdf, song, song_cid, song_descriptor);
    pdf.type1_font(courier).base_font(Name(b"Courier-Bold"));

    let pages: Vec<&[Label]> = labels.chunks(LABELS_PER_PAGE).collect();
    let mut page_ids = Vec::with_capacity(pages.len());
    for page_labels in pages {
        let page_id = next_id.bump();
        let content_id = next_id.bump();
        page_ids.push(page_id);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, page_w, page_h))
            .parent(tree)
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(Name(b"S"), song)
            .pair(Name(b"C"), courier);
        page.finish();

        let mut content = Content::new();
        content.set_fill_gray(0.0);
        for (i, label) in page_labels.iter().enumerate() {
            let (left_mm, top_mm) = label_origin(i);
            let left = left_mm * PT_PER_MM;
            let top = page_h - top_mm * PT_PER_MM;
            let modules = Modules::of(&label.url);
            let module = (QR_BOX_MM * PT_PER_MM / modules.width as f32).min(MODULE_PT);
            let qr_side = module * modules.width as f32;
            let qr_left = left + (QR_BOX_MM * PT_PER_MM - qr_side) / 2.0;
            let qr_top = top - (LABEL_H_MM * PT_PER_MM - qr_side) / 2.0;
            for (y, x, run) in modules.runs() {
                content.rect(
                    qr_left + x as f32 * module,
                    qr_top - (y + 1) as f32 * module,
                    run as f32 * module,
                    module,
                );
            }
            content.fill_nonzero();
            let text_left = left + QR_BOX_MM * PT_PER_MM;
            let fit_pdf =
                |text: &str, size_pt: f32| fit(text, size_pt, TEXT_WIDTH_MM * PT_PER_MM, text_em);
            for line in text_lines(label, fit_pdf) {
                let (font, bytes) = if line.code {
                    (Name(b"C"), line.text.into_bytes())
                } else {
                    (Name(b"S"), utf16be(&line.text))
                };
                content.begin_text();
                content.set_font(font, line.size_pt);
                content.next_line(text_left, top - line.baseline_mm * PT_PER_MM);
                content.show(Str(&bytes));
                content.end_text();
            }
        }
        let stream = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_id, &stream).filter(Filter::FlateDecode);
    }
    let count = page_ids.len() as i32;
    pdf.pages(tree).kids(page_ids).count(count);
    pdf.finish()
}

/// A QR module's size: 6 px in the 200 dpi PNG, 0.76 mm, the same in the PDF (smaller only when
/// a long base URL needs a larger QR version to fit the label).
const MODULE_PX: u32 = 6;
const MODULE_PT: f32 = MODULE_PX as f32 * 72.0 / PNG_DPI;

fn mm_to_px(mm: f32) -> f32 {
    mm / 25.4 * PNG_DPI
}

/// Fonts for drawing the PNG's text, found once: the configured file, else the first Chinese
/// font installed in the usual places. Latin-only fonts serve as a fallback for the code.
#[derive(Debug)]
pub struct LabelFonts {
    configured: Option<PathBuf>,
    loaded: OnceLock<Vec<FontVec>>,
}

/// Where Debian and most Linux systems put fonts with Chinese glyphs, and Latin fallbacks.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

impl LabelFonts {
    pub fn new(configured: Option<PathBuf>) -> Self {
        Self {
            configured,
            loaded: OnceLock::new(),
        }
    }

    pub(crate) fn fonts(&self) -> &[FontVec] {
        self.loaded.get_or_init(|| {
            let paths = self
                .configured
                .iter()
                .map(PathBuf::as_path)
                .chain(FONT_CANDIDATES.iter().map(Path::new));
            let fonts: Vec<FontVec> = paths.filter_map(load_font).collect();
            if !fonts.iter().any(|f| f.glyph_id('村').0 != 0) {
                tracing::warn!(
                    "no font with Chinese glyphs found: label PNGs print the code but not the \
                     product or village; install fonts-wqy-microhei or set SHANHUO_LABEL_FONT"
                );
            }
            fonts
        })
    }

    /// Whether Chinese text can be drawn.
    pub fn has_chinese(&self) -> bool {
        self.fonts().iter().any(|f| f.glyph_id('村').0 != 0)
    }
}

fn load_font(path: &Path) -> Option<FontVec> {
    let bytes = std::fs::read(path).ok()?;
    match FontVec::try_from_vec_and_index(bytes, 0) {
        Ok(font) => Some(font),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "not a usable font");
            None
        }
    }
}

/// One page of labels as a PNG, 200 dpi, the same layout as the PDF's page.
pub fn png(labels: &[Label], fonts: &LabelFonts) -> Vec<u8> {
    let width = mm_to_px(PAGE_W_MM).round() as u32;
    let height = mm_to_px(PAGE_H_MM).round() as u32;
    let mut page = GrayImage::from_pixel(width, height, Luma([255]));
    let fonts = fonts.fonts();
    for (i, label) in labels.iter().take(LABELS_PER_PAGE).enumerate() {
        let (left_mm, top_mm) = label_origin(i);
        let (left, top) = (mm_to_px(left_mm), mm_to_px(top_mm));
        let modules = Modules::of(&label.url);
        let module = ((mm_to_px(QR_BOX_MM) / modules.width as f32) as u32).clamp(1, MODULE_PX);
        let side = module * modules.width as u32;
        let qr_left = (left + (mm_to_px(QR_BOX_MM) - side as f32) / 2.0) as u32;
        let qr_top = (top + (mm_to_px(LABEL_H_MM) - side as f32) / 2.0) as u32;
        for (y, x, run) in modules.runs() {
            for py in 0..module {
                for px in 0..module * run as u32 {
                    let (gx, gy) = (
                        qr_left + x as u32 * module + px,
                        qr_top + y as u32 * module + py,
                    );
                    if gx < width && gy < height {
                        page.put_pixel(gx, gy, Luma([0]));
                    }
                }
            }
        }
        let text_left = left + mm_to_px(QR_BOX_MM);
        let px_of = |size_pt: f32| size_pt * PNG_DPI / 72.0;
        let fit_png = |text: &str, size_pt: f32| {
            let px = px_of(size_pt);
            fit(text, px, mm_to_px(TEXT_WIDTH_MM), |t| {
                text_width_px(fonts, t, px) / px
            })
        };
        for line in text_lines(label, fit_png) {
            draw_text(
                &mut page,
                fonts,
                &line.text,
                px_of(line.size_pt),
                (text_left, top + mm_to_px(line.baseline_mm)),
            );
        }
    }
    let mut out = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .expect("encoding to memory");
    out
}

fn font_for(fonts: &[FontVec], c: char) -> Option<&FontVec> {
    fonts.iter().find(|f| f.glyph_id(c).0 != 0)
}

pub(crate) fn text_width_px(fonts: &[FontVec], text: &str, px: f32) -> f32 {
    text.chars()
        .filter_map(|c| {
            font_for(fonts, c).map(|f| f.as_scaled(PxScale::from(px)).h_advance(f.glyph_id(c)))
        })
        .sum()
}

/// Draws `text` with its baseline starting at `origin`; characters no font has are skipped.
pub(crate) fn draw_text(
    page: &mut GrayImage,
    fonts: &[FontVec],
    text: &str,
    px: f32,
    origin: (f32, f32),
) {
    draw_text_scaled(page, fonts, text, origin, |_| px);
}

/// Draws `text` as [`draw_text`] does, `em_px` being the type's em (the width of a Chinese
/// character), as a PDF's type size is, rather than the font's line height: the PNG's text then
/// runs as wide as the PDF's.
pub(crate) fn draw_text_em(
    page: &mut GrayImage,
    fonts: &[FontVec],
    text: &str,
    em_px: f32,
    origin: (f32, f32),
) {
    draw_text_scaled(page, fonts, text, origin, |font| {
        em_px * font.height_unscaled() / font.units_per_em().unwrap_or(1000.0)
    });
}

fn draw_text_scaled(
    page: &mut GrayImage,
    fonts: &[FontVec],
    text: &str,
    origin: (f32, f32),
    scale: impl Fn(&FontVec) -> f32,
) {
    let (mut x, baseline) = origin;
    for c in text.chars() {
        let Some(font) = font_for(fonts, c) else {
            continue;
        };
        let px = scale(font);
        let scaled = font.as_scaled(PxScale::from(px));
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(x, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (px_x, px_y) = (
                    bounds.min.x as i64 + i64::from(gx),
                    bounds.min.y as i64 + i64::from(gy),
                );
                if px_x < 0 || px_y < 0 {
                    return;
                }
                let (px_x, px_y) = (px_x as u32, px_y as u32);
                if px_x < page.width() && px_y < page.height() {
                    let ink = (coverage.clamp(0.0, 1.0) * 255.0) as u8;
                    let pixel = page.get_pixel_mut(px_x, px_y);
                    pixel.0[0] = pixel.0[0].min(255 - ink);
                }
            });
        }
        x += scaled.h_advance(id);
    }
}

/// Where each label of a page sits on the PNG: `(left, top, width, height)` in pixels.
pub fn png_cells() -> impl Iterator<Item = (u32, u32, u32, u32)> {
    (0..LABELS_PER_PAGE).map(|i| {
        let (left, top) = label_origin(i);
        (
            mm_to_px(left) as u32,
            mm_to_px(top) as u32,
            mm_to_px(LABEL_W_MM) as u32,
            mm_to_px(LABEL_H_MM) as u32,
        )
    })
}

/// How many pages `count` labels fill.
pub fn pages_for(count: usize) -> usize {
    count.div_ceil(LABELS_PER_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(count: usize) -> Vec<Label> {
        (1..=count as i64)
            .map(|item| {
                let code = format!("1ABCDEFGHJKMNPQ{item:06}");
                Label {
                    url: crate::infra::qr::scan_url("https://shanhuo.example.cn", &code),
                    code,
                    product: "红薯粉条".into(),
                    place: "大坪乡红岩村".into(),
                    item,
                    typed_at: typing_address("https://shanhuo.example.cn/"),
                }
            })
            .collect()
    }

    #[test]
    fn a_label_prints_its_code_in_groups_and_where_to_type_it() {
        let label = &labels(1)[0];
        assert_eq!(label.typed_at, "shanhuo.example.cn/m/trace");
        let lines = text_lines(label, |text, _| text.to_owned());
        let code: Vec<&str> = lines
            .iter()
            .filter(|l| l.code)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(code, ["1ABC DEFG HJKM", "NPQ0 0000 1"]);
        assert_eq!(code.concat().replace(' ', ""), label.code);
        assert_eq!(lines[5].text, "shanhuo.example.cn/m/trace");
        // Both code lines fit beside the QR code in the PDF's Courier (0.6 em a character).
        for line in &code {
            assert!(line.len() as f32 * 0.6 * CODE_PT <= TEXT_WIDTH_MM * PT_PER_MM);
        }
    }

    #[test]
    fn long_text_is_cut_to_fit() {
        assert_eq!(fit("红薯粉条", 10.0, 100.0, text_em), "红薯粉条");
        let cut = fit("红薯粉条红薯粉条红薯粉条", 10.0, 60.0, text_em);
        assert_eq!(cut, "红薯粉条红…");
        assert!(text_em(&cut) * 10.0 <= 60.0);
    }

    #[test]
    fn every_label_of_a_page_reads_back_from_the_png() {
        let labels = labels(LABELS_PER_PAGE);
        let fonts = LabelFonts::new(None);
        let png = png(&labels, &fonts);
        let page = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!((page.width(), page.height()), (1654, 2339));
        for (label, (x, y, w, h)) in labels.iter().zip(png_cells()) {
            let cell = image::imageops::crop_imm(&page, x, y, w, h).to_image();
            assert_eq!(crate::infra::qr::decode(&cell), vec![label.url.clone()]);
            if fonts.has_chinese() {
                // The product's line, right of the QR code, is inked.
                let band = image::imageops::crop_imm(
                    &cell,
                    mm_to_px(QR_BOX_MM) as u32,
                    mm_to_px(6.0) as u32,
                    mm_to_px(LABEL_W_MM - QR_BOX_MM) as u32,
                    mm_to_px(5.0) as u32,
                )
                .to_image();
                assert!(band.pixels().filter(|p| p.0[0] < 128).count() > 100);
            }
        }
    }
}
