//! `sori train`: fits the Korean lanes' weights on a manifest's files and on mixtures of
//! them; each fold of `sori eval` fits the same way without its own recordings.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

use super::manifest::{Row, is_korean_solo, read_manifests};
use super::mixtures::{Mix, TRAIN_GAINS, train_jobs, train_mixtures};
use super::{Loaded, load_all, tagger_for};
use crate::analysis::head::{Head, Labelled};
use crate::analysis::lens::{Analysis, KoreanBy, Lane, activity, score_lanes_by};
use crate::analysis::lens::{LaneId, N_KOREAN};
use crate::analysis::model::{CLASSES, Example, Model, vector};
use crate::analysis::tagger::Embedding;

/// Training blocks: every active block of the files (and training mixtures) that `keep`
/// admits and `x_of` gives a vector for, labelled with its class (an index of
/// [`CLASSES`]); each (source, class) pair weighs the same in total, each Korean class the
/// same, and "none" `none_weight` times that. Returns (vector, class, weight).
pub fn labelled<T>(
    rows: &[Row],
    loaded: &Loaded,
    mixes: &[Mix],
    keep: &dyn Fn(usize) -> bool,
    none_weight: f32,
    x_of: &dyn Fn(&Analysis, &[Option<Embedding>], usize) -> Option<T>,
) -> Vec<(T, usize, f32)> {
    let class_of = |lane: &str| CLASSES.iter().position(|c| *c == lane);
    let mut groups: Vec<Vec<(T, usize, f32)>> = Vec::new();
    let mut push = |an: &Analysis, emb: &[Option<Embedding>], label: &dyn Fn(usize) -> usize| {
        let mut by_class: BTreeMap<usize, Vec<(T, usize, f32)>> = BTreeMap::new();
        for (b, c) in an.blocks.iter().enumerate() {
            if c.active < 0.1 {
                continue;
            }
            let class = label(b);
            if let Some(x) = x_of(an, emb, b) {
                by_class.entry(class).or_default().push((x, class, 1.0));
            }
        }
        for (_, mut v) in by_class {
            let w = 1.0 / v.len() as f32;
            v.iter_mut().for_each(|e| e.2 = w);
            groups.push(v);
        }
    };
    for (i, (r, res)) in rows.iter().zip(loaded).enumerate() {
        let (Some(item), true) = (res, keep(i)) else {
            continue;
        };
        let an = &item.an;
        let solo = if is_korean_solo(r) {
            class_of(&r.lane)
        } else {
            None
        };
        let top = an.blocks.iter().map(|c| c.rms_db).fold(-120.0f32, f32::max);
        push(an, &item.emb, &|b| match solo {
            Some(k) if an.blocks[b].rms_db > top - 30.0 => k,
            _ => 0,
        });
    }
    for m in mixes.iter().filter(|m| keep(m.clip) && keep(m.bed)) {
        let k = class_of(&m.lane).unwrap_or(0);
        push(&m.an, &m.emb, &|b| {
            if m.truth.get(b).copied().unwrap_or(false) {
                k
            } else {
                0
            }
        });
    }
    let mut all: Vec<(T, usize, f32)> = groups.into_iter().flatten().collect();
    let mut totals = [0.0f32; CLASSES.len()];
    for e in &all {
        totals[e.1] += e.2;
    }
    for e in &mut all {
        let target = if e.1 == 0 { none_weight } else { 1.0 };
        e.2 *= target / totals[e.1].max(1e-9);
    }
    all
}

/// Training examples of the cue model. `tags`: the cue vectors hold the tagger's classes
/// where it heard the block (otherwise the signal cues alone, as for the shipped signal
/// model).
fn examples(
    rows: &[Row],
    loaded: &Loaded,
    mixes: &[Mix],
    keep: &dyn Fn(usize) -> bool,
    none_weight: f32,
    tags: bool,
) -> Vec<Example> {
    let x_of = |an: &Analysis, _: &[Option<Embedding>], b: usize| {
        let c = &an.blocks[b];
        Some(if tags {
            vector(c)
        } else {
            vector(&c.untagged())
        })
    };
    labelled(rows, loaded, mixes, keep, none_weight, &x_of)
        .into_iter()
        .map(|(x, class, weight)| Example { x, class, weight })
        .collect()
}

/// What a head over the tagger's hidden features hears of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeadInput {
    /// The hidden features alone.
    Embedding,
    /// The hidden features and the signal cues (with the tagger's classes).
    EmbeddingAndCues,
    /// The same through a hidden layer.
    MlpEmbeddingAndCues,
}

