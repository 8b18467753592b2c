//! Sinusoidal partials: the spectral peaks of each frame followed from frame to frame.
//!
//! The frame features describe the mix as a whole: in a dense arrangement the pitch tracker
//! hears the loudest voice, or none. Partials let the lens see what one layer does under the
//! others: the steady partials of a held synth chord (and how their level pumps), or the
//! partials of a bowed line that swing together in vibrato.
//!
//! Peaks between 120 Hz and 4 kHz of a 1024-point FFT of the ~11 kHz pitch signal
//! (≈ 10.8 Hz bins, 93 ms Hann window), every [`STEP`] feature frames; a peak continues the
//! track whose last pitch lies nearest within [`MATCH_CENTS`], strongest peaks first.

use super::dsp::{cents, db, detrend, line_fit, median, parabolic_offset, vibrato_at};
use super::frames::{HOP_S, Hann, Signal, centre, frame_ready};
use realfft::num_complex::Complex;

/// Feature frames per tracking step (40 ms).
pub const STEP: usize = 4;
const FFT: usize = 1024;
/// At most this many peaks per step, the strongest.
const MAX_PEAKS: usize = 40;
/// How far a partial may move between two steps: a 4 Hz vibrato of ±100 cents moves up to
/// 100 cents in 40 ms.
pub const MATCH_CENTS: f32 = 130.0;
/// Peaks weaker than the step's strongest by more than this are left out, dB.
const RANGE_DB: f32 = 50.0;
/// Shortest track kept, steps (0.32 s).
const MIN_STEPS: usize = 8;

/// One partial that lasted at least 0.3 s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Partial {
    pub start_s: f64,
    pub end_s: f64,
    /// Median frequency.
    pub hz: f32,
    /// Strongest level, dB (a full-scale sine is 0 dB).
    pub peak_db: f32,
    /// Least-squares level trend, dB per second (a plucked or struck partial falls).
    pub slope_db_s: f32,
    /// Median level relative to the strongest of the second before, dB: a few dB below 0
    /// for a held note (the beating of detuned voices and a sidechain's short ducks
    /// included), far below for notes struck again and again that die away in between.
    pub sustain_db: f32,
    /// Pitch spread after removing a linear trend, cents (RMS).
    pub spread_cents: f32,
    /// Vibrato rate (Hz) and extent (± cents), when its pitch swings regularly.
    pub vibrato: Option<(f32, f32)>,
    /// For a partial in [`FUNDAMENTAL_HZ`], taken as the fundamental of
    /// a tone: the median power around its 2nd–4th harmonics over that around itself, dB
    /// (each within ±100 cents, which holds a vibrato's smear). Above 0 the upper partials
    /// carry more than the fundamental, as in a nasal bowed or reed tone; a sine or flute is
    /// far below, a sawtooth about −3 dB.
    pub upper_db: Option<f32>,
    /// For a plucked partial (its level peaks within the first 120 ms and then falls by
    /// 10 dB/s or more): how far its pitch moves from the attack (the first 120 ms from the
    /// peak) to 160–360 ms after it, cents. A gayageum's nonghyeon drops or raises the note
    /// there; a fixed-pitch pluck stays within a few cents.
    pub bend_cents: Option<f32>,
}

/// Range of the partials whose harmonics [`Partial::upper_db`] measures, Hz: where the
/// fundamental of a melodic line (a haegeum's or ajaeng's among them) lies, about E♭3 to E♭6.
pub const FUNDAMENTAL_HZ: std::ops::RangeInclusive<f32> = 150.0..=1300.0;

impl Partial {
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// Held: at least 0.8 s at a steady pitch (no vibrato, under 8 cents of spread) and a
    /// level that does not die away (as a synth or organ holds a note; a plucked or struck
    /// partial falls, a sung or bowed one wavers).
    pub fn held(&self) -> bool {
        self.duration_s() >= 0.8
            && self.vibrato.is_none()
            && self.spread_cents <= 12.0
            && self.slope_db_s > -5.0
            && self.sustain_db >= -6.0
    }

    /// Plucked or struck: its level peaks at the start and dies away (see [`Partial::bend_cents`]).
    pub fn plucked(&self) -> bool {
        self.bend_cents.is_some()
    }

    /// A regular vibrato of 3–9 Hz and at least ±25 cents.
    pub fn vibrating(&self) -> bool {
        matches!(self.vibrato, Some((r, e)) if (3.0..=9.0).contains(&r) && e >= 25.0)
    }
}

