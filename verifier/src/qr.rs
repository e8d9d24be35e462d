//! QR codes of invocation URIs (ISO/IEC 18004:2015), drawn as SVG, for the
//! HR API's `qr_svg` and the portal's session page.
//!
//! The `qrcode` crate encodes the data, the error correction codewords and
//! the function patterns. The mask (§7.8.3: the one of eight with the lowest
//! penalty) is chosen here, because the crate's own choice (a copy of the
//! symbol per mask, and a scoring that allocates a closure per module
//! position) made one QR code cost about 1.6 ms of CPU, more than the rest
//! of creating a presentation request; it now costs about 0.2 ms.
//!
//! Masking a symbol only flips data modules, and what the crate's
//! `apply_mask` draws besides (function patterns, format information)
//! depends on the version and the mask, not on the data. So each version's
//! eight masked *empty* symbols are drawn once by the crate and kept: there,
//! a data module is dark exactly where the mask flips it, and a function
//! module has its final colour. A masked symbol is then that overlay XOR
//! the dark data modules. The scores are the crate's, so the same mask, and
//! the same modules, come out (checked against the crate in the tests).
//!
//! The SVG draws each run of dark modules in a row as one rectangle, not
//! one rectangle per module: half the size. Coordinates stay in pixels, as
//! the crate wrote them: with a `viewBox` in module units, ImageMagick's
//! renderer draws a symbol no reader decodes.

use std::fmt::Write as _;
use std::sync::OnceLock;

use qrcode::canvas::{Canvas, MaskPattern, Module};
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, Version};

use crate::error::ApiError;

/// Error correction level M: 15 % of the codewords can be restored.
const EC_LEVEL: EcLevel = EcLevel::M;
/// Light modules around the symbol (§6.3.8: four for QR codes).
const QUIET_ZONE: usize = 4;
/// The least width and height of the SVG, in pixels.
const MIN_PIXELS: usize = 256;

/// The eight masks of §7.8.2 in the order the `qrcode` crate tries them; on
/// equal penalties the first wins.
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// `text` as a QR code (level M, smallest version), SVG with a quiet zone,
/// at least 256 × 256 pixels with whole-pixel modules. Text too long for
/// any version is an `invalid_request`.
pub fn svg(text: &str) -> Result<String, ApiError> {
    Symbol::encode(text.as_bytes())
        .map(|symbol| symbol.to_svg())
        .map_err(|e| ApiError::bad_request("invalid_request", format!("QR code: {e}")))
}

/// A QR code symbol: `width` × `width` modules, row by row, `true` = dark.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Symbol {
    width: usize,
    dark: Vec<bool>,
}

