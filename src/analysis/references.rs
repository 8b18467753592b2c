//! The reference library: spans of the recordings the lens learned from, as the tagger's
//! hidden features heard them (embeddings and citations, no audio), so that a segment can
//! say which recordings it sounds closest to, and Find similar can rank a track's regions
//! by the same measure.
//!
//! Similarity is the cosine between embeddings standardised per dimension over the library
//! (the raw tokens share a large common direction that would make everything look alike).

use serde::{Deserialize, Serialize};

use super::model::column_stats;
use super::tagger::{EMBED_DIM, Embedding, WindowTags, pooled_embeddings};

/// Hop of the per-track timbre frames the app keeps, seconds (16 MB for 3 h of audio).
pub const TIMBRE_HOP_S: f64 = 0.5;
/// Length of one reference span, seconds.
pub const SPAN_S: f64 = 2.0;
/// How many recordings a segment cites.
pub const CITED: usize = 3;

/// One recording of the library, with what a citation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Path as the training manifest names it (the audio itself is not shipped).
    pub file: String,
    pub instrument: String,
    pub lane: String,
    pub source: String,
    pub licence: String,
}

/// A span of a recording: its embedding, standardised, scaled to ±127.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Span {
    pub recording: usize,
    pub start_s: f32,
    pub end_s: f32,
    pub v: Vec<i8>,
}

/// The library as shipped in `assets/references.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceIndex {
    /// How it was made (command, files, what was left out and why).
    pub made_by: String,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub recordings: Vec<Recording>,
    pub spans: Vec<Span>,
    /// The spans as unit vectors, made on load.
    #[serde(skip)]
    units: Vec<Vec<f32>>,
}

/// A recording a segment sounds close to, and where in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closest {
    pub instrument: String,
    pub lane: String,
    pub file: String,
    pub source: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Cosine of the standardised embeddings: 1 for the same timbre.
    pub similarity: f32,
}

impl Closest {
    /// "haegeum, National Gugak Center (K-SORi), M2.m4a 4–6 s".
    pub fn describe(&self) -> String {
        let name = self.file.rsplit('/').next().unwrap_or(&self.file);
        format!(
            "{}, {}, {name} {:.0}–{:.0} s",
            self.instrument, self.source, self.start_s, self.end_s
        )
    }
}

fn unit(v: impl Iterator<Item = f32>) -> Option<Vec<f32>> {
    let v: Vec<f32> = v.map(|x| if x.is_finite() { x } else { 0.0 }).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 1e-6).then(|| v.into_iter().map(|x| x / norm).collect())
}

