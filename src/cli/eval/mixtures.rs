//! Mixtures `sori eval` and `sori train` build: a Korean clip laid over a pop or look-alike
//! bed at a known time and level, with the blocks where the clip sounds as the truth.

use std::path::Path;

use anyhow::{Context, Result};

use super::Loaded;
use super::manifest::{Row, group_of, is_korean_solo};
use crate::analysis::features::mono_decimated;
use crate::analysis::lens::{Analysis, LANE_HOP_S};
use crate::analysis::tagger::{Embedding, Tagger};
use crate::audio::PcmStore;

pub const MIX_AT_S: f64 = 3.0;
pub const MIX_CLIP_MAX_S: f64 = 8.0;

/// One Korean clip laid over a bed, analysed.
pub struct Mix {
    pub clip: usize,
    pub bed: usize,
    /// Level of the clip against the bed, dB (RMS).
    pub gain_db: f32,
    pub lane: String,
    pub truth: Vec<bool>,
    pub an: Analysis,
    /// Per block, the tagger's hidden features (empty without the tagger).
    pub emb: Vec<Option<Embedding>>,
}

/// One mixture to build: (clip row, bed row, level in dB).
pub type Job = (usize, usize, f32);

/// Mono at exactly 22 050 Hz (decimation, then linear interpolation).
fn mono_22k(store: &PcmStore) -> Vec<f32> {
    let (x, rate) = mono_decimated(store, 22_050.0);
    if (rate - 22_050.0).abs() < 0.5 {
        return x;
    }
    let n = (x.len() as f64 * 22_050.0 / rate as f64) as usize;
    (0..n)
        .map(|i| {
            let p = i as f64 * rate as f64 / 22_050.0;
            let k = p.floor() as usize;
            let t = (p - k as f64) as f32;
            let a = x.get(k).copied().unwrap_or(0.0);
            let b = x.get(k + 1).copied().unwrap_or(a);
            a + (b - a) * t
        })
        .collect()
}

fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        0.0
    } else {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }
}

