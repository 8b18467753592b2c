//! Short-time Fourier transform (realfft) and the log-frequency axis of the spectrogram.
//!
//! The spectrogram is computed per pixel column at the zoom being shown (a "tile"), or, for
//! zoomed-out views, aggregated from the precomputed coarse [`Overview`]. Values are dB
//! relative to a full-scale sine, quantized to `u8` in half-dB steps (see [`db_to_u8`]).

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

use crate::audio::PcmStore;

/// Lowest dB value stored; quieter is clamped.
pub const DB_FLOOR: f32 = -127.0;

/// Quantizes dB (≤ 0 for full scale) to a byte in half-dB steps; 0 is `DB_FLOOR` or below.
pub fn db_to_u8(db: f32) -> u8 {
    if !db.is_finite() {
        return 0;
    }
    // Rounds half up: adding ½ then truncating (no library call, for a whole column).
    ((db - DB_FLOOR) * 2.0 + 0.5).clamp(0.0, 255.0) as u8
}

pub fn u8_to_db(v: u8) -> f32 {
    DB_FLOOR + v as f32 * 0.5
}

/// A Hann-windowed FFT of size `n` with reusable buffers.
pub struct Stft {
    n: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    output: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    /// Scale that puts a full-scale sine at 0 dB.
    norm: f32,
}

impl Stft {
    pub fn new(n: usize) -> Self {
        let n = n.max(16);
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let window = super::dsp::hann(n);
        let sum: f32 = window.iter().sum();
        Self {
            n,
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            norm: 2.0 / sum,
        }
    }
    pub fn size(&self) -> usize {
        self.n
    }
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }
    /// Power spectrum in dB of `frame` (length `n`), written to `out` (length `n/2+1`).
    pub fn power_db(&mut self, frame: &[f32], out: &mut [f32]) {
        for ((d, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *d = x * w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .is_err()
        {
            out.fill(DB_FLOOR);
            return;
        }
        // 20·log10 of the magnitude, as 10·log10 of the power through the branch-free
        // logarithm (no square root, and the loop vectorises).
        let (norm_sq, to_db) = (self.norm * self.norm, 10.0 / std::f32::consts::LN_10);
        for (o, c) in out.iter_mut().zip(&self.output) {
            let p = c.norm_sqr() * norm_sq;
            // The floor takes a NaN too; the ceiling keeps the logarithm's input finite.
            let p = if p > 1e-18 { p.min(f32::MAX) } else { 1e-18 };
            *o = to_db * super::dsp::ln(p);
        }
    }
    /// Mono mix of the store around `center` (frame), into the internal frame, then `power_db`.
    pub fn column_at(
        &mut self,
        store: &PcmStore,
        center: i64,
        frame_buf: &mut Vec<f32>,
        out: &mut [f32],
    ) {
        frame_buf.resize(self.n, 0.0);
        store.read_mono(center - self.n as i64 / 2, frame_buf);
        self.power_db(frame_buf, out);
    }
}

/// The spectrogram's vertical axis: logarithmic from `fmin` to `fmax`, `rows` rows, row 0 at
/// the top (highest frequency).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogAxis {
    pub fmin: f32,
    pub fmax: f32,
    pub rows: usize,
}

impl LogAxis {
    pub fn for_rate(sample_rate: u32, rows: usize) -> Self {
        let nyq = sample_rate as f32 / 2.0;
        Self {
            fmin: 30.0f32.min(nyq / 4.0),
            fmax: nyq.min(20_000.0),
            rows: rows.max(2),
        }
    }
    /// Fractional row (0 = top edge) of frequency `f`.
    pub fn row_of(&self, f: f32) -> f32 {
        let t = (f.max(1e-3) / self.fmin).ln() / (self.fmax / self.fmin).ln();
        (1.0 - t) * self.rows as f32
    }
    /// Frequency at fractional row `r` (0 = top edge).
    pub fn freq_of(&self, r: f32) -> f32 {
        let t = 1.0 - r / self.rows as f32;
        self.fmin * (self.fmax / self.fmin).powf(t)
    }
    /// Maps a linear power spectrum (dB, `bins` = n/2+1 for an n-point FFT at `rate`) to rows.
    /// Rows wider than a bin take the loudest bin inside; narrower rows interpolate.
    pub fn map_spectrum(&self, spec_db: &[f32], rate: u32, out: &mut [f32]) {
        RowMap::new(self, spec_db.len(), rate).apply(spec_db, out);
    }
}

