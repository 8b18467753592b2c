//! `sori train --references`: the reference library the lens cites, built from the same
//! decoded and heard files as the fit, keeping only recordings whose licence is known and
//! allows it (an embedding is derived from the audio; a recording of unstated licence is
//! never cited).

use std::collections::HashMap;

use super::Loaded;
use super::manifest::{Row, group_of, is_korean_solo, name_of};
use crate::analysis::lens::LANE_HOP_S;
use crate::analysis::references::{Recording, ReferenceIndex, SPAN_S};
use crate::analysis::tagger::{EMBED_DIM, Embedding};

/// Where the team's shared recordings come from, for manifests without `source` and
/// `licence` columns (`shared/testdata/labels.csv`). The National Gugak Center excerpts of
/// chaedmitry/korean-instruments are not listed: their licence is not stated.
const KNOWN_SOURCES: [(&str, &str, &str); 3] = [
    (
        "/ksori/",
        "National Gugak Center recording, via jisooohh/K-SORi",
        "free to use, modify and commercialise (K-SORi README); credit 국립국악원",
    ),
    (
        "/daegeum/",
        "National Gugak Center daegeum sanjo, via jonijonii/Daegeum-Sampler",
        "MIT (repository); credit National Gugak Center",
    ),
    (
        "/sonic-pi/",
        "Debian package sonic-pi-samples",
        "CC0 (the package's COPYRIGHT.debian)",
    ),
];

/// Share of a span's blocks that must sound for it to be a reference.
const MIN_ACTIVE: f32 = 0.3;

/// The source and licence to cite `r` by, if it may be cited.
fn citation(r: &Row) -> Option<(String, String)> {
    if !r.licence.is_empty() {
        let stated = !r.licence.to_lowercase().contains("not stated");
        return stated.then(|| (r.source.clone(), r.licence.clone()));
    }
    let path = r.file.to_string_lossy().replace('\\', "/");
    KNOWN_SOURCES
        .iter()
        .find(|(folder, ..)| path.contains(folder))
        .map(|&(_, source, licence)| (source.to_string(), licence.to_string()))
}

/// The library of the Korean solos and look-alikes among `rows`, and a report: what was
/// left out, and how often a span's nearest other recording names its lane.
pub fn build_references(rows: &[Row], loaded: &Loaded) -> (ReferenceIndex, String) {
    let mut recordings = Vec::new();
    let mut spans: Vec<(usize, f64, f64, Embedding)> = Vec::new();
    let mut left_out = Vec::new();
    let mut group_of_file = HashMap::new();
    for (r, item) in rows.iter().zip(loaded) {
        if !(is_korean_solo(r) || r.family == "other") {
            continue;
        }
        let (Some(item), Some((source, licence))) = (item, citation(r)) else {
            left_out.push(name_of(r));
            continue;
        };
        let index = recordings.len();
        let n = item.an.blocks.len();
        let per_span = (SPAN_S / LANE_HOP_S).round() as usize;
        let mut kept = 0;
        for a in (0..n).step_by(per_span) {
            let b = (a + per_span).min(n);
            let mut sum = [0.0f32; EMBED_DIM];
            let mut heard = 0usize;
            for (c, e) in item.an.blocks[a..b]
                .iter()
                .zip(&item.emb[a.min(item.emb.len())..])
            {
                if let (true, Some(e)) = (c.active >= 0.1, e) {
                    sum.iter_mut().zip(e).for_each(|(s, x)| *s += x);
                    heard += 1;
                }
            }
            if heard < 3 || (heard as f32) < MIN_ACTIVE * per_span as f32 {
                continue;
            }
            let at = |k: usize| r.start_s + k as f64 * LANE_HOP_S;
            spans.push((index, at(a), at(b), sum.map(|s| s / heard as f32)));
            kept += 1;
        }
        if kept == 0 {
            left_out.push(name_of(r));
            continue;
        }
        group_of_file.insert(r.listed.clone(), group_of(r));
        recordings.push(Recording {
            file: r.listed.clone(),
            instrument: r.instrument.clone(),
            lane: if is_korean_solo(r) {
                r.lane.clone()
            } else {
                "other".into()
            },
            source,
            licence,
        });
    }
    let made_by = format!(
        "sori train --references: {} spans of {SPAN_S} s from {} recordings (Korean solos \
         and look-alikes whose licence is known); left out (licence not stated, or nothing \
         heard): {}",
        spans.len(),
        recordings.len(),
        if left_out.is_empty() {
            "none".to_string()
        } else {
            left_out.join(", ")
        }
    );
    let ix = ReferenceIndex::build(made_by, recordings, &spans);
    // Does a span's nearest other file (other recording) name its lane? Where the library
    // holds one recording of a lane, only the first can hold.
    let mut tally: std::collections::BTreeMap<String, [usize; 4]> = Default::default();
    for (r, _, _, e) in &spans {
        let own = &ix.recordings[*r];
        let group = group_of_file.get(&own.file);
        let t = tally.entry(own.lane.clone()).or_default();
        if let Some(n) = ix.nearest_where(e, 1, |o| o.file == own.file).first() {
            t[0] += (n.lane == own.lane) as usize;
            t[1] += 1;
        }
        if let Some(n) = ix
            .nearest_where(e, 1, |o| group_of_file.get(&o.file) == group)
            .first()
        {
            t[2] += (n.lane == own.lane) as usize;
            t[3] += 1;
        }
    }
    let mut report = format!(
        "{}
spans whose nearest other file / other recording is in the same lane:",
        ix.made_by
    );
    for (lane, t) in &tally {
        let share = |a: usize, b: usize| {
            if b == 0 {
                "–".to_string()
            } else {
                format!("{a}/{b}")
            }
        };
        report.push_str(&format!(
            "\n  {lane}: {} / {}",
            share(t[0], t[1]),
            share(t[2], t[3])
        ));
    }
    (ix, report)
}
