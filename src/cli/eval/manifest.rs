//! The manifest `sori eval` and `sori train` read (the columns of `labels.csv`), and which
//! recording each file comes from, so that no recording sits on both sides of a fold.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, Default)]
pub struct Row {
    pub file: PathBuf,
    /// The `file` column as the manifest writes it (relative to the manifest).
    pub listed: String,
    pub family: String,
    pub lane: String,
    pub instrument: String,
    /// The manifest's `group` column, if it has one: files of one source recording.
    pub group: String,
    /// The excerpt to take, seconds (`end_s` at or before `start_s`: the whole file).
    pub start_s: f64,
    pub end_s: f64,
    /// The manifest's `source` and `licence` columns, if it has them.
    pub source: String,
    pub licence: String,
}

impl Row {
    /// The frames of a file of `frames` at `rate` that the row names: its excerpt, or all
    /// of it when the excerpt is the whole file to within 50 ms.
    pub fn frame_range(&self, rate: u32, frames: u64) -> (u64, u64) {
        let at = |s: f64| ((s.max(0.0) * rate as f64).round() as u64).min(frames);
        let whole = self.start_s < 0.05
            && (self.end_s <= self.start_s || self.end_s >= frames as f64 / rate as f64 - 0.05);
        if whole {
            (0, frames)
        } else if self.end_s <= self.start_s {
            (at(self.start_s), frames)
        } else {
            (at(self.start_s), at(self.end_s))
        }
    }
}

/// Reads every manifest (or folder) in turn: their rows, in order.
pub fn read_manifests(paths: &[PathBuf]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for p in paths {
        rows.extend(read_manifest(p)?);
    }
    Ok(rows)
}

/// Reads a manifest, or the `labels.csv` in a folder. Paths are relative to the manifest.
pub fn read_manifest(path: &Path) -> Result<Vec<Row>> {
    let path = if path.is_dir() {
        path.join("labels.csv")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("could not read {}", path.display()))?;
    parse_manifest(&text, path.parent().unwrap_or(Path::new(".")))
        .with_context(|| path.display().to_string())
}

pub(super) fn parse_manifest(text: &str, base: &Path) -> Result<Vec<Row>> {
    let records = crate::csv::records(text)
        .map_err(|u| anyhow::anyhow!("line {}: a quoted field is not closed", u.line))?;
    let mut lines = records.into_iter();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(cf), Some(cfam), Some(cl)) = (col("file"), col("family"), col("lane")) else {
        bail!("the first line must name the columns file, family and lane");
    };
    let (ci, cg) = (col("instrument"), col("group"));
    let (csrc, clic) = (col("source"), col("licence"));
    let (cs, ce) = (col("start_s"), col("end_s"));
    let mut rows = Vec::new();
    for (n, f) in lines {
        if f.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| f.get(i).map(|s| s.trim().to_string());
        let seconds = |c: Option<usize>, name: &str| -> Result<f64> {
            match c.and_then(get).filter(|v| !v.is_empty()) {
                None => Ok(0.0),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .with_context(|| format!("line {}: {name} {v:?} is not a time in seconds", n)),
            }
        };
        let (Some(file), Some(family), Some(lane)) = (get(cf), get(cfam), get(cl)) else {
            bail!("line {}: too few columns", n);
        };
        rows.push(Row {
            file: base.join(&file),
            listed: file,
            family,
            lane,
            instrument: ci.and_then(get).unwrap_or_default(),
            group: cg.and_then(get).unwrap_or_default(),
            start_s: seconds(cs, "start_s")?,
            end_s: seconds(ce, "end_s")?,
            source: csrc.and_then(get).unwrap_or_default(),
            licence: clic.and_then(get).unwrap_or_default(),
        });
    }
    Ok(rows)
}

pub fn is_korean_solo(r: &Row) -> bool {
    r.family == "korean" && r.lane.starts_with("korean.")
}