/// How each row of a [`LogAxis`] reads an FFT's bins, computed once per (axis, FFT size).
#[derive(Debug, Clone)]
pub struct RowMap {
    rows: Vec<RowSource>,
}

#[derive(Debug, Clone, Copy)]
enum RowSource {
    /// Loudest of bins `from..=to`.
    Max(usize, usize),
    /// Interpolate between bins `i` and `i + 1`.
    Lerp(usize, f32),
}

impl RowMap {
    pub fn new(axis: &LogAxis, bins: usize, rate: u32) -> Self {
        let bins = bins.max(2);
        let hz_per_bin = rate as f32 / (2.0 * (bins - 1) as f32);
        let rows = (0..axis.rows)
            .map(|r| {
                let b_hi = axis.freq_of(r as f32) / hz_per_bin;
                let b_lo = axis.freq_of(r as f32 + 1.0) / hz_per_bin;
                if b_hi.floor() - b_lo.ceil() >= 0.0 {
                    RowSource::Max(
                        (b_lo.ceil() as usize).min(bins - 1),
                        (b_hi.floor() as usize).min(bins - 1),
                    )
                } else {
                    let b = ((b_lo + b_hi) * 0.5).min((bins - 1) as f32);
                    RowSource::Lerp(b.floor() as usize, b - b.floor())
                }
            })
            .collect();
        Self { rows }
    }

    pub fn apply(&self, spec_db: &[f32], out: &mut [f32]) {
        let last = spec_db.len().saturating_sub(1);
        if spec_db.len() < 2 {
            out.fill(DB_FLOOR);
            return;
        }
        for (o, src) in out.iter_mut().zip(&self.rows) {
            *o = match *src {
                RowSource::Max(a, b) => spec_db[a.min(last)..=b.min(last)]
                    .iter()
                    .cloned()
                    .fold(f32::MIN, f32::max),
                RowSource::Lerp(i, frac) => {
                    let i = i.min(last);
                    spec_db[i] * (1.0 - frac) + spec_db[(i + 1).min(last)] * frac
                }
            };
        }
    }
}

/// Note name with cents for a frequency, A4 = 440 Hz: e.g. "A4 +3¢".
pub fn note_name(f: f32) -> String {
    if !(f.is_finite() && f > 0.0) {
        return String::new();
    }
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    let midi = 69.0 + 12.0 * (f / 440.0).log2();
    let nearest = midi.round();
    let cents = ((midi - nearest) * 100.0).round() as i32;
    let idx = (nearest as i32).rem_euclid(12) as usize;
    let octave = (nearest as i32).div_euclid(12) - 1;
    format!("{}{} {:+}¢", NAMES[idx], octave, cents)
}

/// Spectrogram settings that change what is computed (not how it is coloured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpecParams {
    pub window: usize,
    pub rows: usize,
}

impl Default for SpecParams {
    fn default() -> Self {
        Self {
            window: 2048,
            rows: 384,
        }
    }
}

/// Bytes an overview may take: about 67 minutes at the default window of 2048 frames at
/// 44.1 kHz, 384 rows. A longer recording's columns each hold the maximum of several windows.
pub const OVERVIEW_BUDGET: usize = 32 << 20;

/// The coarse whole-track level: one column every `hop` frames, `rows` log rows, u8 dB.
/// Built progressively while decoding; zoomed-out views aggregate it instead of running FFTs.
/// A column is one FFT window (`hop` = the window) or, for a recording announced too long
/// for [`OVERVIEW_BUDGET`], the per-row maximum of `hop / window` consecutive ones, so that
/// a 3-hour recording's overview takes 30 MB instead of 89 MB (views zoomed in closer than
/// one column per pixel compute their columns from the audio, as they do for any track).
pub struct Overview {
    pub params: SpecParams,
    pub hop: usize,
    budget: usize,
    /// Windows folded into the column being built, and their maximum so far.
    pending: usize,
    pending_max: Vec<u8>,
    pub axis: LogAxis,
    rowmap: RowMap,
    pub cols: Vec<u8>,
    pub ncols: usize,
    stft: Stft,
    spec: Vec<f32>,
    rowbuf: Vec<f32>,
    frame: Vec<f32>,
}

