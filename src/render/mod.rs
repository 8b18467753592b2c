//! Pixels from analysis products: colour maps, spectrogram images, and the complete picture
//! `sori render` writes. The GUI uploads the same spectrogram pixels as textures.

pub mod picture;
pub mod slide;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::analysis::spectrum::u8_to_db;

/// Perceptual colour maps (from the `colorous` crate) plus plain grey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ColorMap {
    #[default]
    Magma,
    Viridis,
    /// Designed for viewers with colour-vision deficiency.
    Cividis,
    Inferno,
    Grey,
}

impl ColorMap {
    pub const ALL: [ColorMap; 5] = [
        ColorMap::Magma,
        ColorMap::Viridis,
        ColorMap::Cividis,
        ColorMap::Inferno,
        ColorMap::Grey,
    ];
    pub fn label(self) -> &'static str {
        match self {
            ColorMap::Magma => "Magma",
            ColorMap::Viridis => "Viridis",
            ColorMap::Cividis => "Cividis (colour-blind safe)",
            ColorMap::Inferno => "Inferno",
            ColorMap::Grey => "Grey",
        }
    }
    /// 256-entry lookup table.
    pub fn lut(self) -> [[u8; 3]; 256] {
        let mut lut = [[0u8; 3]; 256];
        for (i, e) in lut.iter_mut().enumerate() {
            let t = i as f64 / 255.0;
            let c = match self {
                ColorMap::Magma => colorous::MAGMA.eval_continuous(t),
                ColorMap::Viridis => colorous::VIRIDIS.eval_continuous(t),
                ColorMap::Cividis => colorous::CIVIDIS.eval_continuous(t),
                ColorMap::Inferno => colorous::INFERNO.eval_continuous(t),
                ColorMap::Grey => colorous::Color {
                    r: i as u8,
                    g: i as u8,
                    b: i as u8,
                },
            };
            *e = [c.r, c.g, c.b];
        }
        lut
    }
}

/// Note category colours (Okabe–Ito palette, distinguishable with colour-vision deficiency);
/// the GUI and the pictures use the same.
pub fn category_rgb(c: crate::notes::Category) -> [u8; 3] {
    use crate::notes::Category;
    match c {
        Category::Traditional => [230, 159, 0],
        Category::Pop => [86, 180, 233],
        Category::Fusion => [0, 158, 115],
        Category::Structure => [240, 228, 66],
        Category::Discussion => [204, 121, 167],
    }
}

/// dB range shown by the colour map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DbRange {
    pub floor: f32,
    pub ceiling: f32,
}

impl Default for DbRange {
    fn default() -> Self {
        Self {
            floor: -90.0,
            ceiling: 0.0,
        }
    }
}

