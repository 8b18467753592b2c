//! The weights of the fusion lens's Korean lanes: a multinomial logistic model over the
//! named block cues of [`super::block::BlockCues`].
//!
//! The cues are measurements a listener can check (vibrato, decay after onsets, breath
//! noise, the spectral envelope, …). Which of them separate a haegeum from a daegeum is
//! learned from labelled recordings by `sori train`; the model is linear, so every score
//! splits exactly into one contribution per cue, and the evidence names the largest ones.
//! Training is plain full-batch gradient descent (Adam) with L2 shrinkage, deterministic.

use serde::{Deserialize, Serialize};

use super::block::BlockCues;
use super::features::TIMBRE_BANDS;
use super::head;
use super::lanes::{LaneId, N_KOREAN};
use super::tagger;

/// The classes a block is sorted into: nothing Korean, or one Korean family.
/// Class `j > 0` is [`LaneId::KOREAN`]`[j - 1]` ([`LaneId::class`]).
pub const CLASSES: [&str; N_KOREAN + 1] = {
    let mut out = ["none"; N_KOREAN + 1];
    let mut i = 0;
    while i < N_KOREAN {
        out[i + 1] = LaneId::KOREAN[i].id();
        i += 1;
    }
    out
};
pub const N_CLASSES: usize = CLASSES.len();

const BASE_FEATURES: usize = 29;
const TAG_FEATURES: usize = BASE_FEATURES + TIMBRE_BANDS;
/// Length of a cue vector: the signal cues, then the tagger's class groups.
pub const N_FEATURES: usize = TAG_FEATURES + tagger::N_GROUPS;

/// Whether a cue describes timbre (spectrum, attack, decay) or only pitch behaviour.
/// A Korean segment needs timbral support, never pitch alone (DESIGN.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Timbre,
    Pitch,
    Rhythm,
    /// A class group of the AudioSet tagger (a trained judgement of the sound as a whole).
    Tagger,
}

/// Kind of cue `i` (the spectral envelope bands are timbre).
pub fn feature_kind(i: usize) -> Kind {
    feature_info(i).1
}

/// Name (as the evidence says it) and kind of every cue, in vector order.
pub fn feature_info(i: usize) -> (String, Kind) {
    if i < BASE_FEATURES {
        (BASE[i].0.to_string(), BASE[i].1)
    } else if i >= TAG_FEATURES {
        let g = &tagger::GROUPS[(i - TAG_FEATURES).min(tagger::N_GROUPS - 1)];
        (format!("tagger: {}", g.name), Kind::Tagger)
    } else {
        let k = i - BASE_FEATURES;
        let (lo, hi) = timbre_band_hz(k);
        (
            format!("spectral envelope {}–{} Hz", lo.round(), hi.round()),
            Kind::Timbre,
        )
    }
}

const BASE: [(&str, Kind); BASE_FEATURES] = [
    ("share of active frames", Kind::Timbre),
    ("share of clearly pitched frames", Kind::Timbre),
    ("periodicity", Kind::Timbre),
    ("pitch height", Kind::Pitch),
    ("pitched at all", Kind::Pitch),
    ("noisiness of 2–8 kHz (breath, buzz, rasp)", Kind::Timbre),
    ("energy above 4 kHz", Kind::Timbre),
    ("energy in 2–8 kHz", Kind::Timbre),
    ("energy in 30–80 Hz", Kind::Timbre),
    ("spectral flatness", Kind::Timbre),
    ("spectral centroid", Kind::Timbre),
    ("overtone richness (centroid over f0)", Kind::Timbre),
    ("onsets per second", Kind::Rhythm),
    ("low part of the onsets", Kind::Timbre),
    ("sharp part of the onsets", Kind::Timbre),
    ("level fall after onsets", Kind::Timbre),
    ("bends after onsets", Kind::Pitch),
    ("vibrato rate", Kind::Pitch),
    ("vibrato extent", Kind::Pitch),
    ("pitch unsteadiness", Kind::Pitch),
    ("pitch on tempered semitones", Kind::Pitch),
    ("inharmonic tonal partials", Kind::Timbre),
    ("looseness against a beat grid", Kind::Rhythm),
    ("change of the spectral envelope", Kind::Timbre),
    ("level swing while pitched", Kind::Timbre),
    ("crest factor", Kind::Timbre),
    ("spread of periodicity", Kind::Timbre),
    ("85 % rolloff", Kind::Timbre),
    ("share of spectral change above 2 kHz", Kind::Timbre),
];