impl std::fmt::Debug for Overview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overview")
            .field("params", &self.params)
            .field("ncols", &self.ncols)
            .finish()
    }
}

impl Overview {
    pub fn new(params: SpecParams, sample_rate: u32) -> Self {
        let stft = Stft::new(params.window);
        Self {
            params,
            hop: params.window,
            budget: OVERVIEW_BUDGET,
            pending: 0,
            pending_max: Vec::new(),
            axis: LogAxis::for_rate(sample_rate, params.rows),
            rowmap: RowMap::new(
                &LogAxis::for_rate(sample_rate, params.rows),
                stft.bins(),
                sample_rate,
            ),
            cols: Vec::new(),
            ncols: 0,
            spec: vec![0.0; stft.bins()],
            rowbuf: vec![0.0; params.rows],
            frame: Vec::new(),
            stft,
        }
    }
    /// The same overview kept within `bytes` (see [`OVERVIEW_BUDGET`]).
    pub fn with_budget(mut self, bytes: usize) -> Self {
        self.budget = bytes.max(1);
        self
    }

    /// Computes the columns whose windows are fully decoded (all of them once complete).
    pub fn update(&mut self, store: &PcmStore) {
        let frames = store.frames() as i64;
        let window = self.params.window.max(1);
        let half = window as i64 / 2;
        let rows = self.params.rows;
        // Room for the announced length at once, so that a long recording's levels do not
        // double their memory while they grow; and the windows per column that keep it
        // within the budget (decided before the first column).
        if self.cols.capacity() == 0
            && self.ncols == 0
            && self.pending == 0
            && let Some(n) = store.frames_to_reserve()
        {
            let windows = n as usize / window + 1;
            let per_col = (windows * rows).div_ceil(self.budget).max(1);
            self.hop = window * per_col;
            let _ = self.cols.try_reserve(windows.div_ceil(per_col) * rows);
        }
        let per_col = (self.hop / window).max(1);
        loop {
            let w = self.ncols * per_col + self.pending;
            let center = w as i64 * window as i64 + half;
            let ready = if store.is_complete() {
                center < frames
            } else {
                center + half <= frames
            };
            if !ready {
                break;
            }
            self.stft
                .column_at(store, center, &mut self.frame, &mut self.spec);
            self.rowmap.apply(&self.spec, &mut self.rowbuf);
            if self.pending == 0 {
                self.pending_max.clear();
                self.pending_max.resize(rows, 0);
            }
            for (m, &d) in self.pending_max.iter_mut().zip(&self.rowbuf) {
                *m = (*m).max(db_to_u8(d));
            }
            self.pending += 1;
            if self.pending == per_col {
                self.push_pending();
            }
        }
        // The track's last column may hold fewer windows.
        if store.is_complete() && self.pending > 0 {
            self.push_pending();
        }
    }

    fn push_pending(&mut self) {
        self.cols.extend_from_slice(&self.pending_max);
        self.ncols += 1;
        self.pending = 0;
    }

    pub fn column(&self, i: usize) -> &[u8] {
        let r = self.params.rows;
        &self.cols[i * r..(i + 1) * r]
    }
}