pub fn name_of(r: &Row) -> String {
    r.file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The source recording a file comes from. The manifest's `group` column says so where it
/// is filled; otherwise the daegeum notes (cut from one sanjo performance) are one
/// recording, and so are the K-SORi clips of one instrument (its letter: M1–M6 haegeum,
/// P1–P5 soribuk, …), which may come from one session; every other file is its own.
pub fn group_of(r: &Row) -> String {
    if !r.group.is_empty() {
        return r.group.clone();
    }
    let p = r.file.to_string_lossy().replace('\\', "/");
    if p.contains("/daegeum/") {
        return "daegeum notes".into();
    }
    if p.contains("/ksori/") {
        let name = name_of(r);
        let prefix: String = name.chars().take_while(|c| c.is_alphabetic()).collect();
        return format!("ksori {prefix}");
    }
    p
}

/// The look-alike class of an `other` file, from its instrument (the first of these words
/// it names; else the instrument without its remarks in brackets).
pub fn lookalike_class(r: &Row) -> String {
    const CLASSES: [(&str, &str); 16] = [
        ("guitar", "guitar"),
        ("tabla", "tabla"),
        ("bell", "bells"),
        ("piano", "piano"),
        ("choir", "choir"),
        ("vocal", "voice"),
        ("voice", "voice"),
        ("harp", "harp"),
        ("marimba", "mallets"),
        ("mallet", "mallets"),
        ("xylophone", "mallets"),
        ("glockenspiel", "glockenspiel"),
        ("violin", "strings"),
        ("string", "strings"),
        ("flute", "flute"),
        ("cymbal", "cymbals"),
    ];
    let inst = r.instrument.to_lowercase();
    CLASSES
        .iter()
        .find(|(w, _)| inst.contains(w))
        .map(|(_, c)| c.to_string())
        .unwrap_or_else(|| {
            let bare = inst.split('(').next().unwrap_or_default().trim();
            if bare.is_empty() {
                "unnamed".into()
            } else {
                bare.to_string()
            }
        })
}

/// The fold (0..k) of every row: whole recordings go to folds in turn, ordered by their
/// lane, so each fold holds some of every lane that has enough recordings.
pub fn assign_folds(rows: &[Row], k: usize) -> Vec<usize> {
    let k = k.max(1);
    let mut groups: Vec<(String, String)> = Vec::new();
    for r in rows {
        let g = group_of(r);
        if !groups.iter().any(|(_, h)| *h == g) {
            groups.push((r.lane.clone(), g));
        }
    }
    groups.sort();
    rows.iter()
        .map(|r| {
            let g = group_of(r);
            groups.iter().position(|(_, h)| *h == g).unwrap_or(0) % k
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &str = "file,start_s,end_s,family,lane,instrument,note\n\
        korean/ksori/M1.m4a,0,1,korean,korean.bowed,haegeum,\n\
        korean/ksori/M2.m4a,0,1,korean,korean.bowed,haegeum,\n\
        korean/ksori/P1.m4a,0,1,korean,korean.drum,soribuk,\n\
        korean/daegeum/Daegeum_C4.wav,0,1,korean,korean.wind,daegeum,\n\
        korean/daegeum/Daegeum_D5_9.wav,0,1,korean,korean.wind,daegeum,\n\
        korean/ngc/haegeum.mp3,0,1,korean,korean.bowed,haegeum,\n\
        korean/ngc/ajaeng.mp3,0,1,korean,korean.bowed,ajaeng,\n\
        korean/ngc/gayageum.mp3,0,1,korean,korean.silk_plucked,gayageum,\n\
        pop/a.flac,0,1,pop,pop.synth,synth,\n\
        pop/b.flac,0,1,other,other,\"guitar slide (Western pitch bend, not nonghyeon)\",\n\
        pop/c.flac,0,1,other,other,tabla loop,\n";

    fn rows() -> Vec<Row> {
        parse_manifest(LABELS, Path::new("/data")).expect("manifest")
    }

    #[test]
    fn excerpts_of_one_recording_share_a_group_and_a_fold() {
        let rows = rows();
        let g: Vec<String> = rows.iter().map(group_of).collect();
        assert_eq!(g[0], g[1], "M1 and M2 are one K-SORi haegeum session");
        assert_ne!(g[0], g[2], "the soribuk clips are another");
        assert_eq!(g[3], g[4], "the daegeum notes are one performance");
        assert_ne!(g[5], g[6]);
        for k in [2, 3, 5] {
            let f = assign_folds(&rows, k);
            for i in 0..rows.len() {
                for j in 0..rows.len() {
                    if g[i] == g[j] {
                        assert_eq!(f[i], f[j], "k={k}: {i} and {j} split");
                    }
                }
                assert!(f[i] < k);
            }
        }
    }

    #[test]
    fn folds_spread_a_lane_over_the_folds() {
        let rows = rows();
        // Three bowed recordings (the K-SORi session, two NGC solos) and three folds: each
        // fold holds one of them, so no fold trains without a bowed example.
        let f = assign_folds(&rows, 3);
        let mut bowed: Vec<usize> = [0, 5, 6].iter().map(|&i| f[i]).collect();
        bowed.sort();
        assert_eq!(bowed, vec![0, 1, 2]);
    }

    #[test]
    fn a_group_column_overrides_the_folder_rules() {
        let text = "file,family,lane,group\na.wav,korean,korean.bowed,s1\nb.wav,korean,korean.bowed,s1\nc.wav,korean,korean.bowed,\n";
        let rows = parse_manifest(text, Path::new(".")).expect("manifest");
        assert_eq!(group_of(&rows[0]), group_of(&rows[1]));
        assert_ne!(group_of(&rows[0]), group_of(&rows[2]));
        let f = assign_folds(&rows, 2);
        assert_eq!(f[0], f[1]);
        assert_ne!(f[0], f[2]);
    }

    #[test]
    fn lookalike_classes_come_from_the_instrument() {
        let rows = rows();
        assert_eq!(lookalike_class(&rows[9]), "guitar");
        assert_eq!(lookalike_class(&rows[10]), "tabla");
        let r = Row {
            instrument: "Hurdy-gurdy (drone)".into(),
            ..rows[10].clone()
        };
        assert_eq!(lookalike_class(&r), "hurdy-gurdy");
    }

    #[test]
    fn a_folder_is_read_through_its_labels_csv_and_quoted_fields_hold_commas() {
        let dir = crate::testdir::TestDir::new("manifest");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("labels.csv"), LABELS).expect("write");
        let rows = read_manifest(&dir);
        let rows = rows.expect("read");
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[0].file, dir.join("korean/ksori/M1.m4a"));
        assert!(rows[9].instrument.contains("pitch bend, not"));
        assert_eq!(rows[9].family, "other");
    }

    #[test]
    fn a_manifest_without_the_columns_is_refused() {
        assert!(parse_manifest("a,b,c\n1,2,3\n", Path::new(".")).is_err());
        assert!(parse_manifest("file,family,lane\nonly.wav\n", Path::new(".")).is_err());
        let bad_time = "file,start_s,end_s,family,lane\na.wav,soon,3,pop,pop\n";
        let err = parse_manifest(bad_time, Path::new(".")).expect_err("refused");
        assert!(format!("{err:#}").contains("start_s"), "{err:#}");
    }

    #[test]
    fn a_row_names_its_excerpt_or_the_whole_file() {
        let text = "file,start_s,end_s,family,lane\n\
            a.ogg,30,60,pop,pop\n\
            b.wav,0,6.013,korean,korean.bowed\n\
            c.wav,0,0,other,other\n\
            d.wav,2,0,other,other\n\
            e.wav,,,other,other\n";
        let rows = parse_manifest(text, Path::new(".")).expect("manifest");
        let rate = 1000;
        // 100 s of audio: the excerpt from 30 to 60 s.
        assert_eq!(rows[0].frame_range(rate, 100_000), (30_000, 60_000));
        // A labelled duration within 50 ms of the file's: the whole file.
        assert_eq!(rows[1].frame_range(rate, 6_040), (0, 6_040));
        assert_eq!(rows[2].frame_range(rate, 5_000), (0, 5_000));
        // From 2 s to the end, and no times at all: the whole file.
        assert_eq!(rows[3].frame_range(rate, 5_000), (2_000, 5_000));
        assert_eq!(rows[4].frame_range(rate, 5_000), (0, 5_000));
        // An excerpt past the end is cut to it.
        assert_eq!(rows[0].frame_range(rate, 45_000), (30_000, 45_000));
    }
}
