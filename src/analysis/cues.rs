//! Cues derived from the frame features: onsets, vibrato, post-onset bends, sub-bass
//! glides, tempo and grid rigidity, sidechain pumping, tuning offset.

use super::dsp::{self, Vibrato, autocorr, cents, parabolic_offset, vibrato_at};
use super::features::{Features, HOP_S};

/// A detected onset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Onset {
    pub frame: usize,
    /// Time, seconds (sub-frame interpolated).
    pub time_s: f64,
    /// Strength relative to the track's strong onsets (≈ 0 … 1, may exceed 1).
    pub strength: f32,
    /// Share of the onset's flux below 200 Hz and above 2 kHz (each 0 … 1 of the per-band maxima).
    pub low: f32,
    pub high: f32,
}

/// Onsets from the spectral flux: local maxima above a moving median plus a margin.
pub fn onsets(f: &Features) -> Vec<Onset> {
    let odf = &f.flux;
    let n = odf.len();
    if n < 3 {
        return Vec::new();
    }
    let scale = dsp::percentile(odf, 0.99).unwrap_or(0.0).max(1e-6);
    let low_scale = dsp::percentile(&f.flux_low, 0.99).unwrap_or(0.0).max(1e-6);
    let high_scale = dsp::percentile(&f.flux_high, 0.99).unwrap_or(0.0).max(1e-6);
    let floor = 0.08 * scale;
    let mut out: Vec<Onset> = Vec::new();
    for i in 1..n - 1 {
        let v = odf[i];
        if v < floor || f.rms_db[i] < -65.0 {
            continue;
        }
        let lo = i.saturating_sub(3);
        let hi = (i + 3).min(n - 1);
        if (lo..=hi).any(|j| odf[j] > v || (odf[j] == v && j < i)) {
            continue;
        }
        // Adaptive threshold: local mean over the preceding 0.3 s and following 0.05 s.
        let a = i.saturating_sub(30);
        let b = (i + 5).min(n - 1);
        let mean = odf[a..=b].iter().sum::<f32>() / (b - a + 1) as f32;
        if v < mean * 1.5 + 0.04 * scale {
            continue;
        }
        // A new onset must stand out from the decaying flux of the previous one (one drum
        // hit often makes two flux peaks as its pitch sweeps).
        if let Some(last) = out.last() {
            let gap = (i - last.frame) as f32;
            if gap < 4.0 || v < last.strength * scale * (-gap / 8.0).exp() {
                continue;
            }
        }
        let off = parabolic_offset(odf[i - 1], v, odf[i + 1]);
        out.push(Onset {
            frame: i,
            time_s: (i as f64 + off as f64) * HOP_S,
            strength: v / scale,
            low: (f.flux_low[i].max(f.flux_low[i.saturating_sub(1)]) / low_scale).min(1.5),
            high: (f.flux_high[i].max(f.flux_high[i.saturating_sub(1)]) / high_scale).min(1.5),
        });
    }
    out
}

/// A run of continuous pitch: consecutive voiced frames whose pitch moves less than 80
/// cents per frame.
pub fn pitch_runs(f: &Features, min_frames: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    let mut prev: Option<f32> = None;
    for i in 0..=f.len() {
        let c = f.f0_hz.get(i).copied().flatten().map(cents);
        let cont = match (c, prev) {
            (Some(c), Some(p)) => (c - p).abs() < 80.0,
            (Some(_), None) => false,
            _ => false,
        };
        match (c, start) {
            (Some(_), Some(_)) if cont => {}
            (_, Some(s)) => {
                if i - s >= min_frames {
                    runs.push((s, i));
                }
                start = c.map(|_| i);
            }
            (Some(_), None) => start = Some(i),
            (None, None) => {}
        }
        prev = c;
    }
    runs
}