/// Lays `clip` (at most 8 s) at 3 s over `bed` (looped; long beds from 20 s in) at `gain_db`
/// against the bed's RMS. Returns the mono 22 050 Hz mix and, per 0.1 s block, whether the
/// clip sounds there (within 30 dB of its loudest block).
fn build_mix(clip_store: &PcmStore, bed_store: &PcmStore, gain_db: f32) -> (Vec<f32>, Vec<bool>) {
    let rate = 22_050usize;
    let mut clip = mono_22k(clip_store);
    clip.truncate((MIX_CLIP_MAX_S * rate as f64) as usize);
    let bed_src = mono_22k(bed_store);
    let len = ((MIX_AT_S + clip.len() as f64 / rate as f64 + 3.0) * rate as f64) as usize;
    let skip = if bed_src.len() > len + 20 * rate {
        20 * rate
    } else {
        0
    };
    let mut mix: Vec<f32> = (0..len)
        .map(|i| {
            bed_src
                .get((skip + i) % bed_src.len().max(1))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    let bed_rms = rms(&mix);
    let block = rate / 10;
    let levels: Vec<f32> = clip.chunks(block).map(rms).collect();
    let top = levels.iter().copied().fold(0.0f32, f32::max);
    let sounding: Vec<bool> = levels
        .iter()
        .map(|l| *l > top * 10f32.powf(-30.0 / 20.0))
        .collect();
    let clip_rms = {
        let v: Vec<f32> = clip
            .chunks(block)
            .zip(&sounding)
            .filter(|(_, s)| **s)
            .flat_map(|(c, _)| c.iter().copied())
            .collect();
        rms(&v)
    };
    let g = if clip_rms > 0.0 {
        10f32.powf(gain_db / 20.0) * bed_rms.max(1e-4) / clip_rms
    } else {
        0.0
    };
    let at = (MIX_AT_S * rate as f64) as usize;
    for (i, v) in clip.iter().enumerate() {
        if let Some(m) = mix.get_mut(at + i) {
            *m += g * v;
        }
    }
    let peak = mix.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 1.0 {
        mix.iter_mut().for_each(|v| *v /= peak);
    }
    let n_blocks = (len as f64 / rate as f64 / LANE_HOP_S).ceil() as usize;
    let at_block = (MIX_AT_S / LANE_HOP_S).round() as usize;
    let truth: Vec<bool> = (0..n_blocks)
        .map(|i| i >= at_block && sounding.get(i - at_block).copied().unwrap_or(false))
        .collect();
    (mix, truth)
}

/// A mono 16-bit PCM WAV file of `x`.
fn wav_16bit(x: &[f32], rate: u32) -> Vec<u8> {
    let data = (x.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for v in x {
        out.extend_from_slice(&((v.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    out
}

fn beds(rows: &[Row], ok: &dyn Fn(usize) -> bool) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| (rows[i].family == "pop" || rows[i].family == "other") && ok(i))
        .collect()
}

fn clips(rows: &[Row], ok: &dyn Fn(usize) -> bool) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| is_korean_solo(&rows[i]) && ok(i))
        .collect()
}

/// The mixtures `sori eval` scores: each Korean clip over `per_clip` beds (pop and other
/// files) of its own fold, the fold's beds taken in turn so that each is used, and the same
/// pairs at every level. A clip and its bed sit in one fold, so a fold's models have heard
/// neither. A fold without beds borrows any bed of another recording.
pub fn eval_jobs(
    rows: &[Row],
    ok: &dyn Fn(usize) -> bool,
    folds: &[usize],
    levels: &[f32],
    per_clip: usize,
) -> Vec<Job> {
    let all_beds = beds(rows, ok);
    let mut turn = vec![0usize; folds.iter().copied().max().map_or(1, |m| m + 1)];
    let mut pairs = Vec::new();
    for c in clips(rows, ok) {
        let g = group_of(&rows[c]);
        let other_recording = |b: &usize| group_of(&rows[*b]) != g;
        let fold = folds.get(c).copied().unwrap_or(0);
        let mut mine: Vec<usize> = all_beds
            .iter()
            .copied()
            .filter(|b| folds.get(*b) == Some(&fold))
            .filter(other_recording)
            .collect();
        if mine.is_empty() {
            mine = all_beds.iter().copied().filter(other_recording).collect();
        }
        if mine.is_empty() {
            continue;
        }
        let last = turn.len() - 1;
        let t = &mut turn[fold.min(last)];
        for _ in 0..per_clip.min(mine.len()) {
            pairs.push((c, mine[*t % mine.len()]));
            *t += 1;
        }
    }
    levels
        .iter()
        .flat_map(|&g| pairs.iter().map(move |&(c, b)| (c, b, g)))
        .collect()
}

/// Gains of the Korean clip against the bed in the training mixtures, dB.
pub const TRAIN_GAINS: [f32; 3] = [-6.0, 0.0, 6.0];

/// The mixtures `sori train` (and each fold's fit) learns from: other pairings than the
/// scored ones, at [`TRAIN_GAINS`]; clip `k` lies over pop bed `(7k + 3 + 5·level) mod n`.
pub fn train_jobs(rows: &[Row], ok: &dyn Fn(usize) -> bool) -> Vec<Job> {
    pairings(rows, ok, &|r| r.family == "pop", &TRAIN_GAINS)
}

/// Gains of the Korean clip against the bed in the mixtures the heads learn from, dB.
pub const HEAD_GAINS: [f32; 4] = [-12.0, -6.0, 0.0, 6.0];

/// The mixtures the heads over the tagger's hidden features learn from: as [`train_jobs`],
/// over pop and look-alike beds alike and at [`HEAD_GAINS`] (against -6 to +6 dB over pop
/// beds alone, the linear head's false-positive time fell from 0.064 to 0.054 and its
/// mixture F1 at -3 dB rose from 0.51 to 0.59, with the Debian negatives).
pub fn head_jobs(rows: &[Row], ok: &dyn Fn(usize) -> bool) -> Vec<Job> {
    pairings(rows, ok, &|_| true, &HEAD_GAINS)
}

/// Clip `k` over bed `(7k + 3 + 5·level) mod n` of the beds `bed` admits, at each gain.
fn pairings(
    rows: &[Row],
    ok: &dyn Fn(usize) -> bool,
    bed: &dyn Fn(&Row) -> bool,
    gains: &[f32],
) -> Vec<Job> {
    let beds: Vec<usize> = beds(rows, ok)
        .into_iter()
        .filter(|&i| bed(&rows[i]))
        .collect();
    if beds.is_empty() {
        return Vec::new();
    }
    let mut jobs = Vec::new();
    for (gi, &g) in gains.iter().enumerate() {
        for (k, c) in clips(rows, ok).into_iter().enumerate() {
            jobs.push((c, beds[(k * 7 + 3 + gi * 5) % beds.len()], g));
        }
    }
    jobs
}

/// The training mixtures of `jobs` ([`train_jobs`] or [`head_jobs`]), built and analysed.
pub fn train_mixtures(
    rows: &[Row],
    loaded: &Loaded,
    jobs: fn(&[Row], &dyn Fn(usize) -> bool) -> Vec<Job>,
    tagger: Option<&Tagger>,
) -> Result<Vec<Mix>> {
    let ok = |i: usize| loaded[i].is_some();
    mixtures(rows, loaded, &jobs(rows, &ok), None, tagger)
}

/// Builds and analyses `jobs`, one per core. With `write`, each mixture is also written
/// there as a WAV file while it is built.
pub fn mixtures(
    rows: &[Row],
    loaded: &Loaded,
    jobs: &[Job],
    write: Option<&Path>,
    tagger: Option<&Tagger>,
) -> Result<Vec<Mix>> {
    if let Some(dir) = write {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let stem = |i: usize| {
        rows[i]
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    eprintln!("analysing {} mixtures…", jobs.len());
    crate::parallel::map(jobs, |_, &(c, b, g)| {
        let (Some(clip), Some(bed)) = (&loaded[c], &loaded[b]) else {
            return None;
        };
        let (mix, truth) = build_mix(&clip.store, &bed.store, g);
        if let Some(dir) = write {
            let path = dir.join(format!("{}+{}{:+.0}dB.wav", stem(c), stem(b), g));
            if let Err(e) = crate::notes::save::atomic_write(&path, &wav_16bit(&mix, 22_050)) {
                return Some(Err(anyhow::anyhow!(
                    "could not write {} ({e})",
                    path.display()
                )));
            }
        }
        let store = PcmStore::from_interleaved(22_050, 1, &mix);
        Some(super::analyze_tagged(&store, tagger).map(|(an, emb)| Mix {
            clip: c,
            bed: b,
            gain_db: g,
            lane: rows[c].lane.clone(),
            truth,
            an,
            emb,
        }))
    })
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn row(file: &str, family: &str, lane: &str) -> Row {
        Row {
            file: PathBuf::from(file),
            family: family.into(),
            lane: lane.into(),
            instrument: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn scored_mixtures_pair_a_clip_with_beds_of_its_own_fold_and_use_every_bed() {
        let mut rows = Vec::new();
        for i in 0..6 {
            rows.push(row(&format!("k{i}.wav"), "korean", "korean.bowed"));
        }
        for i in 0..6 {
            rows.push(row(&format!("p{i}.wav"), "pop", "pop.synth"));
        }
        rows.push(row("o.wav", "other", "other"));
        let folds: Vec<usize> = (0..rows.len()).map(|i| i % 3).collect();
        let levels = [0.0, -9.0];
        let jobs = eval_jobs(&rows, &|_| true, &folds, &levels, 2);
        assert_eq!(jobs.len(), 6 * 2 * 2, "two beds a clip at each level");
        for &(c, b, _) in &jobs {
            assert!(c < 6 && b >= 6, "a Korean clip over a bed");
            assert_eq!(folds[c], folds[b], "clip {c} and bed {b} in other folds");
        }
        for b in 6..rows.len() {
            assert!(jobs.iter().any(|j| j.1 == b), "bed {b} unused");
        }
        let at = |g: f32| -> Vec<(usize, usize)> {
            jobs.iter()
                .filter(|j| j.2 == g)
                .map(|j| (j.0, j.1))
                .collect()
        };
        assert_eq!(at(0.0), at(-9.0), "the same pairs at every level");
    }

    #[test]
    fn a_mixture_holds_the_clip_where_its_truth_says_at_the_level_asked() {
        let rate = 22_050u32;
        let tone: Vec<f32> = (0..rate as usize * 2)
            .map(|i| 0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
            .collect();
        let noise: Vec<f32> = (0..rate as usize)
            .map(|i| 0.1 * (((i * 7919) % 1000) as f32 / 500.0 - 1.0))
            .collect();
        let clip = PcmStore::from_interleaved(rate, 1, &tone);
        let bed = PcmStore::from_interleaved(rate, 1, &noise);
        for gain in [0.0f32, -9.0] {
            let (mix, truth) = build_mix(&clip, &bed, gain);
            let at = (MIX_AT_S * rate as f64) as usize;
            assert_eq!(mix.len(), at + tone.len() + 3 * rate as usize);
            let first = truth.iter().position(|t| *t).expect("the clip sounds");
            assert_eq!(first, (MIX_AT_S / LANE_HOP_S) as usize);
            assert_eq!(truth.iter().filter(|t| **t).count(), 20, "2 s of tone");
            // Clip against bed, as RMS: the mix minus the looped bed is the scaled clip.
            let bed_rms = rms(&noise);
            let added: Vec<f32> = (at..at + tone.len())
                .map(|i| mix[i] - noise[i % noise.len()])
                .collect();
            let db = 20.0 * (rms(&added) / bed_rms).log10();
            assert!((db - gain).abs() < 0.1, "clip at {db:.2} dB, asked {gain}");
        }
    }
}
