//! A second opinion from a trained tagger: CED-Tiny, an AudioSet classifier (527 classes),
//! run with `tract` (pure Rust, no native runtime). See `assets/models/NOTICE.md`.
//!
//! The model takes a 16 kHz mono waveform of 0.15–10.23 s and gives 527 scores already in
//! [0, 1]. A track is tagged window by window ([`WINDOW_S`] long, every [`HOP_S`]), each
//! window at its true length (zero padding would change the scores). Optimising the graph for
//! one input length takes a few hundred milliseconds, so a plan is kept per length: a track
//! longer than one window needs one (its last window ends at the track's end at full length).
//!
//! The windows tile the track without overlap: the model costs about 7 ms of one core per
//! second of audio, whatever the window length, so a 5 s hop would double it for a finer
//! time grid than the lanes take from the tagger (they weigh its classes over the window
//! around each block; the signal cues locate a sound within it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::audio::PcmStore;

/// The model file, as published (see `assets/models/NOTICE.md`).
static MODEL: &[u8] = include_bytes!("../../assets/models/ced-tiny.onnx");
/// `index,mid,display_name` of the 527 AudioSet classes, in the model's output order.
static LABELS: &str = include_str!("../../assets/models/audioset_labels.csv");

/// The model's sample rate.
pub const RATE: u32 = 16_000;
/// Number of classes.
pub const CLASSES: usize = 527;
/// Window length and hop, seconds.
pub const WINDOW_S: f64 = 10.0;
pub const HOP_S: f64 = 10.0;
/// Shortest and longest input the model takes, samples at [`RATE`].
pub const MIN_SAMPLES: usize = 2_400;
/// (163 680 samples, 1024 frames of the model's front end, makes one patch more than its
/// position table holds.)
pub const MAX_SAMPLES: usize = 163_679;

type Plan = Arc<TypedRunnableModel>;

/// The loaded tagger. Cheap to share between threads; plans are built on first use of a length.
pub struct Tagger {
    proto: pb::ModelProto,
    plans: Mutex<HashMap<usize, Plan>>,
}

/// Width of the model's hidden features (the tokens before its pooling and class layer).
pub const EMBED_DIM: usize = 192;
/// Length of one time patch of the model's tokens, seconds (16 mel frames of 10 ms).
pub const PATCH_S: f64 = 0.16;
/// Frequency patches per time patch (64 mel bands in patches of 16).
const FREQ_PATCHES: usize = 4;
/// The graph's outputs that [`Tagger::hear`] reads: the class scores, and the hidden tokens
/// after the encoder's last norm (frequency-patch major: token `f·T + t`).
const OUTPUTS: [&str; 2] = ["logits", "layer_norm_24"];

/// One hidden feature vector of the model: what it heard over one time patch.
pub type Embedding = [f32; EMBED_DIM];

/// What the model made of one window of a track.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowTags {
    pub start_s: f64,
    pub end_s: f64,
    pub scores: Vec<f32>,
    /// One per time patch from `start_s` on, [`PATCH_S`] apart: the mean of the hidden
    /// tokens of its frequency patches.
    pub embedding: Vec<Embedding>,
}

/// The class scores and the per-time-patch hidden features of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub scores: Vec<f32>,
    pub embedding: Vec<Embedding>,
}

/// What went wrong, in a sentence for the user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TaggerError {
    #[error("the tagger's model could not be loaded: {0}")]
    Load(String),
    #[error("the tagger could not run: {0}")]
    Run(String),
    #[error("a tagger window must last 0.15–10.23 s at 16 kHz (got {0} samples)")]
    Length(usize),
}

impl Tagger {
    /// Parses the built-in model and prepares its graph for tract.
    pub fn new() -> Result<Self, TaggerError> {
        let load = |e: TractError| TaggerError::Load(format!("{e:#}"));
        let onnx = tract_onnx::onnx().with_ignore_value_info(true);
        let mut proto = onnx.proto_model_for_read(&mut &MODEL[..]).map_err(load)?;
        unsqueeze_stft_signal(&mut proto)?;
        Ok(Self {
            proto,
            plans: Mutex::new(HashMap::new()),
        })
    }

