//! Turning an uploaded photo into what the marketplace stores: the format read from the bytes,
//! decoding bounded so a decompression bomb is refused before it allocates, the camera's
//! orientation applied, and every variant re-encoded as a plain JPEG, so no EXIF (GPS, device)
//! or other metadata survives.

use std::io::Cursor;

use image::{
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
    codecs::jpeg::JpegEncoder, error::LimitErrorKind,
};

/// The formats phones and WeChat send.
const ACCEPTED: [ImageFormat; 3] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP];

/// Bounds on what is decoded at all.
#[derive(Clone, Copy, Debug)]
pub struct PhotoLimits {
    /// Longest side accepted, in pixels.
    pub max_side: u32,
    /// Most pixels accepted (width × height).
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate.
    pub max_alloc: u64,
    /// Most bytes of metadata (EXIF, XMP, ICC, comments, text) a file may carry.
    pub max_metadata_bytes: u64,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            // A 48-megapixel phone sensor (8000 × 6000) fits; a 50,000-pixel side does not.
            max_side: 10_000,
            max_pixels: 50_000_000,
            max_alloc: 256 * 1024 * 1024,
            max_metadata_bytes: 256 * 1024,
        }
    }
}

/// The stored sizes: a bounded original and two thumbnails, by their longest side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    Original,
    Large,
    Small,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Original, Variant::Large, Variant::Small];

    /// The longest side, in pixels.
    pub fn max_side(self) -> u32 {
        match self {
            Variant::Original => 2048,
            Variant::Large => 720,
            Variant::Small => 240,
        }
    }

    /// How the variant is named in URLs and storage keys.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Large => "720",
            Variant::Small => "240",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    fn quality(self) -> u8 {
        match self {
            Variant::Original => 85,
            Variant::Large | Variant::Small => 80,
        }
    }
}

/// One encoded size of a photo.
#[derive(Clone, Debug)]
pub struct EncodedVariant {
    pub variant: Variant,
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// What became of an accepted upload.
#[derive(Clone, Debug)]
pub struct ProcessedPhoto {
    /// The format the bytes turned out to be.
    pub source_format: ImageFormat,
    pub variants: Vec<EncodedVariant>,
}

/// Why an upload is not a photo the marketplace keeps.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoRejection {
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the file is {actual} but was sent as {declared}")]
    TypeMismatch {
        declared: &'static str,
        actual: &'static str,
    },
    #[error("the image is too large: at most {max_side} pixels on a side and {max_pixels} in all")]
    TooManyPixels { max_side: u32, max_pixels: u64 },
    #[error("the file carries {bytes} bytes of metadata; at most {max} are accepted")]
    MetadataTooLarge { bytes: u64, max: u64 },
    #[error("the image is damaged or cut short: {0}")]
    Corrupt(String),
}

/// The format a file's bytes are in, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, PhotoRejection> {
    image::guess_format(bytes)
        .ok()
        .filter(|f| ACCEPTED.contains(f))
        .ok_or(PhotoRejection::NotAnImage)
}

/// What a client said an upload is: by its part's content type and by its file name's
/// extension, each either silent (absent, `application/octet-stream`, a name without an
/// extension), an image format, or something else (`text/plain`, `.exe`). The bytes must agree
/// with both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    pub by_type: Claim,
    pub by_name: Claim,
}

/// One of the two things a client says about an upload's kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Claim {
    /// Nothing said.
    #[default]
    Silent,
    Format(ImageFormat),
    /// A kind that is no image format.
    Other,
}

impl Claim {
    fn agrees_with(self, actual: ImageFormat) -> Result<(), PhotoRejection> {
        match self {
            Claim::Silent => Ok(()),
            Claim::Format(format) if format == actual => Ok(()),
            Claim::Format(format) => Err(PhotoRejection::TypeMismatch {
                declared: format_name(format),
                actual: format_name(actual),
            }),
            Claim::Other => Err(PhotoRejection::TypeMismatch {
                declared: "another format",
                actual: format_name(actual),
            }),
        }
    }
}

impl Declared {
    /// Nothing said about the kind.
    pub const SILENT: Declared = Declared {
        by_type: Claim::Silent,
        by_name: Claim::Silent,
    };

    /// Whether both the content type and the name agree with the format the bytes are in.
    pub fn check(self, actual: ImageFormat) -> Result<(), PhotoRejection> {
        self.by_type.agrees_with(actual)?;
        self.by_name.agrees_with(actual)
    }
}

/// What a client claimed of an upload, from the part's content type and its file name.
pub fn declared_format(content_type: Option<&str>, file_name: Option<&str>) -> Declared {
    let by_type = match content_type.map(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }) {
        None => Claim::Silent,
        Some(t) if t.is_empty() || t == "application/octet-stream" => Claim::Silent,
        Some(t) => ImageFormat::from_mime_type(&t).map_or(Claim::Other, Claim::Format),
    };
    let by_name = match file_name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .and_then(|n| n.rsplit_once('.'))
    {
        None => Claim::Silent,
        Some((_, "")) => Claim::Silent,
        Some((_, ext)) => ImageFormat::from_extension(ext).map_or(Claim::Other, Claim::Format),
    };
    Declared { by_type, by_name }
}

