//! QR codes for trace codes. The payload is the scan URL in upper case, which keeps every
//! character in the QR alphanumeric set (0–9, A–Z, space, `$%*+-./:`), so the symbol stays small
//! enough for a label a few centimetres wide. Error correction M (15%) survives a scuffed label.

use image::{ImageFormat, Luma};
use qrcode::{EcLevel, QrCode, Version, render::svg};

/// What a phone opens: `{PUBLIC_BASE_URL}/T/{CODE}`, upper case.
pub fn scan_url(public_base_url: &str, code: &str) -> String {
    format!("{}/T/{}", public_base_url.trim_end_matches('/'), code).to_ascii_uppercase()
}

/// The code a scanned URL (or bare code) carries: the last path segment.
pub fn code_in(text: &str) -> &str {
    text.trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

fn symbol(data: &str) -> QrCode {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .expect("a scan URL fits a QR code")
}

/// The QR version and its width in modules (without the quiet zone).
pub fn size_of(data: &str) -> (i16, usize) {
    let code = symbol(data);
    let version = match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    (version, code.width())
}

/// A PNG with `module_px` pixels a module and the standard four-module quiet zone.
pub fn png(data: &str, module_px: u32) -> Vec<u8> {
    let image = symbol(data)
        .render::<Luma<u8>>()
        .module_dimensions(module_px, module_px)
        .quiet_zone(true)
        .build();
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .expect("encoding to memory");
    out
}

/// An SVG that scales to any print size.
pub fn svg(data: &str) -> String {
    symbol(data)
        .render()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

/// Every QR code found in a picture, as text.
pub fn decode(image: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(image.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_code_reads_back_at_label_size() {
        let url = scan_url("https://shanhuo.example.cn", "1ABCDEFGHJKMNPQRSTVWX");
        assert_eq!(url, "HTTPS://SHANHUO.EXAMPLE.CN/T/1ABCDEFGHJKMNPQRSTVWX");
        let (version, modules) = size_of(&url);
        assert_eq!(
            (version, modules),
            (3, 29),
            "alphanumeric mode keeps it at version 3"
        );
        // 4 px a module: a 37-module symbol is 148 px, about 12.5 mm at 300 dpi.
        let png = png(&url, 4);
        let image = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(image.width(), (29 + 8) * 4);
        assert_eq!(decode(&image), vec![url.clone()]);
        assert_eq!(code_in(&url), "1ABCDEFGHJKMNPQRSTVWX");
        assert!(svg(&url).starts_with("<?xml"));
    }
}