    /// The plan for inputs of `len` samples, built on first use. It is built under the lock:
    /// threads that need it at once wait for one build instead of each making their own.
    fn plan(&self, len: usize) -> Result<Plan, TaggerError> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = plans.get(&len) {
            return Ok(p.clone());
        }
        let load = |e: TractError| TaggerError::Load(format!("{e:#}"));
        let plan = tract_onnx::onnx()
            .with_ignore_value_info(true)
            .model_for_proto_model(&self.proto)
            .map_err(load)?
            .with_outputs_by_name(OUTPUTS)
            .map_err(load)?
            .with_input_fact(0, f32::fact([1, len]).into())
            .map_err(load)?
            .into_optimized()
            .map_err(load)?
            .into_runnable()
            .map_err(load)?;
        plans.insert(len, plan.clone());
        Ok(plan)
    }

    /// The 527 scores of one window of 16 kHz mono samples.
    pub fn scores(&self, x: &[f32]) -> Result<Vec<f32>, TaggerError> {
        self.hear(x).map(|h| h.scores)
    }

    /// The 527 scores and the hidden features of one window of 16 kHz mono samples.
    pub fn hear(&self, x: &[f32]) -> Result<Heard, TaggerError> {
        if !(MIN_SAMPLES..=MAX_SAMPLES).contains(&x.len()) {
            return Err(TaggerError::Length(x.len()));
        }
        let run = |e: TractError| TaggerError::Run(format!("{e:#}"));
        let plan = self.plan(x.len())?;
        let input = tract_ndarray::Array2::from_shape_vec((1, x.len()), x.to_vec())
            .map_err(|e| TaggerError::Run(e.to_string()))?
            .into_tensor();
        let out = plan.run(tvec!(input.into())).map_err(run)?;
        let y = out
            .first()
            .ok_or_else(|| TaggerError::Run("no output".into()))?
            .to_plain_array_view::<f32>()
            .map_err(run)?;
        let scores: Vec<f32> = y.iter().copied().collect();
        if scores.len() != CLASSES {
            return Err(TaggerError::Run(format!(
                "{} scores instead of {CLASSES}",
                scores.len()
            )));
        }
        let tokens = out
            .get(1)
            .ok_or_else(|| TaggerError::Run("no hidden features".into()))?
            .to_plain_array_view::<f32>()
            .map_err(run)?;
        let flat = tokens
            .as_slice()
            .ok_or_else(|| TaggerError::Run("hidden features not contiguous".into()))?;
        let n = flat.len() / EMBED_DIM;
        if n == 0 || flat.len() % EMBED_DIM != 0 || n % FREQ_PATCHES != 0 {
            return Err(TaggerError::Run(format!(
                "{} hidden values are not whole tokens",
                flat.len()
            )));
        }
        let t = n / FREQ_PATCHES;
        let embedding = (0..t)
            .map(|ti| {
                let mut e = [0.0f32; EMBED_DIM];
                for f in 0..FREQ_PATCHES {
                    let tok = &flat[(f * t + ti) * EMBED_DIM..][..EMBED_DIM];
                    for (a, v) in e.iter_mut().zip(tok) {
                        *a += v / FREQ_PATCHES as f32;
                    }
                }
                e
            })
            .collect();
        Ok(Heard { scores, embedding })
    }

    /// Tags a whole track, window by window (see [`windows`]), on `threads` threads.
    /// `progress(done, total)` is called after each window (from the worker threads);
    /// once `keep_going` returns `false` no further window is started.
    pub fn tag_track(
        &self,
        store: &PcmStore,
        threads: usize,
        progress: impl Fn(usize, usize) + Sync,
        keep_going: impl Fn() -> bool + Sync,
    ) -> Result<Vec<WindowTags>, TaggerError> {
        self.tag_following(store, threads, &AtomicBool::new(true), progress, keep_going)
    }

    /// [`Tagger::tag_track`] while `store` is still being decoded: a window is heard as
    /// soon as the decoder is past its end, and the last ones (which end with the track)
    /// once decoding has ended (the store complete, or `over` set). The windows and scores
    /// are those of `tag_track` on the finished store. `total` in `progress` is the count
    /// for the length announced (or decoded so far) until the length is known.
    pub fn tag_following(
        &self,
        store: &PcmStore,
        threads: usize,
        over: &AtomicBool,
        progress: impl Fn(usize, usize) + Sync,
        keep_going: impl Fn() -> bool + Sync,
    ) -> Result<Vec<WindowTags>, TaggerError> {
        let rate = store.sample_rate() as f64;
        let ended = || over.load(Ordering::Acquire) || store.is_complete();
        // The track's windows, once its length is final (only asked for after `ended`).
        let final_windows = std::sync::OnceLock::new();
        let known = || final_windows.get_or_init(|| windows(store.duration_s()));
        // Window k, once it can be heard (`None`: there is no window k, or a stop).
        let window = |k: usize| -> Option<(f64, f64)> {
            let (a, b) = (k as f64 * HOP_S, k as f64 * HOP_S + WINDOW_S);
            // Past the resampler's margin after the window's end (see `mono_16k`).
            let needed = ((b + 0.05) * rate).ceil() as u64 + 2;
            loop {
                // Whether decoding has ended is read before the length, so that the length
                // read afterwards is the final one.
                if ended() {
                    return known().get(k).copied();
                }
                if store.frames() >= needed {
                    return Some((a, b));
                }
                if !keep_going() {
                    return None;
                }
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
        };
        let total = || {
            if ended() {
                return known().len();
            }
            let announced = store.expected_frames().map_or(0.0, |n| n as f64 / rate);
            windows(announced.max(store.duration_s())).len()
        };
        // (A worker with no window left stops at once: a short track needs no clamp here.)
        let workers = threads.max(1);
        let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let results: Mutex<Vec<Option<Result<Heard, TaggerError>>>> = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while keep_going() {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some((a, b)) = window(k) else { break };
                        let r = self.hear(&mono_16k(store, a, b));
                        release_freed_memory();
                        if let Ok(mut v) = results.lock() {
                            if v.len() <= k {
                                v.resize_with(k + 1, || None);
                            }
                            v[k] = Some(r);
                        }
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total().max(k + 1));
                    }
                });
            }
        });
        let results = results
            .into_inner()
            .map_err(|_| TaggerError::Run("a tagger thread failed".into()))?;
        let wins = known();
        let mut out = Vec::with_capacity(wins.len());
        // In order; a stop leaves the windows done before the first one not done.
        for (&(a, b), r) in wins.iter().zip(results) {
            let Some(r) = r else { break };
            let Heard { scores, embedding } = r?;
            out.push(WindowTags {
                start_s: a,
                end_s: b,
                scores,
                embedding,
            });
        }
        Ok(out)
    }
}