/// Computes spectrogram columns (u8 dB, `rows` each, column-major) for columns centred at
/// `start + (i + 0.5) * spp` frames. Zoomed out past the overview's hop, columns are the
/// per-row maximum of the overview columns they span; zoomed in, each is its own FFT.
pub fn columns(
    store: &PcmStore,
    overview: Option<&Overview>,
    params: SpecParams,
    start: f64,
    spp: f64,
    n: usize,
    cancel: &dyn Fn() -> bool,
) -> Vec<u8> {
    let rows = params.rows;
    let mut out = vec![0u8; n * rows];
    let axis = LogAxis::for_rate(store.sample_rate(), rows);
    if let Some(ov) = overview.filter(|o| o.params == params && spp >= o.hop as f64) {
        let hop = ov.hop as f64;
        for i in 0..n {
            let a = ((start + i as f64 * spp) / hop).floor().max(0.0) as usize;
            let b = (((start + (i + 1) as f64 * spp) / hop).ceil().max(0.0) as usize).min(ov.ncols);
            let col = &mut out[i * rows..(i + 1) * rows];
            for c in a..b.max(a + 1).min(ov.ncols) {
                for (o, &v) in col.iter_mut().zip(ov.column(c)) {
                    *o = (*o).max(v);
                }
            }
            if i % 64 == 0 && cancel() {
                break;
            }
        }
        return out;
    }
    let mut stft = Stft::new(params.window);
    let mut spec = vec![0.0; stft.bins()];
    let mut rowbuf = vec![0.0; rows];
    let mut frame = Vec::new();
    let rowmap = RowMap::new(&axis, stft.bins(), store.sample_rate());
    let frames = store.frames() as f64;
    for i in 0..n {
        let center = start + (i as f64 + 0.5) * spp;
        if center < 0.0 || center >= frames {
            continue;
        }
        stft.column_at(store, center as i64, &mut frame, &mut spec);
        rowmap.apply(&spec, &mut rowbuf);
        for (o, &d) in out[i * rows..(i + 1) * rows].iter_mut().zip(&rowbuf) {
            *o = db_to_u8(d);
        }
        if i % 16 == 0 && cancel() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(f: f32, rate: u32, secs: f32, amp: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| amp * (2.0 * std::f32::consts::PI * f * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn sine_peaks_in_its_bin_and_on_its_log_row() {
        for &(f, rate, n) in &[
            (440.0f32, 44100u32, 2048usize),
            (1000.0, 48000, 4096),
            (3150.0, 22050, 1024),
        ] {
            let store = PcmStore::from_interleaved(rate, 1, &sine(f, rate, 1.0, 0.5));
            let mut stft = Stft::new(n);
            let mut spec = vec![0.0; stft.bins()];
            let mut buf = Vec::new();
            stft.column_at(&store, rate as i64 / 2, &mut buf, &mut spec);
            let peak = (0..spec.len())
                .max_by(|&a, &b| spec[a].total_cmp(&spec[b]))
                .unwrap_or(0);
            let want = (f * n as f32 / rate as f32).round() as i64;
            assert!(
                (peak as i64 - want).abs() <= 1,
                "{f} Hz: peak bin {peak}, expected {want}"
            );
            // amplitude 0.5 is -6 dB re full scale
            assert!(
                (spec[peak] - (-6.02)).abs() < 1.5,
                "{f} Hz level {} dB",
                spec[peak]
            );

            let axis = LogAxis::for_rate(rate, 384);
            let mut rows = vec![0.0; 384];
            axis.map_spectrum(&spec, rate, &mut rows);
            let peak_row = (0..rows.len())
                .max_by(|&a, &b| rows[a].total_cmp(&rows[b]))
                .unwrap_or(0);
            let want_row = axis.row_of(f).floor() as i64;
            assert!(
                (peak_row as i64 - want_row).abs() <= 1,
                "{f} Hz: row {peak_row}, expected {want_row}"
            );
        }
    }

    #[test]
    fn a_sine_on_a_bin_reads_its_level_re_full_scale_and_silence_the_floor() {
        let (rate, n) = (48000u32, 2048usize);
        let f = 40.0 * rate as f32 / n as f32; // exactly on bin 40
        let mut stft = Stft::new(n);
        let mut spec = vec![0.0; stft.bins()];
        for (amp, want) in [(1.0f32, 0.0f32), (0.5, -6.0206), (0.05, -26.0206)] {
            let frame: Vec<f32> = (0..n)
                .map(|i| amp * (2.0 * std::f32::consts::PI * f * i as f32 / rate as f32).sin())
                .collect();
            stft.power_db(&frame, &mut spec);
            assert!((spec[40] - want).abs() < 0.01, "{amp}: {} dB", spec[40]);
        }
        stft.power_db(&vec![0.0; n], &mut spec);
        assert!(
            spec.iter().all(|&d| d <= DB_FLOOR),
            "silence: {:?}",
            &spec[..4]
        );
        assert!(spec.iter().all(|&d| db_to_u8(d) == 0));
        // Half-dB steps, rounded to the nearest.
        assert_eq!(db_to_u8(DB_FLOOR + 0.24), 0);
        assert_eq!(db_to_u8(DB_FLOOR + 0.26), 1);
        assert_eq!(
            db_to_u8(-6.0206),
            ((-6.0206 - DB_FLOOR) * 2.0).round() as u8
        );
        assert_eq!(db_to_u8(10.0), 255);
        assert_eq!(db_to_u8(f32::NAN), 0);
    }

    #[test]
    fn log_axis_round_trips_and_orders_rows() {
        let axis = LogAxis::for_rate(44100, 400);
        assert!(
            axis.row_of(100.0) > axis.row_of(1000.0),
            "higher frequencies are higher up"
        );
        for f in [50.0f32, 440.0, 1234.5, 15000.0] {
            let back = axis.freq_of(axis.row_of(f));
            assert!((back - f).abs() / f < 1e-3, "{f} → {back}");
        }
        // octaves are equally spaced on a log axis
        let d1 = axis.row_of(220.0) - axis.row_of(440.0);
        let d2 = axis.row_of(440.0) - axis.row_of(880.0);
        assert!((d1 - d2).abs() < 1e-3);
    }

    #[test]
    fn note_names_follow_a440() {
        assert_eq!(note_name(440.0), "A4 +0¢");
        assert_eq!(note_name(261.63), "C4 +0¢");
        assert_eq!(note_name(440.0 * 2f32.powf(0.25 / 12.0)), "A4 +25¢");
    }

    #[test]
    fn zoomed_out_columns_come_from_the_overview() {
        let rate = 8000;
        let mut s = sine(500.0, rate, 4.0, 0.5);
        s.extend(sine(2000.0, rate, 4.0, 0.5));
        let store = PcmStore::from_interleaved(rate, 1, &s);
        let params = SpecParams {
            window: 512,
            rows: 128,
        };
        let mut ov = Overview::new(params, rate);
        ov.update(&store);
        assert_eq!(ov.ncols, s.len().div_ceil(512));
        let cols = columns(&store, Some(&ov), params, 0.0, 4000.0, 16, &|| false);
        let axis = LogAxis::for_rate(rate, 128);
        let argmax = |c: usize| (0..128).max_by_key(|&r| cols[c * 128 + r]).unwrap_or(0) as i64;
        assert!((argmax(2) - axis.row_of(500.0) as i64).abs() <= 1);
        assert!((argmax(12) - axis.row_of(2000.0) as i64).abs() <= 1);
    }

    #[test]
    fn a_recording_announced_too_long_for_the_budget_folds_windows_into_columns() {
        // Clicks every 0.37 s over a quiet tone: a column that missed a window would miss
        // the clicks in it.
        let rate = 8000;
        let mut s = sine(300.0, rate, 9.0, 0.05);
        for k in 0..24 {
            s[(k as f64 * 0.37 * rate as f64) as usize] = 0.9;
        }
        let params = SpecParams {
            window: 256,
            rows: 64,
        };
        let store = PcmStore::new(rate, 1);
        store.set_expected_frames(s.len() as u64);
        let mut w = crate::audio::store::StoreWriter::new(&store);
        let mut full = Overview::new(params, rate);
        // A budget of a third of what the announced windows take: three windows per column.
        let announced = s.len() / 256 + 1;
        let mut small = Overview::new(params, rate).with_budget(announced * 64 / 3 + 1);
        for part in s.chunks(3000) {
            w.write(&store, part);
            small.update(&store);
            full.update(&store);
        }
        w.finish(&store);
        small.update(&store);
        full.update(&store);
        // Every window whose centre lies in the track, in both.
        let windows = full.ncols;
        assert_eq!(windows, (s.len() - 128).div_ceil(256));
        assert_eq!(small.hop, 3 * 256);
        assert_eq!(small.ncols, windows.div_ceil(3));
        assert!(small.cols.len() <= windows * 64 / 3 + 64);
        for c in 0..small.ncols {
            let want: Vec<u8> = (0..64)
                .map(|r| {
                    (3 * c..(3 * c + 3).min(windows))
                        .map(|k| full.column(k)[r])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            assert_eq!(small.column(c), &want[..], "column {c}");
        }
        // Zoomed out past the coarse hop, both give the same picture.
        let spp = 6.0 * 256.0;
        let a = columns(&store, Some(&small), params, 0.0, spp, 10, &|| false);
        let b = columns(&store, Some(&full), params, 0.0, spp, 10, &|| false);
        assert_eq!(a, b);
    }
}
