//! What the lens measures per 0.1 s block ([`BlockCues`]): the cues of each block, read
//! from the frame features over sliding windows (plucked decay, nasal or breathy spectrum,
//! drum strokes, metal partials, pitch bends and vibrato).

use super::*;

/// The lens's quantile: [`dsp::percentile_in_place`], with NaN (unknown) for a window that
/// measured nothing, so that a cue left unknown stays visibly unknown downstream.
pub(super) fn pct(v: &mut Vec<f32>, q: f32) -> f32 {
    dsp::percentile_in_place(v, q).unwrap_or(f32::NAN)
}

/// The finite values of one per-frame measurement over a window of frames, kept sorted so
/// that the window can slide by a block at a time and any percentile is read off directly
/// (the same value as [`pct`] over the window's values).
#[derive(Default)]
pub(super) struct Sorted(Vec<f32>);

impl Sorted {
    pub(super) fn insert(&mut self, x: f32) {
        if x.is_finite() {
            let i = self.0.partition_point(|a| a.total_cmp(&x).is_lt());
            self.0.insert(i, x);
        }
    }

    pub(super) fn remove(&mut self, x: f32) {
        if x.is_finite() {
            let i = self.0.partition_point(|a| a.total_cmp(&x).is_lt());
            if self.0.get(i).is_some_and(|a| a.total_cmp(&x).is_eq()) {
                self.0.remove(i);
            }
        }
    }

    pub(super) fn pct(&self, q: f32) -> f32 {
        match self.0.len() {
            0 => f32::NAN,
            len => self.0[((len - 1) as f32 * q).round() as usize],
        }
    }
}

/// Several measurements' [`Sorted`] windows over the same frames, slid together.
pub(super) struct Sliding<F: Fn(usize, usize) -> f32, I: Fn(usize) -> bool> {
    pub(super) cols: Vec<Sorted>,
    /// Measurement `k` of frame `i`.
    value: F,
    /// Whether frame `i` counts.
    include: I,
    lo: usize,
    hi: usize,
}

impl<F: Fn(usize, usize) -> f32, I: Fn(usize) -> bool> Sliding<F, I> {
    pub(super) fn new(cols: usize, value: F, include: I) -> Self {
        Self {
            cols: (0..cols).map(|_| Sorted::default()).collect(),
            value,
            include,
            lo: 0,
            hi: 0,
        }
    }

    /// Makes the window frames `lo..hi`; both ends only move forward.
    pub(super) fn slide(&mut self, lo: usize, hi: usize) {
        if lo >= self.hi {
            self.cols.iter_mut().for_each(|c| c.0.clear());
            (self.lo, self.hi) = (lo, lo);
        }
        for i in self.hi..hi {
            if (self.include)(i) {
                for (k, c) in self.cols.iter_mut().enumerate() {
                    c.insert((self.value)(k, i));
                }
            }
        }
        for i in self.lo..lo.min(hi) {
            if (self.include)(i) {
                for (k, c) in self.cols.iter_mut().enumerate() {
                    c.remove((self.value)(k, i));
                }
            }
        }
        (self.lo, self.hi) = (lo, hi.max(self.hi));
    }
}

pub(super) fn db_sum(ds: &[f32]) -> f32 {
    10.0 * ds
        .iter()
        .map(|d| 10f32.powf(d / 10.0))
        .sum::<f32>()
        .max(1e-12)
        .log10()
}

