//! `sori eval MANIFEST.csv`: measures the fusion lens against labelled recordings.
//!
//! The manifest has the columns of `labels.csv` (`file,start_s,end_s,family,lane,instrument,note`;
//! paths relative to the manifest). Reported: on Korean solo files, family accuracy (the
//! highest-mean Korean lane is the labelled one) and Korean-vs-pop (the best Korean lane's
//! mean beats the best pop lane's); on pop and `other` files, the share of time inside any
//! Korean segment; on mixtures built here (each Korean clip laid over a looped pop bed at a
//! known time and gain), frame-level precision, recall and F1 for "a Korean timbre is
//! present" and per family.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use super::analyze::parallel_map;
use crate::analysis::features::mono_decimated;
use crate::analysis::lens::{
    Analysis, Family, LANE_HOP_S, LANES, Lane, analyze, score_lanes, score_lanes_with,
    set_block_tags,
};
use crate::analysis::model::{CLASSES, Example, Model, vector};
use crate::analysis::tagger::Tagger;
use crate::audio::{PcmStore, decode_file};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Manifest CSV (columns of shared/testdata/labels.csv).
    pub manifest: PathBuf,
    /// Score the Korean lanes with the hand-set rules instead of the shipped model.
    #[arg(long)]
    pub rules: bool,
    /// Also report K-fold cross-validation: each fold scored by the presence and family
    /// models fitted without it (the daegeum note folder counts as one recording).
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Also write each mixture as a 16-bit WAV here, to listen to what was scored.
    #[arg(long, value_name = "DIR")]
    pub write_mixtures: Option<PathBuf>,
    /// Score with this model file (from `sori train`) instead of the shipped one.
    #[arg(long, value_name = "MODEL.json", conflicts_with = "rules")]
    pub model: Option<PathBuf>,
    /// Level of the Korean clip against the pop bed in the mixtures, dB (RMS).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub mix_gain_db: f32,
    /// Print one line per file with its lane means.
    #[arg(short, long)]
    pub verbose: bool,
    /// Leave out the AudioSet tagger: the signal cues alone and the model fitted on them.
    #[arg(long)]
    pub no_tagger: bool,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub file: PathBuf,
    pub family: String,
    pub lane: String,
    pub instrument: String,
}

/// Splits one CSV line (double-quoted fields may hold commas and doubled quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub fn read_manifest(path: &Path) -> Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap_or_default());
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(cf), Some(cfam), Some(cl)) = (col("file"), col("family"), col("lane")) else {
        bail!(
            "{}: the first line must name the columns file, family and lane",
            path.display()
        );
    };
    let ci = col("instrument");
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f = split_csv(line);
        let get = |i: usize| f.get(i).map(|s| s.trim().to_string());
        let (Some(file), Some(family), Some(lane)) = (get(cf), get(cfam), get(cl)) else {
            bail!("{} line {}: too few columns", path.display(), n + 2);
        };
        rows.push(Row {
            file: base.join(file),
            family,
            lane,
            instrument: ci.and_then(get).unwrap_or_default(),
        });
    }
    Ok(rows)
}

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

fn korean_lane_means(lanes: &[Lane]) -> (usize, f32, f32) {
    let mut best_k = (0usize, -1.0f32);
    let mut best_p = -1.0f32;
    for (i, l) in lanes.iter().enumerate() {
        let m = l.mean();
        if l.family == Family::Korean && m > best_k.1 {
            best_k = (i, m);
        }
        if l.family == Family::Pop {
            best_p = best_p.max(m);
        }
    }
    (best_k.0, best_k.1, best_p)
}

