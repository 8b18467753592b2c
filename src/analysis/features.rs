//! Frame-level measurements every 10 ms: level, loudness, spectral shape, band energies,
//! pitch (YIN) with harmonicity, and the onset detection functions.
//!
//! Everything is computed on a mono mix resampled (integer decimation) to about 22 kHz for
//! the spectrum and about 11 kHz for pitch, which keeps a whole track well under its
//! decoding time while covering every cue the fusion lens uses (nothing it needs lies above
//! 11 kHz).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::audio::PcmStore;

/// Hop between feature frames, seconds.
pub const HOP_S: f64 = 0.01;

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
#[derive(Debug, Clone, Default)]
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
}

/// Mono mix of the whole store, decimated by an integer factor to at most about `target` Hz.
/// Returns the samples and their rate. The store is read in chunks, so no full-rate copy of
/// the track is ever held (an hour of 44.1 kHz audio would be 635 MB).
pub fn mono_decimated(store: &PcmStore, target: f32) -> (Vec<f32>, f32) {
    let sr = store.sample_rate() as f32;
    let factor = ((sr / target).round() as usize).max(1);
    let frames = store.frames() as usize;
    if factor == 1 {
        let mut mono = vec![0.0f32; frames];
        store.read_mono(0, &mut mono);
        return (mono, sr);
    }
    let h = lowpass(factor);
    let (taps, half) = (h.len(), h.len() / 2);
    let n_out = frames.div_ceil(factor);
    let mut out = Vec::with_capacity(n_out);
    const CHUNK: usize = 1 << 16; // outputs per read
    let mut buf = vec![0.0f32; (CHUNK - 1) * factor + taps];
    let mut o0 = 0;
    while o0 < n_out {
        let o1 = (o0 + CHUNK).min(n_out);
        let len = (o1 - o0 - 1) * factor + taps;
        // Frames outside the track read as silence, as `decimate` pads.
        store.read_mono((o0 * factor) as i64 - half as i64, &mut buf[..len]);
        for o in 0..o1 - o0 {
            out.push(dot(&h, &buf[o * factor..o * factor + taps]));
        }
        o0 = o1;
    }
    (out, sr / factor as f32)
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

/// Low-pass (see [`lowpass`]) and keep every `factor`-th sample.
pub fn decimate(x: &[f32], factor: usize) -> Vec<f32> {
    if factor <= 1 {
        return x.to_vec();
    }
    let h = lowpass(factor);
    let taps = h.len();
    let half = (taps / 2) as isize;
    let n_out = x.len().div_ceil(factor);
    let mut out = Vec::with_capacity(n_out);
    for o in 0..n_out {
        let c = (o * factor) as isize;
        let acc = if c - half >= 0 && c + half < x.len() as isize {
            let base = (c - half) as usize;
            dot(&h, &x[base..base + taps])
        } else {
            let mut acc = 0.0f32;
            for (k, hk) in h.iter().enumerate() {
                let j = c - half + k as isize;
                if j >= 0 && (j as usize) < x.len() {
                    acc += hk * x[j as usize];
                }
            }
            acc
        };
        out.push(acc);
    }
    out
}

/// Dot product in eight lanes (the shape the compiler turns into SIMD).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

fn db(p: f32) -> f32 {
    10.0 * p.max(1e-12).log10()
}

/// Computes every feature of a completely decoded store. Spectral features and pitch run
/// on two threads.
pub fn compute(store: &PcmStore) -> Features {
    let (x, rate) = mono_decimated(store, 22_050.0);
    let duration_s = store.duration_s();
    let n_frames = ((duration_s / HOP_S).ceil() as usize).max(1);
    let (mut f, (harm, f0, sub), loud) = std::thread::scope(|s| {
        let pitch = s.spawn(|| {
            let f2 = ((rate / 11_025.0).round() as usize).max(1);
            let y = decimate(&x, f2);
            let (h, p) = pitch_track(&y, rate / f2 as f32, n_frames);
            let z = decimate(&y, 4);
            (h, p, sub_peaks(&z, rate / f2 as f32 / 4.0, n_frames))
        });
        let loud = s.spawn(|| short_term_loudness(&x, rate, store.channels(), n_frames));
        let f = spectral(&x, rate, n_frames, duration_s);
        let p = pitch.join().unwrap_or_else(|_| {
            (
                vec![0.0; n_frames],
                vec![None; n_frames],
                vec![None; n_frames],
            )
        });
        let l = loud.join().unwrap_or_else(|_| vec![None; n_frames]);
        (f, p, l)
    });
    f.harmonicity = harm;
    f.f0_hz = f0;
    f.sub_peak_hz = sub;
    f.loudness_lufs = loud;
    f
}

/// EBU R128 short-term loudness every frame (evaluated every 100 ms, held in between),
/// measured on the analysis's mono mix. A source of several channels counts its mix as dual
/// mono, which is exact for material the channels share (centred voice, bass, drums) and at
/// most 3 dB low for fully decorrelated channels; the meter only has to follow a track's
/// loudness over time, and this keeps it a small part of the analysis.
fn short_term_loudness(x: &[f32], rate: f32, channels: usize, n_frames: usize) -> Vec<Option<f32>> {
    let mut out = vec![None; n_frames];
    let Ok(mut meter) = ebur128::EbuR128::new(1, rate.round() as u32, ebur128::Mode::S) else {
        return out;
    };
    if channels > 1 {
        let _ = meter.set_channel(0, ebur128::Channel::DualMono);
    }
    let block = ((rate as f64 * 0.1).round() as usize).max(1);
    for (step, chunk) in x.chunks(block).enumerate() {
        let _ = meter.add_frames_f32(chunk);
        let lufs = meter
            .loudness_shortterm()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| v as f32);
        for slot in out.iter_mut().skip(step * 10).take(10) {
            *slot = lufs;
        }
    }
    out
}

