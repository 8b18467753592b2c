//! The fusion lens: ten lanes (DESIGN.md section 4), each a score in [0, 1] every 0.1 s,
//! with segments where the lane is judged present and an evidence sentence per segment.
//!
//! Scores are hints built from named measurements; the evidence says which ones fired.
//! Pitch behaviour alone never makes a Korean segment: every Korean lane also needs its
//! timbral cue (plucked decay, nasal or breathy spectrum, drum strokes, metal partials).

use serde::Serialize;

pub use super::block::BlockCues;
use super::cues::{self, Bend, Glide, Grid, Onset, Pumping};
use super::dsp::{self, Vibrato};
use super::features::{self, Features, HOP_S, TIMBRE_BANDS};
pub use super::lanes::{Family, LANES, LaneId, LaneInfo, N_KOREAN, N_LANES, lane_info};
use super::model::{self as lens_model, Kind, Model};
use super::partials::{self, Partial};
use super::references::{CITED, Closest, ReferenceIndex, TIMBRE_HOP_S, mean_over, timbre_frames};
use super::tagger::{self, Embedding, WindowTags};
use std::path::Path;
use std::sync::Arc;

use crate::audio::{AudioError, Outcome, PcmStore, decode_following};

/// Hop of lane scores, seconds.
pub const LANE_HOP_S: f64 = 0.1;
const FRAMES_PER_BLOCK: usize = 10;

/// A run where a lane is judged present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub score: f32,
    pub evidence: String,
    /// For a Korean lane heard by the tagger: the reference recordings it sounds closest to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closest: Vec<Closest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lane {
    pub id: &'static str,
    pub family: Family,
    pub label: &'static str,
    pub hop_s: f64,
    pub scores: Vec<f32>,
    pub segments: Vec<Segment>,
}

impl Lane {
    pub fn info(&self) -> Option<&'static LaneInfo> {
        lane_info(self.id)
    }
    pub fn mean(&self) -> f32 {
        if self.scores.is_empty() {
            0.0
        } else {
            self.scores.iter().sum::<f32>() / self.scores.len() as f32
        }
    }
}

/// Everything the lens measured on one track.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Shared, not copied, when the lanes are rescored (the tagger's verdict arriving, or
    /// going): for hours of audio these per-frame measurements are a few hundred MB.
    pub features: std::sync::Arc<Features>,
    pub onsets: Vec<Onset>,
    pub vibratos: Vec<Vibrato>,
    pub bends: Vec<Bend>,
    pub glides: Vec<Glide>,
    pub tempo_bpm: Option<f32>,
    pub grid: Option<Grid>,
    pub tuning_cents: Option<f32>,
    /// Cues per lane block (what the scores and evidence are made of).
    pub blocks: Vec<BlockCues>,
    pub lanes: Vec<Lane>,
    /// The tagger's hidden features per [`TIMBRE_HOP_S`] (empty until the tagger heard the
    /// track): what the references and Find similar compare.
    pub timbre: std::sync::Arc<Vec<Option<Embedding>>>,
}

/// The lens's quantile: [`dsp::percentile_in_place`], with NaN (unknown) for a window that
/// measured nothing, so that a cue left unknown stays visibly unknown downstream.
fn pct(v: &mut Vec<f32>, q: f32) -> f32 {
    dsp::percentile_in_place(v, q).unwrap_or(f32::NAN)
}

/// The finite values of one per-frame measurement over a window of frames, kept sorted so
/// that the window can slide by a block at a time and any percentile is read off directly
/// (the same value as [`pct`] over the window's values).
#[derive(Default)]
struct Sorted(Vec<f32>);

impl Sorted {
    fn insert(&mut self, x: f32) {
        if x.is_finite() {
            let i = self.0.partition_point(|a| a.total_cmp(&x).is_lt());
            self.0.insert(i, x);
        }
    }

    fn remove(&mut self, x: f32) {
        if x.is_finite() {
            let i = self.0.partition_point(|a| a.total_cmp(&x).is_lt());
            if self.0.get(i).is_some_and(|a| a.total_cmp(&x).is_eq()) {
                self.0.remove(i);
            }
        }
    }

    fn pct(&self, q: f32) -> f32 {
        match self.0.len() {
            0 => f32::NAN,
            len => self.0[((len - 1) as f32 * q).round() as usize],
        }
    }
}

/// Several measurements' [`Sorted`] windows over the same frames, slid together.
struct Sliding<F: Fn(usize, usize) -> f32, I: Fn(usize) -> bool> {
    cols: Vec<Sorted>,
    /// Measurement `k` of frame `i`.
    value: F,
    /// Whether frame `i` counts.
    include: I,
    lo: usize,
    hi: usize,
}

impl<F: Fn(usize, usize) -> f32, I: Fn(usize) -> bool> Sliding<F, I> {
    fn new(cols: usize, value: F, include: I) -> Self {
        Self {
            cols: (0..cols).map(|_| Sorted::default()).collect(),
            value,
            include,
            lo: 0,
            hi: 0,
        }
    }