/// Whether an upload's bytes are an accepted image agreeing with what the client declared,
/// read from its first bytes only.
pub fn check_declared(bytes: &[u8], declared: Declared) -> Result<ImageFormat, PhotoRejection> {
    let format = sniff(bytes)?;
    declared.check(format)?;
    Ok(format)
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        _ => "another format",
    }
}

/// Decodes, orients, strips and resizes one upload. CPU-bound: call it off the async threads.
pub fn process(
    bytes: &[u8],
    declared: Declared,
    limits: &PhotoLimits,
) -> Result<ProcessedPhoto, PhotoRejection> {
    let (format, image) = decode(bytes, declared, limits)?;
    let image = DynamicImage::ImageRgb8(image.into_rgb8());

    let mut variants = Vec::with_capacity(Variant::ALL.len());
    let mut source = image;
    for variant in Variant::ALL {
        let side = variant.max_side();
        if source.width() > side || source.height() > side {
            source = source.thumbnail(side, side);
        }
        variants.push(EncodedVariant {
            variant,
            width: source.width(),
            height: source.height(),
            jpeg: encode_jpeg(&source, variant.quality())?,
        });
    }
    Ok(ProcessedPhoto {
        source_format: format,
        variants,
    })
}

/// Reads an upload within the limits: the format from its bytes (agreeing with what the client
/// declared), the metadata counted and bounded, the pixels decoded only once the size is known
/// to be acceptable, turned the way the camera held it. CPU-bound.
pub fn decode(
    bytes: &[u8],
    declared: Declared,
    limits: &PhotoLimits,
) -> Result<(ImageFormat, DynamicImage), PhotoRejection> {
    let format = check_declared(bytes, declared)?;
    let metadata = metadata_bytes(bytes, format)?;
    if metadata > limits.max_metadata_bytes {
        return Err(PhotoRejection::MetadataTooLarge {
            bytes: metadata,
            max: limits.max_metadata_bytes,
        });
    }

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let rejection = |e| rejection(e, limits);
    let mut decoder = reader.into_decoder().map_err(rejection)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_many_pixels(limits));
    }
    let orientation = decoder.orientation().map_err(rejection)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(rejection)?;
    image.apply_orientation(orientation);
    Ok((format, image))
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoRejection> {
    let mut out = Vec::new();
    image
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(|e| PhotoRejection::Corrupt(e.to_string()))?;
    Ok(out)
}

fn too_many_pixels(limits: &PhotoLimits) -> PhotoRejection {
    PhotoRejection::TooManyPixels {
        max_side: limits.max_side,
        max_pixels: limits.max_pixels,
    }
}

fn rejection(err: ImageError, limits: &PhotoLimits) -> PhotoRejection {
    match err {
        ImageError::Limits(e)
            if matches!(
                e.kind(),
                LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory
            ) =>
        {
            too_many_pixels(limits)
        }
        ImageError::Unsupported(_) => PhotoRejection::NotAnImage,
        other => PhotoRejection::Corrupt(other.to_string()),
    }
}