/// A forward real FFT of size `n` with its buffers and a Hann window.
struct Hann {
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    window: Vec<f32>,
}

impl Hann {
    fn new(n: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        Self {
            input: fft.make_input_vec(),
            spec: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            window: (0..n)
                .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
                .collect(),
            fft,
        }
    }
}

/// STFT-based features on the ~22 kHz mono signal.
fn spectral(x: &[f32], rate: f32, n_frames: usize, duration_s: f64) -> Features {
    let n = if rate > 16_000.0 { 1024 } else { 512 };
    let Hann {
        fft,
        mut input,
        mut spec,
        mut scratch,
        window,
    } = Hann::new(n);
    let wsum: f32 = window.iter().sum();
    let norm = (2.0 / wsum).powi(2); // full-scale sine → power 1 in its bin
    let bins = n / 2 + 1;
    let bin_hz = rate / n as f32;
    let band_of: Vec<Option<usize>> = (0..bins)
        .map(|b| {
            let f = b as f32 * bin_hz;
            if f < BAND_EDGES[0] {
                None
            } else {
                Some(BAND_EDGES.iter().rposition(|&e| f >= e).unwrap_or(0))
            }
        })
        .collect();
    // Timbre bands: log-spaced 60 Hz … 10 kHz.
    let (t_lo, t_hi) = (60.0f32, (rate * 0.48).min(10_000.0));
    let timbre_of: Vec<Option<usize>> = (0..bins)
        .map(|b| {
            let f = b as f32 * bin_hz;
            if f < t_lo || f >= t_hi {
                None
            } else {
                Some(
                    (((f / t_lo).ln() / (t_hi / t_lo).ln()) * TIMBRE_BANDS as f32)
                        .floor()
                        .min(TIMBRE_BANDS as f32 - 1.0) as usize,
                )
            }
        })
        .collect();
    let lo40 = (40.0 / bin_hz).ceil() as usize; // flatness ignores rumble below 40 Hz
    let lo200 = (200.0 / bin_hz).ceil() as usize;
    let hi2k = (2000.0 / bin_hz).floor() as usize;
    let (hf_lo, hf_hi) = (
        (2000.0 / bin_hz) as usize,
        ((8000.0 / bin_hz) as usize).min(bins - 1),
    );

    let mut f = Features {
        duration_s,
        rms_db: Vec::with_capacity(n_frames),
        crest_db: Vec::with_capacity(n_frames),
        centroid_hz: Vec::with_capacity(n_frames),
        flatness: Vec::with_capacity(n_frames),
        high_flatness: Vec::with_capacity(n_frames),
        rolloff_hz: Vec::with_capacity(n_frames),
        flux: Vec::with_capacity(n_frames),
        flux_low: Vec::with_capacity(n_frames),
        flux_high: Vec::with_capacity(n_frames),
        bands: Vec::with_capacity(n_frames),
        timbre: Vec::with_capacity(n_frames),
        ..Default::default()
    };
    let mut power = vec![0.0f32; bins];
    let mut logmag = vec![0.0f32; bins];
    let mut prev_logmag = vec![0.0f32; bins];
    let half = n as isize / 2;
    for i in 0..n_frames {
        let c = (i as f64 * HOP_S * rate as f64).round() as isize;
        let mut sum_sq = 0.0f32;
        let mut peak = 0.0f32;
        for (k, v) in input.iter_mut().enumerate() {
            let j = c - half + k as isize;
            let s = if j >= 0 && (j as usize) < x.len() {
                x[j as usize]
            } else {
                0.0
            };
            sum_sq += s * s;
            peak = peak.max(s.abs());
            *v = s * window[k];
        }
        let rms = (sum_sq / n as f32).sqrt();
        f.rms_db.push(db(rms * rms));
        f.crest_db.push(if rms > 1e-6 {
            20.0 * (peak / rms).log10()
        } else {
            0.0
        });
        if fft
            .process_with_scratch(&mut input, &mut spec, &mut scratch)
            .is_err()
        {
            spec.iter_mut().for_each(|c| *c = Complex::new(0.0, 0.0));
        }
        let mut total = 0.0f32;
        let mut weighted = 0.0f32;
        let mut band_p = [0.0f32; BANDS];
        let mut timbre_p = [0.0f32; TIMBRE_BANDS];
        for b in 0..bins {
            let p = spec[b].norm_sqr() * norm;
            power[b] = p;
            if b == 0 {
                continue;
            }
            total += p;
            weighted += p * b as f32 * bin_hz;
            if let Some(k) = band_of[b] {
                band_p[k] += p;
            }
            if let Some(k) = timbre_of[b] {
                timbre_p[k] += p;
            }
        }
        let active = total > 1e-10;
        f.centroid_hz
            .push(if active { weighted / total } else { 0.0 });
        f.flatness.push(if active {
            flatness_of(&power[lo40..])
        } else {
            1.0
        });
        f.high_flatness.push(flatness_of(&power[hf_lo..=hf_hi]));
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
        let mut bands = [0.0f32; BANDS];
        for k in 0..BANDS {
            bands[k] = db(band_p[k]);
        }
        f.bands.push(bands);
        let mut tb = [0.0f32; TIMBRE_BANDS];
        for k in 0..TIMBRE_BANDS {
            tb[k] = db(timbre_p[k]);
        }
        f.timbre.push(tb);
        // Flux on log-compressed magnitude.
        let (mut fl, mut fl_lo, mut fl_hi) = (0.0f32, 0.0f32, 0.0f32);
        for b in 1..bins {
            logmag[b] = (1.0 + 1000.0 * power[b].sqrt()).ln();
            let d = (logmag[b] - prev_logmag[b]).max(0.0);
            fl += d;
            if b < lo200 {
                fl_lo += d;
            }
            if b > hi2k {
                fl_hi += d;
            }
        }
        std::mem::swap(&mut logmag, &mut prev_logmag);
        f.flux.push(fl / bins as f32);
        f.flux_low.push(fl_lo / lo200.max(1) as f32);
        f.flux_high.push(fl_hi / (bins - hi2k).max(1) as f32);
    }
    f
}

