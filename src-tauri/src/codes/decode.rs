//! Reading the code on an item from a picture: a camera frame from the
//! webview or a photo, as a `data:` URL of a PNG or JPEG, decoded with
//! `rxing` (QR, Code 128, EAN-13, DataMatrix and the other formats it
//! knows). Tested on generated images, rotated, small and low in contrast.

use base64::Engine;
use image::DynamicImage;
use rxing::DecodeHints;

/// A code found in a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// What the code says.
    pub text: String,
    /// Its symbology, as rxing names it (`QR_CODE`, `CODE_128`, `EAN_13`, `DATA_MATRIX`, …).
    pub format: String,
}

/// Why a picture could not be read at all (no code in it is not an error).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a `data:image/...;base64,` URL.
    #[error("the picture did not arrive as an image")]
    NotDataUrl,
    /// Bad base64 or an image format we do not read.
    #[error("the picture could not be read: {0}")]
    Unreadable(String),
    /// Larger than a camera frame has any reason to be.
    #[error("the picture is too large ({0} bytes)")]
    TooLarge(usize),
}

/// The largest picture accepted: a 4K JPEG is well under this.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Decode a `data:image/png;base64,…` or JPEG URL.
pub fn decode_data_url(url: &str) -> Result<Option<Decoded>, DecodeError> {
    let (head, data) = url.split_once(',').ok_or(DecodeError::NotDataUrl)?;
    if !(head.starts_with("data:image/") && head.ends_with(";base64")) {
        return Err(DecodeError::NotDataUrl);
    }
    if data.len() > MAX_BYTES * 4 / 3 + 4 {
        return Err(DecodeError::TooLarge(data.len() * 3 / 4));
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|e| DecodeError::Unreadable(e.to_string()))?;
    let img = image::load_from_memory(&bytes).map_err(|e| DecodeError::Unreadable(e.to_string()))?;
    Ok(decode_image(&img))
}

/// Find a code in an image.
pub fn decode_image(img: &DynamicImage) -> Option<Decoded> {
    let attempt = |img: DynamicImage| {
        let mut hints = DecodeHints { TryHarder: Some(true), ..Default::default() };
        let luma = img.to_luma8();
        let (w, h) = luma.dimensions();
        rxing::helpers::detect_in_luma_with_hints(luma.into_raw(), w, h, None, &mut hints)
            .ok()
            .map(|r| Decoded { text: r.getText().to_owned(), format: format!("{:?}", r.getBarcodeFormat()) })
    };
    // A small picture (a label far away) gets a second look at twice the
    // size; a faint one (bad light, worn print) with its contrast stretched.
    attempt(img.clone())
        .or_else(|| {
            if img.width().max(img.height()) < 600 {
                attempt(img.resize(img.width() * 2, img.height() * 2, image::imageops::FilterType::Nearest))
            } else {
                None
            }
        })
        .or_else(|| attempt(DynamicImage::ImageLuma8(stretched(&img.to_luma8()))))
}

