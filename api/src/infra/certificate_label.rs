//! The compliance certificate (承诺达标合格证) as a printable label, in the common self-adhesive
//! sizes: the title, a QR code marked 「承诺达标合格证」 that opens the certificate's page, the
//! fields the rules ask for, and the promise. One layout, drawn as a PDF for the printer (vector
//! QR modules, Adobe's Song supplied by the reader, as the trace label sheets) and as a PNG for
//! phones and shops that print pictures.

use image::{GrayImage, ImageFormat, Luma};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use super::labels::{LabelFonts, Modules, draw_text_em, song_font, text_em, utf16be};

const PT_PER_MM: f32 = 72.0 / 25.4;
/// The PNG's resolution: a label printer's.
pub const PNG_DPI: f32 = 300.0;

/// The label sizes offered, width × height in mm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelSize {
    /// 60 × 40 mm
    Small,
    /// 70 × 50 mm
    Medium,
    /// 100 × 70 mm
    Large,
}

impl LabelSize {
    pub const ALL: [LabelSize; 3] = [LabelSize::Small, LabelSize::Medium, LabelSize::Large];

    pub fn mm(self) -> (f32, f32) {
        match self {
            LabelSize::Small => (60.0, 40.0),
            LabelSize::Medium => (70.0, 50.0),
            LabelSize::Large => (100.0, 70.0),
        }
    }

    /// `60x40`, `70x50`, `100x70`.
    pub fn name(self) -> &'static str {
        match self {
            LabelSize::Small => "60x40",
            LabelSize::Medium => "70x50",
            LabelSize::Large => "100x70",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == text)
    }
}

/// What a certificate label prints.
#[derive(Clone, Debug)]
pub struct CertificateLabel {
    /// The certificate's page, which the QR code opens.
    pub url: String,
    /// `(name, value)` lines: 产品、数量、产地、日期、承诺人、电话、依据、编号.
    pub fields: Vec<(String, String)>,
    pub promise: String,
    /// Set when the certificate was withdrawn: printed across the label.
    pub withdrawn: bool,
}

/// The words the QR code is marked with.
pub const QR_MARK: &str = "承诺达标合格证";

struct Text {
    x_mm: f32,
    baseline_mm: f32,
    size_pt: f32,
    text: String,
}

struct Layout {
    width_mm: f32,
    height_mm: f32,
    qr_x_mm: f32,
    qr_y_mm: f32,
    qr_side_mm: f32,
    texts: Vec<Text>,
}

fn pt_to_mm(pt: f32) -> f32 {
    pt / PT_PER_MM
}

/// Cuts `text` into lines no wider than `width_mm` at `size_pt`.
fn wrap(text: &str, size_pt: f32, width_mm: f32) -> Vec<String> {
    let em_mm = pt_to_mm(size_pt);
    let mut lines = vec![String::new()];
    for c in text.chars() {
        let line = lines.last_mut().expect("one line at least");
        let mut next = line.clone();
        next.push(c);
        if text_em(&next) * em_mm > width_mm && !line.is_empty() {
            lines.push(c.to_string());
        } else {
            *line = next;
        }
    }
    lines
}

/// The smallest type a field is shrunk to; a 64-character 承诺人 fits the smallest label above it.
const MIN_FIELD_PT: f32 = 3.0;

/// A field's lines at `size_pt` in `width_mm`: `name：value` whole, the value going on under
/// itself (indented past the name) when it is too long for one line. Each line is its indent
/// in mm and its text.
fn field_lines(name: &str, value: &str, size_pt: f32, width_mm: f32) -> Vec<(f32, String)> {
    let head = format!("{name}：");
    let indent = text_em(&head) * pt_to_mm(size_pt);
    wrap(value, size_pt, (width_mm - indent).max(pt_to_mm(size_pt)))
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                (0.0, format!("{head}{line}"))
            } else {
                (indent, line)
            }
        })
        .collect()
}

