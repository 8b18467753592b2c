//! The complete picture `sori render` writes: title, waveform, spectrogram, time and
//! frequency axes. Spectrogram pixels come from the same `columns` + `colorize` path as the
//! GUI's textures.

use image::{Rgba, RgbaImage};

use super::text::{draw_text, fit, text_width};
use super::{ColorMap, DbRange, category_rgb, colorize, format_time, freq_ticks, time_tick_step};
use crate::analysis::lens::Lane;
use crate::analysis::peaks::PeakPyramid;
use crate::analysis::spectrum::{LogAxis, Overview, SpecParams, columns};
use crate::audio::PcmStore;
use crate::notes::Note;

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
    /// Notes drawn in a lane above the waveform (regions with their titles, points as marks).
    pub notes: Vec<Note>,
    /// Fusion-lens lanes drawn under the spectrogram.
    pub lanes: Vec<Lane>,
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
            notes: Vec::new(),
            lanes: Vec::new(),
        }
    }
}

const BG: [u8; 3] = [18, 20, 24];
const FG: [u8; 3] = [220, 224, 230];
const DIM: [u8; 3] = [120, 128, 140];
const WAVE: [u8; 3] = [96, 196, 238];

/// Blends `c` over the pixels of a rectangle with opacity `a` (0 … 1).
fn blend(img: &mut RgbaImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3], a: f32) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let a = a.clamp(0.0, 1.0);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            let p = img.get_pixel_mut(x as u32, y as u32);
            for i in 0..3 {
                p.0[i] = (p.0[i] as f32 * (1.0 - a) + c[i] as f32 * a).round() as u8;
            }
        }
    }
}

/// Where the notes lane of a picture lies: `(x of a time, top, bottom)`; the tests check
/// the notes' colours there.
pub fn notes_lane_geometry(
    o: &PictureOptions,
    dur: f64,
    rate: u32,
) -> Option<(f64, f64, i64, i64, i64, i64)> {
    if o.notes.is_empty() {
        return None;
    }
    let l = layout(o, dur, rate as f64);
    Some((
        l.from,
        l.to,
        l.left,
        l.plot_w,
        l.notes_y,
        l.notes_y + l.notes_h,
    ))
}

struct Layout {
    from: f64,
    to: f64,
    fsz: f32,
    left: i64,
    top: i64,
    plot_w: i64,
    plot_h: i64,
    notes_y: i64,
    notes_h: i64,
    wave_y: i64,
    wave_h: i64,
    spec_y: i64,
    spec_h: i64,
    lanes_y: i64,
    lane_h: i64,
}

fn layout(o: &PictureOptions, dur: f64, rate: f64) -> Layout {
    let (w, h) = (o.width.max(320), o.height.max(240));
    let from = o.from_s.clamp(0.0, dur.max(0.0));
    let to = o.to_s.unwrap_or(dur).clamp(from, dur.max(from));
    // at least one sample wide
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
    let gap = 6;
    let notes_h = if o.notes.is_empty() {
        0
    } else {
        (fsz * 1.8) as i64 * crate::notes::lane_rows(&o.notes).1.min(3) as i64
    };
    let lane_h = if o.lanes.is_empty() {
        0
    } else {
        ((plot_h as f32 * 0.025).max(fsz * 0.8)) as i64
    };
    let lanes_h = lane_h * o.lanes.len() as i64;
    let notes_y = top;
    let wave_y = top + if notes_h > 0 { notes_h + gap } else { 0 };
    let rest = plot_h - (wave_y - top) - if lanes_h > 0 { lanes_h + gap } else { 0 };
    let wave_h = (rest / 4).max(8);
    let spec_y = wave_y + wave_h + gap;
    let spec_h = (rest - wave_h - gap).max(8);
    Layout {
        from,
        to,
        fsz,
        left,
        top,
        plot_w,
        plot_h,
        notes_y,
        notes_h,
        wave_y,
        wave_h,
        spec_y,
        spec_h,
        lanes_y: spec_y + spec_h + gap,
        lane_h,
    }
}

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
    let l = layout(o, store.duration_s(), rate);
    let (from, to, fsz, left, top, plot_w, plot_h) =
        (l.from, l.to, l.fsz, l.left, l.top, l.plot_w, l.plot_h);
    let (wave_h, spec_y, spec_h) = (l.wave_h, l.spec_y, l.spec_h);
    let x_of = |t: f64| left + ((t - from) / (to - from) * plot_w as f64).round() as i64;

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
        let y0 = l.wave_y + c as i64 * strip;
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

    // Notes lane: regions with their titles, points as marks, in category colours.
    if l.notes_h > 0 {
        let (y0, y1) = (l.notes_y, l.notes_y + l.notes_h);
        fill(&mut img, left, y0, left + plot_w, y1, [28, 31, 37]);
        draw_text(
            &mut img,
            4.0,
            y0 as f32 + fsz * 0.3,
            fsz * 0.8,
            DIM,
            "Notes",
        );
        // overlapping regions get their own rows, as in the app
        let (rows, n_rows) = crate::notes::lane_rows(&o.notes);
        let row_h = (y1 - y0) / n_rows as i64;
        let tsz = (row_h as f32 * 0.7).min(fsz * 0.85);
        for (n, row) in o.notes.iter().zip(rows) {
            let c = category_rgb(n.category);
            let x0 = x_of(n.start).max(left);
            match n.end {
                Some(e) if e > from && n.start < to => {
                    let x1 = x_of(e).min(left + plot_w).max(x0 + 2);
                    let (ya, yb) = (
                        y0 + row as i64 * row_h + 1,
                        y0 + (row as i64 + 1) * row_h - 1,
                    );
                    blend(&mut img, x0, ya, x1, yb, c, 0.55);
                    fill(&mut img, x0, ya, x0 + 2, yb, c);
                    let label = fit(&n.title, tsz, (x1 - x0 - 8) as f32);
                    let ty = ya as f32 + ((yb - ya) as f32 - tsz * 1.2) / 2.0;
                    draw_text(&mut img, x0 as f32 + 5.0, ty, tsz, FG, &label);
                }
                None if n.start >= from && n.start <= to => {
                    fill(&mut img, x0 - 2, y0 + 1, x0 + 3, y1 - 1, c);
                }
                _ => {}
            }
        }
    }

    // Fusion-lens lanes: segments in the lane colour, stronger where the score is higher.
    if l.lane_h > 0 {
        for (k, lane) in o.lanes.iter().enumerate() {
            let y0 = l.lanes_y + k as i64 * l.lane_h;
            let c = crate::analysis::lens::LaneId::from_id(lane.id).map_or(FG, |l| l.info().rgb);
            fill(
                &mut img,
                left,
                y0,
                left + plot_w,
                y0 + l.lane_h - 1,
                [28, 31, 37],
            );
            for seg in &lane.segments {
                if seg.end_s <= from || seg.start_s >= to {
                    continue;
                }
                let (x0, x1) = (
                    x_of(seg.start_s).max(left),
                    x_of(seg.end_s).min(left + plot_w),
                );
                blend(
                    &mut img,
                    x0,
                    y0,
                    x1.max(x0 + 1),
                    y0 + l.lane_h - 1,
                    c,
                    0.35 + 0.6 * seg.score,
                );
            }
            let name = lane.label.split(' ').next().unwrap_or(lane.label);
            let label = fit(name, fsz * 0.7, (left - 8) as f32);
            draw_text(&mut img, 2.0, y0 as f32, fsz * 0.7, c, &label);
        }
    }

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