    /// Makes the window frames `lo..hi`; both ends only move forward.
    fn slide(&mut self, lo: usize, hi: usize) {
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

fn db_sum(ds: &[f32]) -> f32 {
    10.0 * ds
        .iter()
        .map(|d| 10f32.powf(d / 10.0))
        .sum::<f32>()
        .max(1e-12)
        .log10()
}

/// Runs every measurement and the lens on a completely decoded store.
pub fn analyze(store: &PcmStore) -> Analysis {
    let features = features::compute(store);
    analyze_features(features)
}

/// Decodes `path` and analyses it, the features being measured while the file decodes.
pub fn analyze_file(path: &Path) -> Result<(Arc<PcmStore>, Outcome, Analysis), AudioError> {
    let (store, outcome, an, _) = analyze_file_tagged(path, None, 1)?;
    Ok((store, outcome, an))
}

/// The tagger's windows of a track, or why it could not hear it.
pub type TagResult = Result<Vec<WindowTags>, tagger::TaggerError>;

/// [`analyze_file`], with `tagger` (if any) running on `threads` threads while the file
/// decodes and then beside the lens, its judgement added to the lanes ([`add_tags`]). Its
/// windows come back with the analysis; a tagger error leaves the signal analysis standing.
pub fn analyze_file_tagged(
    path: &Path,
    tagger: Option<&tagger::Tagger>,
    threads: usize,
) -> Result<(Arc<PcmStore>, Outcome, Analysis, Option<TagResult>), AudioError> {
    // The tagger follows the decoder beside the features and goes on beside the lens once
    // decoding has ended (`over`, or the store complete).
    let both = |store: &PcmStore, over: &std::sync::atomic::AtomicBool| {
        std::thread::scope(|s| {
            let tags = s.spawn(|| {
                tagger.map(|t| t.tag_following(store, threads, over, |_, _| {}, || true))
            });
            let an = analyze_features(features::compute_following(store, over));
            let failed = || Err(tagger::TaggerError::Run("the tagger thread failed".into()));
            (an, tags.join().unwrap_or_else(|_| tagger.map(|_| failed())))
        })
    };
    let (store, outcome, followed) = decode_following(path, both)?;
    // A follower that failed: everything again on the decoded store.
    let (mut an, tags) =
        followed.unwrap_or_else(|| both(&store, &std::sync::atomic::AtomicBool::new(true)));
    if let Some(Ok(w)) = &tags {
        add_tags(&mut an, w);
    }
    Ok((store, outcome, an, tags))
}

pub fn analyze_features(features: Features) -> Analysis {
    analyze_features_with(features, Model::builtin_for(false))
}

/// [`analyze_features`] with the Korean lanes weighted by `model` (`None`: hand-set rules).
pub fn analyze_features_with(features: Features, model: Option<&Model>) -> Analysis {
    let f = &features;
    let onsets = cues::onsets(f);
    let vibratos = cues::vibratos(f);
    let bends = cues::post_onset_pitch(f, &onsets);
    let glides = cues::sub_glides(f);
    let tempo_bpm = cues::tempo_bpm(&f.flux);
    let grid = tempo_bpm.and_then(|b| cues::grid_fit(&onsets, b, 0.15));
    let tuning_cents = cues::tuning_offset(f);
    let blocks = block_cues(
        f,
        &onsets,
        &vibratos,
        &bends,
        &glides,
        tempo_bpm,
        tuning_cents.unwrap_or(0.0),
    );
    let lanes = score_lanes(&blocks, &bends, model);
    Analysis {
        features: features.into(),
        onsets,
        vibratos,
        bends,
        glides,
        tempo_bpm,
        grid,
        tuning_cents,
        blocks,
        lanes,
        timbre: Default::default(),
    }
}

/// Adds the tagger's judgement to an analysis: every block takes the class groups of the
/// windows that hold its centre, and the lanes are scored again with the model fitted on
/// the tagger's classes as well as the signal cues. Without windows nothing changes.
pub fn add_tags(an: &mut Analysis, windows: &[WindowTags]) {
    if windows.is_empty() {
        return;
    }
    set_block_tags(&mut an.blocks, windows);
    an.lanes = score_lanes(&an.blocks, &an.bends, Model::builtin_for(false));
    let duration = an.blocks.len() as f64 * LANE_HOP_S;
    an.timbre = std::sync::Arc::new(timbre_frames(windows, duration));
    if let Some(ix) = ReferenceIndex::builtin() {
        cite_references(&mut an.lanes, &an.timbre, ix);
    }
}

/// Gives every segment of a Korean lane the reference recordings its timbre is closest to.
pub fn cite_references(lanes: &mut [Lane], timbre: &[Option<Embedding>], ix: &ReferenceIndex) {
    for lane in lanes.iter_mut().filter(|l| l.family == Family::Korean) {
        for s in &mut lane.segments {
            s.closest = mean_over(timbre, TIMBRE_HOP_S, s.start_s, s.end_s)
                .map(|e| ix.nearest(&e, CITED))
                .unwrap_or_default();
        }
    }
}

/// Takes the tagger's judgement out again: the lanes from the signal cues alone.
pub fn remove_tags(an: &mut Analysis) {
    for c in &mut an.blocks {
        *c = c.untagged();
    }
    an.timbre = Default::default();
    an.lanes = score_lanes(&an.blocks, &an.bends, Model::builtin_for(false));
}

/// Sets `tags` on every block from the tagger's windows: each group's score is its mean over
/// the windows holding the block's centre (the nearest window where none does), named by
/// the class that scored highest in them.
pub fn set_block_tags(blocks: &mut [BlockCues], windows: &[WindowTags]) {
    if windows.is_empty() {
        return;
    }
    let groups: Vec<_> = windows
        .iter()
        .map(|w| tagger::group_scores(&w.scores))
        .collect();
    for (i, c) in blocks.iter_mut().enumerate() {
        let t = (i as f64 + 0.5) * LANE_HOP_S;
        let mut holding: Vec<usize> = (0..windows.len())
            .filter(|&k| windows[k].start_s <= t && t < windows[k].end_s)
            .collect();
        if holding.is_empty() {
            let dist = |k: usize| (windows[k].start_s - t).max(t - windows[k].end_s);
            holding.extend((0..windows.len()).min_by(|&a, &b| dist(a).total_cmp(&dist(b))));
        }
        c.tagged = true;
        for g in 0..tagger::N_GROUPS {
            let mean = holding.iter().map(|&k| groups[k][g].1).sum::<f32>() / holding.len() as f32;
            let best = holding
                .iter()
                .map(|&k| groups[k][g])
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |b| b.0);
            c.tags[g] = (best, mean);
        }
    }
}

/// The plucked partials that could be a note's fundamental, and those of them that bend
/// after the attack together with a harmonic (a partial plucked within 50 ms at 2–4 times
/// its pitch, bending the same way by about as much), each as (start s, Hz, bend cents), in
/// order of start. The harmonic is the check: a lone partial's pitch under a dense mix
/// wanders as its neighbours come and go.
fn bent_plucks(
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
fn onsets_within(onsets: &[Onset], lo: f64, hi: f64) -> &[Onset] {
    let a = onsets.partition_point(|o| o.time_s < lo);
    let b = onsets.partition_point(|o| o.time_s < hi);
    &onsets[a..b.max(a)]
}

/// How far `level` (dB per frame; `None` past the end) falls from 50 ms to 300 ms after each
/// onset of strength ≥ 0.15: (onset time, fall in dB). Plucks and strikes decay; held notes don't.
fn fall_after_onsets(onsets: &[Onset], level: impl Fn(usize) -> Option<f32>) -> Vec<(f64, f32)> {
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
fn ring_falls(onsets: &[Onset], n: usize, level: impl Fn(usize) -> Option<f32>) -> Vec<(f64, f32)> {
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
fn median_between(v: &[(f64, f32)], t_lo: f64, t_hi: f64) -> f32 {
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
fn pitch_spreads(f: &Features) -> Vec<(usize, f32)> {
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

/// 0 below `a`, 1 above `b`, linear between (or falling when `a > b`).
/// How far a block is active enough for a lane to be judged there (0 below 0.1 of its
/// context above the activity floor, 1 from 0.4).
pub fn activity(c: &BlockCues) -> f32 {
    ramp(c.active, 0.1, 0.4)
}

fn ramp(x: f32, a: f32, b: f32) -> f32 {
    if !x.is_finite() {
        return 0.0;
    }
    ((x - a) / (b - a)).clamp(0.0, 1.0)
}

/// How much a level swing looks like sidechain pumping: it repeats, dips by several dB
/// while the sound holds, at a beat-like period, and it ducks suddenly and recovers slowly
/// (notes struck on the beat swing the other way: they rise at once and die away).
fn pump_score(p: &Pumping) -> f32 {
    ramp(p.periodicity, 0.3, 0.6)
        * ramp(p.depth_db, 3.0, 8.0)
        * ramp(p.sustain, 0.3, 0.6)
        * ramp(p.period_s, 0.2, 0.3)
        * ramp(p.fall_rise, 0.8, 1.3)
}

/// Timbre bands (≈ 166 Hz … 1 kHz, where pads and chords sit) whose own level is also
/// measured for pumping.
const PUMP_BANDS: std::ops::RangeInclusive<usize> = 4..=10;
/// Blocks between two measurements of the narrow bands' pumping (0.4 s).
const BAND_PUMP_STRIDE: usize = 4;

/// The most pumping-like of a block's measurements (first repetition, beat period, the
/// narrow bands at the beat period), with the band it was measured in (`None`: the whole
/// 200 Hz–4 kHz region).
fn best_pumping_in(c: &BlockCues) -> Option<(Pumping, Option<usize>)> {
    [
        c.pumping.map(|p| (p, None)),
        c.beat_pumping.map(|p| (p, None)),
    ]
    .into_iter()
    .flatten()
    .chain(c.band_pumping.map(|(p, k)| (p, Some(k))))
    .max_by(|a, b| pump_score(&a.0).total_cmp(&pump_score(&b.0)))
}

fn best_pumping(c: &BlockCues) -> Option<Pumping> {
    best_pumping_in(c).map(|(p, _)| p)
}

/// A layer of onsets that fills most lines of a grid within ±3 ms (a programmed kick),
/// whatever else plays.
fn machine_layer(c: &BlockCues) -> f32 {
    c.pulse
        .map(|p| ramp(p.cover, 0.5, 0.8) * ramp(p.rate, 0.6, 1.2))
        .unwrap_or(0.0)
}

/// A held layer under a sequenced beat: several partials held at a steady pitch and level
/// while a programmed pulse plays (a pad in a production; without the beat, held partials
/// are as likely a ringing string or drum of a solo recording).
fn held_layer(c: &BlockCues) -> f32 {
    ramp(c.held_partials as f32, 3.0, 6.0) * ramp(c.held_share, 0.02, 0.1) * machine_layer(c)
}

/// A bowed line under the mix: a partial that holds its level while it swings in a wide,
/// slow vibrato (a haegeum's ≈ 4 Hz, ±60–150 cents; a sung vibrato is mostly faster, a
/// gayageum's nonghyeon rides a falling note), with the bowed timbre's little energy above
/// 4 kHz. The mono pitch track hears only the loudest voice of a dense mix; the partials
/// see this one under the others.
fn bowed_layer(c: &BlockCues) -> f32 {
    // (The partial lies in `partials::FUNDAMENTAL_HZ`: a vibrato's higher harmonics move too fast
    // for the tracker's window, so what it follows of a bowed line is its fundamental.)
    c.vib_partial
        .and_then(|p| p.vibrato.map(|v| (p, v)))
        .map_or(0.0, |(p, (rate, extent))| {
            ramp(extent, 45.0, 65.0)
                * ramp(rate, 2.8, 3.3)
                * (1.0 - ramp(rate, 5.0, 5.8))
                * ramp(p.slope_db_s, -12.0, -6.0)
                * p.upper_db.map_or(0.0, |u| ramp(u, 0.5, 2.0))
                * (1.0 - ramp(c.air_db, -25.0, -12.0))
        })
}

/// A plucked line under the mix: within ±2 s, several notes whose partials peak at an onset
/// and ring away like a string's, two or more of which bend after the attack (nonghyeon, the
/// gayageum's idiom), one of them with a harmonic bending alongside. The mono pitch track
/// follows only the loudest voice (often the bass); the partials see the plucks under it.
fn plucked_layer(c: &BlockCues) -> f32 {
    ramp(c.plucks as f32, 2.5, 4.5)
        * ramp(c.bent_plucks as f32, 1.0, 2.5)
        * ramp(c.confirmed_bends as f32, 0.5, 1.0)
}

/// Scores of every lane for one block, with the cue values the evidence quotes.
pub fn lane_scores(c: &BlockCues) -> [f32; N_LANES] {
    if c.active < 0.1 {
        return [0.0; N_LANES];
    }
    let act = ramp(c.active, 0.1, 0.4);
    let pitched = ramp(c.voiced, 0.15, 0.5);
    let percussive = ramp(c.onset_rate, 0.8, 2.5) * (1.0 - ramp(c.voiced, 0.4, 0.8));
    let sustained = ramp(c.voiced, 0.3, 0.7) * (1.0 - ramp(c.decay_db, 8.0, 20.0));
    let breath = ramp(c.high_flat, 0.15, 0.35) * ramp(c.presence_db, -40.0, -25.0);
    let vib = ramp(c.vib_extent, 25.0, 60.0)
        * ramp(c.vib_rate, 2.5, 3.5)
        * (1.0 - ramp(c.vib_rate, 8.0, 10.0));
    // No steady-pitch measurement is no evidence of a steady pitch.
    let steady = if c.pitch_spread.is_finite() {
        1.0 - ramp(c.pitch_spread, 3.0, 8.0)
    } else {
        0.0
    };
    let grid_rigid = if c.grid_dev_ms.is_finite() {
        1.0 - ramp(c.grid_dev_ms, 5.0, 12.0)
    } else {
        0.0
    };
    let grid_loose = if c.grid_dev_ms.is_finite() {
        ramp(c.grid_dev_ms, 8.0, 18.0)
    } else {
        0.5
    };

    // Plucked: onsets that decay while pitched; bends/vibrato on the decaying note raise it.
    let pluck = ramp(c.decay_db, 2.0, 6.0) * pitched * ramp(c.onset_rate, 0.3, 1.0);
    let idiom = (ramp(c.bend_share, 0.1, 0.4) + 0.6 * vib).min(1.0);
    let silk = (pluck * (0.45 + 0.55 * idiom)).max(plucked_layer(c));
    // Bowed: sustained pitch, wide vibrato, little air.
    let nasal = 1.0 - ramp(c.air_db, -25.0, -12.0);
    let bowed = (sustained * nasal * (0.4 + 0.6 * vib) * (1.0 - 0.5 * breath)).max(bowed_layer(c));
    // Wind: sustained pitch with breath noise in 2–8 kHz.
    let wind = sustained * breath * (0.6 + 0.4 * vib.max(ramp(c.level_swing_db, 3.0, 8.0)));
    // Drums: strokes with both low and high parts, not on a machine grid, no held pitch.
    let strokes = percussive * ramp(c.onset_low.min(c.onset_high), 0.1, 0.35);
    let drum = strokes * (0.5 + 0.5 * grid_loose) * (1.0 - 0.7 * grid_rigid);
    // Metal: tonal but inharmonic, bright strikes or long low sustain.
    let metal = ramp(c.inharmonic, 0.2, 0.5) * (1.0 - pitched * 0.7);

    // Held: 30–80 Hz neither falls right after onsets nor dies away over the next second.
    let held = (1.0 - ramp(c.sub_fall_db, 8.0, 16.0))
        * (1.0 - ramp(c.sub_decay_db, 6.0, 12.0))
        * (1.0 - ramp(c.sub_ring_fall_db, 12.0, 20.0));
    let sub = ramp(c.sub_db, -14.0, -6.0) * held * (0.6 + 0.4 * ramp(c.glides as f32, 0.0, 1.0));
    // A drum machine: the onsets around sit on a grid, or a layer of them does (a kick
    // that fills most lines of a grid within ±3 ms, whatever else plays).
    let machine = (ramp(c.onset_rate, 0.6, 1.4) * grid_rigid).max(machine_layer(c));
    // A synth note is held: a tone that dies away after its attack was struck or plucked.
    let held_layer = held_layer(c);
    let synth_alone = pitched
        * steady
        * (1.0 - breath)
        * (1.0 - vib)
        * (1.0 - ramp(c.timbre_change_db, 1.5, 4.0))
        * (1.0 - ramp(c.ring_fall_db, 10.0, 20.0));
    let synth = synth_alone.max(held_layer);
    let tuned = pitched
        * ramp(c.on_semitone, 0.5, 0.8)
        * steady
        * ramp(c.timbre_change_db, 1.0, 3.0)
        * (1.0 - vib);
    let pump = best_pumping(c).map_or(0.0, |p| pump_score(&p));
    LaneId::ALL.map(|lane| {
        let v = match lane {
            LaneId::SilkPlucked => silk,
            LaneId::Bowed => bowed,
            LaneId::Wind => wind,
            LaneId::Drum => drum,
            LaneId::Metal => metal,
            LaneId::SubBass => sub,
            LaneId::DrumMachine => machine,
            LaneId::Synth => synth,
            LaneId::TunedVocal => tuned,
            LaneId::Pumping => pump,
        };
        (v * act).clamp(0.0, 1.0)
    })
}

/// The words for a lane's evidence over a run of blocks.
fn evidence(id: &str, cs: &[BlockCues], bends: &[Bend], start: f64, end: f64) -> String {
    let med = |g: &dyn Fn(&BlockCues) -> f32| {
        pct(&mut cs.iter().map(g).filter(|v| *v != 0.0).collect(), 0.5)
    };
    let vib = |s: &mut String| {
        let (r, e) = (med(&|c| c.vib_rate), med(&|c| c.vib_extent));
        if r.is_finite() && e.is_finite() && e > 20.0 {
            s.push_str(&format!("; vibrato {r:.1} Hz ±{e:.0} cents"));
        }
    };
    let mut s = match id {
        "korean.silk_plucked"
            if cs.iter().filter(|c| plucked_layer(c) >= 0.5).count() * 2 > cs.len() =>
        {
            let mut s = format!(
                "under the mix, about {:.0} plucked notes within 4 s whose partials ring away from \
                 the attack, {:.0} of them bending after it",
                med(&|c| c.plucks as f32),
                med(&|c| c.bent_plucks as f32)
            );
            // The largest bend heard during the segment (a block's context reaches 2 s out).
            if let Some((t, hz, cents)) = cs
                .iter()
                .filter_map(|c| c.pluck_bend)
                .filter(|b| (start..end).contains(&b.0))
                .max_by(|a, b| a.2.abs().total_cmp(&b.2.abs()))
            {
                s.push_str(&format!(
                    "; at {t:.2} s a note near {hz:.0} Hz {} {:.0} cents 160–360 ms after its \
                     attack, a harmonic with it",
                    if cents < 0.0 { "drops" } else { "rises" },
                    cents.abs()
                ));
            }
            s
        }
        "korean.silk_plucked" => {
            let mut s = format!(
                "plucked onsets whose level falls {:.0} dB within 300 ms while pitched",
                med(&|c| c.decay_db)
            );
            if let Some(b) = bends
                .iter()
                .filter(|b| {
                    b.onset_s >= start && b.onset_s < end && (15.0..=250.0).contains(&b.cents.abs())
                })
                .max_by(|a, b| a.cents.abs().total_cmp(&b.cents.abs()))
            {
                s = format!(
                    "after a plucked onset at {:.2} s the pitch {} {:.0} cents within {:.0} ms; {s}",
                    b.onset_s,
                    if b.cents < 0.0 { "drops" } else { "rises" },
                    b.cents.abs(),
                    b.after_ms
                );
            }
            s
        }
        "korean.bowed" => {
            // Hz, vibrato rate and extent, harmonics over fundamental of each block's line.
            let layer: Vec<[f32; 4]> = cs
                .iter()
                .filter(|c| bowed_layer(c) >= 0.5)
                .filter_map(|c| {
                    let p = c.vib_partial?;
                    let (rate, extent) = p.vibrato?;
                    Some([p.hz, rate, extent, p.upper_db.unwrap_or(f32::NAN)])
                })
                .collect();
            if layer.len() * 2 > cs.len() {
                let m = |k: usize| pct(&mut layer.iter().map(|x| x[k]).collect(), 0.5);
                format!(
                    "under the mix, a sustained line near {:.0} Hz swings {:.1} Hz ±{:.0} cents; \
                     its 2nd–4th harmonics carry {:.0} dB more than its fundamental (a nasal \
                     tone), little energy above 4 kHz ({:.0} dB)",
                    m(0),
                    m(1),
                    m(2),
                    m(3),
                    med(&|c| c.air_db)
                )
            } else {
                format!(
                    "sustained pitched tone ({:.0} Hz), little energy above 4 kHz ({:.0} dB)",
                    med(&|c| c.f0_hz),
                    med(&|c| c.air_db)
                )
            }
        }
        "korean.wind" => format!(
            "sustained pitched tone ({:.0} Hz) with breath noise: 2–8 kHz flatness {:.2}",
            med(&|c| c.f0_hz),
            med(&|c| c.high_flat)
        ),
        "korean.drum" => format!(
            "{:.1} strokes/s with low and sharp parts; onsets stray {:.0} ms from a grid{}",
            med(&|c| c.onset_rate),
            med(&|c| c.grid_dev_ms),
            if cs.iter().filter(|c| c.ternary).count() * 2 > cs.len() {
                "; ternary grouping"
            } else {
                ""
            }
        ),
        "korean.metal" => format!(
            "tonal but inharmonic partials in {:.0} % of frames",
            100.0 * med(&|c| c.inharmonic)
        ),
        "pop.sub_bass" => {
            let mut s = format!("30–80 Hz holds {:.0} dB of the level", med(&|c| c.sub_db));
            let g = cs.iter().map(|c| c.glides).max().unwrap_or(0);
            if g > 0 {
                s.push_str("; the bass pitch glides");
            }
            s
        }
        "pop.drum_machine" => {
            let dev = med(&|c| c.grid_dev_ms);
            if dev.is_finite() && dev <= 8.0 {
                format!(
                    "{:.1} onsets/s within {dev:.1} ms of a grid",
                    med(&|c| c.onset_rate)
                )
            } else {
                // The machine layer under looser playing (see `rigid_pulse`).
                format!(
                    "{:.1} hits/s sit within ±3 ms of a {:.2} s grid, on {:.0} % of its lines, among looser onsets",
                    med(&|c| c.pulse.map_or(0.0, |p| p.rate)),
                    med(&|c| c.pulse.map_or(0.0, |p| p.period_s)),
                    100.0 * med(&|c| c.pulse.map_or(0.0, |p| p.cover))
                )
            }
        }
        "pop.synth" => {
            let layered = cs.iter().filter(|c| c.held_partials >= 3).count();
            if layered * 2 >= cs.len() {
                format!(
                    "about {:.0} partials held at a steady pitch and level under a sequenced beat",
                    med(&|c| c.held_partials as f32)
                )
            } else {
                format!(
                    "pitch steady to {:.1} cents, no vibrato, static spectrum",
                    med(&|c| c.pitch_spread)
                )
            }
        }
        "pop.tuned_vocal" => format!(
            "{:.0} % of pitched frames within 10 cents of a semitone",
            100.0 * med(&|c| c.on_semitone)
        ),
        "pop.pumping" => {
            let p: Vec<(Pumping, Option<usize>)> = cs.iter().filter_map(best_pumping_in).collect();
            let per = pct(&mut p.iter().map(|(p, _)| p.period_s).collect(), 0.5);
            let dep = pct(&mut p.iter().map(|(p, _)| p.depth_db).collect(), 0.5);
            // Where the dips were heard: the band most blocks measured them in.
            let mut counts = [0usize; TIMBRE_BANDS + 1];
            for (_, k) in &p {
                counts[k.unwrap_or(TIMBRE_BANDS)] += 1;
            }
            let band = (0..counts.len())
                .max_by_key(|&k| counts[k])
                .unwrap_or(TIMBRE_BANDS);
            let level = if band < TIMBRE_BANDS {
                let (lo, hi) = lens_model::timbre_band_hz(band);
                format!("the {lo:.0}–{hi:.0} Hz level")
            } else {
                "the 200 Hz–4 kHz level".to_string()
            };
            format!("{level} dips {dep:.0} dB every {per:.2} s, falling fast and recovering slowly")
        }
        _ => String::new(),
    };
    if matches!(id, "korean.silk_plucked" | "korean.bowed" | "korean.wind") {
        vib(&mut s);
    }
    s
}

/// Korean-lane scores of one block from the model: the class probability, held down where
/// only pitch behaviour speaks for it (the probability with every pitch cue set to its
/// average must carry at least half of it). On a block the tagger heard, `family` (if any)
/// shares that probability out among the families.
pub fn model_scores(m: &Model, family: Option<&Model>, c: &BlockCues) -> [f32; N_KOREAN] {
    let mut out = [0.0f32; N_KOREAN];
    if c.active < 0.1 {
        return out;
    }
    let x = lens_model::vector(c);
    let korean = |m: &Model| {
        let p = m.probs(&x);
        let mut neutral = x;
        for (i, v) in neutral.iter_mut().enumerate() {
            if lens_model::feature_kind(i) == Kind::Pitch {
                *v = m.mean[i];
            }
        }
        let q = m.probs(&neutral);
        LaneId::KOREAN.map(|lane| lane.class().map_or(0.0, |j| p[j].min(2.0 * q[j])))
    };
    let mut k = korean(m);
    // Whether a Korean timbre is there at all is the signal model's call; which family it
    // is, the model that also hears the tagger's classes (on these recordings the tagger
    // names the family far better than it tells a Korean part from a pop one).
    if c.tagged {
        if let Some(t) = family.filter(|t| !std::ptr::eq(*t, m)) {
            let f = korean(t);
            let (sum, fsum) = (k.iter().sum::<f32>(), f.iter().sum::<f32>());
            if fsum > 1e-6 {
                k = f.map(|v| sum * v / fsum);
            }
        }
    }
    let act = ramp(c.active, 0.1, 0.4);
    for (o, v) in out.iter_mut().zip(k) {
        *o = (v * act).clamp(0.0, 1.0);
    }
    out
}

/// The cues that pushed the model's `class` most over a run of blocks, in words.
fn model_evidence(m: &Model, class: usize, cs: &[BlockCues]) -> String {
    let mut total = vec![0.0f32; lens_model::N_FEATURES];
    let mut xs = vec![0.0f32; lens_model::N_FEATURES];
    let act: Vec<&BlockCues> = cs.iter().filter(|c| c.active >= 0.1).collect();
    for c in &act {
        let x = lens_model::vector(c);
        for (i, v) in m.contributions(class, &x) {
            total[i] += v / act.len() as f32;
        }
        for i in 0..lens_model::N_FEATURES {
            xs[i] += x[i] / act.len() as f32;
        }
    }
    let mut order: Vec<usize> = (0..total.len()).collect();
    order.sort_by(|a, b| total[*b].total_cmp(&total[*a]));
    let named: Vec<String> = order
        .iter()
        .take(3)
        .filter(|&&i| total[i] > 0.0)
        .map(|&i| {
            let high = xs[i] > m.mean[i];
            format!(
                "{} {} than usual",
                lens_model::feature_info(i).0,
                if high { "higher" } else { "lower" }
            )
        })
        .collect();
    if named.is_empty() {
        String::new()
    } else {
        format!("; cues that weighed most: {}", named.join(", "))
    }
}

/// Scores, smoothing and segmentation of all lanes; `bends` feed the evidence wording.
/// Korean lanes come from `model` when one is given, else from the hand-set rules.
pub fn score_lanes(blocks: &[BlockCues], bends: &[Bend], model: Option<&Model>) -> Vec<Lane> {
    score_lanes_with(blocks, bends, model, Model::builtin_for(true))
}

/// [`score_lanes`] with `family` (if any) naming the Korean family of the blocks the tagger
/// heard, where the app uses the shipped tagged model (cross-validation passes its own).
pub fn score_lanes_with(
    blocks: &[BlockCues],
    bends: &[Bend],
    model: Option<&Model>,
    family: Option<&Model>,
) -> Vec<Lane> {
    let korean = match model {
        Some(signal) => KoreanBy::Model { signal, family },
        None => KoreanBy::Rules,
    };
    score_lanes_by(blocks, bends, korean)
}

/// Where the Korean lanes' scores come from.
#[derive(Clone, Copy)]
pub enum KoreanBy<'a> {
    /// The hand-set rules.
    Rules,
    /// The cue model, with the model that names the family where the tagger heard a block.
    Model {
        signal: &'a Model,
        family: Option<&'a Model>,
    },
    /// Scores made elsewhere (a learned head), one row of the five Korean lanes per block.
    Given(&'a [[f32; N_KOREAN]]),
}

/// Scores, smoothing and segmentation of all lanes, the Korean ones from `korean`.
pub fn score_lanes_by(blocks: &[BlockCues], bends: &[Bend], korean: KoreanBy) -> Vec<Lane> {
    let model = match korean {
        KoreanBy::Model { signal, .. } => Some(signal),
        _ => None,
    };
    let learned = !matches!(korean, KoreanBy::Rules);
    // What the partials show of a plucked and a bowed line under the mix: evidence of its own
    // family that stands whichever family is likeliest overall (a gayageum plays against a
    // haegeum, a janggu accompanies both).
    use LaneId as L;
    let under: Vec<[f32; N_KOREAN]> = blocks
        .iter()
        .map(|c| {
            let act = ramp(c.active, 0.1, 0.4);
            let mut u = [0.0; N_KOREAN];
            u[L::SilkPlucked.index()] = plucked_layer(c) * act;
            u[L::Bowed.index()] = bowed_layer(c) * act;
            u
        })
        .collect();
    let raw: Vec<[f32; N_LANES]> = blocks
        .iter()
        .zip(&under)
        .enumerate()
        .map(|(i, (c, u))| {
            let mut r = lane_scores(c);
            let learned_k = match korean {
                KoreanBy::Rules => None,
                KoreanBy::Model { signal, family } => Some(model_scores(signal, family, c)),
                KoreanBy::Given(rows) => Some(rows.get(i).copied().unwrap_or_default()),
            };
            if let Some(mut k) = learned_k {
                let act = ramp(c.active, 0.1, 0.4);
                // Nonghyeon, the bend after a pluck, is the plucked lane's own idiom: where
                // it is measured on real plucks (the rule's decay and onset checks), the
                // rule's score stands even if the fitted weights, which saw few, say less.
                if c.bend_share >= 0.25 {
                    let i = L::SilkPlucked.index();
                    k[i] = k[i].max(r[i]);
                }
                // So is a bowed vibrato heard under the mix, which the block's own cues,
                // measured on the mix as a whole, cannot show the weights.
                for (k, u) in k.iter_mut().zip(u) {
                    *k = k.max(*u);
                }
                r[..N_KOREAN].copy_from_slice(&k);
                // A sound the Korean lanes explain is not also counted as its pop look-alike:
                // a held gayageum, haegeum or daegeum note is not a synth, a janggu's low
                // stroke not an 808, a human drummer's steady beat not a drum machine.
                let sum = |lanes: &[LaneId]| lanes.iter().map(|l| k[l.index()]).sum::<f32>();
                let melodic = sum(&[L::SilkPlucked, L::Bowed, L::Wind]).min(1.0);
                let struck = sum(&[L::Drum, L::Metal]).min(1.0);
                r[L::SubBass.index()] *= 1.0 - struck;
                r[L::DrumMachine.index()] *= 1.0 - struck;
                // Partials held at a steady pitch and level under a programmed beat are
                // none of those: a plucked or bowed note's partials fall or waver.
                let synth = L::Synth.index();
                r[synth] = (r[synth] * (1.0 - melodic)).max(held_layer(c) * act);
                r[L::TunedVocal.index()] *= 1.0 - melodic;
                // A ducked pad's own band dipping on the beat is no melodic line's doing;
                // the level of the whole mid range may be.
                let whole = [c.pumping, c.beat_pumping]
                    .into_iter()
                    .flatten()
                    .map(|p| pump_score(&p))
                    .fold(0.0, f32::max);
                let band = c.band_pumping.map_or(0.0, |(p, _)| pump_score(&p));
                r[L::Pumping.index()] =
                    (whole * act * (1.0 - melodic.max(struck))).max(band * act * (1.0 - struck));
            }
            r
        })
        .collect();
    // Every lane, and the layers, smoothed over ±0.3 s.
    let smooth = smoothed(&raw);
    let under = smoothed(&under);
    // Per block: the Korean lanes together, and the likeliest of them.
    let korean: Vec<(f32, usize)> = smooth
        .iter()
        .map(|m| {
            let best = (0..N_KOREAN)
                .max_by(|x, y| m[*x].total_cmp(&m[*y]))
                .unwrap_or(0);
            (m[..N_KOREAN].iter().sum(), best)
        })
        .collect();
    LaneId::ALL
        .into_iter()
        .map(|lane| {
            let (k, info) = (lane.index(), lane.info());
            let scores: Vec<f32> = smooth
                .iter()
                .map(|m| (m[k] * 100.0).round() / 100.0)
                .collect();
            // Korean lanes from the model are judged in two steps: is a Korean timbre
            // present (the Korean probabilities together), and which family is likeliest.
            let presence: Vec<f32> = if learned && info.family == Family::Korean {
                korean
                    .iter()
                    .zip(&scores)
                    .zip(&under)
                    .map(|((&(sum, best), &own), u)| {
                        if best == k {
                            sum
                        } else {
                            own.min(0.39).max(u[k])
                        }
                    })
                    .collect()
            } else {
                scores.clone()
            };
            let segments = segments_of(&presence)
                .into_iter()
                .map(|(a, b)| {
                    let (start, end) = (a as f64 * LANE_HOP_S, b as f64 * LANE_HOP_S);
                    let score = scores[a..b].iter().sum::<f32>() / (b - a) as f32;
                    let mut ev = evidence(info.id, &blocks[a..b], bends, start, end);
                    if let Some(t) = tagger_says(lane, &blocks[a..b]) {
                        ev = format!("tagger: {t}; signal: {ev}");
                    }
                    if let (Some(m), Some(class)) = (model, lane.class()) {
                        ev.push_str(&model_evidence(m, class, &blocks[a..b]));
                    }
                    ev.push_str(" (a hint, not a verdict)");
                    Segment {
                        start_s: start,
                        end_s: end,
                        score: (score * 100.0).round() / 100.0,
                        evidence: ev,
                        closest: Vec::new(),
                    }
                })
                .collect();
            Lane {
                id: info.id,
                family: info.family,
                label: info.label,
                hop_s: LANE_HOP_S,
                scores,
                segments,
            }
        })
        .collect()
}

/// What the tagger heard of lane `k`'s sound over a run of blocks: the strongest class of
/// the lane's group where it scored highest, with its score ("Zither 0.79"); `None` when the
/// track was not tagged.
fn tagger_says(lane: LaneId, cs: &[BlockCues]) -> Option<String> {
    let g = lane.tagger_group()?;
    let (class, score) = cs
        .iter()
        .filter(|c| c.tagged)
        .map(|c| c.tags[g])
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let name = tagger::labels().get(class)?;
    Some(format!("{name} {score:.2}"))
}

/// Each column's mean over the blocks within ±0.3 s.
fn smoothed<const N: usize>(rows: &[[f32; N]]) -> Vec<[f32; N]> {
    let n = rows.len();
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(3), (i + 4).min(n));
            let mut m = [0.0f32; N];
            for r in &rows[a..b] {
                for (acc, v) in m.iter_mut().zip(r) {
                    *acc += v;
                }
            }
            m.map(|v| v / (b - a) as f32)
        })
        .collect()
}

/// Runs above 0.5 (entered at 0.5, left below 0.4), gaps under 0.5 s bridged, at least 0.5 s long.
fn segments_of(scores: &[f32]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, &s) in scores.iter().enumerate() {
        match start {
            None if s >= 0.5 => start = Some(i),
            Some(a) if s < 0.4 => {
                runs.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        runs.push((a, scores.len()));
    }
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for r in runs {
        match merged.last_mut() {
            Some(last) if r.0 - last.1 < 5 => last.1 = r.1,
            _ => merged.push(r),
        }
    }
    merged.retain(|(a, b)| b - a >= 5);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cues;
    use crate::audio::PcmStore;
    use std::f32::consts::PI;

    const RATE: u32 = 22_050;

    fn run(x: &[f32]) -> Analysis {
        analyze(&PcmStore::from_interleaved(RATE, 1, x))
    }
    fn lane<'a>(a: &'a Analysis, id: &str) -> &'a Lane {
        a.lanes
            .iter()
            .find(|l| l.id == id)
            .expect("every lane is present")
    }
    /// Mean score of a lane between two times.
    fn mean_between(l: &Lane, from: f64, to: f64) -> f32 {
        let (a, b) = (
            (from / l.hop_s) as usize,
            ((to / l.hop_s) as usize).min(l.scores.len()),
        );
        l.scores[a..b].iter().sum::<f32>() / (b - a).max(1) as f32
    }
    /// Deterministic noise in −1 … 1.
    fn noise(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    #[test]
    fn given_korean_scores_drive_the_korean_lanes_and_their_segments() {
        // 6 s of active blocks; a head says "bowed" at 0.9 from 1 to 4 s and nothing else.
        let blocks = vec![
            BlockCues {
                active: 1.0,
                ..Default::default()
            };
            60
        ];
        let given: Vec<[f32; 5]> = (0..60)
            .map(|i| {
                if (10..40).contains(&i) {
                    [0.0, 0.9, 0.0, 0.0, 0.0]
                } else {
                    [0.0; 5]
                }
            })
            .collect();
        let lanes = score_lanes_by(&blocks, &[], KoreanBy::Given(&given));
        let bowed = lanes.iter().find(|l| l.id == "korean.bowed").expect("lane");
        assert_eq!(bowed.segments.len(), 1, "{:?}", bowed.segments);
        let seg = &bowed.segments[0];
        assert!(
            (seg.start_s - 1.0).abs() <= 0.31 && (seg.end_s - 4.0).abs() <= 0.31,
            "{seg:?}"
        );
        assert!(mean_between(bowed, 1.5, 3.5) > 0.8);
        for l in lanes
            .iter()
            .filter(|l| l.family == Family::Korean && l.id != "korean.bowed")
        {
            assert!(l.segments.is_empty(), "{}: {:?}", l.id, l.segments);
        }
        // The same blocks by the rules: no bowed segment from nothing.
        let rules = score_lanes_by(&blocks, &[], KoreanBy::Rules);
        let bowed = rules.iter().find(|l| l.id == "korean.bowed").expect("lane");
        assert!(bowed.segments.is_empty());
    }

    #[test]
    fn sliding_percentiles_match_a_fresh_sort_of_each_window() {
        // Two measurements with repeated values, NaNs and excluded frames; windows that
        // overlap, jump past the last one, shrink at the end and stand empty.
        let mut seed = 7u64;
        let vals: Vec<[f32; 2]> = (0..600)
            .map(|i| {
                let a = (noise(&mut seed) * 8.0).round();
                let b = if i % 17 == 0 {
                    f32::NAN
                } else {
                    noise(&mut seed)
                };
                [a, b]
            })
            .collect();
        let include = |i: usize| i % 5 != 3;
        let mut sl = Sliding::new(2, |k, i| vals[i][k], include);
        let windows = [
            (0, 0),
            (0, 40),
            (10, 60),
            (30, 90),
            (200, 260),
            (250, 300),
            (590, 600),
        ];
        for (lo, hi) in windows {
            sl.slide(lo, hi);
            for (k, col) in sl.cols.iter().enumerate() {
                for q in [0.03, 0.1, 0.5, 0.9, 0.95] {
                    let mut fresh: Vec<f32> = (lo..hi)
                        .filter(|&i| include(i))
                        .map(|i| vals[i][k])
                        .collect();
                    let (want, got) = (pct(&mut fresh, q), col.pct(q));
                    assert!(
                        want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                        "window {lo}..{hi}, column {k}, q {q}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// Plucked notes (decaying harmonics) every 0.6 s; `bend` cents reached 200 ms after the attack.
    fn plucks(bend: f32) -> Vec<f32> {
        let mut x = vec![0.0f32; RATE as usize * 5];
        for k in 0..7 {
            let start = (0.2 + k as f32 * 0.6) * RATE as f32;
            let f0 = 293.66;
            let mut phase = 0.0f32;
            for i in 0..(0.58 * RATE as f32) as usize {
                let t = i as f32 / RATE as f32;
                let c = if t < 0.08 {
                    0.0
                } else {
                    bend * ((t - 0.08) / 0.12).min(1.0)
                };
                phase += 2.0 * PI * f0 * 2f32.powf(c / 1200.0) / RATE as f32;
                let env = (-t / 0.35).exp() * (1.0 - (-t / 0.002).exp());
                let s: f32 = (1..6).map(|h| (h as f32 * phase).sin() / h as f32).sum();
                x[start as usize + i] += 0.4 * env * s;
            }
        }
        x
    }

    #[test]
    fn a_pluck_that_bends_40_cents_is_flagged_and_a_fixed_one_is_not() {
        let bent = run(&plucks(-40.0));
        let drops: Vec<f32> = bent.bends.iter().map(|b| b.cents).collect();
        assert!(drops.len() >= 5, "{drops:?}");
        for d in &drops {
            assert!((d + 40.0).abs() < 10.0, "bend {d} vs −40: {drops:?}");
        }
        let seg = &lane(&bent, "korean.silk_plucked").segments;
        assert!(
            !seg.is_empty(),
            "the bending plucks make a plucked-string segment"
        );
        assert!(seg[0].evidence.contains("drops"), "{}", seg[0].evidence);

        let fixed = run(&plucks(0.0));
        for b in &fixed.bends {
            assert!(
                b.cents.abs() < 8.0,
                "a fixed pluck must not bend: {}",
                b.cents
            );
        }
        assert!(
            mean_between(lane(&fixed, "korean.silk_plucked"), 0.5, 4.0)
                < mean_between(lane(&bent, "korean.silk_plucked"), 0.5, 4.0),
            "bends raise the plucked-string score"
        );
    }

    /// Kick-like hits on 8th notes at 120 BPM, each moved by up to ±`jitter_ms` at random.
    fn kicks(jitter_ms: f32) -> Vec<f32> {
        let mut x = vec![0.0f32; RATE as usize * 10];
        let mut seed = 7u64;
        let mut k = 0;
        loop {
            let t = 0.1 + k as f32 * 0.25 + jitter_ms / 1000.0 * noise(&mut seed);
            let s = (t * RATE as f32) as usize;
            if s + 4000 >= x.len() {
                break;
            }
            let mut phase = 0.0f32;
            for i in 0..4000 {
                let tt = i as f32 / RATE as f32;
                phase += 2.0 * PI * (50.0 + 120.0 * (-tt / 0.03).exp()) / RATE as f32;
                let fade = ((4000 - i) as f32 / 400.0).min(1.0); // no click at the cut
                x[s + i] += fade
                    * (0.7 * (-tt / 0.06).exp() * phase.sin()
                        + 0.2 * (-tt / 0.004).exp() * noise(&mut seed));
            }
            k += 1;
        }
        x
    }

    #[test]
    fn a_quantized_kick_scores_as_drum_machine_and_a_jittered_one_clearly_lower() {
        let q = run(&kicks(0.0));
        let j = run(&kicks(25.0));
        let (sq, sj) = (
            mean_between(lane(&q, "pop.drum_machine"), 2.0, 8.0),
            mean_between(lane(&j, "pop.drum_machine"), 2.0, 8.0),
        );
        assert!(sq > 0.6, "quantized: {sq}");
        assert!(sj < sq - 0.3, "jittered {sj} vs quantized {sq}");
        assert!(q.grid.is_some_and(|g| g.deviation_ms < 6.0), "{:?}", q.grid);
    }

    #[test]
    fn a_quantized_kick_under_loose_plucks_still_reads_as_a_drum_machine() {
        // The kicks of the test above on every beat (0.5 s), plus a plucked melody in free
        // time: the onsets' intervals no longer fit a grid, the kick layer still does.
        let mut seed = 11u64;
        let mut x = kicks(0.0);
        let plucks = plucks(0.0);
        for (k, v) in x.iter_mut().enumerate() {
            let t = k as f32 / RATE as f32;
            // Drop the off-beat kicks so the machine layer is a quarter-note kick only.
            if (t - 0.1).rem_euclid(0.5) > 0.25 {
                *v = 0.0;
            }
        }
        // One plucked note, placed at irregular times (gaps of 0.2-0.45 s) like a free melody.
        let note = &plucks[(0.2 * RATE as f32) as usize..(0.75 * RATE as f32) as usize];
        let mut at = 0.33f32;
        while ((at * RATE as f32) as usize) + note.len() < x.len() {
            let s0 = (at * RATE as f32) as usize;
            for (k, p) in note.iter().enumerate() {
                x[s0 + k] += 0.8 * p;
            }
            at += 0.325 + 0.125 * noise(&mut seed);
        }
        let a = run(&x);
        let m = mean_between(lane(&a, "pop.drum_machine"), 2.0, 4.0);
        assert!(m > 0.5, "drum machine under plucks: {m}");
        let p = a.blocks[30].pulse.expect("the kick layer is found");
        let seg = &lane(&a, "pop.drum_machine").segments;
        assert!(
            seg.iter().any(|s| s.evidence.contains("within ±3 ms")),
            "the evidence names the rigid layer: {seg:?}"
        );
        assert!(
            (p.period_s - 0.5).abs() < 0.01 || (p.period_s - 1.0).abs() < 0.02,
            "{p:?}"
        );
    }

    #[test]
    fn rigid_pulse_finds_a_sequenced_layer_and_not_a_human_one() {
        let mut seed = 5u64;
        // 120 BPM kick on every beat for 8 s, plus 12 onsets of a melody at random times.
        let mut machine: Vec<f64> = (0..16).map(|k| 0.2 + k as f64 * 0.5).collect();
        machine.extend((0..12).map(|_| 4.0 + 4.0 * noise(&mut seed) as f64));
        machine.sort_by(|a, b| a.total_cmp(b));
        let p = cues::rigid_pulse(&machine, 0.5, 0.0, 8.0).expect("a sequenced kick is a pulse");
        assert!(p.cover > 0.9 && (p.rate - 2.0).abs() < 0.2, "{p:?}");
        // A drummer on the same beats, each hit up to ±20 ms off.
        let human: Vec<f64> = (0..16)
            .map(|k| 0.2 + k as f64 * 0.5 + 0.02 * noise(&mut seed) as f64)
            .collect();
        let h = cues::rigid_pulse(&human, 0.5, 0.0, 8.0);
        assert!(h.is_none_or(|h| h.cover < 0.6), "{h:?}");
    }

    /// A bowed-like line under a louder 808 and kick: long notes around 600 Hz with a
    /// vibrato of `rate` Hz, ±`extent` cents; `nasal`: harmonics near 1.5 kHz louder than
    /// the fundamental (else a pure tone, as a flute or a sine lead).
    fn line_under_a_beat(rate: f32, extent: f32, nasal: bool) -> Vec<f32> {
        let notes = [587.33f32, 659.25, 523.25, 587.33];
        let mut ph = 0.0f32;
        let mut sub = 0.0f32;
        (0..RATE * 12)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let (k, tn) = ((t / 3.0) as usize, t % 3.0);
                let vib = extent * (2.0 * PI * rate * tn).sin() * (tn / 0.4).min(1.0);
                ph = (ph + notes[k % 4] * 2f32.powf(vib / 1200.0) / RATE as f32).fract();
                let env = (tn / 0.08).min(1.0) * ((3.0 - tn) / 0.1).min(1.0);
                let line: f32 = if nasal {
                    (1..=8)
                        .map(|h| {
                            let fk = notes[k % 4] * h as f32;
                            let formant = 1.0 + 2.5 * (-((fk - 1500.0) / 500.0).powi(2)).exp();
                            (2.0 * PI * ph * h as f32).sin() * formant / h as f32
                        })
                        .sum()
                } else {
                    (2.0 * PI * ph).sin()
                };
                sub += 2.0 * PI * 48.0 / RATE as f32;
                let since = t % 0.625;
                let kick = (2.0 * PI * 60.0 * since).sin() * (-since / 0.15).exp();
                0.08 * env * line + 0.3 * sub.sin() + 0.4 * kick
            })
            .collect()
    }

    /// Plucked notes of 262–523 Hz on every beat of a louder kick and 48 Hz sub (each up to
    /// 15 ms off the beat), harmonics 1–8 dying away at `decay` + 0.9·h per second; each note
    /// moves by `bend` cents from 150 to 270 ms after its attack.
    fn plucks_under_a_beat(bend: f32, decay: f32) -> Vec<f32> {
        let notes = [261.63f32, 293.66, 349.23, 392.0, 440.0, 523.25];
        let mut x = vec![0.0f32; RATE as usize * 12];
        let mut seed = 3u64;
        for (k, at) in (0..19).map(|k| (k, 0.3 + k as f32 * 0.625)) {
            let at = at + 0.015 * noise(&mut seed);
            let f0 = notes[k % notes.len()];
            let mut ph = [0.0f32; 8];
            let n0 = (at * RATE as f32) as usize;
            for i in 0..(2.0 * RATE as f32) as usize {
                let t = i as f32 / RATE as f32;
                let u = ((t - 0.15) / 0.12).clamp(0.0, 1.0);
                let f = f0 * 2f32.powf(bend * u * u * (3.0 - 2.0 * u) / 1200.0);
                let mut v = 0.0;
                for (h, p) in ph.iter_mut().enumerate() {
                    let h = (h + 1) as f32;
                    *p = (*p + f * h / RATE as f32).fract();
                    v += (2.0 * PI * *p).sin() * (-t * (decay + 0.9 * h)).exp() / h.powf(1.1);
                }
                if let Some(s) = x.get_mut(n0 + i) {
                    *s += 0.1 * v * (t / 0.003).min(1.0);
                }
            }
        }
        let mut sub = 0.0f32;
        for (i, s) in x.iter_mut().enumerate() {
            let t = i as f32 / RATE as f32;
            sub += 2.0 * PI * 48.0 / RATE as f32;
            let since = (t - 0.3).rem_euclid(0.625);
            *s += 0.3 * sub.sin() + 0.4 * (2.0 * PI * 60.0 * since).sin() * (-since / 0.15).exp();
        }
        x
    }

    #[test]
    fn plucks_that_bend_after_the_attack_are_heard_under_a_beat() {
        let layer = |a: &Analysis| {
            let b = &a.blocks[20..100];
            b.iter().map(plucked_layer).sum::<f32>() / b.len() as f32
        };
        let a = run(&plucks_under_a_beat(-40.0, 1.5));
        // The mono pitch track follows the bass, not the plucks.
        assert!(a.bends.len() < 3, "{:?}", a.bends);
        assert!(layer(&a) > 0.5, "{}", layer(&a));
        let seg = &lane(&a, "korean.silk_plucked").segments;
        assert!(
            seg.iter().any(|s| s.evidence.contains("under the mix")
                && s.evidence.contains("drops")
                && s.end_s - s.start_s > 5.0),
            "{seg:?}"
        );
        // The same plucks at a fixed pitch (a guitar, a harp, a synth pluck), and a tom whose
        // pitch falls as it dies within a fraction of a second, are not.
        let fixed = layer(&run(&plucks_under_a_beat(0.0, 1.5)));
        assert!(fixed < 0.1, "fixed pitch: {fixed}");
        let tom = layer(&run(&plucks_under_a_beat(-40.0, 12.0)));
        assert!(tom < 0.1, "fast decay: {tom}");
    }

    /// Mean [`bowed_layer`] over 2–10 s.
    fn bowed_layer_mean(a: &Analysis) -> f32 {
        let b = &a.blocks[20..100];
        b.iter().map(bowed_layer).sum::<f32>() / b.len() as f32
    }

    #[test]
    fn a_nasal_line_with_a_slow_wide_vibrato_is_heard_as_bowed_under_a_beat() {
        let a = run(&line_under_a_beat(4.0, 90.0, true));
        let v = a.blocks[20..100]
            .iter()
            .filter_map(|c| c.vib_partial?.vibrato)
            .collect::<Vec<_>>();
        assert!(
            v.len() > 40,
            "the line's vibrato is followed under the beat: {v:?}"
        );
        let (r, e) = v[v.len() / 2];
        assert!(
            (r - 4.0).abs() < 0.4 && (e - 90.0).abs() < 20.0,
            "{r} Hz ±{e}"
        );
        assert!(bowed_layer_mean(&a) > 0.5, "{}", bowed_layer_mean(&a));
        let seg = &lane(&a, "korean.bowed").segments;
        assert!(
            seg.iter()
                .any(|s| s.evidence.contains("under the mix") && s.end_s - s.start_s > 3.0),
            "{seg:?}"
        );
    }

    #[test]
    fn a_pure_tone_or_a_fast_vibrato_is_not_heard_as_bowed() {
        // The same vibrato on a tone without upper harmonics (a flute, a sine lead): no
        // timbral evidence.
        let pure = bowed_layer_mean(&run(&line_under_a_beat(4.0, 90.0, false)));
        assert!(pure < 0.1, "pure tone: {pure}");
        // A singer's faster, narrower vibrato on the nasal tone.
        let sung = bowed_layer_mean(&run(&line_under_a_beat(6.5, 40.0, true)));
        assert!(sung < 0.1, "6.5 Hz ±40 cents: {sung}");
    }

    /// A sawtooth A-major pad at time `t`, ducked at the start of every `period` and
    /// recovering over the next 150 ms (a sidechain's pumping).
    fn ducked_pad(t: f32, period: f32) -> f32 {
        let saw = |f: f32| 2.0 * ((t * f).fract()) - 1.0;
        let pad = (saw(220.0) + saw(277.18) + saw(329.63)) / 3.0;
        let ph = (t % period) / period;
        pad * (1.0 - 0.8 * (-ph / 0.15).exp())
    }

    #[test]
    fn a_sidechain_pumped_pad_is_found_with_its_period() {
        let period = 0.5f32;
        let x: Vec<f32> = (0..RATE * 10)
            .map(|i| 0.4 * ducked_pad(i as f32 / RATE as f32, period))
            .collect();
        let a = run(&x);
        let l = lane(&a, "pop.pumping");
        assert!(mean_between(l, 2.0, 8.0) > 0.5, "{:?}", &l.scores[20..80]);
        let p =
            cues::pumping_in(&cues::mid_level(&a.features)[200..800]).expect("pumping measured");
        assert!((p.period_s - period).abs() < 0.03, "period {}", p.period_s);
        assert!(
            l.segments.iter().any(|s| s.evidence.contains("0.50 s")),
            "{:?}",
            l.segments
        );
    }

    #[test]
    fn a_pumped_pad_under_a_louder_steady_line_is_found_in_its_own_band() {
        // The pad (220–330 Hz, ducked on every beat of a 50 Hz kick) lies 12 dB under a
        // steady 1.8 kHz line that fills the rest of the mid range, so the level of the whole
        // 200 Hz–4 kHz region hardly moves; the pad's own band still dips.
        let period = 0.5f32;
        let x: Vec<f32> = (0..RATE * 10)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let since = t % period;
                let kick = (2.0 * PI * 50.0 * since).sin() * (-since / 0.08).exp();
                let line = (2.0 * PI * 1800.0 * t).sin();
                0.1 * ducked_pad(t, period) + 0.4 * line + 0.4 * kick
            })
            .collect();
        let a = run(&x);
        let whole = a.blocks[20..80]
            .iter()
            .filter_map(|c| {
                [c.pumping, c.beat_pumping]
                    .into_iter()
                    .flatten()
                    .map(|p| pump_score(&p))
                    .reduce(f32::max)
            })
            .fold(0.0f32, f32::max);
        assert!(
            whole < 0.3,
            "the whole mid range should not show the ducks: {whole}"
        );
        // The hand-set rules alone: the shipped model hears the pure 1.8 kHz tone as a flute
        // and would hold every pop lane down under it.
        let lanes = score_lanes(&a.blocks, &a.bends, None);
        let l = lanes
            .iter()
            .find(|l| l.id == "pop.pumping")
            .expect("pumping lane");
        assert!(mean_between(l, 2.0, 8.0) > 0.5, "{:?}", &l.scores[20..80]);
        let seg = l.segments.iter().find(|s| s.start_s < 5.0 && s.end_s > 5.0);
        let ev = seg.map(|s| s.evidence.as_str()).unwrap_or_default();
        assert!(ev.contains("0.50 s"), "{:?}", l.segments);
        let band: Vec<f32> = ev
            .split_once(" Hz level")
            .map(|(b, _)| {
                b.rsplit(' ')
                    .next()
                    .unwrap_or("")
                    .split('–')
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            band.len() == 2 && band[0] >= 160.0 && band[1] <= 1000.0,
            "the dips are named in a band the sawtooth pad fills, under the 1.8 kHz line: {ev}"
        );
    }

    /// A 110 Hz sawtooth re-attacked every 1.5 s for 9 s; `fall_db_per_s` is how fast each
    /// note dies away (0: held, as a synth plays it).
    fn reattacked_saw(fall_db_per_s: f32) -> Vec<f32> {
        (0..RATE * 9)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let since = t % 1.5;
                let attack = (since / 0.005).min(1.0);
                let env = attack * 10f32.powf(-fall_db_per_s * since / 20.0);
                let saw: f32 = (1..12)
                    .map(|h| (2.0 * PI * 110.0 * h as f32 * t).sin() / h as f32)
                    .sum();
                0.3 * env * saw
            })
            .collect()
    }

    #[test]
    fn a_tone_that_dies_away_after_each_attack_is_not_a_held_synth_note() {
        let held = run(&reattacked_saw(0.0));
        let struck = run(&reattacked_saw(25.0));
        let (h, s) = (
            mean_between(lane(&held, "pop.synth"), 1.0, 8.0),
            mean_between(lane(&struck, "pop.synth"), 1.0, 8.0),
        );
        assert!(h > 0.4, "held sawtooth: synth {h}");
        assert!(s < 0.1, "a note falling 25 dB/s is no held synth note: {s}");
        // 50 ms to 1 s after the attack: 25 dB/s × 0.95 s.
        let ring = struck.blocks[30..70]
            .iter()
            .map(|c| c.ring_fall_db)
            .fold(f32::NAN, f32::max);
        assert!(
            (ring - 23.75).abs() < 3.0,
            "measured fall over the second after the attack: {ring}"
        );
    }

    #[test]
    fn an_808_glide_is_found() {
        // 55 Hz for 1 s, gliding down to 41.2 Hz (−5 semitones) over 0.3 s, held 1 s.
        let mut phase = 0.0f32;
        let x: Vec<f32> = (0..(RATE as f32 * 2.5) as usize)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let f = if t < 1.0 {
                    55.0
                } else if t < 1.3 {
                    55.0 * 2f32.powf(-5.0 * (t - 1.0) / 0.3 / 12.0)
                } else {
                    41.2
                };
                phase += 2.0 * PI * f / RATE as f32;
                0.6 * phase.sin()
            })
            .collect();
        let a = run(&x);
        let g = a
            .glides
            .iter()
            .find(|g| g.start_s > 0.8 && g.start_s < 1.3)
            .unwrap_or_else(|| panic!("{:?}", a.glides));
        assert!(g.from_hz > g.to_hz);
        assert!(
            (1200.0 * (g.from_hz / g.to_hz).log2() - 500.0).abs() < 120.0,
            "{g:?}"
        );
        assert!(mean_between(lane(&a, "pop.sub_bass"), 0.5, 2.0) > 0.5);
    }

    #[test]
    fn blocks_take_the_tagger_windows_that_hold_them_and_the_evidence_names_the_class() {
        let names = tagger::labels();
        let zither = names.iter().position(|n| n == "Zither").expect("Zither");
        let harp = names.iter().position(|n| n == "Harp").expect("Harp");
        let win = |a: f64, b: f64, z: f32, h: f32| {
            let mut scores = vec![0.0f32; tagger::CLASSES];
            scores[zither] = z;
            scores[harp] = h;
            WindowTags {
                start_s: a,
                end_s: b,
                scores,
                embedding: Vec::new(),
            }
        };
        // Two windows overlapping over 8–10 s, the second one's plucked strings a harp.
        let w = [win(0.0, 10.0, 0.8, 0.1), win(8.0, 18.0, 0.2, 0.6)];
        let mut blocks = vec![BlockCues::default(); 200];
        set_block_tags(&mut blocks, &w);
        let plucked = |t: f64| blocks[(t / LANE_HOP_S) as usize].tags[0];
        assert_eq!(plucked(2.0), (zither, 0.8));
        assert_eq!(plucked(15.0), (harp, 0.6));
        // Both windows hold 9 s: their mean, named by the class that scored highest.
        let (class, mean) = plucked(9.0);
        assert_eq!(class, zither);
        assert!((mean - 0.7).abs() < 1e-6, "{mean}");
        // Past the last window, the nearest one.
        assert_eq!(plucked(19.5), (harp, 0.6));
        assert!(blocks.iter().all(|c| c.tagged));
        assert_eq!(
            tagger_says(LaneId::SilkPlucked, &blocks[..50]).as_deref(),
            Some("Zither 0.80")
        );
        // An untagged track: nothing to say.
        assert_eq!(
            tagger_says(LaneId::SilkPlucked, &vec![BlockCues::default(); 5]),
            None
        );
    }

    #[test]
    fn the_demo_timeline_is_recovered_by_the_lanes_with_and_without_the_tagger() {
        let x = crate::demo::render();
        let store = PcmStore::from_interleaved(crate::demo::SAMPLE_RATE, 2, &x);
        let plain = analyze(&store);
        let mut tagged = plain.clone();
        let t = tagger::Tagger::new().expect("the built-in tagger loads");
        let w = t
            .tag_track(&store, 2, |_, _| {}, || true)
            .expect("the demo is tagged");
        add_tags(&mut tagged, &w);
        let mut missed = Vec::new();
        for (a, part) in [&plain, &tagged]
            .into_iter()
            .flat_map(|a| crate::demo::TIMELINE.iter().map(move |p| (a, p)))
        {
            let l = lane(&a, part.lane);
            let covered: f64 = l
                .segments
                .iter()
                .map(|s| (s.end_s.min(part.end_s) - s.start_s.max(part.start_s)).max(0.0))
                .sum();
            let share = covered / (part.end_s - part.start_s);
            if share < 0.5 {
                missed.push(format!(
                    "{}{} {}–{} s: {:.0} % covered; segments {:?}",
                    if a.blocks.iter().any(|c| c.tagged) {
                        "with the tagger: "
                    } else {
                        ""
                    },
                    part.lane,
                    part.start_s,
                    part.end_s,
                    share * 100.0,
                    l.segments
                ));
            }
        }
        assert!(missed.is_empty(), "{}", missed.join("\n"));
        // With the tagger, a Korean segment cites the references it sounds closest to;
        // without it there is no embedding to cite by, and nothing is made up.
        let korean = |a: &Analysis| -> Vec<Segment> {
            a.lanes
                .iter()
                .filter(|l| l.family == Family::Korean)
                .flat_map(|l| l.segments.clone())
                .collect()
        };
        assert!(!korean(&tagged).is_empty());
        for s in korean(&tagged) {
            assert!(!s.closest.is_empty() && s.closest.len() <= CITED, "{s:?}");
            assert!(
                s.closest
                    .windows(2)
                    .all(|w| w[0].similarity >= w[1].similarity)
            );
            assert!(
                s.closest
                    .iter()
                    .all(|c| !c.source.is_empty() && !c.file.is_empty())
            );
        }
        assert!(korean(&plain).iter().all(|s| s.closest.is_empty()));
        assert!(
            lane(&tagged, "pop.sub_bass")
                .segments
                .iter()
                .all(|s| s.closest.is_empty())
        );
        assert_eq!(
            tagged.timbre.len(),
            (store.duration_s() / TIMBRE_HOP_S).ceil() as usize
        );
        let mut back = tagged.clone();
        remove_tags(&mut back);
        assert!(back.timbre.is_empty() && korean(&back).iter().all(|s| s.closest.is_empty()));
    }
}