/// Hands the memory a window freed back to the system. A window allocates and frees some
/// tens of MB of short-lived tensors on its worker thread, and glibc keeps freed memory in
/// that thread's arena: over a 60-minute track `sori analyze` grew to 475 MB (321 MB with
/// this call after each window, for the same time: 21.0 s against 21.4 s).
fn release_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: `malloc_trim` takes no pointer; it only returns free pages of glibc's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Half the span of time patches a block's embedding averages, seconds. Chosen on grouped
/// folds: ±1.5 s named the family a little better but found a Korean clip under a mix less
/// often (mixture F1 at -3 dB 0.57 against 0.64); the whole window's mean, far less.
pub const BLOCK_EMBED_HALF_S: f64 = 0.5;

/// Per block of `block_s` (the lens's 0.1 s), the mean of the time patches of every window
/// whose centre lies within [`BLOCK_EMBED_HALF_S`] of the block's centre; `None` where no
/// window holds one.
pub fn block_embeddings(
    windows: &[WindowTags],
    n_blocks: usize,
    block_s: f64,
) -> Vec<Option<Embedding>> {
    pooled_embeddings(windows, n_blocks, block_s, BLOCK_EMBED_HALF_S)
}

/// Per block of `block_s`, the mean of the time patches whose centre lies within `half_s`
/// of the block's centre (`half_s` = `block_s / 2`: the patches inside the block).
pub fn pooled_embeddings(
    windows: &[WindowTags],
    n_blocks: usize,
    block_s: f64,
    half_s: f64,
) -> Vec<Option<Embedding>> {
    let mut sum = vec![[0.0f32; EMBED_DIM]; n_blocks];
    let mut count = vec![0u32; n_blocks];
    for w in windows {
        for (j, e) in w.embedding.iter().enumerate() {
            let centre = w.start_s + (j as f64 + 0.5) * PATCH_S;
            if centre > w.end_s {
                break;
            }
            // Blocks i whose centre (i + ½)·block_s lies within the half span of the patch's.
            let bound = |t: f64| (t / block_s - 0.5).clamp(0.0, n_blocks as f64);
            let lo = bound(centre - half_s).ceil() as usize;
            let hi = (bound(centre + half_s + block_s).floor() as usize).min(n_blocks);
            for i in lo..hi {
                for (a, v) in sum[i].iter_mut().zip(e) {
                    *a += v;
                }
                count[i] += 1;
            }
        }
    }
    sum.into_iter()
        .zip(count)
        .map(|(s, n)| (n > 0).then(|| s.map(|v| v / n as f32)))
        .collect()
}