/// Vibrato on 1 s windows (hop 0.5 s) of every pitch run: a linear trend is removed, the
/// rate is the autocorrelation peak between 2.5 and 9 Hz, the extent a least-squares
/// sinusoid fit at that rate. Windows with a weak or irregular swing are left out.
pub fn vibratos(f: &Features) -> Vec<Vibrato> {
    let win = 100usize;
    let mut out = Vec::new();
    for (s, e) in pitch_runs(f, 60) {
        let c: Vec<f32> = (s..e)
            .map(|i| f.f0_hz[i].map(cents).unwrap_or(0.0))
            .collect();
        let mut a = 0usize;
        loop {
            let b = (a + win).min(c.len());
            if b - a < 60 {
                break;
            }
            if let Some(v) = vibrato_in(&c[a..b]) {
                out.push(Vibrato {
                    start_s: (s + a) as f64 * HOP_S,
                    end_s: (s + b) as f64 * HOP_S,
                    ..v
                });
            }
            if b == c.len() {
                break;
            }
            a += win / 2;
        }
    }
    out
}

/// Vibrato of a cents curve sampled every `HOP_S`; `None` when there is none.
pub fn vibrato_in(c: &[f32]) -> Option<Vibrato> {
    vibrato_at(c, HOP_S)
}

/// A pitch bend after an onset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bend {
    pub onset_s: f64,
    /// Pitch change from just after the attack to later in the note, cents (negative: drop).
    pub cents: f32,
    /// Time after the onset at which the change is measured, ms.
    pub after_ms: f32,
}

/// For each onset followed by a continuous pitch: the change between the pitch just after
/// the attack (40–100 ms) and later in the note (150–350 ms). Returned for every such
/// onset, bent or not; callers decide what counts as a bend.
pub fn post_onset_pitch(f: &Features, onsets: &[Onset]) -> Vec<Bend> {
    let mut out = Vec::new();
    let runs = pitch_runs(f, 20);
    for o in onsets {
        let i0 = o.frame + 4;
        let Some(&(_, e)) = runs.iter().find(|(s, e)| *s <= i0 && *e > i0 + 6) else {
            continue;
        };
        let early: Vec<f32> = (i0..(o.frame + 10).min(e))
            .filter_map(|i| f.f0_hz[i].map(cents))
            .collect();
        let late_end = (o.frame + 35).min(e);
        if late_end < o.frame + 18 {
            continue;
        }
        let late_start = late_end.saturating_sub(8).max(o.frame + 15);
        let late: Vec<f32> = (late_start..late_end)
            .filter_map(|i| f.f0_hz[i].map(cents))
            .collect();
        let (Some(a), Some(b)) = (
            dsp::median(&mut early.clone()),
            dsp::median(&mut late.clone()),
        ) else {
            continue;
        };
        out.push(Bend {
            onset_s: o.time_s,
            cents: b - a,
            after_ms: ((late_start + late_end) / 2 - o.frame) as f32 * 10.0,
        });
    }
    out
}

/// A sub-bass glide: the 25–120 Hz peak moves at least a semitone in under 0.6 s while the
/// sub band stays loud.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glide {
    pub start_s: f64,
    pub end_s: f64,
    pub from_hz: f32,
    pub to_hz: f32,
}

