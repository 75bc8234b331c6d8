//! A printable sheet of item labels: each a QR code of the item's
//! activation code with the asset number and name under it, as one SVG laid
//! out on A4 (3 columns × 8 rows of 70 × 37 mm).

use qrcode::{Color, QrCode};

/// One label.
#[derive(Debug, Clone)]
pub struct Label {
    /// What the QR code holds: the code a worker scans.
    pub code: String,
    /// Printed under the code, large.
    pub asset_number: String,
    /// Printed under the asset number.
    pub name: String,
}

/// Why a sheet could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The code is too long for a QR code.
    #[error("the code “{0}” is too long for a QR label")]
    TooLong(String),
}

const COLUMNS: usize = 3;
const ROWS: usize = 8;
const CELL_W: f64 = 70.0;
const CELL_H: f64 = 37.0;
const QR_MM: f64 = 26.0;

/// The QR code's dark modules as one path, with a four-module quiet zone,
/// placed at (`x`, `y`) and `size` mm wide.
pub(crate) fn symbol(qr: &QrCode, x: f64, y: f64, size: f64) -> String {
    let width = qr.width();
    let modules = width + 8;
    let mut path = String::new();
    for (i, color) in qr.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
        }
    }
    format!(
        "<g transform=\"translate({x:.1} {y:.1}) scale({:.4})\"><rect width=\"{modules}\" height=\"{modules}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></g>",
        size / modules as f64
    )
}

/// A QR code of `text` alone, as an SVG document (for a screen).
pub fn qr_svg(text: &str) -> Result<String, LabelError> {
    let qr = QrCode::new(text.as_bytes()).map_err(|_| LabelError::TooLong(text.to_owned()))?;
    let modules = qr.width() + 8;
    Ok(format!("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {modules} {modules}\" shape-rendering=\"crispEdges\">{}</svg>", symbol(&qr, 0.0, 0.0, modules as f64)))
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The labels as SVG pages (24 labels a page).
pub fn sheet(labels: &[Label]) -> Result<Vec<String>, LabelError> {
    let mut pages = Vec::new();
    for chunk in labels.chunks(COLUMNS * ROWS) {
        let mut body = String::new();
        for (i, label) in chunk.iter().enumerate() {
            let (col, row) = ((i % COLUMNS) as f64, (i / COLUMNS) as f64);
            let (x, y) = (col * CELL_W, row * CELL_H);
            let qr = QrCode::new(label.code.as_bytes()).map_err(|_| LabelError::TooLong(label.code.clone()))?;
            body.push_str(&symbol(&qr, x + 3.0, y + 5.5, QR_MM));
            body.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"6\" font-weight=\"bold\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"3.5\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"2.6\">{}</text>",
                x + 31.0, y + 15.0, escape(&label.asset_number),
                x + 31.0, y + 21.0, escape(&label.name),
                x + 31.0, y + 26.0, escape(&label.code),
            ));
        }
        pages.push(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 210 297\" font-family=\"sans-serif\"><rect width=\"210\" height=\"297\" fill=\"#fff\"/>{body}</svg>"
        ));
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(i: usize) -> Label {
        Label { code: format!("LODGE-{i:04}"), asset_number: format!("D-{i}"), name: "Drill <18V>".into() }
    }

    #[test]
    fn a_sheet_holds_24_labels_a_page_with_asset_numbers_escaped() {
        let labels: Vec<Label> = (0..30).map(label).collect();
        let pages = sheet(&labels).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].matches("<g transform=").count(), 24);
        assert_eq!(pages[1].matches("<g transform=").count(), 6);
        assert!(pages[0].contains(">D-0<") && pages[0].contains("Drill &lt;18V&gt;"));
        assert_eq!(pages[0].matches("<svg").count(), 1, "one well-formed document a page");
    }

    #[test]
    fn each_label_draws_exactly_its_codes_dark_modules() {
        let pages = sheet(&[label(7)]).unwrap();
        let qr = QrCode::new(b"LODGE-0007").unwrap();
        let dark = qr.to_colors().iter().filter(|c| **c == Color::Dark).count();
        assert_eq!(pages[0].matches("h1v1h-1z").count(), dark);
        // The top-left finder pattern starts after the quiet zone.
        assert!(pages[0].contains("M4 4h1v1h-1z"));
    }
}