/// The exporter feeds `STFT` a 2-D signal (batch, samples); ONNX and tract want
/// (batch, samples, 1). One `Unsqueeze` on the last axis goes in before it.
fn unsqueeze_stft_signal(proto: &mut pb::ModelProto) -> Result<(), TaggerError> {
    let bad = |what: &str| TaggerError::Load(what.to_string());
    let g = proto.graph.as_mut().ok_or_else(|| bad("no graph"))?;
    let i = g
        .node
        .iter()
        .position(|n| n.op_type == "STFT")
        .ok_or_else(|| bad("no STFT node"))?;
    let signal = g.node[i]
        .input
        .first()
        .cloned()
        .ok_or_else(|| bad("STFT without input"))?;
    let axes = "sori_last_axis".to_string();
    let unsqueezed = format!("{signal}_sori_unsqueezed");
    g.initializer.push(pb::TensorProto {
        name: axes.clone(),
        dims: vec![1],
        data_type: 7, // INT64
        raw_data: (-1i64).to_le_bytes().to_vec(),
        ..Default::default()
    });
    g.node.insert(
        i,
        pb::NodeProto {
            name: "sori_unsqueeze_stft_signal".into(),
            op_type: "Unsqueeze".into(),
            input: vec![signal, axes],
            output: vec![unsqueezed.clone()],
            ..Default::default()
        },
    );
    g.node[i + 1].input[0] = unsqueezed;
    Ok(())
}

/// Windows of a track of `duration_s`: [`WINDOW_S`] long every [`HOP_S`], the last one
/// ending with the track (at its true length, if at least 0.15 s).
pub fn windows(duration_s: f64) -> Vec<(f64, f64)> {
    if !duration_s.is_finite() || duration_s * (RATE as f64) < MIN_SAMPLES as f64 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // (Window k starts at k·HOP_S exactly, as `Tagger::tag_following` takes it.)
    let mut k = 0;
    while k as f64 * HOP_S + WINDOW_S < duration_s {
        out.push((k as f64 * HOP_S, k as f64 * HOP_S + WINDOW_S));
        k += 1;
    }
    out.push(((duration_s - WINDOW_S).max(0.0), duration_s));
    out
}

/// The mono mix of `store` from `a` to `b` s at 16 kHz.
pub fn mono_16k(store: &PcmStore, a: f64, b: f64) -> Vec<f32> {
    let rate = store.sample_rate().max(1);
    let want = (((b - a) * RATE as f64).round() as usize).clamp(MIN_SAMPLES, MAX_SAMPLES);
    if rate == RATE {
        let mut x = vec![0.0; want];
        store.read_mono((a * rate as f64).round() as i64, &mut x);
        return x;
    }
    // 50 ms either side so that the resampler's edges fall outside the window.
    let margin = (0.05 * rate as f64) as usize;
    let start = (a * rate as f64).round() as i64 - margin as i64;
    let n = ((b - a) * rate as f64).round() as usize + 2 * margin;
    let mut x = vec![0.0; n];
    store.read_mono(start, &mut x);
    let resampled = resample(&x, rate, RATE);
    let skip = (margin as f64 * RATE as f64 / rate as f64).round() as usize;
    let mut y: Vec<f32> = resampled.into_iter().skip(skip).take(want).collect();
    y.resize(want, 0.0);
    y
}