/// Edges of timbre band `k` (log-spaced 60 Hz … 10 kHz at the analysis rate).
pub fn timbre_band_hz(k: usize) -> (f32, f32) {
    let (lo, hi) = (60.0f32, 10_000.0f32);
    let r = (hi / lo).ln() / TIMBRE_BANDS as f32;
    (lo * (r * k as f32).exp(), lo * (r * (k + 1) as f32).exp())
}

fn fin(x: f32, default: f32) -> f32 {
    if x.is_finite() { x } else { default }
}

/// The cue vector of one block, each cue scaled to roughly unit range.
pub fn vector(c: &BlockCues) -> [f32; N_FEATURES] {
    let has_f0 = c.f0_hz.is_finite() && c.f0_hz > 0.0;
    let f0_oct = if has_f0 {
        (c.f0_hz / 440.0).log2()
    } else {
        0.0
    };
    let richness = if has_f0 && c.centroid_hz > 0.0 {
        (c.centroid_hz / c.f0_hz).log2().clamp(-2.0, 6.0)
    } else {
        0.0
    };
    let base: [f32; BASE_FEATURES] = [
        c.active,
        c.voiced,
        fin(c.harmonicity, 0.0),
        f0_oct,
        if has_f0 { 1.0 } else { 0.0 },
        fin(c.high_flat, 0.0),
        fin(c.air_db, -90.0).clamp(-90.0, 0.0) / 30.0,
        fin(c.presence_db, -90.0).clamp(-90.0, 0.0) / 30.0,
        fin(c.sub_db, -90.0).clamp(-90.0, 0.0) / 30.0,
        fin(c.flatness, 0.0).sqrt(),
        (fin(c.centroid_hz, 0.0).max(50.0) / 1000.0).log2(),
        richness,
        (c.onset_rate / 4.0).min(2.0),
        c.onset_low.min(2.0),
        c.onset_high.min(2.0),
        fin(c.decay_db, 0.0).clamp(-20.0, 40.0) / 20.0,
        c.bend_share,
        c.vib_rate / 5.0,
        (c.vib_extent / 50.0).min(3.0),
        (fin(c.pitch_spread, 0.0) / 20.0).min(3.0),
        c.on_semitone,
        c.inharmonic,
        (fin(c.grid_dev_ms, 30.0) / 20.0).min(3.0),
        fin(c.timbre_change_db, 0.0) / 3.0,
        (c.level_swing_db / 10.0).min(4.0),
        fin(c.crest_db, 0.0) / 10.0,
        fin(c.harm_spread, 0.0),
        (fin(c.rolloff_hz, 0.0).max(50.0) / 1000.0).log2(),
        fin(c.flux_high_ratio, 0.0).min(4.0),
    ];
    let mut v = [0.0f32; N_FEATURES];
    v[..BASE_FEATURES].copy_from_slice(&base);
    for k in 0..TIMBRE_BANDS {
        v[BASE_FEATURES + k] = fin(c.shape[k], -60.0) / 20.0;
    }
    // The tagger's scores on a log scale, 0 (1e-3 or less) to 1: its "absent" classes sit
    // at 1e-3–1e-2, and a class heard at 0.05 differs from one at 0.005. Untagged blocks
    // leave them at 0, which the model fitted without the tagger never weighs.
    if c.tagged {
        for (g, &(_, s)) in c.tags.iter().enumerate() {
            v[TAG_FEATURES + g] = (fin(s, 0.0).max(1e-3).log10() + 3.0) / 3.0;
        }
    }
    v
}