/// The picture's grey levels spread over the whole range, from its 1st to
/// its 99th percentile.
fn stretched(img: &image::GrayImage) -> image::GrayImage {
    let mut histogram = [0usize; 256];
    for p in img.pixels() {
        histogram[p[0] as usize] += 1;
    }
    let total = img.pixels().len().max(1);
    let level = |share: usize| {
        let mut seen = 0;
        histogram.iter().position(|&n| {
            seen += n;
            seen * 100 >= total * share
        })
    };
    let (low, high) = (level(1).unwrap_or(0) as f32, level(99).unwrap_or(255) as f32);
    let span = (high - low).max(1.0);
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p[0] = (((p[0] as f32 - low) / span) * 255.0).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};
    use rxing::{BarcodeFormat, MultiFormatWriter, Writer};

    fn generate(text: &str, format: BarcodeFormat, w: i32, h: i32) -> GrayImage {
        let matrix = MultiFormatWriter.encode(text, &format, w, h).expect("encodable");
        let inner = GrayImage::from_fn(matrix.width(), matrix.height(), |x, y| Luma([if matrix.get(x, y) { 0 } else { 255 }]));
        // A white margin around it, as on a printed label.
        let mut out = GrayImage::from_pixel(inner.width() + 40, inner.height() + 40, Luma([255]));
        image::imageops::overlay(&mut out, &inner, 20, 20);
        out
    }

    fn rotate(img: &GrayImage, degrees: f64) -> GrayImage {
        let (w, h) = (img.width() as f64, img.height() as f64);
        let side = (w * w + h * h).sqrt().ceil() as u32;
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (cx, cy, c) = (w / 2.0, h / 2.0, side as f64 / 2.0);
        GrayImage::from_fn(side, side, |x, y| {
            let (dx, dy) = (x as f64 - c, y as f64 - c);
            let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
            if sx >= 0.0 && sy >= 0.0 && sx < w && sy < h { *img.get_pixel(sx as u32, sy as u32) } else { Luma([255]) }
        })
    }

    fn low_contrast(img: &GrayImage) -> GrayImage {
        GrayImage::from_fn(img.width(), img.height(), |x, y| Luma([if img.get_pixel(x, y)[0] < 128 { 105 } else { 150 }]))
    }

    fn read(img: GrayImage) -> Option<Decoded> {
        decode_image(&DynamicImage::ImageLuma8(img))
    }

    #[test]
    fn each_format_reads_back() {
        for (text, format, w, h) in [
            ("LODGE-D7", BarcodeFormat::QR_CODE, 200, 200),
            ("LODGE-D7", BarcodeFormat::CODE_128, 300, 80),
            ("5901234123457", BarcodeFormat::EAN_13, 300, 100),
            ("LODGE-D7", BarcodeFormat::DATA_MATRIX, 120, 120),
        ] {
            let found = read(generate(text, format, w, h)).unwrap_or_else(|| panic!("{format:?} not read"));
            assert_eq!(found.text, text);
            assert_eq!(found.format, format!("{format:?}"));
        }
    }

    #[test]
    fn rotated_codes_read_back() {
        let qr = generate("LODGE-L2", BarcodeFormat::QR_CODE, 200, 200);
        assert_eq!(read(rotate(&qr, 30.0)).map(|d| d.text).as_deref(), Some("LODGE-L2"));
        assert_eq!(read(rotate(&qr, 180.0)).map(|d| d.text).as_deref(), Some("LODGE-L2"));
        let bars = generate("LODGE-L2", BarcodeFormat::CODE_128, 300, 80);
        assert_eq!(read(rotate(&bars, 90.0)).map(|d| d.text).as_deref(), Some("LODGE-L2"));
    }

    #[test]
    fn small_and_low_contrast_codes_read_back() {
        // About 2 pixels a module.
        let small = generate("LODGE-SMALL", BarcodeFormat::QR_CODE, 50, 50);
        assert!(small.width() < 100);
        assert_eq!(read(small).map(|d| d.text).as_deref(), Some("LODGE-SMALL"));
        let faint = low_contrast(&generate("LODGE-FAINT", BarcodeFormat::QR_CODE, 200, 200));
        assert_eq!(read(faint).map(|d| d.text).as_deref(), Some("LODGE-FAINT"));
        let faint_bars = low_contrast(&generate("5901234123457", BarcodeFormat::EAN_13, 300, 100));
        assert_eq!(read(faint_bars).map(|d| d.text).as_deref(), Some("5901234123457"));
    }

    #[test]
    fn no_code_is_none_and_bad_input_is_an_error() {
        assert_eq!(read(GrayImage::from_pixel(200, 200, Luma([200]))), None);
        assert!(matches!(decode_data_url("hello"), Err(DecodeError::NotDataUrl)));
        assert!(matches!(decode_data_url("data:text/plain;base64,aGk="), Err(DecodeError::NotDataUrl)));
        assert!(matches!(decode_data_url("data:image/png;base64,!!!"), Err(DecodeError::Unreadable(_))));
        assert!(matches!(decode_data_url("data:image/png;base64,aGVsbG8="), Err(DecodeError::Unreadable(_))));
    }

    #[test]
    fn a_png_data_url_reads_back() {
        let img = DynamicImage::ImageLuma8(generate("LODGE-D7", BarcodeFormat::QR_CODE, 200, 200));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
        assert_eq!(decode_data_url(&url).unwrap().map(|d| d.text).as_deref(), Some("LODGE-D7"));
    }
}