/// A track still being followed.
struct Live {
    first: usize,
    cents: Vec<f32>,
    db: Vec<f32>,
    /// [`Partial::upper_db`] of each matched step where it was measured.
    upper: Vec<f32>,
    /// Steps since the last matched peak (the last values are repeated meanwhile).
    missed: usize,
}

/// Power of `spec` (bins of `bin_hz`) within ±100 cents of `hz`; `None` past the top bin.
fn power_around(spec: &[Complex<f32>], hz: f32, bin_hz: f32) -> Option<f32> {
    const SEMI: f32 = 1.059_463_1;
    let (a, b) = (
        (hz / SEMI / bin_hz).floor() as usize,
        (hz * SEMI / bin_hz).ceil() as usize,
    );
    spec.get(a.max(1)..=b)
        .map(|r| r.iter().map(|c| c.norm_sqr()).sum())
}

/// [`Partial::upper_db`] of one step, for a partial at `hz`.
fn upper_db(spec: &[Complex<f32>], hz: f32, bin_hz: f32) -> Option<f32> {
    if !FUNDAMENTAL_HZ.contains(&hz) {
        return None;
    }
    let own = power_around(spec, hz, bin_hz)?;
    let upper: f32 = (2..=4)
        .filter_map(|k| power_around(spec, k as f32 * hz, bin_hz))
        .sum();
    (own > 0.0 && upper > 0.0).then(|| 10.0 * (upper / own).log10())
}

/// [`Partial::bend_cents`] of a track (pitch in cents and level in dB per step of `hop` s),
/// `None` unless it is plucked.
fn pluck_bend(cents: &[f32], db: &[f32], hop: f32) -> Option<f32> {
    let peak = (0..db.len().min(3)).max_by(|a, b| db[*a].total_cmp(&db[*b]))?;
    let after = db.get(peak..(peak + 16).min(db.len()))?;
    let steps = |s: f32| (s / hop).round() as usize;
    if after.len() < steps(0.32) || after.iter().any(|v| *v > db[peak] + 1.0) {
        return None;
    }
    // A string rings on: it falls 10–60 dB/s, where a drum's partials are gone in a
    // fraction of a second.
    if !(-60.0..=-10.0).contains(&(line_fit(after).1 / hop)) {
        return None;
    }
    // Its pitch holds through the attack (a drum's or a synth's pitch sweep already moves).
    let attack = cents.get(peak..peak + steps(0.12))?;
    let (lo, hi) = attack
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), c| (a.min(*c), b.max(*c)));
    if hi - lo > 20.0 {
        return None;
    }
    let attack = median(&mut attack.to_vec())?;
    let later = cents.get(peak + steps(0.16)..(peak + steps(0.36)).min(cents.len()))?;
    Some(median(&mut later.to_vec())? - attack)
}

/// The tracker's output: the held and vibrating partials, and per feature frame the power
/// of all kept partials and of the held ones (linear, summed; a full-scale sine is 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartialsOut {
    pub partials: Vec<Partial>,
    pub all: Vec<f32>,
    pub held: Vec<f32>,
}

pub(crate) struct Tracker {
    hann: Hann,
    norm: f32,
    rate: f32,
    lo: usize,
    hi: usize,
    level: Vec<f32>,
    peaks: Vec<(f32, f32)>,
    step: usize,
    live: Vec<Live>,
    claimed: Vec<bool>,
    pub(crate) out: PartialsOut,
}

impl Tracker {
    pub(crate) fn new(rate: f32) -> Self {
        let hann = Hann::new(FFT);
        let bin_hz = rate / FFT as f32;
        let hi = ((4000.0f32.min(rate * 0.45) / bin_hz) as usize).min(FFT / 2 - 3);
        Self {
            norm: hann.power_norm(),
            rate,
            lo: ((120.0 / bin_hz) as usize).max(3),
            hi,
            level: vec![0.0; FFT / 2 + 1],
            peaks: Vec::with_capacity(64),
            step: 0,
            live: Vec::new(),
            claimed: Vec::new(),
            out: PartialsOut::default(),
            hann,
        }
    }