/// `x` at `from` Hz resampled to `to` Hz (band-limited, FFT-based), the resampler's delay
/// removed.
fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let Ok(mut r) = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input) else {
        return Vec::new();
    };
    let Ok(input) = InterleavedSlice::new(x, 1, x.len()) else {
        return Vec::new();
    };
    r.process_all(&input, x.len(), None)
        .map(|o| o.take_data())
        .unwrap_or_default()
}

/// The display names of the 527 classes, in output order.
pub fn labels() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        LABELS
            .lines()
            .skip(1)
            .map(|l| {
                // index,mid,"display name" (the name may hold commas)
                let name = l.splitn(3, ',').nth(2).unwrap_or("");
                name.trim().trim_matches('"').to_string()
            })
            .collect()
    })
}

/// A group of AudioSet classes that speaks to one kind of sound the lens looks for.
#[derive(Debug, Clone, Copy)]
pub struct ClassGroup {
    /// As the evidence and the model's cue list name it.
    pub name: &'static str,
    /// AudioSet display names, as in `assets/models/audioset_labels.csv`.
    pub classes: &'static [&'static str],
}

/// The groups of classes the lens reads from the tagger, in the order of the model's cues.
/// Which of them weigh for which lane, and how much, is fitted by `sori train`.
pub const GROUPS: [ClassGroup; 12] = [
    ClassGroup {
        name: "plucked strings",
        classes: &[
            "Plucked string instrument",
            "Zither",
            "Pizzicato",
            "Harp",
            "Sitar",
            "Banjo",
            "Mandolin",
            "Ukulele",
        ],
    },
    ClassGroup {
        name: "guitar",
        classes: &[
            "Guitar",
            "Electric guitar",
            "Acoustic guitar",
            "Steel guitar, slide guitar",
            "Tapping (guitar technique)",
        ],
    },
    ClassGroup {
        name: "bowed strings",
        classes: &[
            "Bowed string instrument",
            "Violin, fiddle",
            "Cello",
            "String section",
            "Double bass",
        ],
    },
    ClassGroup {
        name: "winds and whistle-like tones",
        classes: &[
            "Whistle",
            "Theremin",
            "Harmonica",
            "Wind instrument, woodwind instrument",
            "Flute",
            "Clarinet",
            "Saxophone",
            "Bagpipes",
            "Didgeridoo",
            "Shofar",
        ],
    },
    ClassGroup {
        name: "drums",
        classes: &[
            "Drum",
            "Percussion",
            "Drum roll",
            "Timpani",
            "Tabla",
            "Wood block",
        ],
    },
    ClassGroup {
        name: "drum kit and drum machine",
        classes: &[
            "Drum kit",
            "Snare drum",
            "Bass drum",
            "Hi-hat",
            "Rimshot",
            "Cymbal",
            "Drum machine",
        ],
    },
    ClassGroup {
        name: "gongs and bells",
        classes: &[
            "Gong",
            "Bell",
            "Tubular bells",
            "Church bell",
            "Chime",
            "Wind chime",
            "Singing bowl",
            "Jingle bell",
            "Cowbell",
            "Mallet percussion",
        ],
    },
    ClassGroup {
        name: "synthesizer and electronic music",
        classes: &[
            "Synthesizer",
            "Sampler",
            "Keyboard (musical)",
            "Ambient music",
            "Electronic music",
            "House music",
            "Techno",
            "Dubstep",
            "Drum and bass",
            "Electronica",
            "Electronic dance music",
            "Trance music",
        ],
    },
    ClassGroup {
        name: "hip hop, pop and dance music",
        classes: &["Hip hop music", "Pop music", "Dance music", "Rock music"],
    },
    ClassGroup {
        name: "traditional and Asian music",
        classes: &["Music of Asia", "Traditional music", "Folk music"],
    },
    ClassGroup {
        name: "singing",
        classes: &[
            "Singing",
            "Male singing",
            "Female singing",
            "Vocal music",
            "Synthetic singing",
            "Rapping",
        ],
    },
    ClassGroup {
        name: "bass guitar",
        classes: &["Bass guitar"],
    },
];
pub const N_GROUPS: usize = GROUPS.len();