pub fn sub_glides(f: &Features) -> Vec<Glide> {
    let mut out = Vec::new();
    let n = f.len();
    let loud = |i: usize| -> bool {
        let b = f.bands[i];
        let sub = b[0].max(b[1] - 3.0);
        sub > -45.0 && sub > f.rms_db[i] - 12.0
    };
    let mut i = 0;
    while i < n {
        let (Some(h0), true) = (f.sub_peak_hz[i], loud(i)) else {
            i += 1;
            continue;
        };
        // Follow a monotonic movement frame to frame.
        let mut j = i;
        let mut dir = 0.0f32;
        let mut last = h0;
        while j + 1 < n && j - i < 60 {
            let Some(h) = f.sub_peak_hz[j + 1] else { break };
            if !loud(j + 1) {
                break;
            }
            let d = 1200.0 * (h / last).log2();
            if d.abs() > 300.0 {
                break;
            }
            if d.abs() > 3.0 {
                let s = d.signum();
                if dir != 0.0 && s != dir {
                    break;
                }
                dir = s;
            }
            last = h;
            j += 1;
        }
        let moved = 1200.0 * (last / h0).log2();
        if moved.abs() >= 100.0 && j - i >= 5 {
            out.push(Glide {
                start_s: i as f64 * HOP_S,
                end_s: j as f64 * HOP_S,
                from_hz: h0,
                to_hz: last,
            });
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Tempo and how rigidly onsets sit on the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub bpm: f32,
    /// Grid step the onsets were fitted to, seconds (a quarter, eighth, sixteenth or triplet).
    pub step_s: f32,
    /// RMS deviation of inter-onset intervals from whole multiples of the step, ms.
    pub deviation_ms: f32,
    /// Whether a triplet (ternary) step fits better than a binary one.
    pub ternary: bool,
    /// Onsets used.
    pub count: usize,
}

/// Beat period from the autocorrelation of the onset strength (flux), 60–200 BPM, with a
/// mild preference for 80–160.
pub fn tempo_bpm(flux: &[f32]) -> Option<f32> {
    let n = flux.len();
    if n < 300 {
        return None;
    }
    let mean = flux.iter().sum::<f32>() / n as f32;
    let x: Vec<f32> = flux.iter().map(|v| v - mean).collect();
    let e: f32 = x.iter().map(|v| v * v).sum();
    if e <= 0.0 {
        return None;
    }
    let mut best = (0usize, f32::MIN);
    for lag in 30..=100 {
        if lag >= n {
            break;
        }
        let mut s = 0.0;
        for i in 0..n - lag {
            s += x[i] * x[i + lag];
        }
        let bpm = 6000.0 / lag as f32;
        let weight = (-0.5 * ((bpm / 120.0).log2() / 0.9).powi(2)).exp();
        let v = s / e * weight;
        if v > best.1 {
            best = (lag, v);
        }
    }
    (best.1 > 0.0).then(|| 6000.0 / best.0 as f32)
}

/// Fits the onsets (strength ≥ `min_strength`) to a step derived from `bpm` and measures
/// how far their intervals stray from whole multiples of it.
pub fn grid_fit(onsets: &[Onset], bpm: f32, min_strength: f32) -> Option<Grid> {
    let times: Vec<f64> = onsets
        .iter()
        .filter(|o| o.strength >= min_strength)
        .map(|o| o.time_s)
        .collect();
    if times.len() < 6 {
        return None;
    }
    let iois: Vec<f64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d < 2.0)
        .collect();
    if iois.len() < 5 {
        return None;
    }
    let beat = 60.0 / bpm as f64;
    let mut best: Option<Grid> = None;
    for (div, ternary) in [
        (1.0, false),
        (2.0, false),
        (4.0, false),
        (3.0, true),
        (6.0, true),
    ] {
        let mut step = beat / div;
        if step < 0.06 {
            continue;
        }
        // Refine the step by least squares, twice.
        for _ in 0..2 {
            let (mut num, mut den) = (0.0, 0.0);
            for d in &iois {
                let k = (d / step).round();
                if k >= 1.0 {
                    num += d * k;
                    den += k * k;
                }
            }
            if den > 0.0 {
                step = num / den;
            }
        }
        let mut sq = 0.0;
        let mut cnt = 0;
        for d in &iois {
            let k = (d / step).round().max(1.0);
            sq += (d - k * step).powi(2);
            cnt += 1;
        }
        let dev = (sq / cnt as f64).sqrt() * 1000.0;
        // A finer step always fits better; prefer the coarsest one that fits well.
        let g = Grid {
            bpm: (60.0 / (step * div)) as f32,
            step_s: step as f32,
            deviation_ms: dev as f32,
            ternary,
            count: times.len(),
        };
        best = match best {
            None => Some(g),
            Some(b) if g.deviation_ms < b.deviation_ms * 0.6 && g.deviation_ms > 0.0 => Some(g),
            Some(b) => Some(b),
        };
    }
    best
}

/// A programmed pulse among onsets: the grid lines of one period, within ±[`PULSE_TOL_S`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pulse {
    /// Share of the grid lines in the window that carry an onset, 0 … 1.
    pub cover: f32,
    /// Onsets per second that sit on those lines.
    pub rate: f32,
    /// The grid's period, seconds.
    pub period_s: f32,
}

/// How close to a grid line an onset must be to count as programmed (human players stray
/// 10–30 ms; sequenced hits sit within the onset detector's precision).
pub const PULSE_TOL_S: f64 = 0.003;