impl Symbol {
    /// Encodes `data` (byte, alphanumeric or numeric segments, whichever is
    /// shortest) in the smallest version that holds it at level M.
    fn encode(data: &[u8]) -> Result<Self, QrError> {
        let bits = qrcode::bits::encode_auto(data, EC_LEVEL)?;
        let version = bits.version();
        // `encode_auto` picks normal versions only (Micro QR codes would
        // score masks differently); `overlays` refuses any other.
        let overlays = overlays(version)?;
        let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EC_LEVEL)?;
        let mut canvas = Canvas::new(version, EC_LEVEL);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        let n = version.width();
        let width = usize::try_from(n).map_err(|_| QrError::InvalidVersion)?;
        let dark_data: Vec<bool> = (0..n)
            .flat_map(|y| (0..n).map(move |x| (x, y)))
            .map(|(x, y)| canvas.get(x, y) == Module::Unmasked(Color::Dark))
            .collect();
        let mut best: Option<(usize, Symbol)> = None;
        for overlay in overlays {
            let symbol = Symbol {
                width,
                dark: overlay.iter().zip(&dark_data).map(|(o, d)| o ^ d).collect(),
            };
            let score = symbol.penalty();
            if best.as_ref().is_none_or(|(least, _)| score < *least) {
                best = Some((score, symbol));
            }
        }
        best.map(|(_, symbol)| symbol)
            .ok_or(QrError::InvalidVersion)
    }

    /// The penalty of §7.8.3.1 as the `qrcode` crate computes it, less its
    /// constant offset (which does not change the choice).
    fn penalty(&self) -> usize {
        let n = self.width;
        let columns: Vec<bool> = (0..n * n).map(|i| self.dark[(i % n) * n + i / n]).collect();
        let rows = self.dark.chunks_exact(n);
        let mut score: usize = rows
            .clone()
            .chain(columns.chunks_exact(n))
            .map(line_penalty)
            .sum();
        // N2: every 2 × 2 block of one colour, overlapping ones included, 3.
        for (upper, lower) in rows.clone().zip(rows.skip(1)) {
            for (u, l) in upper.windows(2).zip(lower.windows(2)) {
                // `&`, not `&&`: no branch to mispredict on random modules.
                score += 3 * usize::from((u[0] == u[1]) & (l[0] == l[1]) & (u[0] == l[0]));
            }
        }
        // N4: how far the share of dark modules is from 50 %, in half
        // percents.
        let dark = self.dark.iter().filter(|d| **d).count();
        score + (dark * 200 / self.dark.len()).abs_diff(100)
    }

    fn to_svg(&self) -> String {
        let module = MIN_PIXELS.div_ceil(self.width + 2 * QUIET_ZONE);
        let pixels = (self.width + 2 * QUIET_ZONE) * module;
        let mut svg = String::with_capacity(512 + self.dark.len() * 6);
        // Writing to a `String` cannot fail.
        let _ = write!(
            svg,
            concat!(
                r#"<?xml version="1.0" standalone="yes"?>"#,
                r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1""#,
                r#" width="{pixels}" height="{pixels}" viewBox="0 0 {pixels} {pixels}""#,
                r#" shape-rendering="crispEdges">"#,
                r##"<rect width="{pixels}" height="{pixels}" fill="#fff"/><path fill="#000" d=""##,
            ),
            pixels = pixels,
        );
        // `i * module` in decimal for every i the path needs, formatted once
        // rather than per use (formatting was a third of the cost here).
        let pixel: Vec<String> = (0..=self.width + QUIET_ZONE)
            .map(|i| (i * module).to_string())
            .collect();
        // In range: a run starts before `width + QUIET_ZONE` and is at most
        // `width` long.
        let mut subpath = |left: usize, top: usize, run: usize| {
            let (left, top, width) = (&pixel[left], &pixel[top], &pixel[run]);
            for part in [
                "M", left, " ", top, "h", width, "v", &pixel[1], "h-", width, "z",
            ] {
                svg.push_str(part);
            }
        };
        for (y, row) in self.dark.chunks_exact(self.width).enumerate() {
            let mut x = 0;
            while x < row.len() {
                let run = row[x..].iter().take_while(|d| **d).count();
                if run > 0 {
                    subpath(x + QUIET_ZONE, y + QUIET_ZONE, run);
                }
                x += run + 1;
            }
        }
        svg.push_str(r#""/></svg>"#);
        svg
    }
}

/// Per normal version (1 to 40), its symbol without data masked with each
/// of [`MASKS`], drawn by the crate on first use.
static OVERLAYS: [OnceLock<[Vec<bool>; 8]>; 40] = [const { OnceLock::new() }; 40];

/// The eight masked empty symbols of `version` (see the module docs).
fn overlays(version: Version) -> Result<&'static [Vec<bool>; 8], QrError> {
    let Version::Normal(number @ 1..=40) = version else {
        return Err(QrError::InvalidVersion);
    };
    let slot = OVERLAYS
        .get(usize::try_from(number - 1).map_err(|_| QrError::InvalidVersion)?)
        .ok_or(QrError::InvalidVersion)?;
    Ok(slot.get_or_init(|| {
        let mut canvas = Canvas::new(version, EC_LEVEL);
        canvas.draw_all_functional_patterns();
        MASKS.map(|mask| {
            let mut masked = canvas.clone();
            masked.apply_mask(mask);
            let colors = masked.into_colors().into_iter();
            colors.map(|c| c == Color::Dark).collect()
        })
    }))
}