/// A fitted model: standardisation and one weight row (plus bias) per class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    /// What it was fitted on, in words (files, blocks, settings).
    pub trained_on: String,
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// `classes.len()` rows of `features.len() + 1` (the last is the bias).
    pub weights: Vec<Vec<f32>>,
}

/// One labelled cue vector for training.
#[derive(Debug, Clone)]
pub struct Example {
    pub x: [f32; N_FEATURES],
    pub class: usize,
    pub weight: f32,
}

impl Model {
    /// The model shipped with Sori for tracks the tagger heard (`assets/lens_model_tagged.json`)
    /// or did not (`assets/lens_model.json`), if it matches this build's cues.
    pub fn builtin_for(tagged: bool) -> Option<&'static Model> {
        static PLAIN: std::sync::OnceLock<Option<Model>> = std::sync::OnceLock::new();
        static TAGGED: std::sync::OnceLock<Option<Model>> = std::sync::OnceLock::new();
        if tagged {
            TAGGED
                .get_or_init(|| {
                    Self::from_json(include_str!("../../assets/lens_model_tagged.json"))
                })
                .as_ref()
        } else {
            PLAIN
                .get_or_init(|| Self::from_json(include_str!("../../assets/lens_model.json")))
                .as_ref()
        }
    }

    /// Parses a model; `None` if it is malformed or was fitted on other cues or classes.
    pub fn from_json(text: &str) -> Option<Model> {
        let m: Model = serde_json::from_str(text).ok()?;
        m.fits_this_build().then_some(m)
    }

    /// True when the model's cue names, classes and shapes are those of this build.
    pub fn fits_this_build(&self) -> bool {
        self.features.len() == N_FEATURES
            && (0..N_FEATURES).all(|i| self.features[i] == feature_info(i).0)
            && self.classes.len() == N_CLASSES
            && self.classes.iter().zip(CLASSES).all(|(a, b)| a == b)
            && self.mean.len() == N_FEATURES
            && self.scale.len() == N_FEATURES
            && self.weights.len() == N_CLASSES
            && self.weights.iter().all(|w| w.len() == N_FEATURES + 1)
    }

    fn standardise(&self, x: &[f32; N_FEATURES]) -> [f32; N_FEATURES] {
        let mut z = [0.0f32; N_FEATURES];
        for i in 0..N_FEATURES {
            z[i] = ((x[i] - self.mean[i]) / self.scale[i]).clamp(-8.0, 8.0);
        }
        z
    }

    fn logits(&self, z: &[f32; N_FEATURES]) -> [f32; N_CLASSES] {
        let mut out = [0.0f32; N_CLASSES];
        head::logits(&self.weights, z, &mut out);
        out
    }

    /// Class probabilities of one cue vector.
    pub fn probs(&self, x: &[f32; N_FEATURES]) -> [f32; N_CLASSES] {
        softmax(self.logits(&self.standardise(x)))
    }

    /// How much each cue pushes class `k` above "none": `(cue, contribution to the log-odds)`,
    /// largest first.
    pub fn contributions(&self, k: usize, x: &[f32; N_FEATURES]) -> Vec<(usize, f32)> {
        let z = self.standardise(x);
        let mut v: Vec<(usize, f32)> = (0..N_FEATURES)
            .map(|i| (i, z[i] * (self.weights[k][i] - self.weights[0][i])))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    /// Fits a model by full-batch Adam on the weighted cross-entropy plus `l2` shrinkage.
    pub fn train(examples: &[Example], l2: f32, steps: usize, trained_on: String) -> Model {
        let (mean, scale) = column_stats(examples.iter().map(|e| &e.x));
        let mut m = Model {
            trained_on,
            classes: CLASSES.iter().map(|c| c.to_string()).collect(),
            features: (0..N_FEATURES).map(|i| feature_info(i).0).collect(),
            mean: mean.to_vec(),
            scale: scale.to_vec(),
            weights: vec![vec![0.0; N_FEATURES + 1]; N_CLASSES],
        };
        let zs: Vec<[f32; N_FEATURES]> = examples.iter().map(|e| m.standardise(&e.x)).collect();
        let rows: Vec<&[f32]> = zs.iter().map(|z| z.as_slice()).collect();
        let classes: Vec<usize> = examples.iter().map(|e| e.class).collect();
        let weights: Vec<f32> = examples.iter().map(|e| e.weight).collect();
        m.weights = head::fit_softmax(&rows, &classes, &weights, N_CLASSES, N_FEATURES, l2, steps);
        for w in &mut m.weights {
            w.iter_mut().for_each(|v| *v = (*v * 1e4).round() / 1e4);
        }
        m
    }
}