/// The plucked partials that could be a note's fundamental, and those of them that bend
/// after the attack together with a harmonic (a partial plucked within 50 ms at 2–4 times
/// its pitch, bending the same way by about as much), each as (start s, Hz, bend cents), in
/// order of start. The harmonic is the check: a lone partial's pitch under a dense mix
/// wanders as its neighbours come and go.
pub(super) fn bent_plucks(
    partials: &[Partial],
    onsets: &[Onset],
) -> (Vec<(f64, f32, f32)>, Vec<(f64, f32, f32)>) {
    // A pluck starts at an onset: its first step's window (±46 ms) holds the attack.
    let plucked: Vec<(f64, f32, f32)> = partials
        .iter()
        .filter(|p| !onsets_within(onsets, p.start_s - 0.06, p.start_s + 0.06).is_empty())
        .filter_map(|p| Some((p.start_s, p.hz, p.bend_cents?)))
        .collect();
    let fundamentals: Vec<_> = plucked
        .iter()
        .filter(|p| partials::FUNDAMENTAL_HZ.contains(&p.1))
        .copied()
        .collect();
    let bent = fundamentals
        .iter()
        .filter(|&&(t, hz, bend)| {
            (15.0..=250.0).contains(&bend.abs())
                && plucked[plucked.partition_point(|p| p.0 < t - 0.05)..]
                    .iter()
                    .take_while(|p| p.0 <= t + 0.05)
                    .any(|&(u, h, b)| {
                        let k = (h / hz).round();
                        (u - t).abs() <= 0.05
                            && (2.0..=4.0).contains(&k)
                            && (h / hz / k - 1.0).abs() < 0.03
                            && b * bend > 0.0
                            && (b - bend).abs() <= (0.4 * bend.abs()).max(15.0)
                    })
        })
        .copied()
        .collect();
    (fundamentals, bent)
}