    /// Follows the partials of every step whose window `y` holds (`n_frames`: `y` is
    /// complete and the track has that many feature frames; every step is taken and the
    /// tracks still open are closed).
    pub(crate) fn run(&mut self, y: &Signal, n_frames: Option<usize>) {
        while frame_ready(
            self.step * STEP,
            self.rate,
            FFT as isize / 2,
            y.len(),
            n_frames,
        ) {
            self.take_step(y);
            self.step += 1;
        }
        if let Some(n) = n_frames {
            for t in std::mem::take(&mut self.live) {
                self.close(t);
            }
            let out = &mut self.out;
            for v in [&mut out.all, &mut out.held] {
                v.resize(n, 0.0);
            }
            out.partials.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        }
    }

    fn take_step(&mut self, y: &Signal) {
        let (lo, hi) = (self.lo, self.hi);
        if lo + 2 > hi {
            return; // a sample rate too low to hold anything from 120 Hz up
        }
        self.hann.frame(y, centre(self.step * STEP, self.rate));
        // Peaks are found on power; only they and their neighbours are turned into dB.
        for b in 1..=hi + 2 {
            self.level[b] = self.hann.spec[b].norm_sqr();
        }
        let l = &self.level;
        // The range is counted from the frame's strongest bin, below 120 Hz too, so that
        // the leakage of a strong low tone is not taken for partials.
        let top = l[1..=hi + 2].iter().copied().fold(0.0, f32::max);
        let floor = (top * 10f32.powf(-RANGE_DB / 10.0)).max(1e-9 / self.norm);
        let bin_hz = self.rate / FFT as f32;
        let to_db = |p: f32| db(p * self.norm);
        self.peaks.clear();
        for b in lo..=hi {
            let v = l[b];
            if v > floor && v > l[b - 1] && v >= l[b + 1] && v > l[b - 2] && v >= l[b + 2] {
                let (p, q, r) = (to_db(l[b - 1]), to_db(v), to_db(l[b + 1]));
                let off = parabolic_offset(p, q, r);
                let peak = q - 0.25 * (p - r) * off;
                self.peaks.push((cents((b as f32 + off) * bin_hz), peak));
            }
        }
        self.peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
        self.peaks.truncate(MAX_PEAKS);
        // Strongest peak first: each continues the nearest open track within reach.
        self.claimed.clear();
        self.claimed.resize(self.live.len(), false);
        let mut fresh = Vec::new();
        for &(c, v) in &self.peaks {
            let mut best: Option<(usize, f32)> = None;
            for (k, t) in self.live.iter().enumerate() {
                if self.claimed[k] {
                    continue;
                }
                let d = (t.cents.last().copied().unwrap_or(f32::MAX) - c).abs();
                if d < MATCH_CENTS && best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((k, d));
                }
            }
            let up = upper_db(&self.hann.spec, 440.0 * 2f32.powf(c / 1200.0), bin_hz);
            match best {
                Some((k, _)) => {
                    self.claimed[k] = true;
                    let t = &mut self.live[k];
                    t.upper.extend(up);
                    // Replace the values repeated while the track was missed.
                    let keep = t.cents.len() - t.missed;
                    t.cents.truncate(keep);
                    t.db.truncate(keep);
                    for _ in 0..t.missed {
                        t.cents.push(c);
                        t.db.push(v);
                    }
                    t.cents.push(c);
                    t.db.push(v);
                    t.missed = 0;
                }
                None => fresh.push(Live {
                    first: self.step,
                    cents: vec![c],
                    db: vec![v],
                    upper: up.into_iter().collect(),
                    missed: 0,
                }),
            }
        }
        // A track missed for one step may go on; missed twice, it ends.
        let mut ended = Vec::new();
        for (k, claimed) in std::mem::take(&mut self.claimed).into_iter().enumerate() {
            if !claimed {
                let t = &mut self.live[k];
                if t.missed >= 1 {
                    ended.push(k);
                } else {
                    t.missed += 1;
                    let (c, v) = (t.cents[t.cents.len() - 1], t.db[t.db.len() - 1]);
                    t.cents.push(c);
                    t.db.push(v);
                }
            }
        }
        for k in ended.into_iter().rev() {
            let t = self.live.swap_remove(k);
            self.close(t);
        }
        self.live.extend(fresh);
    }

    /// Measures a finished track and adds it to the output when it lasted long enough.
    fn close(&mut self, mut t: Live) {
        let keep = t.cents.len() - t.missed;
        t.cents.truncate(keep);
        t.db.truncate(keep);
        let n = t.cents.len();
        if n < MIN_STEPS {
            return;
        }
        let hop = STEP as f64 * HOP_S;
        let median_cents = median(&mut t.cents.clone()).unwrap_or(0.0);
        let spread = (detrend(&t.cents).iter().map(|v| v * v).sum::<f32>() / n as f32).sqrt();
        let slope = line_fit(&t.db).1 / hop as f32;
        let window = (1.0 / hop) as usize;
        let mut below: Vec<f32> = (0..n)
            .map(|i| {
                let recent = t.db[i.saturating_sub(window)..=i]
                    .iter()
                    .copied()
                    .fold(f32::MIN, f32::max);
                t.db[i] - recent
            })
            .collect();
        let sustain_db = median(&mut below).unwrap_or(0.0);
        // Sampled every 40 ms through a 93 ms window, a vibrato up to about 6 Hz reads true;
        // a faster one reads narrower (−18 % at 6.5 Hz).
        let vibrato = vibrato_at(&t.cents, hop).map(|v| (v.rate_hz, v.extent_cents));
        let p = Partial {
            start_s: t.first as f64 * hop,
            end_s: (t.first + n) as f64 * hop,
            hz: 440.0 * 2f32.powf(median_cents / 1200.0),
            peak_db: t.db.iter().copied().fold(-120.0, f32::max),
            slope_db_s: slope,
            sustain_db,
            spread_cents: spread,
            vibrato,
            upper_db: median(&mut t.upper),
            bend_cents: pluck_bend(&t.cents, &t.db, hop as f32),
        };
        let (held, vibrating) = (p.held(), p.vibrating());
        let out = &mut self.out;
        let end = (t.first + n) * STEP;
        for v in [&mut out.all, &mut out.held] {
            if v.len() < end {
                v.resize(end, 0.0);
            }
        }
        for (i, v) in t.db.iter().enumerate() {
            let power = 10f32.powf(v / 10.0);
            for f in (t.first + i) * STEP..(t.first + i + 1) * STEP {
                out.all[f] += power;
                if held {
                    out.held[f] += power;
                }
            }
        }
        if held || vibrating || p.plucked() {
            out.partials.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::features;
    use crate::audio::PcmStore;
    use std::f32::consts::TAU;

    const RATE: u32 = 44_100;

    fn partials_of(x: &[f32]) -> features::Features {
        features::compute(&PcmStore::from_interleaved(RATE, 1, x))
    }

    /// Harmonics 1–6 of `f0(t)` (phase-accumulated), amplitude `amp(t)`.
    fn tone(secs: f32, f0: impl Fn(f32) -> f32, amp: impl Fn(f32) -> f32) -> Vec<f32> {
        let mut ph = 0.0f32;
        (0..(RATE as f32 * secs) as usize)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                ph = (ph + f0(t) / RATE as f32).fract();
                let s: f32 = (1..=6)
                    .map(|h| (TAU * ph * h as f32).sin() / h as f32)
                    .sum();
                amp(t) * s
            })
            .collect()
    }

    #[test]
    fn the_harmonics_over_the_fundamental_are_measured() {
        // Harmonics 1–6 at 1/h: the 2nd–4th together carry 1/4 + 1/9 + 1/16 of the
        // fundamental's power, −3.7 dB.
        let f = partials_of(&tone(3.0, |_| 440.0, |_| 0.3));
        let p = f
            .partials
            .iter()
            .find(|p| (p.hz - 440.0).abs() < 5.0)
            .expect("the fundamental is held");
        let u = p.upper_db.expect("measured");
        assert!((u + 3.7).abs() < 1.0, "{u} dB");
        // A partial above the range is not taken for a fundamental.
        let high = f
            .partials
            .iter()
            .find(|p| p.hz > 1700.0)
            .expect("the 4th harmonic");
        assert_eq!(high.upper_db, None);
    }

    #[test]
    fn a_sample_rate_too_low_for_any_partial_tracks_nothing() {
        for rate in [100.0f32, 240.0, 500.0] {
            let y: Vec<f32> = (0..2000).map(|i| (i as f32 * 0.3).sin()).collect();
            let mut t = super::Tracker::new(rate);
            t.run(
                &super::Signal::from_vec(y),
                Some(2000 * 100 / rate as usize),
            );
            assert!(t.out.partials.is_empty());
            assert!(t.out.all.iter().all(|p| *p == 0.0));
        }
    }

    #[test]
    fn a_held_chord_gives_held_partials_at_its_pitches() {
        let notes = [220.0f32, 277.18, 329.63];
        let mut x = vec![0.0f32; RATE as usize * 3];
        for f in notes {
            for (v, s) in x.iter_mut().zip(tone(3.0, |_| f, |_| 0.1)) {
                *v += s;
            }
        }
        let f = partials_of(&x);
        for note in notes {
            let p = f
                .partials
                .iter()
                .find(|p| (p.hz / note - 1.0).abs() < 0.01)
                .unwrap_or_else(|| panic!("no partial at {note} Hz: {:?}", f.partials));
            assert!(p.held(), "{p:?}");
            assert!(p.duration_s() > 2.5, "{p:?}");
        }
        assert!(f.partials.iter().all(|p| !p.vibrating()));
        // In the middle, nearly all the tracked power is held.
        let sum = |v: &[f32]| v[100..200].iter().sum::<f32>();
        assert!(sum(&f.held_power) > 0.9 * sum(&f.partial_power));
    }

    #[test]
    fn vibrato_rate_and_extent_are_measured_on_each_partial() {
        // Bowed, blown and sung vibrato: 4–6 Hz.
        for (rate, extent) in [(5.5f32, 60.0f32), (4.0, 100.0), (5.0, 35.0)] {
            let x = tone(
                4.0,
                |t| 440.0 * 2f32.powf(extent * (TAU * rate * t).sin() / 1200.0),
                |_| 0.3,
            );
            let f = partials_of(&x);
            let vib: Vec<(f32, f32)> = f
                .partials
                .iter()
                .filter(|p| p.vibrating() && !p.held())
                .filter_map(|p| p.vibrato)
                .collect();
            assert!(vib.len() >= 4, "{rate} Hz ±{extent}: {:?}", f.partials);
            // Each partial's own swing (upper partials read it a little wider than the
            // fundamental): their median.
            let median = |mut v: Vec<f32>| {
                v.sort_by(f32::total_cmp);
                v[v.len() / 2]
            };
            let r = median(vib.iter().map(|v| v.0).collect());
            let e = median(vib.iter().map(|v| v.1).collect());
            assert!(
                (r / rate - 1.0).abs() < 0.05,
                "rate {r} for {rate}: {vib:?}"
            );
            assert!(
                (e / extent - 1.0).abs() < 0.1,
                "extent {e} for {extent}: {vib:?}"
            );
        }
    }

    #[test]
    fn the_bend_after_a_pluck_is_measured_and_a_fixed_pluck_reads_flat() {
        // One pluck falling 20 dB/s that drops `bend` cents from 150 to 270 ms after it.
        for bend in [-40.0f32, 0.0, 60.0] {
            let mut x = vec![0.0f32; RATE as usize / 5];
            x.extend(tone(
                2.0,
                |t| {
                    let u = ((t - 0.15) / 0.12).clamp(0.0, 1.0);
                    330.0 * 2f32.powf(bend * u * u * (3.0 - 2.0 * u) / 1200.0)
                },
                |t| 0.3 * 10f32.powf(-20.0 * t / 20.0) * (t / 0.003).min(1.0),
            ));
            let f = partials_of(&x);
            let p = f
                .partials
                .iter()
                .find(|p| (p.hz / 330.0 - 1.0).abs() < 0.05)
                .unwrap_or_else(|| panic!("the fundamental is kept: {:?}", f.partials));
            let b = p.bend_cents.expect("plucked");
            assert!((b - bend).abs() < 8.0, "{b} cents for {bend}");
        }
        // A held tone is not plucked.
        let f = partials_of(&tone(3.0, |_| 330.0, |_| 0.3));
        assert!(f.partials.iter().all(|p| !p.plucked()), "{:?}", f.partials);
    }

    #[test]
    fn a_plucked_note_that_dies_away_is_neither_held_nor_vibrating() {
        // Re-plucked every second, falling 30 dB/s.
        let x = tone(
            4.0,
            |_| 330.0,
            |t| 0.3 * 10f32.powf(-30.0 * (t % 1.0) / 20.0),
        );
        let f = partials_of(&x);
        assert!(
            f.partials.iter().all(|p| !p.held() && !p.vibrating()),
            "{:?}",
            f.partials
        );
        // Kept as plucked, at a fixed pitch.
        assert!(f.partials.iter().any(|p| p.hz > 320.0 && p.hz < 340.0));
        assert!(
            f.partials
                .iter()
                .all(|p| p.bend_cents.is_some_and(|b| b.abs() < 5.0)),
            "{:?}",
            f.partials
        );
        assert!(
            f.partial_power.iter().any(|p| *p > 1e-6), // −60 dB
            "the plucks are tracked"
        );
    }
}