fn layout(label: &CertificateLabel, size: LabelSize) -> Layout {
    let (w, h) = size.mm();
    let margin = 2.0;
    let title_pt = h * 0.26;
    let field_pt = h * 0.155;
    let small_pt = h * 0.13;
    let mut texts = Vec::new();
    let title = if label.withdrawn {
        format!("{QR_MARK}（已撤回）")
    } else {
        QR_MARK.to_owned()
    };
    let title_w = text_em(&title) * pt_to_mm(title_pt);
    let title_base = margin + pt_to_mm(title_pt) * 0.9;
    texts.push(Text {
        x_mm: (w - title_w) / 2.0,
        baseline_mm: title_base,
        size_pt: title_pt,
        text: title,
    });
    // The promise at the foot, across the label.
    let promise_lines = wrap(&label.promise, small_pt, w - 2.0 * margin);
    let line_mm = pt_to_mm(small_pt) * 1.15;
    let promise_top = h - margin - line_mm * promise_lines.len() as f32;
    for (i, line) in promise_lines.into_iter().enumerate() {
        texts.push(Text {
            x_mm: margin,
            baseline_mm: promise_top + line_mm * (i as f32 + 0.85),
            size_pt: small_pt,
            text: line,
        });
    }
    // The QR code at the left with its mark under it; the fields at its right.
    let body_top = title_base + 1.5;
    let mark_pt = small_pt;
    let mark_h = pt_to_mm(mark_pt) * 1.2;
    let qr_side = (promise_top - body_top - mark_h - 0.5).min(w * 0.42);
    let qr_x = margin;
    texts.push(Text {
        x_mm: qr_x + (qr_side - text_em(QR_MARK) * pt_to_mm(mark_pt)).max(0.0) / 2.0,
        baseline_mm: body_top + qr_side + pt_to_mm(mark_pt) * 0.95,
        size_pt: mark_pt,
        text: QR_MARK.to_owned(),
    });
    let fields_x = qr_x + qr_side + 1.5;
    let fields_w = w - fields_x - margin;
    let room = promise_top - body_top - 0.5;
    // Every field whole (a long 承诺人 or 产地 goes on to a second line): the type shrinks until
    // all the lines fit beside the QR code; what room is left goes between the fields.
    // A field a little too long for its line takes the type down a little (a fifth at most)
    // rather than leave a character alone on a line of its own.
    let one_line_each = |pt: f32| {
        label
            .fields
            .iter()
            .all(|(name, value)| field_lines(name, value, pt, fields_w).len() == 1)
    };
    let mut smaller = field_pt;
    while !one_line_each(smaller) && smaller * 0.95 >= field_pt * 0.8 {
        smaller *= 0.95;
    }
    let mut field_pt = if one_line_each(smaller) {
        smaller
    } else {
        field_pt
    };
    let (fields, line_mm) = loop {
        let fields: Vec<Vec<(f32, String)>> = label
            .fields
            .iter()
            .map(|(name, value)| field_lines(name, value, field_pt, fields_w))
            .collect();
        let line_mm = pt_to_mm(field_pt) * 1.12;
        let lines = fields.iter().map(Vec::len).sum::<usize>() as f32;
        if lines * line_mm <= room || field_pt <= MIN_FIELD_PT {
            break (fields, line_mm);
        }
        field_pt = (field_pt * 0.95).max(MIN_FIELD_PT);
    };
    let lines = fields.iter().map(Vec::len).sum::<usize>() as f32;
    let gap = ((room - lines * line_mm) / fields.len().max(1) as f32).max(0.0);
    let mut top = body_top;
    for field in fields {
        for (indent, text) in field {
            texts.push(Text {
                x_mm: fields_x + indent,
                baseline_mm: top + pt_to_mm(field_pt) * 0.95,
                size_pt: field_pt,
                text,
            });
            top += line_mm;
        }
        top += gap;
    }
    Layout {
        width_mm: w,
        height_mm: h,
        qr_x_mm: qr_x,
        qr_y_mm: body_top,
        qr_side_mm: qr_side,
        texts,
    }
}

/// The label as a one-page PDF of its size.
pub fn pdf(label: &CertificateLabel, size: LabelSize) -> Vec<u8> {
    let layout = layout(label, size);
    let page_w = layout.width_mm * PT_PER_MM;
    let page_h = layout.height_mm * PT_PER_MM;
    let mut next_id = Ref::new(1);
    let catalog = next_id.bump();
    let tree = next_id.bump();
    let song = next_id.bump();
    let song_cid = next_id.bump();
    let song_descriptor = next_id.bump();
    let page_id = next_id.bump();
    let content_id = next_id.bump();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    song_font(&mut pdf, song, song_cid, song_descriptor);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, page_w, page_h))
        .parent(tree)
        .contents(content_id);
    page.resources().fonts().pair(Name(b"S"), song);
    page.finish();
    let mut content = Content::new();
    content.set_fill_gray(0.0);
    let modules = Modules::of(&label.url);
    let module = layout.qr_side_mm * PT_PER_MM / modules.width as f32;
    let qr_left = layout.qr_x_mm * PT_PER_MM;
    let qr_top = page_h - layout.qr_y_mm * PT_PER_MM;
    for (y, x, run) in modules.runs() {
        content.rect(
            qr_left + x as f32 * module,
            qr_top - (y + 1) as f32 * module,
            run as f32 * module,
            module,
        );
    }
    content.fill_nonzero();
    for text in &layout.texts {
        content.begin_text();
        content.set_font(Name(b"S"), text.size_pt);
        content.next_line(text.x_mm * PT_PER_MM, page_h - text.baseline_mm * PT_PER_MM);
        content.show(Str(&utf16be(&text.text)));
        content.end_text();
    }
    let stream = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
    pdf.stream(content_id, &stream).filter(Filter::FlateDecode);
    pdf.pages(tree).kids([page_id]).count(1);
    pdf.finish()
}

fn px(mm: f32) -> f32 {
    mm / 25.4 * PNG_DPI
}