impl HeadInput {
    pub const ALL: [HeadInput; 2] = [HeadInput::EmbeddingAndCues, HeadInput::MlpEmbeddingAndCues];

    pub fn column(self) -> &'static str {
        match self {
            HeadInput::Embedding => "head: embedding",
            HeadInput::EmbeddingAndCues => "head: emb + cues",
            HeadInput::MlpEmbeddingAndCues => "MLP: emb + cues",
        }
    }

    /// The head's input for block `b`, where the tagger heard it.
    pub fn vector(self, an: &Analysis, emb: &[Option<Embedding>], b: usize) -> Option<Vec<f32>> {
        let e = emb.get(b).copied().flatten()?;
        let mut x = e.to_vec();
        if self != HeadInput::Embedding {
            x.extend_from_slice(&vector(an.blocks.get(b)?));
        }
        Some(x)
    }
}

/// L2 of the linear head, chosen on grouped folds of shared/testdata: 0.01 → 0.1 → 0.5 raised
/// family accuracy (0.55 → 0.66 → 0.69) and lowered mixture F1 at -3 dB (0.70 → 0.64 → 0.60).
const HEAD_L2: f32 = 0.1;
const HEAD_STEPS: usize = 300;
const MLP_UNITS: usize = 64;
const MLP_L2: f32 = 1e-4;
const MLP_EPOCHS: usize = 20;

/// A head fitted on the blocks `keep` admits (as the cue model's examples are weighed).
pub fn fit_head(
    rows: &[Row],
    loaded: &Loaded,
    mixes: &[Mix],
    keep: &dyn Fn(usize) -> bool,
    input: HeadInput,
) -> Head {
    let x_of = |an: &Analysis, emb: &[Option<Embedding>], b: usize| input.vector(an, emb, b);
    let data: Vec<Labelled> = labelled(rows, loaded, mixes, keep, NONE_WEIGHT, &x_of)
        .into_iter()
        .map(|(x, class, weight)| Labelled { x, class, weight })
        .collect();
    if input == HeadInput::MlpEmbeddingAndCues {
        return Head::train_mlp(&data, CLASSES.len(), MLP_UNITS, MLP_L2, MLP_EPOCHS, 1);
    }
    Head::train(&data, CLASSES.len(), HEAD_L2, HEAD_STEPS)
}

/// The lanes of an analysis with the Korean ones from `head` (no Korean lane where the
/// tagger did not hear a block).
pub fn head_lanes(
    an: &Analysis,
    emb: &[Option<Embedding>],
    head: &Head,
    input: HeadInput,
) -> Vec<Lane> {
    let korean: Vec<[f32; N_KOREAN]> = (0..an.blocks.len())
        .map(|b| {
            let c = &an.blocks[b];
            let act = activity(c);
            match (act > 0.0).then(|| input.vector(an, emb, b)).flatten() {
                Some(x) => {
                    let p = head.probs(&x);
                    LaneId::KOREAN
                        .map(|l| l.class().and_then(|j| p.get(j)).copied().unwrap_or(0.0) * act)
                }
                None => [0.0; N_KOREAN],
            }
        })
        .collect();
    score_lanes_by(&an.blocks, &an.bends, KoreanBy::Given(&korean))
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
    /// Folders holding labels.csv, or manifest CSVs (columns of shared/testdata/labels.csv).
    #[arg(required = true)]
    pub manifests: Vec<PathBuf>,
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
    /// Also write the reference library the lens cites (Sori ships it as
    /// `assets/references.json`): embeddings of the files that may be cited, no audio.
    #[arg(long, value_name = "JSON")]
    pub references: Option<PathBuf>,
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
    let rows = read_manifests(&a.manifests)?;
    if !rows.iter().any(is_korean_solo) {
        bail!(
            "{}: no Korean solo files to learn from",
            super::names(&a.manifests)
        );
    }
    if a.references.is_some() && a.no_tagger {
        bail!("the reference library is made of the tagger's features: drop --no-tagger");
    }
    let tagger = tagger_for(a.no_tagger)?;
    let loaded = load_all(&rows, tagger.as_ref());
    if let Some(path) = &a.references {
        let (ix, report) = super::references::build_references(&rows, &loaded);
        let text = serde_json::to_string(&ix)?;
        crate::notes::save::atomic_write(path, text.as_bytes())
            .with_context(|| format!("could not write {}", path.display()))?;
        eprintln!("wrote {}: {report}", path.display());
    }
    let mixes = train_mixtures(&rows, &loaded, train_jobs, tagger.as_ref())?;
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
