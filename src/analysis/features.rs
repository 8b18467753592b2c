//! Frame-level measurements every 10 ms: level, loudness, spectral shape, band energies,
//! pitch (YIN) with harmonicity, and the onset detection functions.
//!
//! Everything is computed on a mono mix resampled (integer decimation) to about 22 kHz for
//! the spectrum and about 11 kHz for pitch, which keeps a whole track well under its
//! decoding time while covering every cue the fusion lens uses (nothing it needs lies above
//! 11 kHz).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::dsp::{db, dot, ln, parabolic_offset};
pub use super::frames::HOP_S;
use super::frames::{Hann, Signal, centre, frame_ready, read_slice};
use super::partials::{Partial, Tracker};
use crate::audio::PcmStore;
use crate::audio::store::CHUNK_FRAMES;

/// Band edges (Hz) of [`Features::bands`]: sub, low, low-mid, mid, upper-mid, presence,
/// brilliance, air (up to the analysis Nyquist).
pub const BAND_EDGES: [f32; 8] = [30.0, 80.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0];
pub const BANDS: usize = BAND_EDGES.len();
pub const BAND_NAMES: [&str; BANDS] = [
    "30–80 Hz",
    "80–200 Hz",
    "200–500 Hz",
    "0.5–1 kHz",
    "1–2 kHz",
    "2–4 kHz",
    "4–8 kHz",
    "8 kHz+",
];

/// Number of log-spaced bands of the timbre vector (used by "find similar").
pub const TIMBRE_BANDS: usize = 20;

/// Lowest and highest f0 the pitch tracker reports.
pub const F0_MIN: f32 = 50.0;
pub const F0_MAX: f32 = 1700.0;

/// Per-frame measurements of one track; every vector has [`Features::len`] entries, frame
/// `i` centred on `i * HOP_S` seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub duration_s: f64,
    /// RMS level, dBFS.
    pub rms_db: Vec<f32>,
    /// Peak-to-RMS ratio of the frame, dB.
    pub crest_db: Vec<f32>,
    /// EBU R128 short-term loudness (3 s window), LUFS; `None` before enough audio.
    pub loudness_lufs: Vec<Option<f32>>,
    pub centroid_hz: Vec<f32>,
    /// Spectral flatness (geometric / arithmetic mean of power), 0 (tonal) … 1 (noise).
    pub flatness: Vec<f32>,
    /// Flatness of the 2–8 kHz region only (breath, buzz, rasp).
    pub high_flatness: Vec<f32>,
    /// Frequency below which 85 % of the power lies.
    pub rolloff_hz: Vec<f32>,
    /// Spectral flux (positive change of log magnitude), whole band / below 200 Hz / above 2 kHz.
    pub flux: Vec<f32>,
    pub flux_low: Vec<f32>,
    pub flux_high: Vec<f32>,
    /// Band energies, dB, per [`BAND_EDGES`].
    pub bands: Vec<[f32; BANDS]>,
    /// Log band energies for timbre similarity.
    pub timbre: Vec<[f32; TIMBRE_BANDS]>,
    /// Frequency of the strongest peak between 25 and 120 Hz (sub-bass pitch), if any.
    pub sub_peak_hz: Vec<Option<f32>>,
    /// YIN periodicity, 0 … 1 (1 − aperiodicity).
    pub harmonicity: Vec<f32>,
    /// Fundamental frequency where the frame is voiced.
    pub f0_hz: Vec<Option<f32>>,
    /// Held and vibrating partials (see [`super::partials`]), in order of start.
    pub partials: Vec<Partial>,
    /// Power of every partial that lasted 0.3 s, and of the held ones (linear, summed; a
    /// full-scale sine is 1).
    pub partial_power: Vec<f32>,
    pub held_power: Vec<f32>,
}

impl Features {
    pub fn len(&self) -> usize {
        self.rms_db.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rms_db.is_empty()
    }
    pub fn time_of(i: usize) -> f64 {
        i as f64 * HOP_S
    }

    /// Room for `n` frames in the spectral measurements.
    fn reserve_spectral(&mut self, n: usize) {
        let _ = (
            self.rms_db.try_reserve(n),
            self.crest_db.try_reserve(n),
            self.centroid_hz.try_reserve(n),
            self.flatness.try_reserve(n),
            self.high_flatness.try_reserve(n),
            self.rolloff_hz.try_reserve(n),
            self.flux.try_reserve(n),
            self.flux_low.try_reserve(n),
            self.flux_high.try_reserve(n),
            self.bands.try_reserve(n),
            self.timbre.try_reserve(n),
        );
    }
}

/// Mono mix of the whole store, decimated by an integer factor to at most about `target` Hz.
/// Returns the samples and their rate. The store is read in chunks, so no full-rate copy of
/// the track is ever held (an hour of 44.1 kHz audio would be 635 MB).
pub fn mono_decimated(store: &PcmStore, target: f32) -> (Vec<f32>, f32) {
    let sr = store.sample_rate() as f32;
    let mut d = Decimator::new(factor_for(sr, target));
    let mut out = Signal::default();
    d.run(
        store.frames() as usize,
        true,
        |s, b| store.read_mono(s, b),
        &mut out,
    );
    (out.into_vec(), sr / d.factor as f32)
}

/// The integer decimation factor that brings `rate` to at most about `target`.
fn factor_for(rate: f32, target: f32) -> usize {
    ((rate / target).round() as usize).max(1)
}