/// The class indices of each group (names not in the label list are left out; a test checks
/// there are none).
fn group_indices() -> &'static [Vec<usize>; N_GROUPS] {
    static IDX: std::sync::OnceLock<[Vec<usize>; N_GROUPS]> = std::sync::OnceLock::new();
    IDX.get_or_init(|| {
        let names = labels();
        GROUPS.map(|g| {
            g.classes
                .iter()
                .filter_map(|c| names.iter().position(|n| n == c))
                .collect()
        })
    })
}

/// The strongest class of each group in one window's scores: (class index, score).
pub fn group_scores(scores: &[f32]) -> [(usize, f32); N_GROUPS] {
    let idx = group_indices();
    std::array::from_fn(|g| {
        idx[g]
            .iter()
            .filter_map(|&i| scores.get(i).map(|&s| (i, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0))
    })
}

/// The `k` strongest classes of `scores`: (index, score), strongest first.
pub fn top(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    idx.sort_by(|a, b| b.1.total_cmp(&a.1));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated signals of `scripts/tagger_reference.py`, built the same way (float64,
    /// rounded to float32).
    fn lcg(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    fn reference_signal(name: &str) -> Vec<f32> {
        use std::f64::consts::PI;
        let r = RATE as usize;
        let x: Vec<f64> = match name {
            "noise" => lcg(12345, r).iter().map(|v| 0.05 * v).collect(),
            "chirp" => {
                let noise = lcg(7, 2 * r);
                (0..2 * r)
                    .map(|i| {
                        let t = i as f64 / r as f64;
                        0.3 * (2.0 * PI * (200.0 * t + 0.5 * 1400.0 * t * t)).sin()
                            + 0.01 * noise[i]
                    })
                    .collect()
            }
            "clicks" => {
                let noise = lcg(99, 3 * r / 2);
                (0..3 * r / 2)
                    .map(|i| if i % 2000 == 0 { 0.9 } else { 0.0 } + 0.005 * noise[i])
                    .collect()
            }
            "harmonic" => {
                let noise = lcg(3, 3 * r);
                (0..3 * r)
                    .map(|i| {
                        0.2 * (1..9)
                            .map(|h| {
                                (2.0 * PI * 220.0 * h as f64 * i as f64 / r as f64).sin() / h as f64
                            })
                            .sum::<f64>()
                            + 0.005 * noise[i]
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        x.into_iter().map(|v| v as f32).collect()
    }

    #[test]
    fn scores_match_the_reference_runtime_within_1e4() {
        #[derive(serde::Deserialize)]
        struct Reference {
            signals: std::collections::BTreeMap<String, Vec<f32>>,
        }
        let r: Reference =
            serde_json::from_str(include_str!("../../tests/data/ced_tiny_reference.json"))
                .expect("reference file parses");
        assert_eq!(r.signals.len(), 4);
        let tagger = Tagger::new().expect("the built-in model loads");
        for (name, want) in &r.signals {
            let x = reference_signal(name);
            assert!(!x.is_empty(), "unknown signal {name}");
            let got = tagger.scores(&x).expect("runs");
            assert_eq!(got.len(), want.len());
            let (k, d) = got
                .iter()
                .zip(want)
                .map(|(g, w)| (g - w).abs())
                .enumerate()
                .fold((0, 0.0f32), |m, (k, d)| if d > m.1 { (k, d) } else { m });
            assert!(
                d <= 1e-4,
                "{name}: class {k} ({}) {} against {}",
                labels()[k],
                got[k],
                want[k]
            );
        }
        // Outside the lengths the model takes: a clear error, no panic.
        assert!(matches!(
            tagger.scores(&[0.0; 100]),
            Err(TaggerError::Length(100))
        ));
    }

    #[test]
    fn hidden_features_follow_the_window_in_time() {
        // A 440 Hz tone for the first 3 s of a 10 s window, then faint noise, against faint
        // noise throughout: the time patches of the first 3 s change most.
        let r = RATE as usize;
        let noise = lcg(5, 10 * r);
        let quiet: Vec<f32> = noise.iter().map(|v| (0.001 * v) as f32).collect();
        let mut toned = quiet.clone();
        for (i, v) in toned.iter_mut().enumerate().take(3 * r) {
            *v += 0.3 * (std::f32::consts::TAU * 440.0 * i as f32 / RATE as f32).sin();
        }
        let tagger = Tagger::new().expect("the built-in model loads");
        let a = tagger.hear(&toned).expect("runs");
        let b = tagger.hear(&quiet).expect("runs");
        // 1001 frames of 10 ms make 62 whole patches of 16.
        assert_eq!(a.embedding.len(), 62);
        assert_eq!(a.scores, tagger.scores(&toned).expect("runs"));
        let dist = |j: usize| -> f32 {
            a.embedding[j]
                .iter()
                .zip(&b.embedding[j])
                .map(|(x, y)| (x - y).abs())
                .sum::<f32>()
        };
        let mean = |r: std::ops::Range<usize>| r.clone().map(dist).sum::<f32>() / r.len() as f32;
        // (Attention spreads the tone over the whole window, so the later patches change
        // too, but clearly less.)
        let (during, after) = (mean(0..16), mean(24..62));
        assert!(during > 1.3 * after, "{during} against {after}");
        for later in (20..46).step_by(13) {
            assert!(during > 1.3 * mean(later..later + 16), "patches {later}–");
        }
    }

    #[test]
    fn a_block_takes_the_patches_within_half_a_second_of_it() {
        // Patch j of a window from 0 s holds j in its first column.
        let win = |a: f64, n: usize| WindowTags {
            start_s: a,
            end_s: a + n as f64 * PATCH_S,
            scores: Vec::new(),
            embedding: (0..n)
                .map(|j| {
                    let mut e = [0.0f32; EMBED_DIM];
                    e[0] = j as f32;
                    e
                })
                .collect(),
        };
        let got = block_embeddings(&[win(0.0, 62)], 120, 0.1);
        // Block 50 (centre 5.05 s) holds the patches centred in 4.55–5.55 s: j = 28..=34.
        let e = got[50].expect("held");
        assert!((e[0] - 31.0).abs() < 1e-5, "{}", e[0]);
        // Block 0 (0.05 s): patches centred by 0.55 s, j = 0..=2.
        assert!((got[0].expect("held")[0] - 1.0).abs() < 1e-5);
        // Past the window's last patch (centre 9.84 s) by more than 0.5 s: nothing.
        assert!(got[110].is_none());
        // Two windows over one block: both windows' patches count.
        let two = block_embeddings(&[win(0.0, 62), win(0.0, 62)], 120, 0.1);
        assert_eq!(two[50], got[50]);
    }

    #[test]
    fn labels_are_the_527_audioset_classes_in_order() {
        let l = labels();
        assert_eq!(l.len(), CLASSES);
        assert_eq!(l[0], "Speech");
        assert_eq!(l[1], "Male speech, man speaking");
        assert!(l.iter().any(|n| n == "Zither"));
        assert!(l.iter().any(|n| n == "Gong"));
        for g in GROUPS {
            for c in g.classes {
                assert!(l.iter().any(|n| n == c), "{c} ({}) is not a class", g.name);
            }
        }
        let mut s = vec![0.0f32; CLASSES];
        let zither = l.iter().position(|n| n == "Zither").unwrap_or(0);
        s[zither] = 0.8;
        s[139] = 0.3;
        assert_eq!(group_scores(&s)[0], (zither, 0.8));
        assert_eq!(group_scores(&s)[2].1, 0.0);
    }

    #[test]
    fn tagging_while_decoding_hears_windows_early_and_equals_tagging_the_finished_track() {
        use crate::audio::store::StoreWriter;
        // 25 s at 44.1 kHz: a tone that steps up every 5 s over a little noise.
        let rate = 44_100usize;
        let noise = lcg(9, 25 * rate);
        let x: Vec<f32> = (0..25 * rate)
            .map(|i| {
                let hz = 220.0 * (1 + i / (5 * rate)) as f64;
                (0.3 * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()
                    + 0.01 * noise[i]) as f32
            })
            .collect();
        let tagger = Tagger::new().expect("the built-in model loads");
        let whole = PcmStore::from_interleaved(rate as u32, 1, &x);
        let want = tagger
            .tag_track(&whole, 2, |_, _| {}, || true)
            .expect("tags the finished track");
        assert_eq!(want.len(), 3);

        let store = PcmStore::new(rate as u32, 1);
        let over = AtomicBool::new(false);
        let (heard, first_heard) = std::sync::mpsc::channel();
        let got = std::thread::scope(|s| {
            let (store, x, over) = (&store, &x, &over);
            let writer = s.spawn(move || {
                // 21 s, then nothing more until a window has been heard (or a minute).
                let mut w = StoreWriter::new(store);
                for part in x[..21 * rate].chunks(4096) {
                    w.write(store, part);
                }
                let early = first_heard
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .is_ok();
                w.write(store, &x[21 * rate..]);
                w.finish(store);
                over.store(true, Ordering::Release);
                early
            });
            let heard = Mutex::new(heard);
            let got = tagger.tag_following(
                store,
                2,
                over,
                |_, _| {
                    if let Ok(h) = heard.lock() {
                        let _ = h.send(());
                    }
                },
                || true,
            );
            let early = writer.join().expect("writer thread");
            assert!(
                early,
                "no window was heard before the decoder reached the end"
            );
            got
        })
        .expect("tags while decoding");
        assert_eq!(
            got, want,
            "windows or scores differ from those of the finished track"
        );
    }

    #[test]
    fn windows_cover_the_track_at_true_lengths() {
        assert!(windows(0.1).is_empty());
        assert_eq!(windows(0.2), vec![(0.0, 0.2)]);
        assert_eq!(windows(10.0), vec![(0.0, 10.0)]);
        assert_eq!(windows(12.0), vec![(0.0, 10.0), (2.0, 12.0)]);
        let w = windows(33.0);
        assert_eq!(
            w,
            vec![(0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (23.0, 33.0)]
        );
        for p in w.windows(2) {
            assert!(p[1].0 <= p[0].1, "gap between {p:?}");
        }
        for (a, b) in windows(600.3) {
            let n = ((b - a) * RATE as f64).round() as usize;
            assert!((MIN_SAMPLES..=MAX_SAMPLES).contains(&n), "{a}–{b}");
        }
    }

    #[test]
    fn resampling_to_16_khz_keeps_a_tone_and_its_timing() {
        // 1 kHz at 44.1 kHz, starting at 0.5 s: at 16 kHz the tone is there from 0.5 s.
        let rate = 44_100u32;
        let x: Vec<f32> = (0..rate as usize * 2)
            .map(|i| {
                let t = i as f32 / rate as f32;
                if t >= 0.5 {
                    (2.0 * std::f32::consts::PI * 1000.0 * t).sin() * 0.5
                } else {
                    0.0
                }
            })
            .collect();
        let store = PcmStore::from_interleaved(rate, 1, &x);
        let y = mono_16k(&store, 0.0, 2.0);
        assert_eq!(y.len(), 32_000);
        let rms = |a: usize, b: usize| {
            (y[a..b].iter().map(|v| v * v).sum::<f32>() / (b - a) as f32).sqrt()
        };
        assert!(rms(0, 7_800) < 0.01, "{}", rms(0, 7_800));
        assert!((rms(8_200, 31_000) - 0.5 / 2f32.sqrt()).abs() < 0.01);
        // Its frequency: zero crossings over a second.
        let crossings = y[10_000..26_000]
            .windows(2)
            .filter(|w| w[0] <= 0.0 && w[1] > 0.0)
            .count();
        assert!((crossings as i32 - 1000).abs() <= 2, "{crossings}");
    }
}
