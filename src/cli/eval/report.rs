//! The figures of `sori eval`: tallied per scoring (a column), then printed side by side or
//! written as JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::manifest::{Row, group_of, is_korean_solo, lookalike_class, name_of};
use super::mixtures::Mix;
use crate::analysis::lens::{Family, LANE_HOP_S, LANES, Lane};

/// The best Korean lane by mean score, its mean, and the best pop lane's mean.
fn korean_lane_means(lanes: &[Lane]) -> (Option<&'static str>, f32, f32) {
    let mut best_k = (None, -1.0f32);
    let mut best_p = -1.0f32;
    for l in lanes {
        let m = l.mean();
        if l.family == Family::Korean && m > best_k.1 {
            best_k = (Some(l.id), m);
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
                ((s.start_s / LANE_HOP_S).round().max(0.0) as usize).min(n),
                ((s.end_s / LANE_HOP_S).round().max(0.0) as usize).min(n),
            );
            if i0 < i1 {
                hit[i0..i1].iter_mut().for_each(|h| *h = true);
            }
        }
    }
    hit
}

#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Counts {
    fn prf(&self) -> Prf {
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        Prf {
            precision: p,
            recall: r,
            f1,
        }
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

/// A pop or look-alike file: how long it is and how much of it a Korean lane claimed.
struct Negative {
    name: String,
    family: String,
    class: String,
    seconds: f64,
    korean_s: f64,
}

#[derive(Default)]
struct MixTally {
    mixtures: usize,
    any: Counts,
    per: BTreeMap<&'static str, Counts>,
}

/// What one way of scoring got right and wrong, file by file and mixture by mixture.
#[derive(Default)]
pub struct Tally {
    /// Korean solo files: (labelled lane, best Korean lane, whether it beat every pop lane,
    /// source recording).
    korean: Vec<(String, String, bool, String)>,
    negatives: Vec<Negative>,
    /// By level, in tenths of a dB (sorted loudest first when reported).
    mixes: BTreeMap<i32, MixTally>,
}

impl Tally {
    pub fn add_file(&mut self, r: &Row, duration_s: f64, lanes: &[Lane]) {
        if is_korean_solo(r) {
            let (best, bk, bp) = korean_lane_means(lanes);
            let got = best.unwrap_or("none").to_string();
            self.korean
                .push((r.lane.clone(), got, bk > bp, group_of(r)));
        } else if r.family == "pop" || r.family == "other" {
            let n = (duration_s / LANE_HOP_S).ceil() as usize;
            let hit = korean_blocks(lanes, n).iter().filter(|h| **h).count();
            self.negatives.push(Negative {
                name: name_of(r),
                family: r.family.clone(),
                class: if r.family == "other" {
                    lookalike_class(r)
                } else {
                    String::new()
                },
                seconds: duration_s,
                korean_s: (hit as f64 * LANE_HOP_S).min(duration_s),
            });
        }
    }

    pub fn add_mix(&mut self, m: &Mix, lanes: &[Lane]) {
        let n = m.truth.len();
        if n == 0 {
            return;
        }
        let t = self
            .mixes
            .entry((m.gain_db * 10.0).round() as i32)
            .or_default();
        t.mixtures += 1;
        let any = korean_blocks(lanes, n);
        for l in lanes.iter().filter(|l| l.family == Family::Korean) {
            let pred = korean_blocks(std::slice::from_ref(l), n);
            let c = t.per.entry(l.id).or_default();
            for i in 0..n {
                c.add(pred[i], m.truth[i] && m.lane == l.id);
            }
        }
        for i in 0..n {
            t.any.add(any[i], m.truth[i]);
        }
    }

    pub fn figures(&self, column: &str) -> Figures {
        let share = |a: usize, n: usize| if n > 0 { a as f64 / n as f64 } else { f64::NAN };
        let correct = self.korean.iter().filter(|k| k.0 == k.1).count();
        let beats = self.korean.iter().filter(|k| k.2).count();
        // Each recording weighs one: the share of its files named right, averaged.
        let mut by_recording: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for k in &self.korean {
            let e = by_recording.entry(&k.3).or_default();
            e.0 += usize::from(k.0 == k.1);
            e.1 += 1;
        }
        let per_recording = if by_recording.is_empty() {
            f64::NAN
        } else {
            by_recording
                .values()
                .map(|(c, n)| *c as f64 / *n as f64)
                .sum::<f64>()
                / by_recording.len() as f64
        };
        let mut per_lane: BTreeMap<String, Accuracy> = BTreeMap::new();
        let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (want, got, _, _) in &self.korean {
            let a = per_lane.entry(want.clone()).or_default();
            a.files += 1;
            a.correct += usize::from(want == got);
            *confusion
                .entry(want.clone())
                .or_default()
                .entry(got.clone())
                .or_default() += 1;
        }
        for a in per_lane.values_mut() {
            a.accuracy = share(a.correct, a.files);
        }
        let fp = |keep: &dyn Fn(&Negative) -> bool| {
            let mut f = Fp::default();
            for n in self.negatives.iter().filter(|n| keep(n)) {
                f.files += 1;
                f.seconds += n.seconds;
                f.korean_seconds += n.korean_s;
            }
            f.share = if f.seconds > 0.0 {
                f.korean_seconds / f.seconds
            } else {
                f64::NAN
            };
            f
        };
        let mut by_lookalike = BTreeMap::new();
        let mut by_pop_file = BTreeMap::new();
        for n in &self.negatives {
            if n.family == "other" {
                by_lookalike.entry(n.class.clone()).or_insert_with(|| {
                    fp(&|m: &Negative| m.family == "other" && m.class == n.class)
                });
            } else {
                by_pop_file
                    .entry(n.name.clone())
                    .or_insert_with(|| fp(&|m: &Negative| m.family == "pop" && m.name == n.name));
            }
        }
        let mixtures = self
            .mixes
            .iter()
            .rev()
            .map(|(tenths, t)| {
                let any = t.any.prf();
                MixLevel {
                    level_db: *tenths as f64 / 10.0,
                    mixtures: t.mixtures,
                    precision: any.precision,
                    recall: any.recall,
                    f1: any.f1,
                    per_lane: t
                        .per
                        .iter()
                        .map(|(k, c)| (k.to_string(), c.prf()))
                        .collect(),
                }
            })
            .collect();
        Figures {
            column: column.to_string(),
            korean_files: self.korean.len(),
            family_accuracy: share(correct, self.korean.len()),
            family_accuracy_per_recording: per_recording,
            korean_recordings: by_recording.len(),
            korean_beats_pop: share(beats, self.korean.len()),
            per_lane,
            confusion,
            false_positive: fp(&|_| true),
            false_positive_pop: fp(&|n| n.family == "pop"),
            false_positive_other: fp(&|n| n.family == "other"),
            false_positive_by_lookalike: by_lookalike,
            false_positive_by_pop_file: by_pop_file,
            mixtures,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Accuracy {
    pub files: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// Time inside Korean segments on files with no Korean instrument.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Fp {
    pub files: usize,
    pub seconds: f64,
    pub korean_seconds: f64,
    /// `korean_seconds / seconds`, pooled over the files.
    pub share: f64,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// "A Korean timbre is present", block by block, on the mixtures at one level.
#[derive(Debug, Clone, Serialize)]
pub struct MixLevel {
    pub level_db: f64,
    pub mixtures: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Each Korean lane against the blocks where a clip of its own family sounds.
    pub per_lane: BTreeMap<String, Prf>,
}

/// The figures of one column of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub column: String,
    pub korean_files: usize,
    /// Korean solo files whose highest-mean Korean lane is the labelled one.
    pub family_accuracy: f64,
    /// The same with each source recording weighing one (30 daegeum notes cut from one
    /// performance count as one recording, not 30 files).
    pub family_accuracy_per_recording: f64,
    pub korean_recordings: usize,
    /// Korean solo files whose best Korean lane's mean beats every pop lane's.
    pub korean_beats_pop: f64,
    pub per_lane: BTreeMap<String, Accuracy>,
    /// Labelled lane → best Korean lane → files.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub false_positive: Fp,
    pub false_positive_pop: Fp,
    pub false_positive_other: Fp,
    pub false_positive_by_lookalike: BTreeMap<String, Fp>,
    pub false_positive_by_pop_file: BTreeMap<String, Fp>,
    pub mixtures: Vec<MixLevel>,
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".into()
    }
}

fn short(lane: &str) -> &str {
    lane.strip_prefix("korean.").unwrap_or(lane)
}

/// The columns side by side, one figure a row, then each column's confusion table.
pub fn table(cols: &[Figures]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let head = |rows: &mut Vec<(String, Vec<String>)>, label: String| {
        rows.push((label, Vec::new()));
    };
    let row =
        |rows: &mut Vec<(String, Vec<String>)>, label: String, f: &dyn Fn(&Figures) -> String| {
            rows.push((label, cols.iter().map(f).collect()));
        };
    let first = &cols[0];
    head(
        &mut rows,
        format!("Korean solo files ({})", first.korean_files),
    );
    row(&mut rows, "  family accuracy".into(), &|c| {
        num(c.family_accuracy)
    });
    row(
        &mut rows,
        format!(
            "  family accuracy, per recording ({})",
            first.korean_recordings
        ),
        &|c| num(c.family_accuracy_per_recording),
    );

    for (lane, a) in &first.per_lane {
        row(
            &mut rows,
            format!("    {} ({})", short(lane), a.files),
            &|c| num(c.per_lane.get(lane).map_or(f64::NAN, |a| a.accuracy)),
        );
    }
    row(&mut rows, "  Korean beats pop".into(), &|c| {
        num(c.korean_beats_pop)
    });
    head(
        &mut rows,
        "False-positive time (share inside a Korean segment)".into(),
    );
    let fp_row = |label: String, f: &Fp| {
        let files = if f.files == 1 { "file" } else { "files" };
        format!("{label} ({} {files}, {:.0} s)", f.files, f.seconds)
    };
    row(
        &mut rows,
        fp_row("  pop and other".into(), &first.false_positive),
        &|c| num(c.false_positive.share),
    );
    row(
        &mut rows,
        fp_row("  look-alikes (other)".into(), &first.false_positive_other),
        &|c| num(c.false_positive_other.share),
    );
    for (class, f) in &first.false_positive_by_lookalike {
        row(&mut rows, fp_row(format!("    {class}"), f), &|c| {
            num(c
                .false_positive_by_lookalike
                .get(class)
                .map_or(f64::NAN, |f| f.share))
        });
    }
    row(
        &mut rows,
        fp_row("  pop".into(), &first.false_positive_pop),
        &|c| num(c.false_positive_pop.share),
    );
    for (name, f) in &first.false_positive_by_pop_file {
        row(
            &mut rows,
            format!("    {name} ({:.1} s)", f.seconds),
            &|c| {
                num(c
                    .false_positive_by_pop_file
                    .get(name)
                    .map_or(f64::NAN, |f| f.share))
            },
        );
    }
    head(
        &mut rows,
        "Mixtures: a Korean clip over a pop or look-alike bed (Korean present, per 0.1 s)".into(),
    );
    for (i, m) in first.mixtures.iter().enumerate() {
        let at = |c: &Figures| c.mixtures.get(i).cloned();
        row(
            &mut rows,
            format!("  F1 at {:+.0} dB ({} mixtures)", m.level_db, m.mixtures),
            &|c| at(c).map_or("–".into(), |m| num(m.f1)),
        );
        row(&mut rows, "    precision / recall".into(), &|c| {
            at(c).map_or("–".into(), |m| {
                format!("{:.2} / {:.2}", m.precision, m.recall)
            })
        });
    }
    let width = rows
        .iter()
        .filter(|r| !r.1.is_empty())
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let cw = cols
        .iter()
        .map(|c| c.column.chars().count())
        .max()
        .unwrap_or(0)
        .max(11)
        + 2;
    let mut out = String::new();
    out.push_str(&" ".repeat(width));
    for c in cols {
        out.push_str(&format!("{:>cw$}", c.column));
    }
    out.push('\n');
    for (label, vals) in &rows {
        out.push_str(label);
        if !vals.is_empty() {
            out.push_str(&" ".repeat(width.saturating_sub(label.chars().count())));
            for v in vals {
                out.push_str(&format!("{v:>cw$}"));
            }
        }
        out.push('\n');
    }
    let korean: Vec<&str> = LANES
        .iter()
        .filter(|l| l.family == Family::Korean)
        .map(|l| l.id)
        .collect();
    for c in cols {
        out.push_str(&format!(
            "\nConfusion, {} (rows: labelled lane; columns: highest-mean Korean lane)\n",
            c.column
        ));
        out.push_str(&format!("{:<16}", ""));
        for k in &korean {
            out.push_str(&format!("{:>9}", short(k)));
        }
        out.push('\n');
        for (want, got) in &c.confusion {
            out.push_str(&format!("{:<16}", short(want)));
            for k in &korean {
                out.push_str(&format!("{:>9}", got.get(*k).copied().unwrap_or(0)));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::lens::Segment;
    use std::path::PathBuf;

    fn row(file: &str, family: &str, lane: &str, instrument: &str) -> Row {
        Row {
            file: PathBuf::from(file),
            family: family.into(),
            lane: lane.into(),
            instrument: instrument.into(),
            ..Default::default()
        }
    }

    /// Lanes of `secs` seconds where `lit` (a lane id) scores `level` and holds segments.
    fn lanes(secs: f64, lit: &[(&'static str, f32, f64, f64)]) -> Vec<Lane> {
        let n = (secs / LANE_HOP_S).round() as usize;
        LANES
            .iter()
            .map(|info| {
                let mine: Vec<_> = lit.iter().filter(|l| l.0 == info.id).collect();
                Lane {
                    id: info.id,
                    family: info.family,
                    label: info.label,
                    hop_s: LANE_HOP_S,
                    scores: vec![mine.first().map_or(0.0, |l| l.1); n],
                    segments: mine
                        .iter()
                        .map(|l| Segment {
                            start_s: l.2,
                            end_s: l.3,
                            score: l.1,
                            evidence: String::new(),
                            closest: Vec::new(),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn accuracy_confusion_and_false_positives_count_what_the_lanes_said() {
        let mut t = Tally::default();
        let bowed = row("k/haegeum.mp3", "korean", "korean.bowed", "haegeum");
        t.add_file(
            &bowed,
            10.0,
            &lanes(10.0, &[("korean.bowed", 0.8, 0.0, 10.0)]),
        );
        t.add_file(
            &bowed,
            10.0,
            &lanes(10.0, &[("korean.wind", 0.6, 0.0, 10.0)]),
        );
        let wind = row("k/danso.mp3", "korean", "korean.wind", "danso");
        t.add_file(
            &wind,
            10.0,
            &lanes(
                10.0,
                &[("korean.wind", 0.3, 0.0, 0.0), ("pop.synth", 0.5, 0.0, 0.0)],
            ),
        );
        // A guitar with a Korean segment over a quarter of it, a tabla with none, and a
        // pop file with a tenth.
        let guitar = row("p/guit.flac", "other", "other", "guitar slide (bend)");
        t.add_file(
            &guitar,
            8.0,
            &lanes(8.0, &[("korean.silk_plucked", 0.7, 2.0, 4.0)]),
        );
        let tabla = row("p/tabla.flac", "other", "other", "tabla loop");
        t.add_file(&tabla, 4.0, &lanes(4.0, &[]));
        let pop = row("p/loop.flac", "pop", "pop.drum_machine", "loop");
        t.add_file(&pop, 10.0, &lanes(10.0, &[("korean.drum", 0.7, 5.0, 6.0)]));
        let f = t.figures("x");
        assert_eq!(f.korean_files, 3);
        assert!((f.family_accuracy - 2.0 / 3.0).abs() < 1e-9);
        // Two recordings: the haegeum one half right, the danso one right.
        assert_eq!(f.korean_recordings, 2);
        assert!((f.family_accuracy_per_recording - 0.75).abs() < 1e-9);
        assert!(
            (f.korean_beats_pop - 2.0 / 3.0).abs() < 1e-9,
            "the danso lost to a synth"
        );
        assert_eq!(f.per_lane["korean.bowed"].correct, 1);
        assert_eq!(f.per_lane["korean.bowed"].files, 2);
        assert_eq!(f.confusion["korean.bowed"]["korean.wind"], 1);
        assert_eq!(f.confusion["korean.bowed"]["korean.bowed"], 1);
        assert!((f.false_positive_by_lookalike["guitar"].share - 0.25).abs() < 1e-9);
        assert_eq!(f.false_positive_by_lookalike["tabla"].share, 0.0);
        assert!((f.false_positive_by_pop_file["loop.flac"].share - 0.1).abs() < 1e-9);
        assert!((f.false_positive.share - 3.0 / 22.0).abs() < 1e-9);
        assert!((f.false_positive_other.share - 2.0 / 12.0).abs() < 1e-9);
        let text = table(&[f.clone(), f]);
        assert!(text.contains("guitar (1 file, 8 s)"), "{text}");
        assert!(text.contains("0.250"), "{text}");
    }

    #[test]
    fn mixture_figures_are_kept_apart_by_level() {
        let mut t = Tally::default();
        // 10 blocks of truth from 1 s to 2 s; at 0 dB the lane finds all of it, at -9 dB
        // half of it plus 5 blocks of bed.
        let truth: Vec<bool> = (0..40).map(|i| (10..20).contains(&i)).collect();
        let mix = |gain_db: f32| Mix {
            clip: 0,
            bed: 1,
            gain_db,
            lane: "korean.bowed".into(),
            truth: truth.clone(),
            an: Default::default(),
            emb: Vec::new(),
        };
        t.add_mix(&mix(0.0), &lanes(4.0, &[("korean.bowed", 0.9, 1.0, 2.0)]));
        t.add_mix(
            &mix(-9.0),
            &lanes(
                4.0,
                &[
                    ("korean.bowed", 0.9, 1.5, 2.0),
                    ("korean.bowed", 0.9, 3.0, 3.5),
                ],
            ),
        );
        let f = t.figures("x");
        assert_eq!(f.mixtures.len(), 2);
        assert_eq!(f.mixtures[0].level_db, 0.0, "loudest first");
        assert!((f.mixtures[0].f1 - 1.0).abs() < 1e-9);
        let m9 = &f.mixtures[1];
        assert_eq!(m9.level_db, -9.0);
        assert!((m9.precision - 0.5).abs() < 1e-9 && (m9.recall - 0.5).abs() < 1e-9);
        assert!((m9.per_lane["korean.bowed"].f1 - 0.5).abs() < 1e-9);
        assert_eq!(m9.per_lane["korean.wind"].f1, 0.0);
    }
}