/// The label as a PNG at 300 dpi, the same layout as the PDF.
pub fn png(label: &CertificateLabel, size: LabelSize, fonts: &LabelFonts) -> Vec<u8> {
    let layout = layout(label, size);
    let (width, height) = (
        px(layout.width_mm).round() as u32,
        px(layout.height_mm).round() as u32,
    );
    let mut page = GrayImage::from_pixel(width, height, Luma([255]));
    let modules = Modules::of(&label.url);
    let module = (px(layout.qr_side_mm) / modules.width as f32)
        .floor()
        .max(1.0) as u32;
    let side = module * modules.width as u32;
    let left = (px(layout.qr_x_mm) + (px(layout.qr_side_mm) - side as f32) / 2.0) as u32;
    let top = (px(layout.qr_y_mm) + (px(layout.qr_side_mm) - side as f32) / 2.0) as u32;
    for (y, x, run) in modules.runs() {
        for py in 0..module {
            for dx in 0..module * run as u32 {
                let (gx, gy) = (left + x as u32 * module + dx, top + y as u32 * module + py);
                if gx < width && gy < height {
                    page.put_pixel(gx, gy, Luma([0]));
                }
            }
        }
    }
    let fonts = fonts.fonts();
    for text in &layout.texts {
        draw_text_em(
            &mut page,
            fonts,
            &text.text,
            text.size_pt * PNG_DPI / 72.0,
            (px(text.x_mm), px(text.baseline_mm)),
        );
    }
    let mut out = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .expect("encoding to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> CertificateLabel {
        CertificateLabel {
            url: "https://shanhuo.example.cn/m/certificates/12".into(),
            fields: [
                ("产品", "红橘"),
                ("数量", "300 斤"),
                ("产地", "大坪乡红岩村"),
                ("日期", "2026-12-02"),
                ("承诺人", "张大山"),
                ("电话", "13600000001"),
                ("依据", "质量安全控制符合要求"),
                ("编号", "12"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec(),
            promise: "我承诺：不使用禁用农药兽药、停用兽药和非法添加物，常规农药兽药残留不超标，对承诺的真实性负责。".into(),
            withdrawn: false,
        }
    }

    #[test]
    fn every_size_reads_back_its_page_from_the_png_and_makes_a_pdf() {
        let fonts = LabelFonts::new(None);
        for size in LabelSize::ALL {
            let label = label();
            let pdf = pdf(&label, size);
            assert!(pdf.starts_with(b"%PDF-"));
            let png = png(&label, size, &fonts);
            let image = image::load_from_memory(&png).unwrap().to_luma8();
            let (w, h) = size.mm();
            assert_eq!(image.width(), px(w).round() as u32);
            assert_eq!(image.height(), px(h).round() as u32);
            assert_eq!(
                crate::infra::qr::decode(&image),
                vec![label.url.clone()],
                "{size:?}"
            );
        }
    }

    #[test]
    fn a_long_promising_party_shows_whole_in_every_size() {
        let fonts = LabelFonts::new(None);
        for issuer in ["大坪乡红岩村红橘种植农民专业合作社联合社", &"山".repeat(64)]
        {
            let mut label = label();
            label.fields[4].1 = issuer.to_owned();
            for size in LabelSize::ALL {
                let (w, _) = size.mm();
                let layout = layout(&label, size);
                // The mark under the QR code (the title reads the same); the fields follow it.
                let mark = layout
                    .texts
                    .iter()
                    .rposition(|t| t.text == QR_MARK)
                    .unwrap();
                let promise_top = layout.texts[1].baseline_mm - pt_to_mm(layout.texts[1].size_pt);
                let fields = &layout.texts[mark + 1..];
                let all: String = fields.iter().map(|t| t.text.as_str()).collect();
                assert!(
                    all.contains(&format!("承诺人：{issuer}")),
                    "{size:?}: {all}"
                );
                assert!(!all.contains('…'), "{size:?}: nothing is cut");
                for t in fields {
                    assert!(t.size_pt >= MIN_FIELD_PT, "{size:?}");
                    let right = t.x_mm + text_em(&t.text) * pt_to_mm(t.size_pt);
                    assert!(right <= w - 1.99, "{size:?}: {} ends at {right} mm", t.text);
                    assert!(
                        t.baseline_mm <= promise_top,
                        "{size:?}: {} over the promise",
                        t.text
                    );
                    assert!(t.x_mm >= layout.qr_x_mm + layout.qr_side_mm, "{size:?}");
                }
                for pair in fields.windows(2) {
                    assert!(
                        pair[1].baseline_mm > pair[0].baseline_mm,
                        "{size:?}: lines in order"
                    );
                }
                let png = png(&label, size, &fonts);
                let image = image::load_from_memory(&png).unwrap().to_luma8();
                assert_eq!(crate::infra::qr::decode(&image), vec![label.url.clone()]);
            }
        }
    }

    #[test]
    fn the_promise_wraps_inside_the_label() {
        let lines = wrap(&label().promise, 6.0, 56.0);
        assert!(lines.len() >= 2);
        for line in &lines {
            assert!(text_em(line) * pt_to_mm(6.0) <= 56.0);
        }
    }
}