/// Low-pass FIR for decimation by `factor`: windowed sinc (Blackman), cut-off at 0.45 of
/// the new rate, unit gain at DC.
fn lowpass(factor: usize) -> Vec<f32> {
    let taps = 16 * factor + 1;
    let half = (taps / 2) as isize;
    let fc = 0.45 / factor as f64; // cycles per input sample
    let mut h: Vec<f32> = (0..taps)
        .map(|i| {
            let n = i as f64 - half as f64;
            let sinc = if n == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * n).sin() / (std::f64::consts::PI * n)
            };
            let w = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (taps - 1) as f64).cos()
                + 0.08 * (4.0 * std::f64::consts::PI * i as f64 / (taps - 1) as f64).cos();
            (sinc * w) as f32
        })
        .collect();
    let sum: f32 = h.iter().sum();
    h.iter_mut().for_each(|v| *v /= sum);
    h
}

/// Low-pass (see [`lowpass`]) and keep every `factor`-th sample, as a source grows: output
/// `o` is centred on source sample `o * factor` and is produced once every tap it needs is
/// there (or, when the source is complete, with silence past its end).
struct Decimator {
    factor: usize,
    h: Vec<f32>,
    /// Next output index.
    next: usize,
    buf: Vec<f32>,
}

impl Decimator {
    fn new(factor: usize) -> Self {
        let factor = factor.max(1);
        Self {
            factor,
            h: if factor > 1 {
                lowpass(factor)
            } else {
                vec![1.0]
            },
            next: 0,
            buf: Vec::new(),
        }
    }

    /// Appends to `out` every output that `len` source samples allow (`done`: the source is
    /// complete, so all of them). `read(start, buf)` fills `buf` with source samples from
    /// `start` on, silence outside the source.
    fn run(
        &mut self,
        len: usize,
        done: bool,
        mut read: impl FnMut(i64, &mut [f32]),
        out: &mut Signal,
    ) {
        let (f, taps) = (self.factor, self.h.len());
        let half = taps / 2;
        let end = if done {
            len.div_ceil(f)
        } else if len > half {
            (len - half - 1) / f + 1
        } else {
            0
        };
        const BATCH: usize = 1 << 16; // outputs per read
        while self.next < end {
            let (o0, o1) = (self.next, (self.next + BATCH).min(end));
            let n = (o1 - o0 - 1) * f + taps;
            self.buf.resize(n, 0.0);
            read((o0 * f) as i64 - half as i64, &mut self.buf[..n]);
            if f == 1 {
                out.extend(self.buf[..n].iter().copied());
            } else {
                out.extend((0..o1 - o0).map(|o| dot(&self.h, &self.buf[o * f..o * f + taps])));
            }
            self.next = o1;
        }
    }
}

/// How much of each intermediate signal a growing analysis keeps: more than any window,
/// filter or step that reads back from the newest sample.
const KEEP_S: f32 = 2.0;

/// [`KEEP_S`] in samples at `rate`.
fn keep(rate: f32) -> usize {
    (KEEP_S * rate) as usize
}

/// [`lowpass`] then keep every `factor`-th sample of a complete signal.
pub fn decimate(x: &[f32], factor: usize) -> Vec<f32> {
    let mut d = Decimator::new(factor);
    let mut out = Signal::from_vec(Vec::with_capacity(x.len().div_ceil(factor.max(1))));
    d.run(x.len(), true, |s, b| read_slice(x, s, b), &mut out);
    out.into_vec()
}

/// Sum of `v` in eight running lanes, so the loop vectorises (a single running sum must
/// add one value at a time).
pub(crate) fn sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let c = v.chunks_exact(8);
    let rest = c.remainder();
    for x in c {
        for k in 0..8 {
            lanes[k] += x[k];
        }
    }
    lanes.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Number of feature frames of a track of `duration_s`.
fn frame_count(duration_s: f64) -> usize {
    ((duration_s / HOP_S).ceil() as usize).max(1)
}

/// Computes every feature of a completely decoded store.
pub fn compute(store: &PcmStore) -> Features {
    // In steps, as while decoding, so that the mix never holds the whole track.
    compute_following(store, &AtomicBool::new(true))
}

/// Frames of audio per step of the growing analysis: enough to keep the per-step overhead
/// small (a few seconds).
const STEP: u64 = 4 * CHUNK_FRAMES as u64;