impl ReferenceIndex {
    /// The library shipped with Sori, if it parses and matches this build's embedding.
    pub fn builtin() -> Option<&'static ReferenceIndex> {
        static INDEX: std::sync::OnceLock<Option<ReferenceIndex>> = std::sync::OnceLock::new();
        INDEX
            .get_or_init(|| Self::from_json(include_str!("../../assets/references.json")))
            .as_ref()
    }

    /// Parses a library; `None` if it is malformed or of another width.
    pub fn from_json(text: &str) -> Option<ReferenceIndex> {
        let mut ix: ReferenceIndex = serde_json::from_str(text).ok()?;
        let ok = ix.mean.len() == EMBED_DIM
            && ix.scale.len() == EMBED_DIM
            && ix.scale.iter().all(|s| s.is_finite() && *s > 0.0)
            && ix
                .spans
                .iter()
                .all(|s| s.v.len() == EMBED_DIM && s.recording < ix.recordings.len());
        if !ok {
            return None;
        }
        ix.units = ix
            .spans
            .iter()
            .map(|s| unit(s.v.iter().map(|&x| x as f32)).unwrap_or_else(|| vec![0.0; EMBED_DIM]))
            .collect();
        Some(ix)
    }

    /// A library of `spans` (recording, start, end, mean embedding), standardised over them.
    pub fn build(
        made_by: String,
        recordings: Vec<Recording>,
        spans: &[(usize, f64, f64, Embedding)],
    ) -> ReferenceIndex {
        let (mean, scale) = column_stats(spans.iter().map(|s| &s.3));
        let spans = spans
            .iter()
            .filter_map(|(r, a, b, e)| {
                let z = unit(
                    e.iter()
                        .zip(&mean)
                        .zip(&scale)
                        .map(|((x, m), s)| (x - m) / s),
                )?;
                let peak = z.iter().fold(0.0f32, |m, x| m.max(x.abs())).max(1e-9);
                Some(Span {
                    recording: *r,
                    start_s: (*a * 100.0).round() as f32 / 100.0,
                    end_s: (*b * 100.0).round() as f32 / 100.0,
                    v: z.iter().map(|x| (x / peak * 127.0).round() as i8).collect(),
                })
            })
            .collect();
        let text = serde_json::to_string(&ReferenceIndex {
            made_by,
            mean: mean.to_vec(),
            scale: scale.to_vec(),
            recordings,
            spans,
            units: Vec::new(),
        })
        .unwrap_or_default();
        // Through the same path as the shipped file, so what is built is what is read.
        Self::from_json(&text).unwrap_or_else(|| ReferenceIndex {
            made_by: String::new(),
            mean: vec![0.0; EMBED_DIM],
            scale: vec![1.0; EMBED_DIM],
            recordings: Vec::new(),
            spans: Vec::new(),
            units: Vec::new(),
        })
    }

    fn standardised(&self, e: &Embedding) -> Option<Vec<f32>> {
        unit(
            e.iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .map(|((x, m), s)| (x - m) / s),
        )
    }

    /// Cosine similarity of two embeddings in the library's standardised space.
    pub fn similarity(&self, a: &Embedding, b: &Embedding) -> f32 {
        match (self.standardised(a), self.standardised(b)) {
            (Some(a), Some(b)) => a.iter().zip(&b).map(|(x, y)| x * y).sum(),
            _ => 0.0,
        }
    }

    /// Up to `k` recordings closest to `e`, best first, each at its closest span; recordings
    /// for which `skip` holds are passed over.
    pub fn nearest_where(
        &self,
        e: &Embedding,
        k: usize,
        skip: impl Fn(&Recording) -> bool,
    ) -> Vec<Closest> {
        let Some(q) = self.standardised(e) else {
            return Vec::new();
        };
        let mut best: Vec<Option<(f32, usize)>> = vec![None; self.recordings.len()];
        for (i, (s, u)) in self.spans.iter().zip(&self.units).enumerate() {
            let sim: f32 = q.iter().zip(u).map(|(x, y)| x * y).sum();
            let b = &mut best[s.recording];
            if b.is_none_or(|(v, _)| sim > v) {
                *b = Some((sim, i));
            }
        }
        let mut ranked: Vec<(f32, usize)> = best
            .into_iter()
            .enumerate()
            .filter(|(r, _)| !skip(&self.recordings[*r]))
            .filter_map(|(_, b)| b)
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked
            .into_iter()
            .take(k)
            .map(|(sim, i)| {
                let s = &self.spans[i];
                let r = &self.recordings[s.recording];
                Closest {
                    instrument: r.instrument.clone(),
                    lane: r.lane.clone(),
                    file: r.file.clone(),
                    source: r.source.clone(),
                    start_s: s.start_s as f64,
                    end_s: s.end_s as f64,
                    similarity: (sim * 100.0).round() / 100.0,
                }
            })
            .collect()
    }

    /// Up to `k` recordings closest to `e`, best first.
    pub fn nearest(&self, e: &Embedding, k: usize) -> Vec<Closest> {
        self.nearest_where(e, k, |_| false)
    }
}

/// The track's timbre as the tagger heard it: per [`TIMBRE_HOP_S`], the mean of the time
/// patches whose centre lies in it; `None` where no window holds one.
pub fn timbre_frames(windows: &[WindowTags], duration_s: f64) -> Vec<Option<Embedding>> {
    let n = (duration_s.max(0.0) / TIMBRE_HOP_S).ceil() as usize;
    pooled_embeddings(windows, n, TIMBRE_HOP_S, TIMBRE_HOP_S / 2.0)
}

