//! `sori train`: fits the Korean lanes' weights on a manifest's files and on mixtures of
//! them; each fold of `sori eval` fits the same way without its own recordings.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

use super::manifest::{Row, is_korean_solo, read_manifest};
use super::mixtures::{Mix, TRAIN_GAINS, train_mixtures};
use super::{Loaded, load_all, tagger_for};
use crate::analysis::lens::Analysis;
use crate::analysis::model::{CLASSES, Example, Model, vector};

/// Training examples: every active block of the files (and training mixtures) that `keep`
/// admits, labelled with its class; each (source, class) pair weighs the same in total, each
/// Korean class the same, and "none" `none_weight` times that. `tags`: the cue vectors hold
/// the tagger's classes where it heard the block (otherwise the signal cues alone, as for
/// the shipped signal model).
fn examples(
    rows: &[Row],
    loaded: &Loaded,
    mixes: &[Mix],
    keep: &dyn Fn(usize) -> bool,
    none_weight: f32,
    tags: bool,
) -> Vec<Example> {
    let class_of = |lane: &str| CLASSES.iter().position(|c| *c == lane);
    let mut groups: Vec<Vec<Example>> = Vec::new();
    let mut push = |an: &Analysis, label: &dyn Fn(usize) -> usize| {
        let mut by_class: BTreeMap<usize, Vec<Example>> = BTreeMap::new();
        for (b, c) in an.blocks.iter().enumerate() {
            if c.active < 0.1 {
                continue;
            }
            let class = label(b);
            let x = if tags {
                vector(c)
            } else {
                vector(&c.untagged())
            };
            by_class.entry(class).or_default().push(Example {
                x,
                class,
                weight: 1.0,
            });
        }
        for (_, mut v) in by_class {
            let w = 1.0 / v.len() as f32;
            v.iter_mut().for_each(|e| e.weight = w);
            groups.push(v);
        }
    };
    for (i, (r, res)) in rows.iter().zip(loaded).enumerate() {
        let (Some((_, an)), true) = (res, keep(i)) else {
            continue;
        };
        let solo = if is_korean_solo(r) {
            class_of(&r.lane)
        } else {
            None
        };
        let top = an.blocks.iter().map(|c| c.rms_db).fold(-120.0f32, f32::max);
        push(an, &|b| match solo {
            Some(k) if an.blocks[b].rms_db > top - 30.0 => k,
            _ => 0,
        });
    }
    for m in mixes.iter().filter(|m| keep(m.clip) && keep(m.bed)) {
        let k = class_of(&m.lane).unwrap_or(0);
        push(&m.an, &|b| {
            if m.truth.get(b).copied().unwrap_or(false) {
                k
            } else {
                0
            }
        });
    }
    let mut all: Vec<Example> = groups.into_iter().flatten().collect();
    let mut totals = [0.0f32; CLASSES.len()];
    for e in &all {
        totals[e.class] += e.weight;
    }
    for e in &mut all {
        let target = if e.class == 0 { none_weight } else { 1.0 };
        e.weight *= target / totals[e.class].max(1e-9);
    }
    all
}

pub fn fit(
    rows: &[Row],
    loaded: &Loaded,
    mixes: &[Mix],
    keep: &dyn Fn(usize) -> bool,
    set: FitSettings,
    tags: bool,
) -> Model {
    let ex = examples(rows, loaded, mixes, keep, set.none_weight, tags);
    let files = (0..rows.len())
        .filter(|&i| keep(i) && loaded[i].is_some())
        .count();
    Model::train(
        &ex,
        set.l2,
        TRAIN_STEPS,
        format!(
            "{files} files and {} mixtures at {:?} dB ({} blocks); none weight {}, L2 {}, {TRAIN_STEPS} steps",
            mixes.iter().filter(|m| keep(m.clip) && keep(m.bed)).count(),
            TRAIN_GAINS,
            ex.len(),
            set.none_weight,
            set.l2
        ),
    )
}

const TRAIN_STEPS: usize = 400;
/// Weight of "no Korean timbre" against each family: chosen by measuring false-positive time
/// against mixture F1 (2 → 0.42 / 0.80, 4 → 0.20 / 0.85, 8 → 0.06 / 0.85).
const NONE_WEIGHT: f32 = 8.0;
const TRAIN_L2: f32 = 0.01;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Manifest CSV (columns of shared/testdata/labels.csv).
    pub manifest: PathBuf,
    /// Where to write the model.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Weight of "no Korean timbre" blocks against each Korean family (higher: fewer false alarms).
    #[arg(long, default_value_t = NONE_WEIGHT)]
    pub none_weight: f32,
    /// L2 shrinkage of the weights.
    #[arg(long, default_value_t = TRAIN_L2)]
    pub l2: f32,
    /// Fit on the signal cues alone (Sori ships this fit as `assets/lens_model.json` and the
    /// one with the tagger's classes as `assets/lens_model_tagged.json`).
    #[arg(long)]
    pub no_tagger: bool,
}

/// Settings of a fit.
#[derive(Debug, Clone, Copy)]
pub struct FitSettings {
    pub none_weight: f32,
    pub l2: f32,
}
impl Default for FitSettings {
    fn default() -> Self {
        Self {
            none_weight: NONE_WEIGHT,
            l2: TRAIN_L2,
        }
    }
}

/// `sori train MANIFEST -o MODEL.json`: fits the Korean lanes' weights on the manifest's
/// files and on mixtures built from them (other pairings and gains than `sori eval` uses).
pub fn train(a: &TrainArgs) -> Result<()> {
    let rows = read_manifest(&a.manifest)?;
    if !rows.iter().any(is_korean_solo) {
        bail!(
            "{}: no Korean solo files to learn from",
            a.manifest.display()
        );
    }
    let tagger = tagger_for(a.no_tagger)?;
    let loaded = load_all(&rows, tagger.as_ref());
    let mixes = train_mixtures(&rows, &loaded, tagger.as_ref())?;
    let set = FitSettings {
        none_weight: a.none_weight,
        l2: a.l2,
    };
    let model = fit(&rows, &loaded, &mixes, &|_| true, set, true);
    let text = serde_json::to_string_pretty(&model)?;
    crate::notes::save::atomic_write(&a.output, text.as_bytes())
        .with_context(|| format!("could not write {}", a.output.display()))?;
    eprintln!("wrote {} ({})", a.output.display(), model.trained_on);
    Ok(())
}
