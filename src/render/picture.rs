//! The complete picture `sori render` writes: title, waveform, spectrogram, time and
//! frequency axes. Spectrogram pixels come from the same `columns` + `colorize` path as the
//! GUI's textures.

use image::{Rgba, RgbaImage};

use super::text::{draw_text, text_width};
use super::{ColorMap, DbRange, colorize, format_time, freq_ticks, time_tick_step};
use crate::analysis::peaks::PeakPyramid;
use crate::analysis::spectrum::{LogAxis, Overview, SpecParams, columns};
use crate::audio::PcmStore;

#[derive(Debug, Clone)]
pub struct PictureOptions {
    pub width: u32,
    pub height: u32,
    pub from_s: f64,
    /// End of the shown range; `None` = end of the track.
    pub to_s: Option<f64>,
    pub colormap: ColorMap,
    pub db: DbRange,
    pub params: SpecParams,
    pub title: String,
}

impl Default for PictureOptions {
    fn default() -> Self {
        Self {
            width: 1600,
            height: 900,
            from_s: 0.0,
            to_s: None,
            colormap: ColorMap::Magma,
            db: DbRange::default(),
            params: SpecParams::default(),
            title: String::new(),
        }
    }
}

const BG: [u8; 3] = [18, 20, 24];
const FG: [u8; 3] = [220, 224, 230];
const DIM: [u8; 3] = [120, 128, 140];
const WAVE: [u8; 3] = [96, 196, 238];

fn fill(img: &mut RgbaImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, Rgba([c[0], c[1], c[2], 255]));
        }
    }
}

/// Renders the picture. Smallest sensible size is about 320×240; smaller sizes are raised.
pub fn render_picture(
    store: &PcmStore,
    peaks: &PeakPyramid,
    overview: Option<&Overview>,
    o: &PictureOptions,
) -> RgbaImage {
    let (w, h) = (o.width.max(320), o.height.max(240));
    let mut img = RgbaImage::from_pixel(w, h, Rgba([BG[0], BG[1], BG[2], 255]));
    let rate = store.sample_rate() as f64;
    let dur = store.duration_s();
    let from = o.from_s.clamp(0.0, dur.max(0.0));
    let to = o.to_s.unwrap_or(dur).clamp(from, dur.max(from));
    let to = if to - from < 1.0 / rate {
        from + 1.0 / rate
    } else {
        to
    };

    let fsz = (h as f32 / 60.0).clamp(11.0, 28.0);
    let (left, right, top, bottom) = (
        (fsz * 5.2) as i64,
        12i64,
        (fsz * 2.0) as i64,
        (fsz * 2.2) as i64,
    );
    let plot_w = (w as i64 - left - right).max(16);
    let plot_h = (h as i64 - top - bottom).max(16);
    let wave_h = plot_h / 4;
    let gap = 6;
    let spec_y = top + wave_h + gap;
    let spec_h = plot_h - wave_h - gap;

    let title = if o.title.is_empty() {
        "Sori".to_string()
    } else {
        o.title.clone()
    };
    let header = format!(
        "{title}   {}–{}   {} Hz, {} ch",
        format_time(from, 0.1),
        format_time(to, 0.1),
        store.sample_rate(),
        store.channels()
    );
    draw_text(&mut img, left as f32, fsz * 0.4, fsz * 1.05, FG, &header);

    // Waveform: one strip per channel (up to 8), min/max per pixel column from the pyramid.
    let spp = (to - from) * rate / plot_w as f64;
    let start = from * rate;
    let nch = store.channels().min(8);
    let strip = (wave_h / nch as i64).max(4);
    for c in 0..nch {
        let y0 = top + c as i64 * strip;
        let mid = y0 + strip / 2;
        fill(&mut img, left, mid, left + plot_w, mid + 1, [40, 46, 56]);
        for (x, mm) in peaks
            .columns(store, c, start, spp, plot_w as usize)
            .into_iter()
            .enumerate()
        {
            let Some(mm) = mm else { continue };
            let ya = mid - (mm.max.clamp(-1.0, 1.0) * (strip as f32 / 2.0 - 1.0)) as i64;
            let yb = mid - (mm.min.clamp(-1.0, 1.0) * (strip as f32 / 2.0 - 1.0)) as i64;
            fill(
                &mut img,
                left + x as i64,
                ya,
                left + x as i64 + 1,
                yb + 1,
                WAVE,
            );
        }
    }

    // Spectrogram.
    let cols = columns(
        store,
        overview,
        o.params,
        start,
        spp,
        plot_w as usize,
        &|| false,
    );
    let rows = o.params.rows;
    let rgba = colorize(&cols, plot_w as usize, rows, o.colormap, o.db);
    for y in 0..spec_h {
        let r = ((y as f64 + 0.5) / spec_h as f64 * rows as f64) as usize;
        let r = r.min(rows - 1);
        for x in 0..plot_w {
            let s = (r * plot_w as usize + x as usize) * 4;
            img.put_pixel(
                (left + x) as u32,
                (spec_y + y) as u32,
                Rgba([rgba[s], rgba[s + 1], rgba[s + 2], 255]),
            );
        }
    }

    // Frequency axis.
    let axis = LogAxis::for_rate(store.sample_rate(), rows);
    for (dy, label) in freq_ticks(&axis, spec_h as f32, fsz * 1.3) {
        let y = spec_y + dy as i64;
        fill(&mut img, left - 5, y, left, y + 1, DIM);
        let tw = text_width(&label, fsz * 0.85);
        draw_text(
            &mut img,
            left as f32 - 8.0 - tw,
            y as f32 - fsz * 0.5,
            fsz * 0.85,
            DIM,
            &label,
        );
    }
    draw_text(
        &mut img,
        4.0,
        spec_y as f32 - fsz * 1.1,
        fsz * 0.8,
        DIM,
        "Hz",
    );

    // Time axis.
    let px_per_s = plot_w as f64 / (to - from);
    let step = time_tick_step(px_per_s, fsz as f64 * 6.0);
    let mut t = (from / step).ceil() * step;
    let axis_y = top + plot_h;
    while t <= to + 1e-9 {
        let x = left + ((t - from) * px_per_s) as i64;
        fill(&mut img, x, axis_y, x + 1, axis_y + 6, DIM);
        let label = format_time(t, step);
        let tw = text_width(&label, fsz * 0.85);
        draw_text(
            &mut img,
            x as f32 - tw / 2.0,
            axis_y as f32 + 8.0,
            fsz * 0.85,
            DIM,
            &label,
        );
        t += step;
    }
    img
}
