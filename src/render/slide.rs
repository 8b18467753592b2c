//! One slide per note (`sori render --per-note`): the note's title, time, category and
//! body above a picture of its region, for teachers who present with slide software.

use image::{Rgba, RgbaImage, imageops};

use super::picture::{PictureOptions, render_picture};
use super::text::{draw_text, fit, wrap};
use super::{category_rgb, format_time};
use crate::analysis::peaks::PeakPyramid;
use crate::analysis::spectrum::Overview;
use crate::audio::PcmStore;
use crate::notes::Note;

/// Seconds a point note's slide shows after its time.
pub const POINT_SPAN_S: f64 = 8.0;

/// The time range a note's slide shows: its region (a point note: the next
/// [`POINT_SPAN_S`]) with a little context on both sides, within the track.
pub fn slide_range(n: &Note, dur: f64) -> (f64, f64) {
    let end = n.end.unwrap_or(n.start + POINT_SPAN_S).max(n.start);
    let pad = ((end - n.start) * 0.1).max(0.5);
    let from = (n.start - pad).max(0.0);
    let to = (end + pad).min(dur).max(from + 0.1);
    (from, to)
}

/// Renders the slide of `note` at the size of `base` (its colour map, dB range and window
/// apply to the picture of the region).
pub fn render_slide(
    store: &PcmStore,
    peaks: &PeakPyramid,
    overview: Option<&Overview>,
    note: &Note,
    base: &PictureOptions,
) -> RgbaImage {
    let (w, h) = (base.width.max(320), base.height.max(240));
    let mut img = RgbaImage::from_pixel(w, h, Rgba([18, 20, 24, 255]));
    let c = category_rgb(note.category);
    let margin = (w as f32 * 0.04).round();
    let title_sz = (h as f32 / 14.0).clamp(18.0, 96.0);
    let body_sz = (h as f32 / 30.0).clamp(12.0, 48.0);
    // a band of the category's colour on the left edge
    for y in 0..h {
        for x in 0..(margin as u32 / 3).max(4) {
            img.put_pixel(x, y, Rgba([c[0], c[1], c[2], 255]));
        }
    }
    let text_w = w as f32 - 2.0 * margin;
    let mut y = margin * 0.6;
    draw_text(
        &mut img,
        margin,
        y,
        title_sz,
        [240, 242, 246],
        &fit(&note.title, title_sz, text_w),
    );
    y += title_sz * 1.25;
    let when = match note.end {
        Some(e) => format!("{} – {}", format_time(note.start, 0.1), format_time(e, 0.1)),
        None => format_time(note.start, 0.1),
    };
    let mut meta = format!("{when}  ·  {}", note.category.as_str());
    if !note.instruments.is_empty() {
        meta += &format!("  ·  {}", note.instruments.join(", "));
    }
    draw_text(
        &mut img,
        margin,
        y,
        body_sz * 0.9,
        c,
        &fit(&meta, body_sz * 0.9, text_w),
    );
    y += body_sz * 1.5;
    // the body, as many lines as fit above the picture
    let pic_top = h as f32 * 0.45;
    let max_lines = ((pic_top - y) / (body_sz * 1.3)).floor().max(0.0) as usize;
    let lines = wrap(&note.body, body_sz, text_w);
    let shown = lines.len().min(max_lines);
    for (i, line) in lines.iter().take(shown).enumerate() {
        let line = if i + 1 == shown && lines.len() > shown {
            fit(&format!("{line} …"), body_sz, text_w)
        } else {
            line.clone()
        };
        draw_text(&mut img, margin, y, body_sz, [220, 224, 230], &line);
        y += body_sz * 1.3;
    }
    // the picture of the note's region, with the note itself in the notes lane
    let (from, to) = slide_range(note, store.duration_s());
    let pic_h = (h as f32 - pic_top - margin * 0.5).max(120.0) as u32;
    let opts = PictureOptions {
        width: w - 2 * (margin as u32 / 2),
        height: pic_h,
        from_s: from,
        to_s: Some(to),
        title: String::new(),
        notes: vec![note.clone()],
        ..base.clone()
    };
    let pic = render_picture(store, peaks, overview, &opts);
    imageops::overlay(&mut img, &pic, (margin / 2.0) as i64, pic_top as i64);
    img
}

/// A file name for slide `i` (1-based in the name) of a note titled `title`: the number
/// keeps the order, the title is reduced to letters, digits and dashes.
pub fn slide_file_name(i: usize, title: &str) -> String {
    let mut slug = String::new();
    for ch in title.chars() {
        if ch.is_alphanumeric() {
            slug.extend(ch.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.chars().count() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("{:03}.png", i + 1)
    } else {
        format!("{:03}-{slug}.png", i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slide_names_keep_the_order_and_only_safe_characters() {
        assert_eq!(
            slide_file_name(0, "Haegeum-like line (해금)"),
            "001-haegeum-like-line-해금.png"
        );
        assert_eq!(
            slide_file_name(11, "../../etc/passwd"),
            "012-etc-passwd.png"
        );
        assert_eq!(slide_file_name(2, "???"), "003.png");
    }

    #[test]
    fn a_slide_range_holds_the_note_with_context() {
        let n = Note::region(10.0, 20.0, "x");
        let (a, b) = slide_range(&n, 60.0);
        assert!(a < 10.0 && a >= 8.0 && b > 20.0 && b <= 22.0);
        let p = Note::point(58.0, "end");
        let (a, b) = slide_range(&p, 60.0);
        assert!(a < 58.0 && b == 60.0);
    }
}
