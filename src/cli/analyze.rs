//! `sori analyze FILE... [--json|--csv] [-o OUT]`: features and fusion-lens lanes as JSON
//! (DESIGN.md section 3) or the lane segments as CSV. Files are analysed in parallel.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use crate::analysis::features::HOP_S;
use crate::analysis::lens::{Analysis, Lane, analyze_file_tagged};
use crate::analysis::tagger::{self, Tagger, WindowTags};
use crate::audio::PcmStore;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Audio files to analyse.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// JSON: one object per file (several files: an array). The default.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: one row per lane segment (file, lane, start_s, end_s, score, evidence).
    #[arg(long)]
    pub csv: bool,
    /// Write here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Leave out the AudioSet tagger: lanes from the signal cues alone, no `tags` in the JSON.
    #[arg(long)]
    pub no_tagger: bool,
}

/// How many of a window's strongest AudioSet classes the JSON lists.
const TOP_TAGS: usize = 5;

#[derive(Serialize)]
struct TagOut {
    index: usize,
    label: String,
    score: f32,
}

#[derive(Serialize)]
struct TagWindowOut {
    start_s: f64,
    end_s: f64,
    top: Vec<TagOut>,
}

fn tags_out(w: &[WindowTags]) -> Vec<TagWindowOut> {
    let names = tagger::labels();
    w.iter()
        .map(|w| TagWindowOut {
            start_s: (w.start_s * 1000.0).round() / 1000.0,
            end_s: (w.end_s * 1000.0).round() / 1000.0,
            top: tagger::top(&w.scores, TOP_TAGS)
                .into_iter()
                .map(|(index, score)| TagOut {
                    index,
                    label: names.get(index).cloned().unwrap_or_default(),
                    score: (score * 10_000.0).round() / 10_000.0,
                })
                .collect(),
        })
        .collect()
}

/// Values rounded for output (keeps a 4-minute track's JSON small without losing meaning).
fn r2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}
fn r3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// A series written rounded by its function, without a rounded copy of it in memory (an
/// hour's features are tens of MB).
struct Series<'a>(&'a [f32], fn(f32) -> f32);

impl Serialize for Series<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|v| (self.1)(*v)))
    }
}

/// [`Series`] of values that may be absent (`null`).
struct MaybeSeries<'a>(&'a [Option<f32>], fn(f32) -> f32);

impl Serialize for MaybeSeries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|v| v.map(self.1)))
    }
}

#[derive(Serialize)]
struct FeaturesOut<'a> {
    rms_db: Series<'a>,
    loudness_lufs: MaybeSeries<'a>,
    crest_db: Series<'a>,
    centroid_hz: Series<'a>,
    flatness: Series<'a>,
    rolloff_hz: Series<'a>,
    flux: Series<'a>,
    harmonicity: Series<'a>,
    f0_hz: MaybeSeries<'a>,
    band_names: Vec<&'static str>,
    bands_db: Vec<Series<'a>>,
}

#[derive(Serialize)]
struct OnsetOut {
    time_s: f64,
    strength: f32,
    low: f32,
    high: f32,
}

#[derive(Serialize)]
struct FileOut<'a> {
    file: String,
    duration_s: f64,
    sample_rate: u32,
    channels: usize,
    hop_s: f64,
    tempo_bpm: Option<f32>,
    grid_deviation_ms: Option<f32>,
    tuning_offset_cents: Option<f32>,
    features: FeaturesOut<'a>,
    onsets: Vec<OnsetOut>,
    lanes: &'a [Lane],
    /// The AudioSet tagger's strongest classes per window (absent with `--no-tagger`).
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<TagWindowOut>>,
}

fn to_json<'a>(
    file: &Path,
    store: &PcmStore,
    a: &'a Analysis,
    tags: Option<&[WindowTags]>,
) -> FileOut<'a> {
    let f = &a.features;
    FileOut {
        file: file.display().to_string(),
        duration_s: (store.duration_s() * 1000.0).round() / 1000.0,
        sample_rate: store.sample_rate(),
        channels: store.channels(),
        hop_s: HOP_S,
        tempo_bpm: a.tempo_bpm.map(r2),
        grid_deviation_ms: a.grid.map(|g| r2(g.deviation_ms)),
        tuning_offset_cents: a.tuning_cents.map(r2),
        features: FeaturesOut {
            rms_db: Series(&f.rms_db, r2),
            loudness_lufs: MaybeSeries(&f.loudness_lufs, r2),
            crest_db: Series(&f.crest_db, r2),
            centroid_hz: Series(&f.centroid_hz, f32::round),
            flatness: Series(&f.flatness, r3),
            rolloff_hz: Series(&f.rolloff_hz, f32::round),
            flux: Series(&f.flux, r3),
            harmonicity: Series(&f.harmonicity, r3),
            f0_hz: MaybeSeries(&f.f0_hz, r2),
            band_names: crate::analysis::features::BAND_NAMES.to_vec(),
            bands_db: f.bands.iter().map(|b| Series(b, r2)).collect(),
        },
        onsets: a
            .onsets
            .iter()
            .map(|o| OnsetOut {
                time_s: (o.time_s * 1000.0).round() / 1000.0,
                strength: r3(o.strength),
                low: r3(o.low),
                high: r3(o.high),
            })
            .collect(),
        lanes: &a.lanes,
        tags: tags.map(tags_out),
    }
}

