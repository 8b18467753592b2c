//! `sori eval DIR`: measures the fusion lens against labelled recordings, and says how far
//! its figures hold on recordings it has not heard.
//!
//! DIR holds `labels.csv` (or pass the manifest itself: `file,start_s,end_s,family,lane,
//! instrument,note`, an optional `group` column naming each file's source recording; paths
//! relative to the manifest). Three columns of figures, side by side: the shipped model on
//! these files (in-sample: it was fitted on them), grouped folds (each fold's recordings
//! scored by models fitted without them, as the app scores: a signal-cue model decides
//! whether a Korean timbre is there and, with the tagger, one that also hears the tagger's
//! classes names the family), and grouped folds without the tagger. A recording's excerpts
//! never sit on both sides of a fold (see [`manifest::group_of`]).
//!
//! Figures: on Korean solo files, family accuracy (the highest-mean Korean lane is the
//! labelled one) per lane and as a confusion table, and Korean-vs-pop (the best Korean lane's
//! mean beats the best pop lane's); on pop and `other` files, the share of time inside any
//! Korean segment, per look-alike class and per pop file; on mixtures built here (each
//! Korean clip over pop and look-alike beds of its own fold at several levels), block-level
//! precision, recall and F1 for "a Korean timbre is present", per level.

mod manifest;
mod mixtures;
mod references;
mod report;
mod train;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use self::manifest::{Row, assign_folds, group_of, name_of, read_manifests};
use self::mixtures::{eval_jobs, head_jobs, mixtures, train_jobs, train_mixtures};
use self::report::{Figures, Tally, table};
use self::train::{FitSettings, HeadInput, fit, fit_head, head_lanes};
pub use self::train::{TrainArgs, train};
use crate::analysis::head::Head;
use crate::analysis::lens::{
    Analysis, BlockCues, LANE_HOP_S, Lane, analyze, score_lanes, score_lanes_with, set_block_tags,
};
use crate::analysis::model::Model;
use crate::analysis::tagger::{Embedding, Tagger, block_embeddings};
use crate::audio::{PcmStore, decode_file};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folders holding labels.csv (such as ../shared/testdata, and the cache that
    /// scripts/fetch-negatives.sh fills), or manifest CSVs; their files are scored together.
    #[arg(required = true)]
    pub manifests: Vec<PathBuf>,
    /// Folds, grouped by source recording (1: the in-sample figures alone).
    #[arg(long, alias = "cv", value_name = "K", default_value_t = 5)]
    pub folds: usize,
    /// Levels of the Korean clip against the bed in the mixtures, dB (RMS), comma-separated.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, default_values_t = [0.0, -3.0, -6.0, -9.0])]
    pub levels: Vec<f32>,
    /// Beds each Korean clip is mixed over, at every level.
    #[arg(long, default_value_t = 2)]
    pub beds_per_clip: usize,
    /// Write the figures as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Score the Korean lanes with the hand-set rules instead of the shipped model (no folds).
    #[arg(long)]
    pub rules: bool,
    /// Also write each mixture as a 16-bit WAV here, to listen to what was scored.
    #[arg(long, value_name = "DIR")]
    pub write_mixtures: Option<PathBuf>,
    /// Score the in-sample column with this model file (from `sori train`).
    #[arg(long, value_name = "MODEL.json", conflicts_with = "rules")]
    pub model: Option<PathBuf>,
    /// Print one line per file with its lane means.
    #[arg(short, long)]
    pub verbose: bool,
    /// Leave out the AudioSet tagger: the signal cues alone and the model fitted on them.
    #[arg(long)]
    pub no_tagger: bool,
    /// Folders or manifests whose files only ever train: every fold's models learn from them
    /// (their pop files are also beds of the training mixtures), and no figure scores them.
    /// A recording listed here and among the scored ones is left out here.
    #[arg(long, value_name = "DIR")]
    pub train_with: Vec<PathBuf>,
}

/// The fold of a training-only file: never held out.
const TRAINING_ONLY: usize = usize::MAX;