/// Per-block cues over a context of ±0.8 s (rhythm and pumping: ±2 s).
pub fn block_cues(
    f: &Features,
    onsets: &[Onset],
    vibratos: &[Vibrato],
    bends: &[Bend],
    glides: &[Glide],
    tempo: Option<f32>,
    tuning: f32,
) -> Vec<BlockCues> {
    let n = f.len();
    let n_blocks = n.div_ceil(FRAMES_PER_BLOCK).max(1);
    let floor = (pct(&mut f.rms_db.clone(), 0.95) - 40.0).max(-60.0);
    let mid = cues::mid_level(f);
    // Level drop after each onset: the whole band, and 30–80 Hz alone.
    let decay = fall_after_onsets(onsets, |i| f.rms_db.get(i).copied());
    let sub_decay = fall_after_onsets(onsets, |i| f.bands.get(i).map(|b| b[0]));
    let ring = ring_falls(onsets, f.len(), |i| f.rms_db.get(i).copied());
    let sub_ring = ring_falls(onsets, f.len(), |i| f.bands.get(i).map(|b| b[0]));
    let total_db: Vec<f32> = f.bands.iter().map(|b| db_sum(b)).collect();
    let air: Vec<f32> = (0..n)
        .map(|i| db_sum(&f.bands[i][6..]) - total_db[i])
        .collect();
    let presence: Vec<f32> = (0..n)
        .map(|i| db_sum(&f.bands[i][5..7]) - total_db[i])
        .collect();
    let spreads = pitch_spreads(f);
    let longest = f
        .partials
        .iter()
        .map(|p| p.duration_s())
        .fold(0.0f64, f64::max);
    // Rigid pulses over 8 s windows every 2 s (a block takes the window centred nearest),
    // on both cores.
    let strong: Vec<f64> = onsets
        .iter()
        .filter(|o| o.strength >= 0.15)
        .map(|o| o.time_s)
        .collect();
    let pulse_at = |w: usize| {
        let tc = 2.0 * w as f64 + 1.0;
        tempo.and_then(|bpm| cues::rigid_pulse(&strong, 60.0 / bpm as f64, tc - 4.0, tc + 4.0))
    };
    let n_windows = (n as f64 * HOP_S / 2.0).ceil() as usize + 1;
    let pulses: Vec<Option<cues::Pulse>> = std::thread::scope(|s| {
        let half = n_windows / 2;
        let second = s.spawn(move || (half..n_windows).map(pulse_at).collect::<Vec<_>>());
        let mut v: Vec<_> = (0..half).map(pulse_at).collect();
        v.extend(
            second
                .join()
                .unwrap_or_else(|_| vec![None; n_windows - half]),
        );
        v
    });
    let (plucks, bent_plucks) = bent_plucks(&f.partials, onsets);
    // The measurements whose medians (and spreads) the blocks read, over the active frames.
    const HIGH_FLAT: usize = 0;
    const AIR: usize = 1;
    const PRESENCE: usize = 2;
    const SUB_REL: usize = 3;
    const SUB: usize = 4;
    const FLAT: usize = 5;
    const CENTROID: usize = 6;
    const TIMBRE_CHANGE: usize = 7;
    const CREST: usize = 8;
    const ROLLOFF: usize = 9;
    const HARM: usize = 10;
    const FLUX_HIGH: usize = 11;
    const SHAPE: usize = 12;
    let value = |k: usize, i: usize| -> f32 {
        match k {
            HIGH_FLAT => f.high_flatness[i],
            AIR => air[i],
            PRESENCE => presence[i],
            SUB_REL => f.bands[i][0] - total_db[i],
            SUB => f.bands[i][0],
            FLAT => f.flatness[i],
            CENTROID => f.centroid_hz[i],
            TIMBRE_CHANGE if i > 0 => {
                let (a, p) = (&f.timbre[i], &f.timbre[i - 1]);
                a.iter().zip(p).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
            }
            TIMBRE_CHANGE => f32::NAN,
            CREST => f.crest_db[i],
            ROLLOFF => f.rolloff_hz[i],
            HARM => f.harmonicity[i],
            FLUX_HIGH => f.flux_high[i] / (f.flux[i] + 1e-6),
            _ => (f.timbre[i][k - SHAPE] - total_db[i]).clamp(-60.0, 0.0),
        }
    };
    let include = |i: usize| f.rms_db[i] > floor;
    let block = |b: usize, sl: &mut Sliding<_, _>| -> BlockCues {
        let c0 = b * FRAMES_PER_BLOCK;
        let (lo, hi) = (c0.saturating_sub(80), (c0 + FRAMES_PER_BLOCK + 80).min(n));
        let (t_lo, t_hi) = (lo as f64 * HOP_S, hi as f64 * HOP_S);
        let span = (t_hi - t_lo).max(HOP_S) as f32;
        let act: Vec<usize> = (lo..hi).filter(|&i| f.rms_db[i] > floor).collect();
        let mut c = BlockCues {
            rms_db: f.rms_db[c0.min(n - 1)..(c0 + FRAMES_PER_BLOCK).min(n)]
                .iter()
                .copied()
                .fold(-120.0, f32::max),
            ..Default::default()
        };
        c.active = act.len() as f32 / (hi - lo).max(1) as f32;
        if act.is_empty() {
            c.grid_dev_ms = f32::NAN;
            return c;
        }
        let voiced: Vec<usize> = act
            .iter()
            .copied()
            .filter(|&i| f.f0_hz[i].is_some() && f.harmonicity[i] > 0.8)
            .collect();
        c.voiced = voiced.len() as f32 / act.len() as f32;
        c.harmonicity = act.iter().map(|&i| f.harmonicity[i]).sum::<f32>() / act.len() as f32;
        c.f0_hz = pct(
            &mut voiced.iter().filter_map(|&i| f.f0_hz[i]).collect(),
            0.5,
        );
        sl.slide(lo, hi);
        let med = |k: usize| sl.cols[k].pct(0.5);
        c.high_flat = med(HIGH_FLAT);
        c.air_db = med(AIR);
        c.presence_db = med(PRESENCE);
        c.sub_db = med(SUB_REL);
        c.sub_fall_db = sl.cols[SUB].pct(0.95) - med(SUB);
        c.flatness = med(FLAT);
        c.centroid_hz = med(CENTROID);
        c.inharmonic = act
            .iter()
            .filter(|&&i| f.flatness[i] < 0.05 && f.harmonicity[i] < 0.6)
            .count() as f32
            / act.len() as f32;
        let on: Vec<&Onset> = onsets_within(onsets, t_lo, t_hi)
            .iter()
            .filter(|o| o.strength >= 0.15)
            .collect();
        c.onset_rate = on.len() as f32 / span;
        if !on.is_empty() {
            c.onset_low = on.iter().map(|o| o.low).sum::<f32>() / on.len() as f32;
            c.onset_high = on.iter().map(|o| o.high).sum::<f32>() / on.len() as f32;
        }
        c.decay_db = median_between(&decay, t_lo, t_hi);
        c.ring_fall_db = median_between(&ring, t_lo, t_hi);
        c.sub_ring_fall_db = median_between(&sub_ring, t_lo, t_hi);
        c.sub_decay_db = median_between(&sub_decay, t_lo, t_hi);
        let bs: Vec<&Bend> = bends
            .iter()
            .filter(|x| x.onset_s >= t_lo && x.onset_s < t_hi)
            .collect();
        c.bends = bs
            .iter()
            .filter(|x| (15.0..=250.0).contains(&x.cents.abs()))
            .count();
        c.bend_share = if bs.is_empty() {
            0.0
        } else {
            c.bends as f32 / bs.len() as f32
        };
        let vs: Vec<&Vibrato> = vibratos
            .iter()
            .filter(|v| v.end_s > t_lo && v.start_s < t_hi)
            .collect();
        if !vs.is_empty() {
            c.vib_rate = pct(&mut vs.iter().map(|v| v.rate_hz).collect(), 0.5);
            c.vib_extent = pct(&mut vs.iter().map(|v| v.extent_cents).collect(), 0.5);
        }
        c.pitch_spread = pct(
            &mut spreads
                .iter()
                .filter(|(a, _)| *a >= lo && a + 30 <= hi)
                .map(|(_, v)| *v)
                .collect(),
            0.5,
        );
        let semis: Vec<f32> = voiced
            .iter()
            .filter_map(|&i| f.f0_hz[i])
            .map(|h| {
                let x = dsp::cents(h) - tuning;
                (x - (x / 100.0).round() * 100.0).abs()
            })
            .collect();
        c.on_semitone = if semis.is_empty() {
            0.0
        } else {
            semis.iter().filter(|d| **d < 10.0).count() as f32 / semis.len() as f32
        };
        c.glides = glides
            .iter()
            .filter(|g| g.end_s > t_lo && g.start_s < t_hi)
            .count();
        c.timbre_change_db = med(TIMBRE_CHANGE);
        c.level_swing_db = {
            let mut v: Vec<f32> = voiced.iter().map(|&i| f.rms_db[i]).collect();
            if v.len() > 20 {
                pct(&mut v.clone(), 0.9) - pct(&mut v, 0.1)
            } else {
                0.0
            }
        };
        c.shape = std::array::from_fn(|k| med(SHAPE + k));
        c.crest_db = med(CREST);
        c.rolloff_hz = med(ROLLOFF);
        c.harm_spread = sl.cols[HARM].pct(0.9) - sl.cols[HARM].pct(0.1);
        c.flux_high_ratio = med(FLUX_HIGH);
        let sum = |v: &[f32]| v.get(lo..hi).map_or(0.0, |w| w.iter().sum::<f32>());
        let all = sum(&f.partial_power);
        if all > 0.0 {
            c.held_share = sum(&f.held_power) / all;
        }
        let first_partial = f.partials.partition_point(|p| p.start_s < t_lo - longest);
        let last_partial = f.partials.partition_point(|p| p.start_s < t_hi);
        c.held_partials = f.partials[first_partial..last_partial.max(first_partial)]
            .iter()
            .filter(|p| p.end_s > t_lo && p.held())
            .count();
        c.vib_partial = f.partials[first_partial..last_partial.max(first_partial)]
            .iter()
            .filter(|p| {
                p.end_s > t_lo
                    && p.vibrating()
                    && p.sustain_db >= -4.0
                    && partials::FUNDAMENTAL_HZ.contains(&p.hz)
            })
            .max_by(|a, b| a.peak_db.total_cmp(&b.peak_db))
            .copied();
        c.pulse = pulses
            .get((c0 as f64 * HOP_S / 2.0) as usize)
            .copied()
            .flatten();
        // Rhythm and pumping: ±2 s.
        let (rlo, rhi) = (c0.saturating_sub(200), (c0 + FRAMES_PER_BLOCK + 200).min(n));
        let (rt_lo, rt_hi) = (rlo as f64 * HOP_S, rhi as f64 * HOP_S);
        let local: Vec<Onset> = onsets_within(onsets, rt_lo, rt_hi).to_vec();
        fn starting(v: &[(f64, f32, f32)], lo: f64, hi: f64) -> &[(f64, f32, f32)] {
            let a = v.partition_point(|p| p.0 < lo);
            &v[a..v.partition_point(|p| p.0 < hi).max(a)]
        }
        let near = starting(&plucks, rt_lo, rt_hi);
        c.plucks = near.len();
        c.bent_plucks = near
            .iter()
            .filter(|p| (15.0..=250.0).contains(&p.2.abs()))
            .count();
        let confirmed = starting(&bent_plucks, rt_lo, rt_hi);
        c.confirmed_bends = confirmed.len();
        c.pluck_bend = confirmed
            .iter()
            .max_by(|a, b| a.2.abs().total_cmp(&b.2.abs()))
            .copied();
        // A programmed layer under a looser one: fit the kick-like (low) onsets on their own too.
        let low_only: Vec<Onset> = local.iter().filter(|o| o.low > o.high).copied().collect();
        let fits = [
            tempo.and_then(|bpm| cues::grid_fit(&local, bpm, 0.15)),
            tempo.and_then(|bpm| cues::grid_fit(&low_only, bpm, 0.15)),
        ];
        match fits
            .into_iter()
            .flatten()
            .min_by(|a, b| a.deviation_ms.total_cmp(&b.deviation_ms))
        {
            Some(g) => {
                c.grid_dev_ms = g.deviation_ms;
                c.ternary = g.ternary;
            }
            None => c.grid_dev_ms = f32::NAN,
        }
        c.pumping = cues::pumping_in(&mid[rlo..rhi]);
        // The same level at the beat's period (the rigid pulse's, else the tempo's): a
        // ducked pad under parts whose own rhythm would hide the first repetition.
        let beat = c
            .pulse
            .map(|p| p.period_s)
            .or(tempo.map(|b| 60.0 / b))
            .map(|s| (s / HOP_S as f32).round() as usize);
        c.beat_pumping = beat.and_then(|lag| cues::pumping_at(mid.get(rlo..rhi)?, lag));
        // Seven bands' worth of pumping is measured every few blocks; the ±2 s context moves
        // little in between (the blocks between take the measurement before them, below).
        c.band_pumping = beat
            .filter(|_| b.is_multiple_of(BAND_PUMP_STRIDE))
            .and_then(|lag| {
                // One band's level over the context, copied out of the timbre frames here
                // (a whole-track copy per band would be 30 MB for 3 hours).
                let context = f.timbre.get(rlo..rhi)?;
                PUMP_BANDS
                    .filter_map(|k| {
                        let level: Vec<f32> = context.iter().map(|t| t[k]).collect();
                        Some((cues::pumping_at(&level, lag)?, k))
                    })
                    .max_by(|a, b| pump_score(&a.0).total_cmp(&pump_score(&b.0)))
            });
        c
    };
    // Blocks are independent: both halves of the track at once, each written in place (a
    // half collected and then appended would hold the blocks twice over for a moment).
    let fill = |first: usize, out: &mut [BlockCues]| {
        let mut sl = Sliding::new(SHAPE + TIMBRE_BANDS, &value, &include);
        for (i, c) in out.iter_mut().enumerate() {
            *c = block(first + i, &mut sl);
        }
    };
    let mut out = vec![BlockCues::default(); n_blocks];
    let half = n_blocks / 2;
    let (a, b) = out.split_at_mut(half);
    let second_done = std::thread::scope(|s| {
        let second = s.spawn(|| fill(half, b));
        fill(0, a);
        second.join().is_ok()
    });
    if !second_done {
        fill(half, &mut out[half..]);
    }
    for b in 0..out.len() {
        if !b.is_multiple_of(BAND_PUMP_STRIDE) {
            out[b].band_pumping = out[b - b % BAND_PUMP_STRIDE].band_pumping;
        }
    }
    out
}