/// Mean and standard deviation (at least 1e-3, so every column can be divided by it) of
/// each column of `rows`: the standardisation of the model's cues and of similarity search.
pub fn column_stats<'a, const N: usize>(
    rows: impl Iterator<Item = &'a [f32; N]> + Clone,
) -> ([f32; N], [f32; N]) {
    let n = rows.clone().count().max(1) as f32;
    let mut mean = [0.0f32; N];
    let mut sd = [0.0f32; N];
    for r in rows.clone() {
        for (m, x) in mean.iter_mut().zip(r) {
            *m += x / n;
        }
    }
    for r in rows {
        for ((s, x), m) in sd.iter_mut().zip(r).zip(&mean) {
            *s += (x - m).powi(2) / n;
        }
    }
    (mean, sd.map(|s| s.sqrt().max(1e-3)))
}

fn softmax(mut l: [f32; N_CLASSES]) -> [f32; N_CLASSES] {
    head::softmax_in_place(&mut l);
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(x0: f32, x1: f32, class: usize) -> Example {
        let mut x = [0.0f32; N_FEATURES];
        x[0] = x0;
        x[1] = x1;
        Example {
            x,
            class,
            weight: 1.0,
        }
    }

    #[test]
    fn training_separates_classes_and_contributions_name_the_deciding_cue() {
        // Class 3 has a high first cue, class 0 a low one; the second cue is noise.
        let mut data = Vec::new();
        for i in 0..200 {
            let noise = ((i * 37) % 11) as f32 / 11.0;
            data.push(ex(1.0 + 0.1 * noise, noise, 3));
            data.push(ex(-1.0 - 0.1 * noise, noise, 0));
        }
        let m = Model::train(&data, 1e-3, 300, "test".into());
        let p = m.probs(&data[0].x);
        assert!(p[3] > 0.9, "{p:?}");
        let q = m.probs(&data[1].x);
        assert!(q[0] > 0.9, "{q:?}");
        assert_eq!(m.contributions(3, &data[0].x)[0].0, 0);
        // A model round-trips through JSON and is accepted by this build.
        let text = serde_json::to_string(&m).expect("serialises");
        assert_eq!(Model::from_json(&text).as_ref(), Some(&m));
    }

    #[test]
    fn a_model_for_other_cues_is_refused() {
        let mut m = Model::train(&[ex(1.0, 0.0, 1), ex(0.0, 1.0, 0)], 1e-3, 10, "t".into());
        m.features[0] = "something else".into();
        let text = serde_json::to_string(&m).expect("serialises");
        assert!(Model::from_json(&text).is_none());
        assert!(Model::from_json("not json").is_none());
    }

    #[test]
    fn the_shipped_models_fit_these_cues() {
        assert!(
            Model::builtin_for(false).is_some(),
            "assets/lens_model.json is missing or was fitted on other cues: run `sori train --no-tagger`"
        );
        assert!(
            Model::builtin_for(true).is_some(),
            "assets/lens_model_tagged.json is missing or was fitted on other cues: run `sori train`"
        );
    }
}