/// The most rigid pulse among `times` (seconds) in `[t_lo, t_hi)`: for periods of a
/// half, one and two beats (each searched ±2 % around `beat_s`, as tempo estimates are
/// rough) and every phase, the grid whose lines carry the most onsets within
/// ±[`PULSE_TOL_S`]. Other onsets (a melody, a human drummer, a bass line) do not disturb it,
/// which is what tells a drum machine under a band from the band alone. `None` with fewer
/// than eight onsets on the grid.
pub fn rigid_pulse(times: &[f64], beat_s: f64, t_lo: f64, t_hi: f64) -> Option<Pulse> {
    let ts: Vec<f64> = times
        .iter()
        .copied()
        .filter(|t| *t >= t_lo && *t < t_hi)
        .collect();
    if ts.len() < 8 || beat_s <= 0.0 {
        return None;
    }
    let span = t_hi - t_lo;
    let mut best: Option<(usize, Pulse)> = None;
    let mut phases = Vec::with_capacity(ts.len());
    for base in [beat_s / 2.0, beat_s, beat_s * 2.0] {
        if base < 0.15 || base > span / 3.0 {
            continue;
        }
        // Period steps small enough that the grid drifts under a tolerance across the window.
        let step = (PULSE_TOL_S * base / span).max(1e-5);
        let mut p = base * 0.98;
        while p <= base * 1.02 {
            phases.clear();
            phases.extend(ts.iter().map(|t| (t - t_lo).rem_euclid(p)));
            phases.sort_by(|a, b| a.total_cmp(b));
            // Densest ±tolerance window of phases, wrapping around the period.
            let n = phases.len();
            let mut j = 0;
            let mut most = 0;
            for i in 0..n {
                while j < i + n {
                    let pj = if j < n { phases[j] } else { phases[j - n] + p };
                    if pj - phases[i] <= 2.0 * PULSE_TOL_S {
                        j += 1;
                    } else {
                        break;
                    }
                }
                most = most.max(j - i);
            }
            let lines = (span / p).floor().max(1.0);
            let cover = (most as f64 / lines).min(1.0) as f32;
            if most >= 8
                && best.is_none_or(|(m, b)| cover > b.cover || (cover == b.cover && most > m))
            {
                best = Some((
                    most,
                    Pulse {
                        cover,
                        rate: (most as f64 / span) as f32,
                        period_s: p as f32,
                    },
                ));
            }
            p += step;
        }
    }
    best.map(|(_, b)| b)
}

/// Periodic level dips of sustained sound (sidechain pumping) in one window of frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pumping {
    pub period_s: f32,
    /// Typical dip depth, dB.
    pub depth_db: f32,
    /// Normalised autocorrelation of the level at the period, 0 … 1.
    pub periodicity: f32,
    /// Share of the window the level stays within 6 dB of its top (sustained, not drum hits).
    pub sustain: f32,
    /// How much faster the level falls than it rises (95th percentile of the frame-to-frame
    /// falls over that of the rises): above 1 for a sidechain's sudden duck and slow
    /// release, below 1 for notes that strike and die away.
    pub fall_rise: f32,
}

/// [`Pumping::fall_rise`] of a level curve.
fn fall_rise(level: &[f32]) -> f32 {
    // One buffer: the falls fill it from the front, the rises from the back.
    let mut d = vec![0.0f32; level.len().saturating_sub(1)];
    let (mut falls, mut rises) = (0, d.len());
    for w in level.windows(2) {
        let v = w[1] - w[0];
        if v < 0.0 && v.is_finite() {
            d[falls] = -v;
            falls += 1;
        } else if v > 0.0 && v.is_finite() {
            rises -= 1;
            d[rises] = v;
        }
    }
    let n_rises = d.len() - rises;
    if falls < 5 || n_rises < 5 {
        return 1.0;
    }
    let (f, rest) = d.split_at_mut(falls);
    dsp::percentile_in_place(f, 0.95).unwrap_or(0.0)
        / dsp::percentile_in_place(&mut rest[rises - falls..], 0.95)
            .unwrap_or(0.0)
            .max(1e-3)
}

