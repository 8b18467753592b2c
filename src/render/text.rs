//! Text on pictures (axis labels, titles) with the bundled NanumSquare font (Hangul included).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::RgbaImage;

/// NanumSquare Regular (SIL OFL 1.1, Debian package fonts-nanum); see assets/licenses/.
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/NanumSquareR.ttf");

pub fn font() -> Option<FontRef<'static>> {
    FontRef::try_from_slice(FONT_BYTES).ok()
}

/// Width in pixels of `text` at `size` px.
pub fn text_width(text: &str, size: f32) -> f32 {
    let Some(font) = font() else { return 0.0 };
    let f = font.as_scaled(PxScale::from(size));
    text.chars().map(|c| f.h_advance(f.glyph_id(c))).sum()
}

/// Draws `text` with its top-left corner at (x, y), blending `rgb` by glyph coverage.
pub fn draw_text(img: &mut RgbaImage, x: f32, y: f32, size: f32, rgb: [u8; 3], text: &str) {
    let Some(font) = font() else { return };
    let scale = PxScale::from(size);
    let sf = font.as_scaled(scale);
    let mut caret = x;
    let baseline = y + sf.ascent();
    let (w, h) = (img.width() as i32, img.height() as i32);
    for c in text.chars() {
        let id = sf.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, point(caret, baseline));
        caret += sf.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            let px = b.min.x as i32 + gx as i32;
            let py = b.min.y as i32 + gy as i32;
            if px < 0 || py < 0 || px >= w || py >= h {
                return;
            }
            let p = img.get_pixel_mut(px as u32, py as u32);
            let a = cov.clamp(0.0, 1.0);
            for i in 0..3 {
                p.0[i] = (p.0[i] as f32 * (1.0 - a) + rgb[i] as f32 * a).round() as u8;
            }
        });
    }
}

/// `text` cut (with "…") to fit `width` px at `size` px; empty if not even "…" fits.
pub fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if text_width(&format!("{out}…"), size) > width {
            out.pop();
            break;
        }
    }
    if out.is_empty() && text_width("…", size) > width {
        return String::new();
    }
    out + "…"
}

/// `text` broken into lines of at most `width` px at `size` px, at spaces where possible
/// (Hangul and long words break between characters); explicit newlines are kept.
pub fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // a word wider than the line: break it between characters
            for c in word.chars() {
                line.push(c);
                if text_width(&line, size) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_has_hangul_latin_and_axis_symbols() {
        let font = font().expect("bundled font parses");
        for c in "소리 해금 가야금 장구 Sori 0123456789 Hz dB ¢ # + - : ."
            .chars()
            .filter(|c| !c.is_whitespace())
        {
            assert_ne!(font.glyph_id(c).0, 0, "missing glyph {c:?}");
        }
    }

    #[test]
    fn wrapped_lines_fit_the_width_and_keep_every_word() {
        let text = "장구 and 해금 over an 808 bass: listen for the bend after each stroke";
        let lines = wrap(text, 20.0, 200.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(text_width(l, 20.0) <= 200.0, "{l:?} is too wide");
        }
        assert_eq!(lines.join(" "), text);
        let cut = fit(text, 20.0, 120.0);
        assert!(cut.ends_with('…') && text_width(&cut, 20.0) <= 120.0);
        assert_eq!(fit("short", 20.0, 500.0), "short");
    }

    #[test]
    fn drawn_text_changes_pixels() {
        let mut img = RgbaImage::from_pixel(100, 30, image::Rgba([0, 0, 0, 255]));
        draw_text(&mut img, 2.0, 2.0, 18.0, [255, 255, 255], "소리 440");
        assert!(img.pixels().any(|p| p.0[0] > 200));
    }
}