/// The mean of the frames (`hop_s` apart) that overlap `[a, b)`; `None` if none is known.
pub fn mean_over(frames: &[Option<Embedding>], hop_s: f64, a: f64, b: f64) -> Option<Embedding> {
    let lo = ((a / hop_s).floor().max(0.0) as usize).min(frames.len());
    let hi = ((b / hop_s).ceil().max(0.0) as usize).clamp(lo, frames.len());
    let mut sum = [0.0f32; EMBED_DIM];
    let mut n = 0usize;
    for e in frames[lo..hi].iter().flatten() {
        for (s, x) in sum.iter_mut().zip(e) {
            *s += x;
        }
        n += 1;
    }
    (n > 0).then(|| sum.map(|s| s / n as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedding pointing along `dims` (with a common offset every real token has).
    fn along(dims: &[usize]) -> Embedding {
        let mut e = [0.5f32; EMBED_DIM];
        for &d in dims {
            e[d] += 3.0;
        }
        e
    }

    fn rec(instrument: &str) -> Recording {
        Recording {
            file: format!("korean/{instrument}.wav"),
            instrument: instrument.into(),
            lane: "korean.wind".into(),
            source: "test".into(),
            licence: "CC0".into(),
        }
    }

    fn library() -> ReferenceIndex {
        ReferenceIndex::build(
            "test".into(),
            vec![rec("daegeum"), rec("haegeum"), rec("janggu")],
            &[
                (0, 0.0, 2.0, along(&[1, 2])),
                (0, 2.0, 4.0, along(&[1, 3])),
                (1, 0.0, 2.0, along(&[10, 11])),
                (1, 2.0, 4.0, along(&[10, 12])),
                (2, 0.0, 2.0, along(&[20, 21])),
                (2, 4.0, 6.0, along(&[20, 22])),
            ],
        )
    }

    #[test]
    fn the_nearest_recording_is_the_one_sharing_the_timbre_at_its_closest_span() {
        let ix = library();
        assert_eq!(ix.spans.len(), 6);
        let got = ix.nearest(&along(&[10, 12]), 3);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].instrument, "haegeum");
        assert_eq!((got[0].start_s, got[0].end_s), (2.0, 4.0));
        assert!(got[0].similarity > 0.95, "{got:?}");
        assert!(got[0].similarity > got[1].similarity && got[1].similarity >= got[2].similarity);
        // Each recording is cited once.
        assert_ne!(got[1].instrument, got[0].instrument);
        assert_ne!(got[2].instrument, got[1].instrument);
        let others = ix.nearest_where(&along(&[10, 12]), 3, |r| r.instrument == "haegeum");
        assert!(others.iter().all(|c| c.instrument != "haegeum") && others.len() == 2);
    }

    #[test]
    fn a_library_survives_its_file_and_a_bad_one_is_refused() {
        let ix = library();
        let text = serde_json::to_string(&ix).expect("serialise");
        let back = ReferenceIndex::from_json(&text).expect("read back");
        assert_eq!(back.recordings, ix.recordings);
        assert_eq!(back.nearest(&along(&[20, 22]), 1)[0].instrument, "janggu");
        assert!(ReferenceIndex::from_json("{").is_none());
        let narrow = text.replacen("\"mean\":[", "\"mean\":[1.0,", 1);
        assert!(ReferenceIndex::from_json(&narrow).is_none());
        // A silent (all-equal) query cites nothing rather than something arbitrary.
        assert!(
            ix.nearest(&ix.mean.clone().try_into().expect("width"), 3)
                .is_empty()
        );
    }

    #[test]
    fn the_shipped_library_loads_and_cites_sources_with_a_licence() {
        let ix = ReferenceIndex::builtin().expect("assets/references.json matches this build");
        assert!(ix.recordings.len() >= 10 && ix.spans.len() >= ix.recordings.len());
        for r in &ix.recordings {
            assert!(!r.source.is_empty() && !r.instrument.is_empty(), "{r:?}");
            assert!(
                !r.licence.is_empty() && !r.licence.contains("not stated"),
                "only recordings whose licence allows it are cited: {r:?}"
            );
        }
        // Every span is nearest to its own recording (the index is what it claims to hold).
        let s = &ix.spans[ix.spans.len() / 2];
        let e: Embedding = std::array::from_fn(|d| ix.mean[d] + ix.scale[d] * s.v[d] as f32);
        let got = ix.nearest(&e, 1);
        assert_eq!(got[0].file, ix.recordings[s.recording].file);
    }

    #[test]
    fn frames_average_what_overlaps_the_span() {
        let frames = vec![None, Some([1.0; EMBED_DIM]), Some([3.0; EMBED_DIM]), None];
        let m = mean_over(&frames, 0.5, 0.4, 1.4).expect("two frames");
        assert_eq!(m[0], 2.0);
        assert!(mean_over(&frames, 0.5, 1.6, 2.0).is_none());
        assert!(mean_over(&frames, 0.5, 5.0, 9.0).is_none());
        assert!(mean_over(&[], 0.5, 0.0, 1.0).is_none());
    }
}