/// Level of the 200 Hz–4 kHz region (where pads live), dB per frame.
pub fn mid_level(f: &Features) -> Vec<f32> {
    f.bands
        .iter()
        .map(|b| {
            let p: f32 = b[2..6].iter().map(|d| 10f32.powf(d / 10.0)).sum();
            10.0 * p.max(1e-12).log10()
        })
        .collect()
}

/// What every pumping measurement starts from: the level's top (95th percentile), its
/// depth (top − 3rd percentile) and the share of frames within 6 dB of the top; `None`
/// when the top is under −60 dB.
fn level_swing(level: &[f32]) -> Option<(f32, f32, f32)> {
    let mut s: Vec<f32> = level.iter().copied().filter(|x| x.is_finite()).collect();
    let top = dsp::percentile_in_place(&mut s, 0.95).unwrap_or(0.0);
    if top < -60.0 {
        return None;
    }
    // Selecting the 95th percentile put every smaller value before it, the 3rd's too.
    let rank = |q: f32| (s.len().saturating_sub(1) as f32 * q).round() as usize;
    let (hi, lo) = (rank(0.95), rank(0.03));
    let bottom = if lo < hi {
        *s[..hi].select_nth_unstable_by(lo, |a, b| a.total_cmp(b)).1
    } else {
        top
    };
    let depth = top - bottom;
    let sustain =
        level.iter().filter(|v| **v > top - 6.0).count() as f32 / level.len().max(1) as f32;
    Some((top, depth, sustain))
}

pub fn pumping_in(level: &[f32]) -> Option<Pumping> {
    let n = level.len();
    if n < 150 {
        return None;
    }
    let (_, depth, sustain) = level_swing(level)?;
    let mean = level.iter().sum::<f32>() / n as f32;
    let x: Vec<f32> = level
        .iter()
        .map(|v| (v - mean).clamp(-30.0, 30.0))
        .collect();
    let e: f32 = x.iter().map(|v| v * v).sum::<f32>() / n as f32;
    if e <= 1e-6 {
        return None;
    }
    // The first positive local maximum of the autocorrelation from lag 20 (0.2 s) to 160,
    // computed lag by lag up to it.
    let last = (n / 2).min(160);
    let ac = |l: usize| autocorr(&x, e, l);
    let (mut prev, mut cur) = (ac(19), ac(20));
    let mut best = None;
    for l in 20..last {
        let next = ac(l + 1);
        if cur >= prev && cur >= next && cur > 0.0 {
            best = Some((l, cur));
            break;
        }
        (prev, cur) = (cur, next);
    }
    let (l, v) = best?;
    Some(Pumping {
        period_s: l as f32 * HOP_S as f32,
        depth_db: depth,
        periodicity: v.max(0.0),
        sustain,
        fall_rise: fall_rise(level),
    })
}

/// Pumping of `level` (dB per frame) at a known period of `lag` frames (the beat): the level
/// minus its moving average over one period, autocorrelated at that lag. Steps and slow
/// swells cancel out; only a swing that repeats every beat remains.
pub fn pumping_at(level: &[f32], lag: usize) -> Option<Pumping> {
    let n = level.len();
    if lag < 15 || n < 3 * lag {
        return None;
    }
    let (top, depth, sustain) = level_swing(level)?;
    let clamped: Vec<f32> = level.iter().map(|v| v.max(top - 40.0)).collect();
    let mut acc = 0.0f32;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f32);
    for v in &clamped {
        acc += v;
        prefix.push(acc);
    }
    let half = lag / 2;
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + lag - half).min(n));
            clamped[i] - (prefix[b] - prefix[a]) / (b - a) as f32
        })
        .collect();
    let e: f32 = x.iter().map(|v| v * v).sum::<f32>() / n as f32;
    if e <= 1e-6 {
        return None;
    }
    // The best of the lags within ±3 % of the period (tempo estimates are not exact).
    let reach = (lag / 33).max(1);
    let v = (lag - reach..=lag + reach)
        .filter(|&l| l < n)
        .map(|l| autocorr(&x, e, l))
        .fold(f32::MIN, f32::max);
    Some(Pumping {
        period_s: lag as f32 * HOP_S as f32,
        depth_db: depth,
        periodicity: v.max(0.0),
        sustain,
        fall_rise: fall_rise(&clamped),
    })
}