/// Where the next marker after entropy-coded data starts.
fn next_marker(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 1 < bytes.len() {
        if bytes[at] == 0xFF && !matches!(bytes[at + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Bytes of metadata in the file's container (EXIF, XMP, ICC profiles, comments, text chunks),
/// counted from the segment headers without decoding anything. A JPEG must also reach its
/// end-of-image marker.
pub fn metadata_bytes(bytes: &[u8], format: ImageFormat) -> Result<u64, PhotoRejection> {
    let cut = || PhotoRejection::Corrupt("the file ends inside its headers".into());
    match format {
        ImageFormat::Jpeg => {
            let mut at = 2; // after SOI
            let mut total = 0u64;
            loop {
                let marker = *bytes.get(at + 1).ok_or_else(cut)?;
                if bytes[at] != 0xFF {
                    return Err(PhotoRejection::Corrupt(
                        "a JPEG segment is malformed".into(),
                    ));
                }
                match marker {
                    0xFF => at += 1, // fill byte
                    0x01 | 0xD0..=0xD7 => at += 2,
                    0xD9 => return Ok(total),
                    _ => {
                        let len = u16::from_be_bytes([
                            *bytes.get(at + 2).ok_or_else(cut)?,
                            *bytes.get(at + 3).ok_or_else(cut)?,
                        ]) as usize;
                        if (0xE0..=0xEF).contains(&marker) || marker == 0xFE {
                            total += len as u64;
                        }
                        at += 2 + len;
                        if marker == 0xDA {
                            // Entropy-coded data runs to the next marker: an 0xFF not followed
                            // by a stuffed 0x00 or a restart marker. Decoders fill a cut-short
                            // image with grey; the end-of-image marker tells it is whole.
                            at = next_marker(bytes, at).ok_or_else(|| {
                                PhotoRejection::Corrupt("the JPEG image data is cut short".into())
                            })?;
                        }
                    }
                }
            }
        }
        ImageFormat::Png => {
            let mut at = 8; // after the signature
            let mut total = 0u64;
            while at + 8 <= bytes.len() {
                let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as u64;
                let kind = &bytes[at + 4..at + 8];
                if matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"iCCP") {
                    total += len;
                }
                if kind == b"IEND" {
                    break;
                }
                at += 12 + len as usize;
            }
            Ok(total)
        }
        ImageFormat::WebP => {
            let mut at = 12; // after RIFF, size, WEBP
            let mut total = 0u64;
            while at + 8 <= bytes.len() {
                let kind = &bytes[at..at + 4];
                let len =
                    u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as u64;
                if matches!(kind, b"EXIF" | b"XMP " | b"ICCP") {
                    total += len;
                }
                at += 8 + len as usize + (len as usize & 1);
            }
            Ok(total)
        }
        _ => Err(PhotoRejection::NotAnImage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
            .unwrap();
        out
    }

    #[test]
    fn variants_keep_the_aspect_and_their_longest_side() {
        let processed =
            process(&jpeg(3000, 1500), Declared::SILENT, &PhotoLimits::default()).unwrap();
        let sizes: Vec<_> = processed
            .variants
            .iter()
            .map(|v| (v.variant, v.width, v.height))
            .collect();
        assert_eq!(
            sizes,
            vec![
                (Variant::Original, 2048, 1024),
                (Variant::Large, 720, 360),
                (Variant::Small, 240, 120)
            ]
        );
    }

    #[test]
    fn a_small_photo_is_not_enlarged() {
        let processed =
            process(&jpeg(200, 100), Declared::SILENT, &PhotoLimits::default()).unwrap();
        assert!(
            processed
                .variants
                .iter()
                .all(|v| (v.width, v.height) == (200, 100))
        );
    }

    #[test]
    fn the_declared_kind_is_read_from_content_type_and_name() {
        assert_eq!(
            declared_format(Some("image/png"), Some("x.jpg")),
            Declared {
                by_type: Claim::Format(ImageFormat::Png),
                by_name: Claim::Format(ImageFormat::Jpeg),
            }
        );
        assert_eq!(
            declared_format(None, Some("IMG_1.JPG")),
            Declared {
                by_type: Claim::Silent,
                by_name: Claim::Format(ImageFormat::Jpeg),
            }
        );
        assert_eq!(
            declared_format(Some("application/octet-stream"), Some("blob")),
            Declared::SILENT
        );
        assert_eq!(
            declared_format(Some("text/plain"), Some("x.exe")),
            Declared {
                by_type: Claim::Other,
                by_name: Claim::Other,
            }
        );
    }

    #[test]
    fn the_bytes_must_agree_with_both_the_type_and_the_name() {
        let bytes = jpeg(16, 16);
        let agreeing = declared_format(Some("image/jpeg"), Some("x.jpeg"));
        assert_eq!(check_declared(&bytes, agreeing), Ok(ImageFormat::Jpeg));
        for (content_type, name) in [
            ("image/jpeg", "x.png"),
            ("image/png", "x.jpg"),
            ("text/plain", "x.jpg"),
            ("image/jpeg", "x.txt"),
        ] {
            assert!(
                matches!(
                    check_declared(&bytes, declared_format(Some(content_type), Some(name))),
                    Err(PhotoRejection::TypeMismatch { .. })
                ),
                "{content_type} {name}"
            );
        }
    }

    #[test]
    fn a_cut_short_jpeg_is_refused() {
        let whole = jpeg(400, 300);
        assert!(process(&whole, Declared::SILENT, &PhotoLimits::default()).is_ok());
        assert!(matches!(
            process(
                &whole[..whole.len() / 2],
                Declared::SILENT,
                &PhotoLimits::default()
            ),
            Err(PhotoRejection::Corrupt(_))
        ));
    }

    #[test]
    fn metadata_is_counted_from_jpeg_segments() {
        let plain = jpeg(16, 16);
        let base = metadata_bytes(&plain, ImageFormat::Jpeg).unwrap();
        let mut with_comment = plain[..2].to_vec();
        with_comment.extend_from_slice(&[0xFF, 0xFE, 0x03, 0xEA]);
        with_comment.extend(std::iter::repeat_n(b'x', 1000));
        with_comment.extend_from_slice(&plain[2..]);
        assert_eq!(
            metadata_bytes(&with_comment, ImageFormat::Jpeg).unwrap(),
            base + 1002
        );
    }
}