/// The onsets (in time order, as [`cues::onsets`] gives them) from `lo` up to `hi`, seconds.
pub(super) fn onsets_within(onsets: &[Onset], lo: f64, hi: f64) -> &[Onset] {
    let a = onsets.partition_point(|o| o.time_s < lo);
    let b = onsets.partition_point(|o| o.time_s < hi);
    &onsets[a..b.max(a)]
}

/// How far `level` (dB per frame; `None` past the end) falls from 50 ms to 300 ms after each
/// onset of strength ≥ 0.15: (onset time, fall in dB). Plucks and strikes decay; held notes don't.
pub(super) fn fall_after_onsets(
    onsets: &[Onset],
    level: impl Fn(usize) -> Option<f32>,
) -> Vec<(f64, f32)> {
    onsets
        .iter()
        .filter(|o| o.strength >= 0.15)
        .map(|o| {
            let at = |ms: usize| level(o.frame + ms / 10).unwrap_or(-120.0);
            (o.time_s, at(50).max(at(40)) - at(300))
        })
        .collect()
}

/// For each onset of strength ≥ 0.15 followed by at least 0.6 s without another: how far
/// `level` (dB per frame of `n`; `None` past the end) falls from 50 ms after it to 1 s after
/// it (or 50 ms before the next), at most 40 dB: (onset time, fall).
pub(super) fn ring_falls(
    onsets: &[Onset],
    n: usize,
    level: impl Fn(usize) -> Option<f32>,
) -> Vec<(f64, f32)> {
    let strong: Vec<&Onset> = onsets.iter().filter(|o| o.strength >= 0.15).collect();
    let at = |i: usize| level(i).unwrap_or(-120.0);
    strong
        .iter()
        .enumerate()
        .filter_map(|(k, o)| {
            let next = strong.get(k + 1).map(|later| later.frame).unwrap_or(n + 5);
            let end = (o.frame + 100).min(next.saturating_sub(5));
            (end >= o.frame + 60)
                .then(|| (o.time_s, (at(o.frame + 5) - at(end)).clamp(-40.0, 40.0)))
        })
        .collect()
}

/// Median of the values timed in `[t_lo, t_hi)`.
pub(super) fn median_between(v: &[(f64, f32)], t_lo: f64, t_hi: f64) -> f32 {
    pct(
        &mut v
            .iter()
            .filter(|(t, _)| *t >= t_lo && *t < t_hi)
            .map(|(_, d)| *d)
            .collect(),
        0.5,
    )
}

/// Detrended pitch spread (cents) of every steady 0.3 s window of the track: (first frame, spread).
pub(super) fn pitch_spreads(f: &Features) -> Vec<(usize, f32)> {
    let mut spreads = Vec::new();
    for (s, e) in cues::pitch_runs(f, 30) {
        let mut a = s;
        while a + 30 <= e {
            let w: Vec<f32> = (a..a + 30)
                .filter_map(|i| f.f0_hz[i].map(dsp::cents))
                .collect();
            if w.len() == 30 {
                let var = dsp::detrend(&w).iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
                spreads.push((a, var.sqrt()));
            }
            a += 30;
        }
    }
    spreads
}