/// Blocks (0.1 s) of `n` inside any Korean segment.
fn korean_blocks(lanes: &[Lane], n: usize) -> Vec<bool> {
    let mut hit = vec![false; n];
    for l in lanes.iter().filter(|l| l.family == Family::Korean) {
        for s in &l.segments {
            let (i0, i1) = (
                ((s.start_s / LANE_HOP_S).round() as usize).min(n),
                ((s.end_s / LANE_HOP_S).round() as usize).min(n),
            );
            hit[i0..i1].iter_mut().for_each(|h| *h = true);
        }
    }
    hit
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}
impl Counts {
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.tp + self.fp > 0 {
            self.tp as f64 / (self.tp + self.fp) as f64
        } else {
            0.0
        };
        let r = if self.tp + self.fn_ > 0 {
            self.tp as f64 / (self.tp + self.fn_) as f64
        } else {
            0.0
        };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }
    fn add(&mut self, pred: bool, truth: bool) {
        match (pred, truth) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            _ => {}
        }
    }
}

const MIX_AT_S: f64 = 3.0;
const MIX_CLIP_MAX_S: f64 = 8.0;

/// One Korean clip laid over a pop bed, analysed.
struct Mix {
    clip: usize,
    bed: usize,
    lane: String,
    truth: Vec<bool>,
    an: Analysis,
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

type Loaded = Vec<Option<(std::sync::Arc<PcmStore>, Analysis)>>;

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
fn analyze_tagged(store: &PcmStore, tagger: Option<&Tagger>) -> Result<Analysis> {
    let mut an = analyze(store);
    if let Some(t) = tagger {
        let w = t.tag_track(store, 1, |_, _| {}, || true)?;
        set_block_tags(&mut an.blocks, &w);
    }
    Ok(an)
}

fn load_all(rows: &[Row], tagger: Option<&Tagger>) -> Loaded {
    let total = rows.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    eprintln!("analysing {total} files…");
    parallel_map(rows, |_, r| {
        let out = match decode_file(&r.file) {
            Ok((s, _)) => match analyze_tagged(&s, tagger) {
                Ok(an) => Some((s, an)),
                Err(e) => {
                    eprintln!("skipped: {}: {e}", r.file.display());
                    None
                }
            },
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

fn is_korean_solo(r: &Row) -> bool {
    r.family == "korean" && r.lane.starts_with("korean.")
}

/// Mixtures of every Korean clip with a pop bed; bed `k` of clip `k` is `beds[(k * step + shift) % n]`.
/// With `write`, each mixture is also written there as a WAV file while it is built.
fn mixtures(
    rows: &[Row],
    loaded: &Loaded,
    step: usize,
    shift: usize,
    gains: &[f32],
    write: Option<&Path>,
    tagger: Option<&Tagger>,
) -> Result<Vec<Mix>> {
    let beds: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].family == "pop" && loaded[i].is_some())
        .collect();
    let clips: Vec<usize> = (0..rows.len())
        .filter(|&i| is_korean_solo(&rows[i]) && loaded[i].is_some())
        .collect();
    if beds.is_empty() {
        return Ok(Vec::new());
    }
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
    let mut jobs = Vec::new();
    for (gi, &g) in gains.iter().enumerate() {
        for (k, &c) in clips.iter().enumerate() {
            jobs.push((c, beds[(k * step + shift + gi * 5) % beds.len()], g));
        }
    }
    eprintln!("analysing {} mixtures…", jobs.len());
    parallel_map(&jobs, |_, &(c, b, g)| {
        let (Some((cs, _)), Some((bs, _))) = (&loaded[c], &loaded[b]) else {
            return None;
        };
        let (mix, truth) = build_mix(cs, bs, g);
        if let Some(dir) = write {
            let path = dir.join(format!("{}+{}.wav", stem(c), stem(b)));
            if let Err(e) = crate::notes::save::atomic_write(&path, &wav_16bit(&mix, 22_050)) {
                return Some(Err(anyhow::anyhow!(
                    "could not write {} ({e})",
                    path.display()
                )));
            }
        }
        let store = PcmStore::from_interleaved(22_050, 1, &mix);
        Some(analyze_tagged(&store, tagger).map(|an| Mix {
            clip: c,
            bed: b,
            lane: rows[c].lane.clone(),
            truth,
            an,
        }))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The figures `sori eval` prints.
#[derive(Default)]
struct Report {
    n_k: usize,
    acc: usize,
    kvp: usize,
    confusions: BTreeMap<(String, String), usize>,
    fp_time: f64,
    fp_total: f64,
    fp_files: usize,
    fp_mean: f64,
    fp_worst: Vec<(f64, String)>,
    mixes: usize,
    any: Counts,
    per: BTreeMap<&'static str, Counts>,
}

fn name_of(r: &Row) -> String {
    r.file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Report {
    fn add_file(&mut self, r: &Row, store: &PcmStore, lanes: &[Lane]) {
        if is_korean_solo(r) {
            self.n_k += 1;
            let (bi, bk, bp) = korean_lane_means(lanes);
            let got = lanes[bi].id.to_string();
            if got == r.lane {
                self.acc += 1;
            } else {
                *self.confusions.entry((r.lane.clone(), got)).or_default() += 1;
            }
            if bk > bp {
                self.kvp += 1;
            }
        } else if r.family == "pop" || r.family == "other" {
            let d = store.duration_s();
            let n = (d / LANE_HOP_S).ceil() as usize;
            let t = korean_blocks(lanes, n).iter().filter(|h| **h).count() as f64 * LANE_HOP_S;
            let t = t.min(d);
            self.fp_time += t;
            self.fp_total += d;
            self.fp_files += 1;
            self.fp_mean += t / d.max(1e-9);
            if t > 0.0 {
                self.fp_worst.push((t / d.max(1e-9), name_of(r)));
            }
        }
    }

    fn add_mix(&mut self, m: &Mix, lanes: &[Lane]) {
        let n = m.truth.len();
        if n == 0 {
            return;
        }
        self.mixes += 1;
        let any = korean_blocks(lanes, n);
        for l in lanes.iter().filter(|l| l.family == Family::Korean) {
            let pred = korean_blocks(std::slice::from_ref(l), n);
            let c = self.per.entry(l.id).or_default();
            for i in 0..n {
                c.add(pred[i], m.truth[i] && m.lane == l.id);
            }
        }
        for i in 0..n {
            self.any.add(any[i], m.truth[i]);
        }
    }

    fn print(&mut self, title: &str) {
        println!("{title}");
        println!("Korean solo files: {}", self.n_k);
        if self.n_k > 0 {
            let n = self.n_k as f64;
            println!(
                "  family accuracy      {:.3}  ({}/{})",
                self.acc as f64 / n,
                self.acc,
                self.n_k
            );
            println!(
                "  Korean beats pop     {:.3}  ({}/{})",
                self.kvp as f64 / n,
                self.kvp,
                self.n_k
            );
            for ((want, got), n) in &self.confusions {
                println!("  confused: {want} → {got}: {n}");
            }
        }
        println!(
            "Pop and other files: {} ({:.1} s)",
            self.fp_files, self.fp_total
        );
        if self.fp_files > 0 {
            println!(
                "  false-positive time  {:.3}  (pooled; per-file mean {:.3})",
                self.fp_time / self.fp_total.max(1e-9),
                self.fp_mean / self.fp_files as f64
            );
            self.fp_worst.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (share, name) in self.fp_worst.iter().take(6) {
                println!(
                    "  Korean segments on {name}: {:.0} % of its time",
                    share * 100.0
                );
            }
        }
        println!(
            "Mixtures: {} (Korean clip of at most {MIX_CLIP_MAX_S} s at {MIX_AT_S} s over a pop bed)",
            self.mixes
        );
        let (p, r, f) = self.any.prf();
        println!("  Korean present       P {p:.3}  R {r:.3}  F1 {f:.3}");
        for info in LANES.iter().filter(|l| l.family == Family::Korean) {
            if let Some(c) = self.per.get(info.id) {
                let (p, r, f) = c.prf();
                println!("  {:<22} P {p:.3}  R {r:.3}  F1 {f:.3}", info.id);
            }
        }
    }
}

/// Lanes of an analysis re-scored with `model` (`None`: the hand-set rules).
fn rescore(an: &Analysis, model: Option<&Model>) -> Vec<Lane> {
    score_lanes(&an.blocks, &an.bends, model)
}

/// The recording a file comes from, for cross-validation: the 30 daegeum notes were cut from
/// one performance, so they form one group; every other file is its own.
fn group_of(r: &Row) -> String {
    let p = r.file.to_string_lossy();
    if p.contains("/daegeum/") {
        "daegeum notes".into()
    } else {
        p.into_owned()
    }
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let rows = read_manifest(&a.manifest)?;
    if rows.is_empty() {
        bail!("{}: no files listed", a.manifest.display());
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
    let mixes = mixtures(
        &rows,
        &loaded,
        1,
        0,
        &[a.mix_gain_db],
        a.write_mixtures.as_deref(),
        tagger.as_ref(),
    )?;
    if let Some(dir) = &a.write_mixtures {
        eprintln!("wrote {} mixtures to {}", mixes.len(), dir.display());
    }
    let model = if a.rules {
        None
    } else {
        custom.as_ref().or(Model::builtin_for(false))
    };
    let mut report = Report::default();
    for (r, res) in rows.iter().zip(&loaded) {
        let Some((store, an)) = res else { continue };
        let lanes = rescore(an, model);
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
        report.add_file(r, store, &lanes);
    }
    for m in &mixes {
        report.add_mix(m, &rescore(&m.an, model));
    }
    let what = match (a.rules, model.is_some()) {
        (true, _) => "Korean lanes: hand-set rules",
        (false, true) => "Korean lanes: the shipped model (figures on files it was fitted on)",
        (false, false) => "Korean lanes: hand-set rules (no usable shipped model)",
    };
    let source = if tagger.is_some() {
        "signal cues and the AudioSet tagger"
    } else {
        "signal cues alone (no tagger)"
    };
    report.print(&format!(
        "{what}; {source}; mix gain {:+.0} dB",
        a.mix_gain_db
    ));

    if let Some(k) = a.cv.filter(|k| *k >= 2) {
        let train_mixes = mixtures(&rows, &loaded, 7, 3, &TRAIN_GAINS, None, tagger.as_ref())?;
        let mut groups: Vec<String> = rows.iter().map(group_of).collect();
        groups.sort();
        groups.dedup();
        let fold_of = |i: usize| {
            let g = group_of(&rows[i]);
            groups.iter().position(|x| *x == g).unwrap_or(0) % k
        };
        let mut cv = Report::default();
        for fold in 0..k {
            // As the app scores: a model of the signal cues alone says whether a Korean
            // timbre is there, and (with the tagger) one that also hears the tagger's
            // classes says which family; both fitted without this fold's recordings.
            let train = |tags: bool| {
                let keep = |i: usize| fold_of(i) != fold;
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
            let score = |an: &Analysis| {
                score_lanes_with(&an.blocks, &an.bends, Some(&plain), family.as_ref())
            };
            for (i, (r, res)) in rows.iter().zip(&loaded).enumerate() {
                if let (Some((store, an)), true) = (res, fold_of(i) == fold) {
                    cv.add_file(r, store, &score(an));
                }
            }
            for m in mixes.iter().filter(|m| fold_of(m.clip) == fold) {
                cv.add_mix(m, &score(&m.an));
            }
        }
        println!();
        cv.print(&format!(
            "{k}-fold cross-validation by recording: each fold scored by models fitted without its files"
        ));
    }
    Ok(())
}

/// Gains of the Korean clip against the bed in the training mixtures, dB.
const TRAIN_GAINS: [f32; 3] = [-6.0, 0.0, 6.0];

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

fn fit(
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
    let mixes = mixtures(&rows, &loaded, 7, 3, &TRAIN_GAINS, None, tagger.as_ref())?;
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
