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
use crate::analysis::lens::{Analysis, Family, LANE_HOP_S, LANES, analyze};
use crate::audio::{PcmStore, decode_file};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Manifest CSV (columns of shared/testdata/labels.csv).
    pub manifest: PathBuf,
    /// Level of the Korean clip against the pop bed in the mixtures, dB (RMS).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub mix_gain_db: f32,
    /// Print one line per file with its lane means.
    #[arg(short, long)]
    pub verbose: bool,
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
        "voi {:.2} harm {:.2} f0 {:.0} hflat {:.2} air {:.0} pres {:.0} sub {:.0} flat {:.2} on {:.1} lo {:.2} hi {:.2} dec {:.1} bend {:.2} vib {:.1}/{:.0} spr {:.1} semi {:.2} inh {:.2} grid {:.1} tch {:.1} swing {:.1} cen {:.0}",
        med(&|b| b.voiced),
        med(&|b| b.harmonicity),
        med(&|b| b.f0_hz),
        med(&|b| b.high_flat),
        med(&|b| b.air_db),
        med(&|b| b.presence_db),
        med(&|b| b.sub_db),
        med(&|b| b.flatness),
        med(&|b| b.onset_rate),
        med(&|b| b.onset_low),
        med(&|b| b.onset_high),
        med(&|b| b.decay_db),
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