/// The training-only rows of `extra` whose recording is not among `scored`'s (a recording on
/// both sides would be scored by models that heard it), and how many were left out.
fn training_only(scored: &[Row], extra: Vec<Row>) -> (Vec<Row>, usize) {
    let groups: std::collections::HashSet<String> = scored.iter().map(group_of).collect();
    let before = extra.len();
    let kept: Vec<Row> = extra
        .into_iter()
        .filter(|r| !groups.contains(&group_of(r)))
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

/// One file as decoded and heard: its samples, the lens's measurements, and per block what
/// the tagger's hidden features say (none without the tagger).
struct Item {
    store: std::sync::Arc<PcmStore>,
    an: Analysis,
    emb: Vec<Option<Embedding>>,
}

type Loaded = Vec<Option<Item>>;

/// The tagger for an evaluation or a fit, unless it is turned off.
fn tagger_for(off: bool) -> Result<Option<Tagger>> {
    if off {
        return Ok(None);
    }
    Tagger::new()
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{e} (run with --no-tagger to leave it out)"))
}

/// Analyses `store`; with a tagger, its windows go on the blocks (one thread: the callers
/// already run one file per core).
fn analyze_tagged(
    store: &PcmStore,
    tagger: Option<&Tagger>,
) -> Result<(Analysis, Vec<Option<Embedding>>)> {
    let mut an = analyze(store);
    let mut emb = Vec::new();
    if let Some(t) = tagger {
        let w = t.tag_track(store, 1, |_, _| {}, || true)?;
        set_block_tags(&mut an.blocks, &w);
        emb = block_embeddings(&w, an.blocks.len(), LANE_HOP_S);
    }
    Ok((an, emb))
}

/// The manifests' names, for a message.
fn names(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

/// The part of `store` that `r` names (see [`Row::frame_range`]).
fn excerpt(store: std::sync::Arc<PcmStore>, r: &Row) -> std::sync::Arc<PcmStore> {
    let (a, b) = r.frame_range(store.sample_rate(), store.frames());
    if (a, b) == (0, store.frames()) {
        return store;
    }
    let mut x = Vec::with_capacity(((b - a) as usize) * store.channels());
    store.for_each_slice(a, b, |s| x.extend_from_slice(s));
    std::sync::Arc::new(PcmStore::from_interleaved(
        store.sample_rate(),
        store.channels(),
        &x,
    ))
}

fn load_all(rows: &[Row], tagger: Option<&Tagger>) -> Loaded {
    let total = rows.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    eprintln!("analysing {total} files…");
    crate::parallel::map(rows, |_, r| {
        let out = match decode_file(&r.file) {
            Ok((whole, _)) => {
                let store = excerpt(whole, r);
                let heard = if store.frames() == 0 {
                    Err(anyhow::anyhow!(
                        "nothing to hear from {} s to {} s",
                        r.start_s,
                        r.end_s
                    ))
                } else {
                    analyze_tagged(&store, tagger)
                };
                match heard {
                    Ok((an, emb)) => Some(Item { store, an, emb }),
                    Err(e) => {
                        eprintln!("skipped: {}: {e}", r.file.display());
                        None
                    }
                }
            }
            Err(e) => {
                eprintln!("skipped: {e}");
                None
            }
        };
        let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if k % 10 == 0 || k == total {
            eprintln!("  {k}/{total}");
        }
        out
    })
}

/// Medians of the block cues over active blocks (for tuning the lens).
fn cue_summary(a: &Analysis) -> String {
    let act: Vec<&crate::analysis::lens::BlockCues> =
        a.blocks.iter().filter(|b| b.active > 0.3).collect();
    let med = |g: &dyn Fn(&crate::analysis::lens::BlockCues) -> f32| {
        let mut v: Vec<f32> = act.iter().map(|b| g(b)).filter(|x| x.is_finite()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
    };
    format!(
        "voi {:.2} harm {:.2} f0 {:.0} hflat {:.2} air {:.0} pres {:.0} sub {:.0}/{:.0}/{:.0} flat {:.2} on {:.1} lo {:.2} hi {:.2} dec {:.1} ring {:.1}/{:.1} bend {:.2} vib {:.1}/{:.0} spr {:.1} semi {:.2} inh {:.2} grid {:.1} tch {:.1} swing {:.1} cen {:.0}",
        med(&|b| b.voiced),
        med(&|b| b.harmonicity),
        med(&|b| b.f0_hz),
        med(&|b| b.high_flat),
        med(&|b| b.air_db),
        med(&|b| b.presence_db),
        med(&|b| b.sub_db),
        med(&|b| b.sub_fall_db),
        med(&|b| b.sub_decay_db),
        med(&|b| b.flatness),
        med(&|b| b.onset_rate),
        med(&|b| b.onset_low),
        med(&|b| b.onset_high),
        med(&|b| b.decay_db),
        med(&|b| b.ring_fall_db),
        med(&|b| b.sub_ring_fall_db),
        med(&|b| b.bend_share),
        med(&|b| b.vib_rate),
        med(&|b| b.vib_extent),
        med(&|b| b.pitch_spread),
        med(&|b| b.on_semitone),
        med(&|b| b.inharmonic),
        med(&|b| b.grid_dev_ms),
        med(&|b| b.timbre_change_db),
        med(&|b| b.level_swing_db),
        med(&|b| b.centroid_hz)
    )
}

/// The lanes as a run without the tagger would score them.
fn untagged(blocks: &[BlockCues]) -> Vec<BlockCues> {
    blocks.iter().map(BlockCues::untagged).collect()
}

#[derive(Serialize)]
struct Output<'a> {
    manifests: Vec<String>,
    files: usize,
    /// Files that only trained (`--train-with`), never scored.
    training_only: usize,
    recordings: usize,
    folds: usize,
    levels_db: &'a [f32],
    beds_per_clip: usize,
    columns: &'a [Figures],
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let mut rows = read_manifests(&a.manifests)?;
    if rows.is_empty() {
        bail!("{}: no files listed", names(&a.manifests));
    }
    let scored = rows.len();
    if !a.train_with.is_empty() {
        let (extra, dropped) = training_only(&rows, read_manifests(&a.train_with)?);
        if dropped > 0 {
            eprintln!(
                "{dropped} training-only files left out: their recordings are among the scored ones"
            );
        }
        rows.extend(extra);
    }
    let custom = match &a.model {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("could not read {}", p.display()))?;
            Some(Model::from_json(&text).ok_or_else(|| {
                anyhow::anyhow!("{}: not a lens model for this version of Sori", p.display())
            })?)
        }
        None => None,
    };
    let tagger = tagger_for(a.no_tagger)?;
    let loaded = load_all(&rows, tagger.as_ref());
    if loaded.iter().all(Option::is_none) {
        bail!("{}: none of its files could be heard", names(&a.manifests));
    }
    let ok = |i: usize| loaded[i].is_some();
    let k = if a.rules { 1 } else { a.folds.max(1) };
    let mut folds = assign_folds(&rows[..scored], k);
    folds.resize(rows.len(), TRAINING_ONLY);
    let jobs = eval_jobs(
        &rows[..scored],
        &ok,
        &folds[..scored],
        &a.levels,
        a.beds_per_clip,
    );
    let mixes = mixtures(
        &rows,
        &loaded,
        &jobs,
        a.write_mixtures.as_deref(),
        tagger.as_ref(),
    )?;
    if let Some(dir) = &a.write_mixtures {
        eprintln!("wrote {} mixtures to {}", mixes.len(), dir.display());
    }

    let mut columns = Vec::new();
    let model = if a.rules {
        None
    } else {
        custom.as_ref().or(Model::builtin_for(false))
    };
    let rescore = |an: &Analysis| -> Vec<Lane> { score_lanes(&an.blocks, &an.bends, model) };
    let mut shipped = Tally::default();
    for (r, res) in rows[..scored].iter().zip(&loaded) {
        let Some(Item { store, an, .. }) = res else {
            continue;
        };
        let lanes = rescore(an);
        if a.verbose {
            let means: Vec<String> = lanes.iter().map(|l| format!("{:.2}", l.mean())).collect();
            eprintln!(
                "{:<28} {:<20} {:<14} {}",
                name_of(r),
                r.lane,
                r.instrument,
                means.join(" ")
            );
            if std::env::var_os("SORI_EVAL_CUES").is_some() {
                eprintln!("    {}", cue_summary(an));
            }
        }
        shipped.add_file(r, store.duration_s(), &lanes);
    }
    for m in &mixes {
        shipped.add_mix(m, &rescore(&m.an));
    }
    columns.push(
        shipped.figures(match (a.rules, custom.is_some(), model.is_some()) {
            (true, _, _) | (false, _, false) => "hand-set rules",
            (false, true, true) => "given model",
            (false, false, true) => "shipped model",
        }),
    );

    if k >= 2 {
        let train_mixes = train_mixtures(&rows, &loaded, train_jobs, tagger.as_ref())?;
        // The columns scored on held-out folds: as the app scores (with the tagger's classes
        // naming the family), as a run without the tagger would, and by heads over the
        // tagger's hidden features.
        let (heads, head_mixes) = if tagger.is_some() {
            let m = train_mixtures(&rows, &loaded, head_jobs, tagger.as_ref())?;
            (HeadInput::ALL.to_vec(), m)
        } else {
            (Vec::new(), Vec::new())
        };
        // Column 0 as the app scores, 1 without the tagger, then one per head.
        let mut tallies: Vec<Tally> = (0..2 + heads.len()).map(|_| Tally::default()).collect();
        for fold in 0..k {
            let keep = |i: usize| folds[i] != fold;
            let train = |tags: bool| {
                fit(
                    &rows,
                    &loaded,
                    &train_mixes,
                    &keep,
                    FitSettings::default(),
                    tags,
                )
            };
            let plain = train(false);
            let family = tagger.is_some().then(|| train(true));
            let fitted: Vec<Head> = heads
                .iter()
                .map(|&input| fit_head(&rows, &loaded, &head_mixes, &keep, input))
                .collect();
            // One analysis, scored for every column (`None`: the column does not apply).
            let lanes_of = |an: &Analysis, emb: &[Option<Embedding>]| -> Vec<Option<Vec<Lane>>> {
                let mut out = vec![
                    family
                        .as_ref()
                        .map(|f| score_lanes_with(&an.blocks, &an.bends, Some(&plain), Some(f))),
                    Some(score_lanes_with(
                        &untagged(&an.blocks),
                        &an.bends,
                        Some(&plain),
                        None,
                    )),
                ];
                out.extend(
                    fitted
                        .iter()
                        .zip(&heads)
                        .map(|(head, &input)| Some(head_lanes(an, emb, head, input))),
                );
                out
            };
            for (i, (r, res)) in rows.iter().zip(&loaded).enumerate() {
                let (Some(item), true) = (res, folds[i] == fold) else {
                    continue;
                };
                let d = item.store.duration_s();
                for (t, lanes) in tallies.iter_mut().zip(lanes_of(&item.an, &item.emb)) {
                    if let Some(l) = lanes {
                        t.add_file(r, d, &l);
                    }
                }
            }
            for m in mixes.iter().filter(|m| folds[m.clip] == fold) {
                for (t, lanes) in tallies.iter_mut().zip(lanes_of(&m.an, &m.emb)) {
                    if let Some(l) = lanes {
                        t.add_mix(m, &l);
                    }
                }
            }
        }
        if tagger.is_some() {
            columns.push(tallies[0].figures("grouped folds"));
        }
        columns.push(tallies[1].figures("grouped, no tagger"));
        for (t, input) in tallies[2..].iter().zip(&heads) {
            columns.push(t.figures(input.column()));
        }
    }

    let mut groups: Vec<String> = rows[..scored].iter().map(group_of).collect();
    groups.sort();
    groups.dedup();
    let heard = |l: &[Option<Item>]| l.iter().filter(|l| l.is_some()).count();
    let (files, extra) = (heard(&loaded[..scored]), heard(&loaded[scored..]));
    if a.json {
        let out = Output {
            manifests: a
                .manifests
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            files,
            training_only: extra,
            recordings: groups.len(),
            folds: k,
            levels_db: &a.levels,
            beds_per_clip: a.beds_per_clip,
            columns: &columns,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} files from {} recordings{}; {}; {k} folds grouped by recording{}",
            files,
            groups.len(),
            if extra > 0 {
                format!(" (and {extra} training-only files, never scored)")
            } else {
                String::new()
            },
            if tagger.is_some() {
                "signal cues and the AudioSet tagger"
            } else {
                "signal cues alone (no tagger)"
            },
            if k < 2 {
                " (in-sample figures only)"
            } else {
                ""
            }
        );
        println!(
            "The shipped model was fitted on shared/testdata: on those files its column is in-sample, not evidence of how the lens does on music it has not heard. The grouped folds are: each fold is scored by models fitted without its recordings.\n"
        );
        print!("{}", table(&columns));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_training_only_recording_that_is_also_scored_is_left_out_of_training() {
        let scored = manifest::parse_manifest(
            "file,start_s,end_s,family,lane,instrument,note\n\
             korean/ksori/M1.m4a,0,1,korean,korean.bowed,haegeum,\n\
             pop/a.flac,0,1,pop,pop.synth,synth,\n",
            Path::new("/data"),
        )
        .expect("manifest");
        let extra = manifest::parse_manifest(
            "file,start_s,end_s,family,lane,instrument,note,group\n\
             music/x.ogg,30,60,pop,pop,game music,,pkg/x\n\
             again/a.flac,0,1,pop,pop,synth,,/data/pop/a.flac\n\
             music/y.ogg,30,60,other,other,orchestral,,pkg/y\n",
            Path::new("/cache"),
        )
        .expect("manifest");
        // The second row names the scored pop file's recording as its group.
        assert_eq!(group_of(&extra[1]), group_of(&scored[1]));
        let (kept, dropped) = training_only(&scored, extra);
        assert_eq!(dropped, 1);
        let names: Vec<String> = kept.iter().map(group_of).collect();
        assert_eq!(names, ["pkg/x", "pkg/y"]);
    }
}
