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
    fn drawn_text_changes_pixels() {
        let mut img = RgbaImage::from_pixel(100, 30, image::Rgba([0, 0, 0, 255]));
        draw_text(&mut img, 2.0, 2.0, 18.0, [255, 255, 255], "소리 440");
        assert!(img.pixels().any(|p| p.0[0] > 200));
    }
}