/// Decodes and analyses one file (the calling thread plus the analysis's own helpers), with
/// `tagger` on `threads` threads beside the lens; a tagger error is a warning.
fn load_and_analyze(
    path: &Path,
    tagger: Option<&Tagger>,
    threads: usize,
) -> Result<(std::sync::Arc<PcmStore>, Analysis, Option<Vec<WindowTags>>)> {
    let (store, outcome, a, tags) = analyze_file_tagged(path, tagger, threads)?;
    if let Some(n) = outcome.notice {
        eprintln!("warning: {n}");
    }
    let tags = tags.and_then(|t| {
        t.map_err(|e| eprintln!("warning: {}: {e}", path.display()))
            .ok()
    });
    // The JSON holds the classes, not the hidden features (~17 MB an hour).
    let tags = tags.map(|mut w| {
        w.iter_mut().for_each(|t| t.embedding = Vec::new());
        w
    });
    Ok((store, a, tags))
}

pub fn run(a: &AnalyzeArgs) -> Result<()> {
    let total = a.files.len();
    let done = AtomicUsize::new(0);
    // One tagger for every file; without it the rest of the analysis still stands.
    let tagger = if a.no_tagger {
        None
    } else {
        Tagger::new()
            .map_err(|e| eprintln!("warning: {e}; the tagger is left out"))
            .ok()
    };
    // Several files run one per core, the tagger of each on its own thread; one file's
    // tagger has every core.
    let threads = if total > 1 {
        1
    } else {
        crate::parallel::cores()
    };
    let results = crate::parallel::map(&a.files, |_, path| {
        let r = load_and_analyze(path, tagger.as_ref(), threads);
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        // Progress for several files; one file's only stderr line is its error, if any.
        if total > 1 {
            eprintln!(
                "[{k}/{total}] {}{}",
                path.display(),
                if r.is_err() { " — failed" } else { "" }
            );
        }
        r
    });
    let mut ok = Vec::new();
    for (path, r) in a.files.iter().zip(results) {
        match r {
            Ok(v) => ok.push((path, v)),
            Err(e) => {
                // With one file its failure is the command's; with several, the rest still count.
                if total == 1 {
                    return Err(e);
                }
                eprintln!(
                    "sori: {}",
                    e.chain()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(": ")
                );
            }
        }
    }
    if ok.is_empty() {
        bail!("no file could be analysed");
    }
    // The JSON of an hour is tens of MB: it goes straight to its file or to stdout.
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        if a.csv {
            writeln!(w, "file,lane,start_s,end_s,score,evidence")?;
            for (path, (_, an, _)) in &ok {
                for lane in &an.lanes {
                    for seg in &lane.segments {
                        writeln!(
                            w,
                            "{},{},{:.2},{:.2},{:.2},{}",
                            crate::csv::field(&path.display().to_string()),
                            lane.id,
                            seg.start_s,
                            seg.end_s,
                            seg.score,
                            crate::csv::field(&seg.evidence)
                        )?;
                    }
                }
            }
            return Ok(());
        }
        let outs: Vec<FileOut> = ok
            .iter()
            .map(|(p, (st, an, tags))| to_json(p, st, an, tags.as_deref()))
            .collect();
        if outs.len() == 1 {
            serde_json::to_writer(&mut *w, &outs[0])?;
        } else {
            serde_json::to_writer(&mut *w, &outs)?;
        }
        writeln!(w)
    };
    match &a.output {
        Some(out) => crate::notes::save::atomic_write_with(out, write)
            .with_context(|| format!("could not write {}", out.display()))?,
        None => {
            let mut so = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            if let Err(e) = write(&mut so).and_then(|_| so.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e).context("could not write to standard output");
            }
        }
    }
    Ok(())
}