/// Frequency of the strongest spectral peak between 25 and 120 Hz per frame, from a
/// 512-point FFT of the signal decimated to ~2.7 kHz (≈ 5 Hz bins, parabolic interpolation);
/// `None` where that region is silent or the peak sits on its edge.
fn sub_peaks(z: &[f32], rate: f32, n_frames: usize) -> Vec<Option<f32>> {
    let n = 512;
    let Hann {
        fft,
        mut input,
        mut spec,
        mut scratch,
        window,
    } = Hann::new(n);
    let norm = (2.0 / window.iter().sum::<f32>()).powi(2);
    let bin_hz = rate / n as f32;
    let (lo, hi) = (
        (25.0 / bin_hz).floor().max(1.0) as usize,
        ((120.0 / bin_hz).ceil() as usize).min(n / 2 - 1),
    );
    let half = n as isize / 2;
    let mut out = Vec::with_capacity(n_frames);
    let mut power = vec![0.0f32; hi + 2];
    for i in 0..n_frames {
        let c = (i as f64 * HOP_S * rate as f64).round() as isize;
        for (k, v) in input.iter_mut().enumerate() {
            let j = c - half + k as isize;
            *v = if j >= 0 && (j as usize) < z.len() {
                z[j as usize] * window[k]
            } else {
                0.0
            };
        }
        if fft
            .process_with_scratch(&mut input, &mut spec, &mut scratch)
            .is_err()
        {
            out.push(None);
            continue;
        }
        for b in lo - 1..=hi + 1 {
            power[b] = spec[b].norm_sqr() * norm;
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
        let den = a - 2.0 * b + c;
        let off = if den.abs() > 1e-9 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        out.push(Some((best as f32 + off) * bin_hz));
    }
    out
}

fn flatness_of(p: &[f32]) -> f32 {
    if p.is_empty() {
        return 1.0;
    }
    let mean = p.iter().sum::<f32>() / p.len() as f32;
    if mean <= 1e-12 {
        return 1.0;
    }
    let geo = (p.iter().map(|v| (v + 1e-12).ln()).sum::<f32>() / p.len() as f32).exp();
    (geo / mean).clamp(0.0, 1.0)
}

/// YIN pitch track: per frame the harmonicity (1 − the cumulative-mean-normalised
/// difference at the chosen lag) and the f0 where the frame is voiced.
pub fn pitch_track(y: &[f32], rate: f32, n_frames: usize) -> (Vec<f32>, Vec<Option<f32>>) {
    let tau_max = ((rate / F0_MIN).ceil() as usize).min(1024);
    let tau_min = ((rate / F0_MAX).floor() as usize).max(2);
    let w = tau_max.max(256); // integration window
    let n = (w + tau_max + 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd: Arc<dyn RealToComplex<f32>> = planner.plan_fft_forward(n);
    let inv: Arc<dyn ComplexToReal<f32>> = planner.plan_fft_inverse(n);
    let mut a = fwd.make_input_vec();
    let mut b = fwd.make_input_vec();
    let mut fa = fwd.make_output_vec();
    let mut fb = fwd.make_output_vec();
    let mut scratch = fwd.make_scratch_vec();
    let mut iscratch = inv.make_scratch_vec();
    let mut corr = inv.make_output_vec();
    let mut seg = vec![0.0f32; w + tau_max + 1];
    let mut d = vec![0.0f32; tau_max + 1];
    let mut harm = Vec::with_capacity(n_frames);
    let mut f0 = Vec::with_capacity(n_frames);
    let half = (w / 2) as isize;
    for i in 0..n_frames {
        let c = (i as f64 * HOP_S * rate as f64).round() as isize;
        let start = c - half;
        let mut energy = 0.0f32;
        for (k, v) in seg.iter_mut().enumerate() {
            let j = start + k as isize;
            *v = if j >= 0 && (j as usize) < y.len() {
                y[j as usize]
            } else {
                0.0
            };
        }
        for v in &seg[..w] {
            energy += v * v;
        }
        if energy / (w as f32) < 1e-7 {
            harm.push(0.0);
            f0.push(None);
            continue;
        }
        a.fill(0.0);
        a[..w].copy_from_slice(&seg[..w]);
        b.fill(0.0);
        b[..w + tau_max].copy_from_slice(&seg[..w + tau_max]);
        let ok = fwd
            .process_with_scratch(&mut a, &mut fa, &mut scratch)
            .is_ok()
            && fwd
                .process_with_scratch(&mut b, &mut fb, &mut scratch)
                .is_ok();
        if !ok {
            harm.push(0.0);
            f0.push(None);
            continue;
        }
        // Cross-correlation r(τ) = Σ a[j] b[j+τ]  ⇔  conj(A)·B.
        for (x, y) in fa.iter_mut().zip(fb.iter()) {
            *x = x.conj() * y;
        }
        fa[0].im = 0.0;
        if let Some(last) = fa.last_mut() {
            last.im = 0.0;
        }
        if inv
            .process_with_scratch(&mut fa, &mut corr, &mut iscratch)
            .is_err()
        {
            harm.push(0.0);
            f0.push(None);
            continue;
        }
        let scale = 1.0 / n as f32;
        // e(τ) = Σ_{j<w} seg[j+τ]², running.
        let mut e_tau = energy;
        d[0] = 0.0;
        for tau in 1..=tau_max {
            e_tau += seg[w + tau - 1] * seg[w + tau - 1] - seg[tau - 1] * seg[tau - 1];
            d[tau] = (energy + e_tau - 2.0 * corr[tau] * scale).max(0.0);
        }
        // Cumulative mean normalised difference.
        let mut running = 0.0f32;
        let mut best_tau = 0usize;
        let mut best_val = f32::MAX;
        let mut chosen = None;
        for tau in 1..=tau_max {
            running += d[tau];
            let v = if running > 0.0 {
                d[tau] * tau as f32 / running
            } else {
                1.0
            };
            d[tau] = v;
        }
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
        let val = d[tau];
        let h = (1.0 - val).clamp(0.0, 1.0);
        harm.push(h);
        if chosen.is_some() && tau > tau_min && tau + 1 <= tau_max {
            let (p, q, r) = (d[tau - 1], d[tau], d[tau + 1]);
            let den = p - 2.0 * q + r;
            let off = if den.abs() > 1e-9 {
                (0.5 * (p - r) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            f0.push(Some(rate / (tau as f32 + off)));
        } else {
            f0.push(None);
        }
    }
    (harm, f0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_of(rate: u32, x: &[f32]) -> PcmStore {
        PcmStore::from_interleaved(rate, 1, x)
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
    fn reading_the_store_in_chunks_decimates_exactly_like_the_whole_signal() {
        // Stereo, longer than one chunk, with a length that is not a multiple of the factor.
        let rate = 44_100;
        let frames = 150_001usize;
        let x: Vec<f32> = (0..frames)
            .flat_map(|i| {
                let t = i as f32 / rate as f32;
                let a = (2.0 * std::f32::consts::PI * 440.0 * t).sin();
                let b = (2.0 * std::f32::consts::PI * 3_000.0 * t).sin();
                [0.5 * a, 0.3 * b]
            })
            .collect();
        let store = PcmStore::from_interleaved(rate, 2, &x);
        let mono: Vec<f32> = x.chunks(2).map(|f| (f[0] + f[1]) / 2.0).collect();
        let whole = decimate(&mono, 2);
        let (chunked, r) = mono_decimated(&store, 22_050.0);
        assert_eq!(r, 22_050.0);
        assert_eq!(chunked.len(), whole.len());
        let worst = whole
            .iter()
            .zip(&chunked)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "largest difference {worst}");
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
