//! The fusion lens: ten lanes (DESIGN.md section 4), each a score in [0, 1] every 0.1 s,
//! with segments where the lane is judged present and an evidence sentence per segment.
//!
//! Scores are hints built from named measurements; the evidence says which ones fired.
//! Pitch behaviour alone never makes a Korean segment: every Korean lane also needs its
//! timbral cue (plucked decay, nasal or breathy spectrum, drum strokes, metal partials).
//!
//! Read it in the order the data flows: `blocks` measures the cues of each 0.1 s block,
//! `scores` turns a block's cues into a score per lane (rules, or the fitted model),
//! `segments` smooths the scores into lanes and their segments, and `evidence` writes the
//! sentence each segment carries. This file holds the types and the entry points
//! ([`analyze`], [`analyze_file_tagged`]) with the tagger and reference steps.

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

mod blocks;
mod evidence;
mod scores;
mod segments;
#[cfg(test)]
mod tests;

pub use blocks::block_cues;
use blocks::*;
use evidence::*;
use scores::*;
pub use scores::{activity, lane_scores, model_scores};
pub use segments::{KoreanBy, score_lanes, score_lanes_by, score_lanes_with};

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