/// N1 and N3 of §7.8.3.1 for one row or column: a run of 5 + i modules of
/// one colour scores 3 + i; a dark-light-dark-light-dark 1:1:3:1:1 pattern
/// with four light modules (or the edge) on at least one side scores 40.
fn line_penalty(line: &[bool]) -> usize {
    // The last 15 modules, the oldest in bit 14: four before the pattern,
    // the pattern, four after; the line is padded with four light modules
    // at each end.
    let finder = |window: u32| {
        (window >> 4) & 0x7f == 0b101_1101 && (window >> 11 == 0 || window & 0xf == 0)
    };
    let mut score = 0;
    let mut run = 0;
    let mut previous = None;
    let mut window = 0u32;
    for (i, &dark) in line.iter().enumerate() {
        // Written to compile to conditional moves: the colour changes at
        // random, a branch on it would be mispredicted half the time.
        let same = previous == Some(dark);
        previous = Some(dark);
        let ended = if same { 0 } else { run };
        if ended >= 5 {
            score += ended - 2;
        }
        run = if same { run + 1 } else { 1 };
        window = (window << 1 | u32::from(dark)) & 0x7fff;
        // Four padding modules, then 11 of the line: a full window.
        if i >= 10 && finder(window) {
            score += 40;
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    for _ in 0..4 {
        window = (window << 1) & 0x7fff;
        if finder(window) {
            score += 40;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "openid4vp://?client_id=x509_hash%3AUvRWkd1vaLwGSjUDQtjqUNgD5CSXg7JEeqIxyXb3K6Y&request_uri=https%3A%2F%2Fverifier.example%2Frequest%2FuH3kZ2lX1a9Qx0bVtYpLmN4c";

    /// The modules the `qrcode` crate chooses on its own.
    fn reference(data: &str) -> Symbol {
        let code = qrcode::QrCode::with_error_correction_level(data, EC_LEVEL).unwrap();
        Symbol {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        }
    }

    #[test]
    fn iso18004_7_8_3_same_mask_as_the_qrcode_crate() {
        // Versions 9 to 14 (what invocation URIs need), every few lengths.
        let mut inputs: Vec<String> = (0..200)
            .step_by(5)
            .map(|i| format!("{URI}{}", "x".repeat(i)))
            .collect();
        inputs.extend(["a", "HELLO WORLD", "0123456789012345", ""].map(str::to_owned));
        for data in inputs {
            assert_eq!(
                Symbol::encode(data.as_bytes()).unwrap(),
                reference(&data),
                "{data}"
            );
        }
    }

    #[test]
    fn svg_draws_every_dark_module_once_in_whole_pixels() {
        let symbol = Symbol::encode(URI.as_bytes()).unwrap();
        let svg = symbol.to_svg();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.ends_with("\"/></svg>"));
        let side = symbol.width + 8;
        let module = 256usize.div_ceil(side);
        let pixels = side * module;
        assert!(pixels >= 256 && pixels - side < 256);
        assert!(svg.contains(&format!(
            "width=\"{pixels}\" height=\"{pixels}\" viewBox=\"0 0 {pixels} {pixels}\""
        )));

        // Redraw the path and compare with the symbol.
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches("\"/></svg>");
        let mut drawn = vec![false; symbol.dark.len()];
        for subpath in path.split('z').filter(|s| !s.is_empty()) {
            let (start, rest) = subpath[1..].split_once('h').unwrap();
            let (x, y) = start.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let width: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            assert_eq!(
                rest,
                format!("{width}v{module}h-{width}z").trim_end_matches('z')
            );
            assert_eq!((x % module, y % module, width % module), (0, 0, 0));
            let (x, y, run) = (x / module, y / module, width / module);
            for x in x..x + run {
                let i = (y - 4) * symbol.width + (x - 4);
                assert!(!drawn[i], "drawn twice");
                drawn[i] = true;
            }
        }
        assert_eq!(drawn, symbol.dark);
    }

    #[test]
    fn too_long_for_any_version() {
        assert!(matches!(
            Symbol::encode("x".repeat(4000).as_bytes()),
            Err(QrError::DataTooLong)
        ));
        assert!(matches!(
            svg(&"x".repeat(4000)),
            Err(ApiError::Client {
                code: "invalid_request",
                ..
            })
        ));
    }
}