/// Computes every feature while `store` is still being decoded, following it as it grows, so
/// the analysis runs alongside the decoder instead of after it. Ends when the store is
/// complete or `over` is set (the decoder stopped, e.g. on an error), with what was decoded.
pub fn compute_following(store: &PcmStore, over: &AtomicBool) -> Features {
    let mut s = Extractor::new(store);
    let mut seen = 0u64;
    loop {
        let ended = store.is_complete() || over.load(Ordering::Acquire);
        let frames = store.frames();
        if frames >= seen + STEP {
            // One step at a time, however far ahead the decoder is, so that the mix held
            // stays a few seconds long.
            seen += STEP;
            s.advance(store, seen, false);
        } else if ended {
            s.advance(store, frames, true);
            return s.finish();
        } else {
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
    }
}

/// The feature pipeline's state between steps: the ~22 kHz mono mix, and each measurement's
/// position in it. Spectral features, pitch (with sub-bass peaks) and loudness run on three
/// threads within each step.
struct Extractor {
    sample_rate: u32,
    mono: Decimator,
    /// The mono mix at ~22 kHz, and its rate.
    x: Signal,
    mix_rate: f32,
    spectral: Spectral,
    pitch: Pitch,
    loudness: Loudness,
    frames: u64,
}

impl Extractor {
    fn new(store: &PcmStore) -> Self {
        let sr = store.sample_rate() as f32;
        let factor = factor_for(sr, 22_050.0);
        let rate = sr / factor as f32;
        let mut s = Self {
            sample_rate: store.sample_rate(),
            mono: Decimator::new(factor),
            x: Signal::default(),
            mix_rate: rate,
            spectral: Spectral::new(rate),
            pitch: Pitch::new(rate),
            loudness: Loudness::new(rate, store.channels()),
            frames: 0,
        };
        // Room for every frame of the announced length, so that hours of frames grow
        // without doubling their memory on the way (room that cannot be had is not taken).
        if let Some(n) = store.frames_to_reserve() {
            let n = frame_count(n as f64 / store.sample_rate() as f64) + 1;
            s.spectral.f.reserve_spectral(n);
            let p = &mut s.pitch;
            let _ = (
                p.harm.try_reserve(n),
                p.f0.try_reserve(n),
                p.sub.try_reserve(n),
                p.partials.out.all.try_reserve(n),
                p.partials.out.held.try_reserve(n),
                s.loudness.out.try_reserve(n),
            );
        }
        s
    }

    /// Takes in the store's first `frames` frames (`done`: that is all of it).
    fn advance(&mut self, store: &PcmStore, frames: u64, done: bool) {
        self.frames = frames;
        self.mono.run(
            frames as usize,
            done,
            |s, b| store.read_mono(s, b),
            &mut self.x,
        );
        let n_frames = done.then(|| frame_count(frames as f64 / self.sample_rate as f64));
        let x = &self.x;
        let (spectral, pitch, loudness) = (&mut self.spectral, &mut self.pitch, &mut self.loudness);
        std::thread::scope(|s| {
            let p = s.spawn(|| pitch.run(x, n_frames));
            let l = s.spawn(|| loudness.run(x));
            spectral.run(x, n_frames);
            // A stage that panicked leaves its measurement empty; the others stand.
            let _ = (p.join(), l.join());
        });
        // Every stage has measured all it can: what it has read it needs no more.
        if !done {
            self.x.forget_all_but(keep(self.mix_rate));
        }
    }

    fn finish(self) -> Features {
        let duration_s = self.frames as f64 / self.sample_rate as f64;
        let n = frame_count(duration_s);
        let mut f = self.spectral.f;
        f.duration_s = duration_s;
        let (mut harm, mut f0, mut sub, mut loud) = (
            self.pitch.harm,
            self.pitch.f0,
            self.pitch.sub,
            self.loudness.out,
        );
        harm.resize(n, 0.0);
        f0.resize(n, None);
        sub.resize(n, None);
        loud.resize(n, None);
        f.harmonicity = harm;
        f.f0_hz = f0;
        f.sub_peak_hz = sub;
        f.loudness_lufs = loud;
        let mut p = self.pitch.partials.out;
        p.all.resize(n, 0.0);
        p.held.resize(n, 0.0);
        (f.partial_power, f.held_power, f.partials) = (p.all, p.held, p.partials);
        f
    }
}

/// EBU R128 short-term loudness every frame (evaluated every 100 ms, held in between),
/// measured on the analysis's mono mix. A source of several channels counts its mix as dual
/// mono, which is exact for material the channels share (centred voice, bass, drums) and at
/// most 3 dB low for fully decorrelated channels; the meter only has to follow a track's
/// loudness over time, and this keeps it a small part of the analysis.
///
/// The meter gives the K-weighted energy of each 100 ms block; the 3 s window is the mean of
/// the last 30 blocks (blocks before the start count as silence, as the meter's own window
/// does). Asking the meter for its 3 s loudness every 100 ms would re-sum 3 s of samples each
/// time, which cost as much as the whole spectral analysis.
/// 100 ms blocks in the 3 s short-term window.
const LOUDNESS_BLOCKS: usize = 30;

struct Loudness {
    meter: Option<ebur128::EbuR128>,
    block: usize,
    energies: [f64; LOUDNESS_BLOCKS],
    sum: f64,
    step: usize,
    out: Vec<Option<f32>>,
}

impl Loudness {
    fn new(rate: f32, channels: usize) -> Self {
        let mut meter = ebur128::EbuR128::new(1, rate.round() as u32, ebur128::Mode::M).ok();
        if channels > 1
            && let Some(m) = meter.as_mut()
        {
            let _ = m.set_channel(0, ebur128::Channel::DualMono);
        }
        Self {
            meter,
            block: ((rate.round() as usize + 5) / 10).max(1),
            energies: [0.0; LOUDNESS_BLOCKS],
            sum: 0.0,
            step: 0,
            out: Vec::new(),
        }
    }

    /// Measures every whole 100 ms block of `x` not yet measured.
    fn run(&mut self, x: &Signal) {
        let Some(meter) = self.meter.as_mut() else {
            return;
        };
        while (self.step + 1) * self.block <= x.len() {
            let Some(chunk) = x.slice((self.step * self.block) as isize, self.block) else {
                return;
            };
            if meter.add_frames_f32(chunk).is_err() {
                self.meter = None;
                return;
            }
            let e = match meter.loudness_window(100) {
                Ok(l) if l.is_finite() => 10f64.powf((l + 0.691) / 10.0),
                _ => 0.0,
            };
            let slot = &mut self.energies[self.step % LOUDNESS_BLOCKS];
            self.sum += e - *slot;
            *slot = e;
            if self.step % LOUDNESS_BLOCKS == LOUDNESS_BLOCKS - 1 {
                // Re-add from scratch once per window so rounding never accumulates.
                self.sum = self.energies.iter().sum();
            }
            let lufs = (self.sum > 0.0)
                .then(|| -0.691 + 10.0 * (self.sum / LOUDNESS_BLOCKS as f64).log10())
                .filter(|v| v.is_finite())
                .map(|v| v as f32);
            self.out.resize(self.step * 10, None);
            self.out.extend([lufs; 10]);
            self.step += 1;
        }
    }
}

/// The bins (contiguous, as bands are) that `band_of` puts in band `k`.
fn band_bins(
    band_of: impl Fn(f32) -> Option<usize>,
    bins: usize,
    k: usize,
) -> std::ops::Range<usize> {
    let lo = (0..bins)
        .position(|b| band_of(b as f32) == Some(k))
        .unwrap_or(bins);
    let hi = (lo..bins)
        .find(|&b| band_of(b as f32) != Some(k))
        .unwrap_or(bins);
    lo..hi
}

/// STFT-based features on the ~22 kHz mono signal.
struct Spectral {
    hann: Hann,
    norm: f32,
    bin_hz: f32,
    bands: [std::ops::Range<usize>; BANDS],
    timbre: [std::ops::Range<usize>; TIMBRE_BANDS],
    lo40: usize,
    lo200: usize,
    hi2k: usize,
    hf: std::ops::RangeInclusive<usize>,
    power: Vec<f32>,
    /// Each bin's frequency, Hz (0 for bin 0, which the centroid leaves out).
    freqs: Vec<f32>,
    ln_power: Vec<f32>,
    logmag: Vec<f32>,
    prev_logmag: Vec<f32>,
    rise: Vec<f32>,
    next: usize,
    f: Features,
}

impl Spectral {
    fn new(rate: f32) -> Self {
        let n = if rate > 16_000.0 { 1024 } else { 512 };
        let hann = Hann::new(n);
        let bins = n / 2 + 1;
        let bin_hz = rate / n as f32;
        let band_of = |b: f32| {
            let f = b * bin_hz;
            (f >= BAND_EDGES[0]).then(|| BAND_EDGES.iter().rposition(|&e| f >= e).unwrap_or(0))
        };
        // Timbre bands: log-spaced 60 Hz … 10 kHz.
        let (t_lo, t_hi) = (60.0f32, (rate * 0.48).min(10_000.0));
        let timbre_of = |b: f32| {
            let f = b * bin_hz;
            (f >= t_lo && f < t_hi).then(|| {
                (((f / t_lo).ln() / (t_hi / t_lo).ln()) * TIMBRE_BANDS as f32)
                    .floor()
                    .min(TIMBRE_BANDS as f32 - 1.0) as usize
            })
        };
        Self {
            norm: hann.power_norm(),
            bin_hz,
            bands: std::array::from_fn(|k| band_bins(band_of, bins, k)),
            timbre: std::array::from_fn(|k| band_bins(timbre_of, bins, k)),
            lo40: (40.0 / bin_hz).ceil() as usize, // flatness ignores rumble below 40 Hz
            lo200: (200.0 / bin_hz).ceil() as usize,
            hi2k: (2000.0 / bin_hz).floor() as usize,
            hf: (2000.0 / bin_hz) as usize..=((8000.0 / bin_hz) as usize).min(bins - 1),
            power: vec![0.0; bins],
            freqs: (0..bins).map(|b| b as f32 * bin_hz).collect(),
            ln_power: vec![0.0; bins],
            logmag: vec![0.0; bins],
            prev_logmag: vec![0.0; bins],
            rise: vec![0.0; bins],
            next: 0,
            f: Features::default(),
            hann,
        }
    }

    /// Measures the frames of `x` not yet measured whose window `x` holds (`n_frames`: the
    /// track is complete and has that many frames; they are all measured).
    fn run(&mut self, x: &Signal, n_frames: Option<usize>) {
        let n = self.hann.size();
        let rate = self.bin_hz * n as f32;
        while frame_ready(self.next, rate, (n / 2) as isize, x.len(), n_frames) {
            let (sum_sq, peak) = self.hann.frame(x, centre(self.next, rate));
            self.measure(sum_sq, peak);
            self.next += 1;
        }
    }

    fn measure(&mut self, sum_sq: f32, peak: f32) {
        let n = self.hann.size();
        let bins = self.power.len();
        let (f, bin_hz) = (&mut self.f, self.bin_hz);
        let rms = (sum_sq / n as f32).sqrt();
        f.rms_db.push(db(rms * rms));
        f.crest_db.push(if rms > 1e-6 {
            20.0 * (peak / rms).log10()
        } else {
            0.0
        });
        let power = &mut self.power;
        for (p, c) in power.iter_mut().zip(&self.hann.spec) {
            *p = c.norm_sqr() * self.norm;
        }
        let total = sum(&power[1..]);
        let weighted = dot(&power[1..], &self.freqs[1..]);
        let sum_db = |r: &std::ops::Range<usize>| db(sum(&power[r.clone()]));
        f.bands
            .push(std::array::from_fn(|k| sum_db(&self.bands[k])));
        f.timbre
            .push(std::array::from_fn(|k| sum_db(&self.timbre[k])));
        let active = total > 1e-10;
        f.centroid_hz
            .push(if active { weighted / total } else { 0.0 });
        // Flatness over the whole band and over 2–8 kHz share one logarithm per bin.
        let lo = self.lo40.min(*self.hf.start());
        for (l, p) in self.ln_power[lo..].iter_mut().zip(&power[lo..]) {
            *l = ln(p + 1e-12);
        }
        f.flatness.push(if active {
            flatness_of(&power[self.lo40..], &self.ln_power[self.lo40..])
        } else {
            1.0
        });
        f.high_flatness.push(flatness_of(
            &power[self.hf.clone()],
            &self.ln_power[self.hf.clone()],
        ));
        // Rolloff at 85 %.
        let mut acc = 0.0;
        let mut roll = 0.0;
        for (b, p) in power.iter().enumerate().skip(1) {
            acc += p;
            if acc >= 0.85 * total {
                roll = b as f32 * bin_hz;
                break;
            }
        }
        f.rolloff_hz.push(roll);
        // Flux on log-compressed magnitude.
        let (lo200, hi2k) = (self.lo200, self.hi2k);
        for ((l, prev), (p, d)) in self.logmag[1..]
            .iter_mut()
            .zip(&self.prev_logmag[1..])
            .zip(power[1..].iter().zip(&mut self.rise[1..]))
        {
            *l = ln(1.0 + 1000.0 * p.sqrt());
            *d = (*l - prev).max(0.0);
        }
        let fl = sum(&self.rise[1..]);
        let fl_lo = sum(&self.rise[1..lo200.clamp(1, bins)]);
        let fl_hi = sum(&self.rise[(hi2k + 1).min(bins)..]);
        std::mem::swap(&mut self.logmag, &mut self.prev_logmag);
        f.flux.push(fl / bins as f32);
        f.flux_low.push(fl_lo / lo200.max(1) as f32);
        f.flux_high.push(fl_hi / (bins - hi2k).max(1) as f32);
    }
}

/// Geometric over arithmetic mean of `p` (0 tonal … 1 noise), given `ln_p[i] = ln(p[i] + 1e-12)`.
fn flatness_of(p: &[f32], ln_p: &[f32]) -> f32 {
    if p.is_empty() {
        return 1.0;
    }
    let mean = sum(p) / p.len() as f32;
    if mean <= 1e-12 {
        return 1.0;
    }
    let geo = (sum(ln_p) / p.len() as f32).exp();
    (geo / mean).clamp(0.0, 1.0)
}

/// Pitch and sub-bass: the mix decimated again to ~11 kHz for YIN, and once more (÷4) for the
/// sub-bass peak.
struct Pitch {
    to_11k: Decimator,
    y: Signal,
    yin: Yin,
    to_sub: Decimator,
    z: Signal,
    subs: SubPeaks,
    harm: Vec<f32>,
    f0: Vec<Option<f32>>,
    sub: Vec<Option<f32>>,
    partials: Tracker,
}

impl Pitch {
    fn new(rate: f32) -> Self {
        let f2 = factor_for(rate, 11_025.0);
        let rate2 = rate / f2 as f32;
        Self {
            to_11k: Decimator::new(f2),
            y: Signal::default(),
            yin: Yin::new(rate2),
            to_sub: Decimator::new(4),
            z: Signal::default(),
            subs: SubPeaks::new(rate2 / 4.0),
            harm: Vec::new(),
            f0: Vec::new(),
            sub: Vec::new(),
            partials: Tracker::new(rate2),
        }
    }

    fn run(&mut self, x: &Signal, n_frames: Option<usize>) {
        let done = n_frames.is_some();
        self.to_11k
            .run(x.len(), done, |s, b| x.read(s, b), &mut self.y);
        self.yin
            .run(&self.y, n_frames, &mut self.harm, &mut self.f0);
        self.partials.run(&self.y, n_frames);
        let y = &self.y;
        self.to_sub
            .run(y.len(), done, |s, b| y.read(s, b), &mut self.z);
        self.subs.run(&self.z, n_frames, &mut self.sub);
        if !done {
            self.y.forget_all_but(keep(self.yin.rate));
            self.z.forget_all_but(keep(self.subs.rate));
        }
    }
}

/// Frequency of the strongest spectral peak between 25 and 120 Hz per frame, from a
/// 512-point FFT of the signal decimated to ~2.7 kHz (≈ 5 Hz bins, parabolic interpolation);
/// `None` where that region is silent or the peak sits on its edge.
struct SubPeaks {
    hann: Hann,
    norm: f32,
    rate: f32,
    lo: usize,
    hi: usize,
    power: Vec<f32>,
}

impl SubPeaks {
    fn new(rate: f32) -> Self {
        let n = 512;
        let hann = Hann::new(n);
        let bin_hz = rate / n as f32;
        let hi = ((120.0 / bin_hz).ceil() as usize).min(n / 2 - 1);
        Self {
            norm: hann.power_norm(),
            rate,
            lo: (25.0 / bin_hz).floor().max(1.0) as usize,
            hi,
            power: vec![0.0; hi + 2],
            hann,
        }
    }

    fn run(&mut self, z: &Signal, n_frames: Option<usize>, out: &mut Vec<Option<f32>>) {
        let n = self.hann.size();
        let bin_hz = self.rate / n as f32;
        let (lo, hi) = (self.lo, self.hi);
        while frame_ready(out.len(), self.rate, (n / 2) as isize, z.len(), n_frames) {
            self.hann.frame(z, centre(out.len(), self.rate));
            let power = &mut self.power;
            for b in lo - 1..=hi + 1 {
                power[b] = self.hann.spec[b].norm_sqr() * self.norm;
            }
            let best = (lo..=hi)
                .max_by(|&a, &b| power[a].total_cmp(&power[b]))
                .unwrap_or(lo);
            if power[best] < 1e-7 || best == lo || best == hi {
                out.push(None);
                continue;
            }
            let (a, b, c) = (
                power[best - 1].max(1e-12).ln(),
                power[best].max(1e-12).ln(),
                power[best + 1].max(1e-12).ln(),
            );
            out.push(Some((best as f32 + parabolic_offset(a, b, c)) * bin_hz));
        }
    }
}

/// YIN pitch track: per frame the harmonicity (1 − the cumulative-mean-normalised
/// difference at the chosen lag) and the f0 where the frame is voiced.
pub fn pitch_track(y: &[f32], rate: f32, n_frames: usize) -> (Vec<f32>, Vec<Option<f32>>) {
    let (mut harm, mut f0) = (Vec::with_capacity(n_frames), Vec::with_capacity(n_frames));
    let y = Signal::from_vec(y.to_vec());
    Yin::new(rate).run(&y, Some(n_frames), &mut harm, &mut f0);
    (harm, f0)
}

struct Yin {
    rate: f32,
    tau_min: usize,
    tau_max: usize,
    w: usize,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    a: Vec<f32>,
    b: Vec<f32>,
    fa: Vec<Complex<f32>>,
    fb: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    iscratch: Vec<Complex<f32>>,
    corr: Vec<f32>,
    seg: Vec<f32>,
    d: Vec<f32>,
}

impl Yin {
    fn new(rate: f32) -> Self {
        let tau_max = ((rate / F0_MIN).ceil() as usize).min(1024);
        let tau_min = ((rate / F0_MAX).floor() as usize).max(2);
        let w = tau_max.max(256); // integration window
        let n = (w + tau_max + 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd: Arc<dyn RealToComplex<f32>> = planner.plan_fft_forward(n);
        let inv: Arc<dyn ComplexToReal<f32>> = planner.plan_fft_inverse(n);
        Self {
            rate,
            tau_min,
            tau_max,
            w,
            a: fwd.make_input_vec(),
            b: fwd.make_input_vec(),
            fa: fwd.make_output_vec(),
            fb: fwd.make_output_vec(),
            scratch: fwd.make_scratch_vec(),
            iscratch: inv.make_scratch_vec(),
            corr: inv.make_output_vec(),
            seg: vec![0.0; w + tau_max + 1],
            d: vec![0.0; tau_max + 1],
            fwd,
            inv,
        }
    }

    /// Appends the frames after `harm.len()` whose window `y` holds (`n_frames`: `y` is
    /// complete; up to that many frames).
    fn run(
        &mut self,
        y: &Signal,
        n_frames: Option<usize>,
        harm: &mut Vec<f32>,
        f0: &mut Vec<Option<f32>>,
    ) {
        let half = (self.w / 2) as isize;
        let reach = self.seg.len() as isize - half;
        while frame_ready(harm.len(), self.rate, reach, y.len(), n_frames) {
            let (h, p) = self.frame(y, centre(harm.len(), self.rate) - half);
            harm.push(h);
            f0.push(p);
        }
    }

    /// Harmonicity and f0 of the frame starting at `start`.
    fn frame(&mut self, y: &Signal, start: isize) -> (f32, Option<f32>) {
        let (w, tau_min, tau_max) = (self.w, self.tau_min, self.tau_max);
        let n = self.a.len();
        let seg = &mut self.seg;
        y.read(start as i64, seg);
        let energy = dot(&seg[..w], &seg[..w]);
        if energy / (w as f32) < 1e-7 {
            return (0.0, None);
        }
        self.a.fill(0.0);
        self.a[..w].copy_from_slice(&seg[..w]);
        self.b.fill(0.0);
        self.b[..w + tau_max].copy_from_slice(&seg[..w + tau_max]);
        let ok = self
            .fwd
            .process_with_scratch(&mut self.a, &mut self.fa, &mut self.scratch)
            .is_ok()
            && self
                .fwd
                .process_with_scratch(&mut self.b, &mut self.fb, &mut self.scratch)
                .is_ok();
        if !ok {
            return (0.0, None);
        }
        // Cross-correlation r(τ) = Σ a[j] b[j+τ]  ⇔  conj(A)·B.
        for (x, y) in self.fa.iter_mut().zip(self.fb.iter()) {
            *x = x.conj() * y;
        }
        self.fa[0].im = 0.0;
        if let Some(last) = self.fa.last_mut() {
            last.im = 0.0;
        }
        if self
            .inv
            .process_with_scratch(&mut self.fa, &mut self.corr, &mut self.iscratch)
            .is_err()
        {
            return (0.0, None);
        }
        let scale = 1.0 / n as f32;
        let d = &mut self.d;
        // e(τ) = Σ_{j<w} seg[j+τ]², running.
        let mut e_tau = energy;
        d[0] = 0.0;
        for tau in 1..=tau_max {
            e_tau += seg[w + tau - 1] * seg[w + tau - 1] - seg[tau - 1] * seg[tau - 1];
            d[tau] = (energy + e_tau - 2.0 * self.corr[tau] * scale).max(0.0);
        }
        // Cumulative mean normalised difference.
        let mut running = 0.0f32;
        for tau in 1..=tau_max {
            running += d[tau];
            d[tau] = if running > 0.0 {
                d[tau] * tau as f32 / running
            } else {
                1.0
            };
        }
        let mut best_tau = 0usize;
        let mut best_val = f32::MAX;
        let mut chosen = None;
        for tau in tau_min..tau_max {
            if d[tau] < best_val {
                best_val = d[tau];
                best_tau = tau;
            }
            if chosen.is_none() && d[tau] < 0.2 {
                // descend to the local minimum
                let mut t = tau;
                while t + 1 < tau_max && d[t + 1] < d[t] {
                    t += 1;
                }
                chosen = Some(t);
            }
        }
        let tau = chosen.unwrap_or(best_tau);
        let h = (1.0 - d[tau]).clamp(0.0, 1.0);
        if chosen.is_some() && tau > tau_min && tau < tau_max {
            let off = parabolic_offset(d[tau - 1], d[tau], d[tau + 1]);
            (h, Some(self.rate / (tau as f32 + off)))
        } else {
            (h, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_of(rate: u32, x: &[f32]) -> PcmStore {
        PcmStore::from_interleaved(rate, 1, x)
    }

    #[test]
    fn fast_ln_agrees_with_the_library_logarithm() {
        // Every decade the spectra reach (1e-12 floor … loud bins), the powers of two and
        // the values either side of √½ and √2, where the mantissa split changes.
        let mut xs: Vec<f32> = (-120..=60).map(|k| 10f32.powf(k as f32 / 10.0)).collect();
        for e in -40..=20 {
            let p = 2f32.powi(e);
            for m in [
                1.0f32,
                std::f32::consts::FRAC_1_SQRT_2,
                std::f32::consts::SQRT_2,
            ] {
                xs.extend([
                    p * m,
                    f32::from_bits((p * m).to_bits() - 1),
                    f32::from_bits((p * m).to_bits() + 1),
                ]);
            }
        }
        xs.extend([1.0 + 1e-7, 1.0 + 1000.0 * 0.5f32.sqrt(), 3.0e-9, 7.77e5]);
        for x in xs {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 4.0 * f32::EPSILON * std.abs().max(1.0),
                "ln({x:e}) = {ours} vs {std}"
            );
        }
    }

    #[test]
    fn lane_sum_adds_every_value() {
        for len in [0usize, 1, 7, 8, 9, 16, 513] {
            let v: Vec<f32> = (0..len).map(|i| 0.25 * (i % 13) as f32 + 1.0).collect();
            let exact: f64 = v.iter().map(|x| *x as f64).sum();
            assert!(
                (sum(&v) as f64 - exact).abs() < 1e-4 * exact.max(1.0),
                "len {len}"
            );
        }
    }

    #[test]
    fn sine_pitch_level_and_centroid() {
        let rate = 44_100;
        let x: Vec<f32> = (0..rate * 4)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
            .collect();
        let f = compute(&store_of(rate, &x));
        assert_eq!(f.len(), 400);
        let mid = 100;
        let f0 = f.f0_hz[mid].expect("a sine is voiced");
        assert!((1200.0 * (f0 / 440.0).log2()).abs() < 5.0, "f0 {f0}");
        assert!(f.harmonicity[mid] > 0.9);
        // 0.5 amplitude sine: RMS −9.03 dBFS.
        assert!((f.rms_db[mid] + 9.03).abs() < 0.2, "rms {}", f.rms_db[mid]);
        assert!(
            (f.centroid_hz[mid] - 440.0).abs() < 40.0,
            "centroid {}",
            f.centroid_hz[mid]
        );
        assert!(f.flatness[mid] < 0.05);
        // Crest factor of a sine: √2 → 3 dB.
        assert!(
            (f.crest_db[mid] - 3.01).abs() < 0.3,
            "crest {}",
            f.crest_db[mid]
        );
        // Loudness of a 0.5-amplitude 440 Hz mono sine: −9.03 dB RMS, K-weighting ≈ 0, −0.691 offset,
        // so ≈ −9.7 LUFS once the 3 s window is full.
        let l = f.loudness_lufs[350].expect("loudness after 3.5 s");
        assert!((l + 9.7).abs() < 1.0, "loudness {l}");
    }

    #[test]
    fn short_term_loudness_matches_the_meters_own_3_s_window() {
        // Noise whose level steps every 0.7 s, with a silent gap: at every 100 ms the 3 s
        // loudness built from 100 ms blocks must equal what ebur128 reports for its 3 s window.
        let rate = 22_050.0f32;
        let mut seed = 7u64;
        let x: Vec<f32> = (0..(rate * 9.0) as usize)
            .map(|i| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let t = i as f32 / rate;
                let gain = if (4.0..5.0).contains(&t) {
                    0.0
                } else {
                    0.05 + 0.1 * ((t / 0.7) as i32 % 4) as f32
                };
                gain * ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            })
            .collect();
        let mut loudness = Loudness::new(rate, 1);
        loudness.run(&Signal::from_vec(x.clone()));
        let ours = loudness.out;
        let mut meter = ebur128::EbuR128::new(1, 22_050, ebur128::Mode::S).expect("meter");
        let mut compared = 0;
        for (step, chunk) in x.chunks(2205).enumerate() {
            meter.add_frames_f32(chunk).expect("frames");
            let theirs = meter.loudness_shortterm().expect("short-term") as f32;
            let o = ours[step * 10].expect("loudness of a noisy window");
            assert!((o - theirs).abs() < 0.01, "block {step}: {o} vs {theirs}");
            compared += 1;
        }
        assert_eq!(compared, 90);
    }

    #[test]
    fn stereo_loudness_sums_the_channels_as_r128_does() {
        // The same 0.5-amplitude 440 Hz sine in both channels: R128 adds the channels' powers,
        // so it reads 3 dB above the mono sine's ≈ −9.7 LUFS.
        let rate = 44_100;
        let x: Vec<f32> = (0..rate * 4)
            .flat_map(|i| {
                let v = 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin();
                [v, v]
            })
            .collect();
        let f = compute(&PcmStore::from_interleaved(rate, 2, &x));
        let l = f.loudness_lufs[350].expect("loudness after 3.5 s");
        assert!((l + 6.7).abs() < 1.0, "loudness {l}");
    }

    #[test]
    fn decimation_keeps_the_passband_and_removes_what_would_alias() {
        // 44.1 kHz → 22.05 kHz: a 440 Hz tone keeps its amplitude; a 15 kHz tone, above the
        // new Nyquist (11.025 kHz), must not fold back as a 7.05 kHz alias.
        let rate = 44_100.0f32;
        let tone = |hz: f32| -> Vec<f32> {
            (0..44_100)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate).sin())
                .collect()
        };
        let rms =
            |v: &[f32]| (v[2000..20_000].iter().map(|x| x * x).sum::<f32>() / 18_000.0).sqrt();
        let low = decimate(&tone(440.0), 2);
        assert_eq!(low.len(), 22_050);
        assert!(
            (rms(&low) - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01,
            "440 Hz rms {}",
            rms(&low)
        );
        let high = decimate(&tone(15_000.0), 2);
        let atten_db = 20.0 * (rms(&high) / std::f32::consts::FRAC_1_SQRT_2).log10();
        assert!(atten_db < -40.0, "15 kHz only {atten_db:.1} dB down");
    }

    /// Ten seconds of stereo: a gliding tone, a 55 Hz bass and noise bursts.
    fn varied_stereo(rate: u32) -> Vec<f32> {
        let mut seed = 3u64;
        (0..rate as usize * 10)
            .flat_map(|i| {
                let t = i as f32 / rate as f32;
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise =
                    ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * (-(t % 0.5) / 0.04).exp();
                let glide = (2.0 * std::f32::consts::PI * (300.0 * t + 20.0 * t * t)).sin();
                let bass = (2.0 * std::f32::consts::PI * 55.0 * t).sin();
                [0.3 * glide + 0.3 * noise, 0.3 * bass + 0.3 * noise]
            })
            .collect()
    }

    #[test]
    fn features_measured_while_decoding_equal_those_of_the_finished_store() {
        // The analysis follows the decoder; however the audio arrives, every measurement must
        // be exactly what the complete store gives (the app and `sori analyze` rely on it).
        let rate = 44_100;
        let x = varied_stereo(rate);
        let whole = compute(&PcmStore::from_interleaved(rate, 2, &x));
        assert_eq!(whole.len(), 1000);
        let store = PcmStore::new(rate, 2);
        let over = AtomicBool::new(false);
        let followed = std::thread::scope(|s| {
            let follower = s.spawn(|| compute_following(&store, &over));
            let mut w = crate::audio::StoreWriter::new(&store);
            // Uneven pieces, from a few samples to several chunks.
            let mut pos = 0;
            for (k, piece) in [7usize, 100_003, 2 * 1_048_576 + 5, 1, 65_536, 999_999]
                .iter()
                .cycle()
                .enumerate()
            {
                if pos >= x.len() {
                    break;
                }
                let end = (pos + piece * 2).min(x.len());
                w.write(&store, &x[pos..end]);
                pos = end;
                if k % 2 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            w.finish(&store);
            follower.join().expect("follower")
        });
        assert!(
            followed == whole,
            "features differ when measured while decoding"
        );
    }

    #[test]
    fn measuring_in_steps_forgets_the_mix_it_has_read_and_measures_the_same() {
        // A long recording is measured a few seconds at a time, forgetting the mix behind
        // it; every measurement must equal one pass over the whole mix held at once.
        let rate = 44_100;
        let x = varied_stereo(rate).repeat(3);
        let store = PcmStore::from_interleaved(rate, 2, &x);
        let mut once = Extractor::new(&store);
        once.advance(&store, store.frames(), true);
        assert_eq!(once.x.forgotten(), 0, "a single pass holds the whole mix");
        let mut stepped = Extractor::new(&store);
        let mut held = 0;
        let mut at = STEP / 3;
        while at < store.frames() {
            stepped.advance(&store, at, false);
            held = held.max(stepped.x.held());
            at += STEP / 3;
        }
        stepped.advance(&store, store.frames(), true);
        assert!(stepped.x.forgotten() > 0, "the stepped pass forgot nothing");
        let mix = once.x.len();
        assert_eq!(stepped.x.len(), mix);
        assert!(held * 3 < mix, "held {held} samples of a {mix}-sample mix");
        assert!(
            stepped.finish() == once.finish(),
            "features differ when the mix is forgotten behind the analysis"
        );
    }

    #[test]
    fn a_decoder_that_stops_early_leaves_the_features_of_what_it_decoded() {
        let rate = 44_100;
        let x = varied_stereo(rate);
        let store = PcmStore::new(rate, 2);
        let mut w = crate::audio::StoreWriter::new(&store);
        // Four seconds published, then the decoder gives up without completing the store.
        w.write(&store, &x[..rate as usize * 2 * 4]);
        let over = AtomicBool::new(true);
        let f = compute_following(&store, &over);
        let decoded = store.frames() as f64 / rate as f64;
        assert_eq!(f.len(), frame_count(decoded));
        assert!(f.len() > 0 && (f.duration_s - decoded).abs() < 1e-9);
        assert!(
            f.rms_db.iter().take(f.len() - 10).all(|v| *v > -30.0),
            "the decoded audio is measured"
        );
    }

    #[test]
    fn noise_is_flat_and_unvoiced() {
        let rate = 22_050;
        let mut s = 1u32;
        let x: Vec<f32> = (0..rate)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let f = compute(&store_of(rate, &x));
        let mid = 50;
        assert!(f.flatness[mid] > 0.4, "flatness {}", f.flatness[mid]);
        assert!(f.f0_hz[mid].is_none());
        assert!(f.centroid_hz[mid] > 3000.0);
    }

    #[test]
    fn low_and_high_pitches_track_across_the_range() {
        for hz in [60.0f32, 110.0, 880.0, 1500.0] {
            let rate = 48_000;
            let x: Vec<f32> = (0..rate)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    0.3 * (2.0 * std::f32::consts::PI * hz * t).sin()
                        + 0.15 * (4.0 * std::f32::consts::PI * hz * t).sin()
                })
                .collect();
            let f = compute(&store_of(rate, &x));
            let f0 = f.f0_hz[50].expect("voiced");
            assert!((1200.0 * (f0 / hz).log2()).abs() < 15.0, "{hz}: {f0}");
        }
    }
}