/// Colours column-major u8-dB spectrogram columns (`cols` × `rows`) into row-major RGBA
/// (width `cols`, height `rows`, row 0 = highest frequency).
pub fn colorize(
    cols_db: &[u8],
    cols: usize,
    rows: usize,
    map: ColorMap,
    range: DbRange,
) -> Vec<u8> {
    let lut = map.lut();
    // Precompute byte → colour index once.
    let span = (range.ceiling - range.floor).max(1.0);
    let idx: Vec<u8> = (0..=255u8)
        .map(|v| (((u8_to_db(v) - range.floor) / span).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let mut out = vec![0u8; cols * rows * 4];
    for c in 0..cols {
        let col = &cols_db[c * rows..(c + 1) * rows];
        for (r, &v) in col.iter().enumerate() {
            let [cr, cg, cb] = lut[idx[v as usize] as usize];
            let o = (r * cols + c) * 4;
            out[o..o + 4].copy_from_slice(&[cr, cg, cb, 255]);
        }
    }
    out
}

/// "m:ss.s" or "h:mm:ss" style time label with precision suited to `step` seconds.
pub fn format_time(t: f64, step: f64) -> String {
    let t = t.max(0.0);
    let h = (t / 3600.0).floor();
    let m = ((t - h * 3600.0) / 60.0).floor();
    let s = t - h * 3600.0 - m * 60.0;
    // Enough decimals that neighbouring ticks `step` apart read differently.
    let decimals = if step >= 1.0 {
        0
    } else {
        ((-step.log10()) - 1e-9).ceil().clamp(1.0, 6.0) as usize
    };
    let sec = if decimals == 0 {
        format!("{:02}", s.floor() as u64)
    } else {
        format!("{:0w$.d$}", s, w = decimals + 3, d = decimals)
    };
    if h > 0.0 {
        format!("{}:{:02}:{}", h as u64, m as u64, sec)
    } else {
        format!("{}:{}", m as u64, sec)
    }
}

/// A "nice" tick step (1, 2, 5 × 10^k seconds, or minutes) so that ticks are ≥ `min_px` apart.
pub fn time_tick_step(px_per_s: f64, min_px: f64) -> f64 {
    let want = min_px / px_per_s.max(1e-12);
    let steps = [
        0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
        5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    steps.iter().cloned().find(|&s| s >= want).unwrap_or(7200.0)
}

/// Frequencies labelled on the log axis.
pub const FREQ_TICKS: [f32; 14] = [
    31.5, 63.0, 125.0, 250.0, 440.0, 500.0, 1000.0, 2000.0, 4000.0, 5000.0, 8000.0, 10000.0,
    16000.0, 20000.0,
];

/// The labelled ticks of a log frequency axis drawn `height` pixels tall: (y from the top,
/// label), highest first, skipping ticks closer than `min_gap` pixels to the one above.
pub fn freq_ticks(
    axis: &crate::analysis::spectrum::LogAxis,
    height: f32,
    min_gap: f32,
) -> Vec<(f32, String)> {
    let mut out: Vec<(f32, String)> = Vec::new();
    for &f in FREQ_TICKS.iter().rev() {
        if f < axis.fmin || f > axis.fmax {
            continue;
        }
        let y = axis.row_of(f) / axis.rows as f32 * height;
        if out
            .last()
            .is_some_and(|(last, _)| (y - last).abs() < min_gap)
        {
            continue;
        }
        out.push((
            y,
            if f == 440.0 {
                "A4 440".to_string()
            } else {
                format_hz(f)
            },
        ));
    }
    out
}

pub fn format_hz(f: f32) -> String {
    if f >= 1000.0 {
        let k = f / 1000.0;
        if (k - k.round()).abs() < 0.05 {
            format!("{}k", k.round())
        } else {
            format!("{k:.1}k")
        }
    } else if (f - f.round()).abs() < 0.05 {
        format!("{}", f.round())
    } else {
        format!("{f:.1}")
    }
}

/// Writes `img` to `path` as a PNG, atomically: a failed or interrupted write leaves the file
/// that was there as it was. The one PNG writer for the GUI's export, the demo picture and
/// `sori render`.
pub fn save_png(path: &std::path::Path, img: &image::RgbaImage) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(std::io::Error::other)?;
    crate::notes::save::atomic_write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spectrum::db_to_u8;

    #[test]
    fn a_png_is_written_whole_over_the_old_one_and_reads_back_pixel_for_pixel() {
        let dir = crate::testdir::TestDir::new("png");
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("picture.png");
        std::fs::write(&p, b"an older picture").expect("old file");
        let img = image::RgbaImage::from_fn(7, 3, |x, y| {
            image::Rgba([x as u8 * 30, y as u8 * 80, 5, 255])
        });
        save_png(&p, &img).expect("save");
        let back = image::open(&p).expect("a PNG").to_rgba8();
        assert!(back == img, "the PNG read back differs");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("picture.png")],
            "temporary files left"
        );
        assert!(save_png(&dir.join("no/such/folder/x.png"), &img).is_err());
    }

    #[test]
    fn colorize_maps_floor_and_ceiling_to_the_ends_of_the_map() {
        let range = DbRange {
            floor: -80.0,
            ceiling: -20.0,
        };
        // two columns, two rows: quiet/loud
        let data = [
            db_to_u8(-100.0),
            db_to_u8(0.0),
            db_to_u8(-80.0),
            db_to_u8(-20.0),
        ];
        let px = colorize(&data, 2, 2, ColorMap::Grey, range);
        // row 0: col0 (-100 dB → black), col1 (-80 dB → black); row 1: col0 (0 dB → white), col1 (-20 → white)
        assert_eq!(&px[0..3], &[0, 0, 0]);
        assert_eq!(&px[4..7], &[0, 0, 0]);
        assert_eq!(&px[8..11], &[255, 255, 255]);
        assert_eq!(&px[12..15], &[255, 255, 255]);
    }

    #[test]
    fn perceptual_maps_get_brighter_monotonically() {
        for map in ColorMap::ALL {
            let lut = map.lut();
            let lum =
                |c: [u8; 3]| 0.2126 * c[0] as f32 + 0.7152 * c[1] as f32 + 0.0722 * c[2] as f32;
            for i in (16..256).step_by(16) {
                assert!(lum(lut[i]) >= lum(lut[i - 16]) - 1.0, "{map:?} at {i}");
            }
        }
    }

    #[test]
    fn frequency_ticks_are_spaced_and_placed_on_the_axis() {
        let axis = crate::analysis::spectrum::LogAxis::for_rate(44100, 384);
        let ticks = freq_ticks(&axis, 800.0, 16.0);
        assert!(
            ticks.windows(2).all(|w| w[1].0 - w[0].0 >= 16.0),
            "{ticks:?}"
        );
        let (y, _) = ticks
            .iter()
            .find(|t| t.1 == "1k")
            .expect("1 kHz is labelled");
        assert!((y - axis.row_of(1000.0) / 384.0 * 800.0).abs() < 1e-3);
        // on a short axis fewer ticks fit
        assert!(freq_ticks(&axis, 120.0, 16.0).len() < ticks.len());
    }

    #[test]
    fn time_labels() {
        assert_eq!(format_time(62.5, 0.5), "1:02.5");
        assert_eq!(format_time(3725.0, 60.0), "1:02:05");
        assert_eq!(format_time(5.25, 0.01), "0:05.25");
        assert_eq!(format_time(43.0091, 0.0001), "0:43.0091");
        assert_eq!(format_time(43.00905, 0.00005), "0:43.00905");
        assert_eq!(format_hz(440.0), "440");
        assert_eq!(format_hz(2000.0), "2k");
    }
}