fn korean_lane_means(a: &Analysis) -> (usize, f32, f32) {
    let mut best_k = (0usize, -1.0f32);
    let mut best_p = -1.0f32;
    for (i, l) in a.lanes.iter().enumerate() {
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

fn korean_time(a: &Analysis, duration: f64) -> f64 {
    let n = (duration / LANE_HOP_S).ceil() as usize;
    let mut hit = vec![false; n];
    for l in a.lanes.iter().filter(|l| l.family == Family::Korean) {
        for s in &l.segments {
            let (i0, i1) = (
                (s.start_s / LANE_HOP_S) as usize,
                ((s.end_s / LANE_HOP_S) as usize).min(n),
            );
            if i0 < i1 {
                hit[i0..i1].iter_mut().for_each(|h| *h = true);
            }
        }
    }
    hit.iter().filter(|h| **h).count() as f64 * LANE_HOP_S
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
}

const MIX_AT_S: f64 = 3.0;
const MIX_CLIP_MAX_S: f64 = 8.0;

pub fn run(a: &EvalArgs) -> Result<()> {
    let rows = read_manifest(&a.manifest)?;
    if rows.is_empty() {
        bail!("{}: no files listed", a.manifest.display());
    }
    let total = rows.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    eprintln!("analysing {total} files…");
    let results: Vec<Option<(std::sync::Arc<PcmStore>, Analysis)>> = parallel_map(&rows, |_, r| {
        let out = match decode_file(&r.file) {
            Ok((s, _)) => {
                let an = analyze(&s);
                Some((s, an))
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
    });

    // Korean solo files.
    let (mut n_k, mut acc, mut kvp) = (0, 0, 0);
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut fp_time, mut fp_total, mut fp_files, mut fp_mean) = (0.0, 0.0, 0, 0.0);
    let mut fp_worst: Vec<(f64, String)> = Vec::new();
    for (r, res) in rows.iter().zip(&results) {
        let Some((store, an)) = res else { continue };
        let name = r
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if a.verbose {
            let means: Vec<String> = an
                .lanes
                .iter()
                .map(|l| format!("{:.2}", l.mean()))
                .collect();
            eprintln!(
                "{:<28} {:<20} {:<14} {}",
                name,
                r.lane,
                r.instrument,
                means.join(" ")
            );
            if std::env::var_os("SORI_EVAL_CUES").is_some() {
                eprintln!("    {}", cue_summary(an));
            }
        }
        if r.family == "korean" && r.lane.starts_with("korean.") {
            n_k += 1;
            let (bi, bk, bp) = korean_lane_means(an);
            let got = an.lanes[bi].id.to_string();
            if got == r.lane {
                acc += 1;
            } else {
                *confusions.entry((r.lane.clone(), got)).or_default() += 1;
            }
            if bk > bp {
                kvp += 1;
            }
        } else if r.family == "pop" || r.family == "other" {
            let d = store.duration_s();
            let t = korean_time(an, d);
            fp_time += t;
            fp_total += d;
            fp_files += 1;
            fp_mean += t / d.max(1e-9);
            if t > 0.0 {
                fp_worst.push((t / d.max(1e-9), name));
            }
        }
    }
    println!("Korean solo files: {n_k}");
    if n_k > 0 {
        println!(
            "  family accuracy      {:.3}  ({acc}/{n_k})",
            acc as f64 / n_k as f64
        );
        println!(
            "  Korean beats pop     {:.3}  ({kvp}/{n_k})",
            kvp as f64 / n_k as f64
        );
        for ((want, got), n) in &confusions {
            println!("  confused: {want} → {got}: {n}");
        }
    }
    println!("Pop and other files: {fp_files} ({fp_total:.1} s)");
    if fp_files > 0 {
        println!(
            "  false-positive time  {:.3}  (pooled; per-file mean {:.3})",
            fp_time / fp_total.max(1e-9),
            fp_mean / fp_files as f64
        );
        fp_worst.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (share, name) in fp_worst.iter().take(6) {
            println!(
                "  Korean segments on {name}: {:.0} % of its time",
                share * 100.0
            );
        }
    }

    // Mixtures: every Korean solo clip over a pop bed (pop files in turn, looped).
    let beds: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].family == "pop" && results[i].is_some())
        .collect();
    let clips: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            rows[i].family == "korean"
                && rows[i].lane.starts_with("korean.")
                && results[i].is_some()
        })
        .collect();
    if beds.is_empty() || clips.is_empty() {
        println!("Mixtures: none (need Korean and pop files)");
        return Ok(());
    }
    let pairs: Vec<(usize, usize)> = clips
        .iter()
        .enumerate()
        .map(|(k, &c)| (c, beds[k % beds.len()]))
        .collect();
    let gain = 10f32.powf(a.mix_gain_db / 20.0);
    eprintln!("analysing {} mixtures…", pairs.len());
    let mixed: Vec<(String, Vec<bool>, Analysis)> = parallel_map(&pairs, |_, &(c, b)| {
        let (Some((cs, _)), Some((bs, _))) = (&results[c], &results[b]) else {
            return (String::new(), Vec::new(), Analysis::default());
        };
        let rate = 22_050usize;
        let mut clip = mono_22k(cs);
        clip.truncate((MIX_CLIP_MAX_S * rate as f64) as usize);
        let bed_src = mono_22k(bs);
        let len = ((MIX_AT_S + clip.len() as f64 / rate as f64 + 3.0) * rate as f64) as usize;
        // Long beds start 20 s in (past intros); short ones loop.
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
        // Clip level: RMS over its sounding blocks (within 30 dB of its loudest 0.1 s).
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
            gain * bed_rms.max(1e-4) / clip_rms
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
            .map(|i| {
                i >= at_block
                    && sounding.get(i - at_block.min(i)).copied().unwrap_or(false)
                    && i - at_block < sounding.len()
            })
            .collect();
        let store = PcmStore::from_interleaved(rate as u32, 1, &mix);
        (rows[c].lane.clone(), truth, analyze(&store))
    });
    let mut any = Counts::default();
    let mut per: BTreeMap<&str, Counts> = BTreeMap::new();
    for (lane, truth, an) in &mixed {
        if truth.is_empty() {
            continue;
        }
        let n = truth.len();
        let mut pred_any = vec![false; n];
        for l in an.lanes.iter().filter(|l| l.family == Family::Korean) {
            let mut pred = vec![false; n];
            for s in &l.segments {
                let (i0, i1) = (
                    (s.start_s / LANE_HOP_S).round() as usize,
                    ((s.end_s / LANE_HOP_S).round() as usize).min(n),
                );
                for i in i0.min(n)..i1 {
                    pred[i] = true;
                    pred_any[i] = true;
                }
            }
            let c = per.entry(l.id).or_default();
            for i in 0..n {
                let t = truth[i] && lane == l.id;
                match (pred[i], t) {
                    (true, true) => c.tp += 1,
                    (true, false) => c.fp += 1,
                    (false, true) => c.fn_ += 1,
                    _ => {}
                }
            }
        }
        for i in 0..n {
            match (pred_any[i], truth[i]) {
                (true, true) => any.tp += 1,
                (true, false) => any.fp += 1,
                (false, true) => any.fn_ += 1,
                _ => {}
            }
        }
    }
    let (p, r, f) = any.prf();
    println!(
        "Mixtures: {} (Korean clip of at most {MIX_CLIP_MAX_S} s at {MIX_AT_S} s over a pop bed, {:+.0} dB)",
        mixed.len(),
        a.mix_gain_db
    );
    println!("  Korean present       P {p:.3}  R {r:.3}  F1 {f:.3}");
    for info in LANES.iter().filter(|l| l.family == Family::Korean) {
        if let Some(c) = per.get(info.id) {
            let (p, r, f) = c.prf();
            println!("  {:<22} P {p:.3}  R {r:.3}  F1 {f:.3}", info.id);
        }
    }
    Ok(())
}