/// Tuning offset of the track in cents from A440 equal temperament (−50 … 50), from a
/// harmonicity-weighted circular mean of every voiced frame's cents; `None` without pitch.
pub fn tuning_offset(f: &Features) -> Option<f32> {
    let (mut s, mut c, mut w) = (0.0f64, 0.0f64, 0.0f64);
    for (f0, h) in f.f0_hz.iter().zip(&f.harmonicity) {
        if let Some(f0) = f0 {
            let a = cents(*f0) as f64 / 100.0 * std::f64::consts::TAU;
            let weight = (*h as f64).powi(2);
            s += a.sin() * weight;
            c += a.cos() * weight;
            w += weight;
        }
    }
    if w < 10.0 {
        return None;
    }
    Some((s.atan2(c) / std::f64::consts::TAU * 100.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::features::compute;
    use crate::audio::PcmStore;

    const RATE: u32 = 22_050;
    fn feats(x: &[f32]) -> Features {
        compute(&PcmStore::from_interleaved(RATE, 1, x))
    }

    #[test]
    fn vibrato_rate_and_extent_within_ten_percent() {
        for (rate_hz, extent) in [(4.0f32, 100.0f32), (5.5, 40.0), (6.5, 150.0)] {
            let mut phase = 0.0f32;
            let x: Vec<f32> = (0..RATE * 3)
                .map(|i| {
                    let t = i as f32 / RATE as f32;
                    let f = 440.0
                        * 2f32.powf(
                            extent * (2.0 * std::f32::consts::PI * rate_hz * t).sin() / 1200.0,
                        );
                    phase += 2.0 * std::f32::consts::PI * f / RATE as f32;
                    0.3 * phase.sin() + 0.1 * (2.0 * phase).sin()
                })
                .collect();
            let v = vibratos(&feats(&x));
            assert!(!v.is_empty(), "{rate_hz} Hz ±{extent}: no vibrato found");
            let r: Vec<f32> = v.iter().map(|v| v.rate_hz).collect();
            let e: Vec<f32> = v.iter().map(|v| v.extent_cents).collect();
            let (r, e) = (
                dsp::median(&mut r.clone()).unwrap_or(0.0),
                dsp::median(&mut e.clone()).unwrap_or(0.0),
            );
            assert!((r - rate_hz).abs() / rate_hz < 0.1, "rate {r} vs {rate_hz}");
            assert!((e - extent).abs() / extent < 0.1, "extent {e} vs {extent}");
        }
    }

    #[test]
    fn steady_tone_has_no_vibrato() {
        let x: Vec<f32> = (0..RATE * 2)
            .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 330.0 * i as f32 / RATE as f32).sin())
            .collect();
        assert!(vibratos(&feats(&x)).is_empty());
    }

    #[test]
    fn click_train_onsets_are_found_where_they_are() {
        let truth: Vec<f64> = (0..12).map(|k| 0.25 + k as f64 * 0.37).collect();
        let mut x = vec![0.0f32; (RATE as f64 * 5.0) as usize];
        for t in &truth {
            let s = (t * RATE as f64) as usize;
            for k in 0..200 {
                x[s + k] += 0.8 * (-(k as f32) / 30.0).exp() * if k % 2 == 0 { 1.0 } else { -1.0 };
            }
        }
        let on = onsets(&feats(&x));
        assert_eq!(on.len(), truth.len(), "{on:?}");
        for (o, t) in on.iter().zip(&truth) {
            assert!((o.time_s - t).abs() < 0.02, "{} vs {t}", o.time_s);
        }
    }

    #[test]
    fn tuning_offset_is_measured_not_assumed() {
        // A scale tuned 30 cents flat of A440.
        let mut x = Vec::new();
        for semis in [0, 2, 4, 5, 7] {
            let f = 440.0 * 2f32.powf((semis as f32 * 100.0 - 30.0) / 1200.0);
            x.extend(
                (0..RATE / 2)
                    .map(|i| 0.3 * (2.0 * std::f32::consts::PI * f * i as f32 / RATE as f32).sin()),
            );
        }
        let off = tuning_offset(&feats(&x)).expect("pitched");
        assert!((off + 30.0).abs() < 5.0, "offset {off}");
    }
}
