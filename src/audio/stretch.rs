//! Practice speed and transposition: a [`Stretcher`] renders the store at another tempo
//! and/or pitch with the `timestretch` crate (chosen by measurement against
//! `signalsmith-stretch` and `wsola`, see `tools/stretch-compare`).
//!
//! The stretcher is built off the audio callback (when a track is attached) and then only
//! seeks, changes parameters and renders, which the library does without allocating.

use timestretch::{
    Backend, OutputConsumption, Parameters, PitchRatio, PreparedSession, ProcessStatus,
    SessionConfig, SourceAccess, StreamSession, TempoRate,
};

use super::store::PcmStore;

/// Slowest and fastest practice speeds, and the transposition range in semitones.
pub const SPEED_MIN: f32 = 0.25;
pub const SPEED_MAX: f32 = 2.0;
pub const SEMITONES_MAX: f32 = 12.0;

/// Sample rates the stretcher accepts (the library converts to its own core rate).
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 32_000..=192_000;

/// What practice asks of playback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Practice {
    /// Playback speed, 1 = as recorded.
    pub speed: f32,
    /// Transposition in semitones (ignored with varispeed).
    pub semitones: f32,
    /// Pitch follows speed, as on a tape machine.
    pub varispeed: bool,
}

impl Default for Practice {
    fn default() -> Self {
        Self {
            speed: 1.0,
            semitones: 0.0,
            varispeed: false,
        }
    }
}

impl Practice {
    /// Clamped to the supported ranges; non-finite values fall back to neutral.
    pub fn clamped(self) -> Self {
        let speed = if self.speed.is_finite() {
            self.speed.clamp(SPEED_MIN, SPEED_MAX)
        } else {
            1.0
        };
        let semitones = if self.semitones.is_finite() {
            self.semitones.clamp(-SEMITONES_MAX, SEMITONES_MAX)
        } else {
            0.0
        };
        Self {
            speed,
            semitones,
            varispeed: self.varispeed,
        }
    }
    /// True when playback is the recording as it is (no processing needed).
    pub fn is_neutral(&self) -> bool {
        (self.speed - 1.0).abs() < 1e-4 && (self.varispeed || self.semitones.abs() < 1e-3)
    }
    fn parameters(&self) -> Option<Parameters> {
        let p = self.clamped();
        let tempo = TempoRate::new(p.speed as f64).ok()?;
        let params = if p.varispeed {
            Parameters {
                tempo,
                pitch: PitchRatio::new(p.speed as f64).ok()?,
                ..Parameters::default()
            }
        } else {
            Parameters {
                tempo,
                pitch: PitchRatio::from_semitones(p.semitones as f64).ok()?,
                ..Parameters::default()
            }
        };
        params.validate().ok()?;
        Some(params)
    }
}

/// Frames the stretcher reads from the store at a time.
const READ_FRAMES: usize = 4096;

/// A stretching renderer over one store, stereo out.
pub struct Stretcher {
    session: StreamSession,
    practice: Practice,
    command: u64,
    scratch: Vec<f32>,
    out: Vec<f32>,
    /// The session ran out of input at the end of a complete store.
    finished_input: bool,
    loop_region: Option<(u64, u64)>,
}

/// What a render call reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rendered {
    /// Frames written.
    pub frames: usize,
    /// Source frame of the last frame written.
    pub position: f64,
    /// The end of the track was played.
    pub ended: bool,
}

impl Stretcher {
    /// A stretcher for `store`'s rate, or `None` when the rate is outside [`RATE_RANGE`].
    pub fn new(store: &PcmStore) -> Option<Self> {
        let rate = store.sample_rate();
        if !RATE_RANGE.contains(&rate) {
            return None;
        }
        let prepared = PreparedSession::new(SessionConfig {
            source_sample_rate: rate,
            output_sample_rate: rate,
            channels: 2,
            backend: Backend::Portable,
            source_access: SourceAccess::Seekable,
            source_frames: None,
            ..SessionConfig::default()
        })
        .ok()?;
        Some(Self {
            session: prepared.activate(),
            practice: Practice::default(),
            command: 0,
            scratch: Vec::with_capacity(READ_FRAMES * 2),
            out: vec![0.0; READ_FRAMES * 2],
            finished_input: false,
            loop_region: None,
        })
    }

    /// Source frame of the last frame rendered.
    pub fn position(&self) -> f64 {
        self.session.position()
    }

    /// Restarts at source frame `frame` (history before it primes the stretcher, so the
    /// first frame out is `frame`).
    pub fn seek(&mut self, frame: u64) -> bool {
        self.finished_input = false;
        let frame = match self.loop_region {
            Some((a, b)) if frame < a || frame >= b => a,
            _ => frame,
        };
        let ok = self.session.seek(frame).is_ok()
            // a fault or a finished input: start over from a clean state at `frame`
            || (self.session.set_loop(None).is_ok() && self.session.seek(frame).is_ok());
        self.reschedule();
        ok
    }

    /// A seek drops scheduled parameter changes: ask for the current ones again.
    fn reschedule(&mut self) {
        if let Some(params) = self.practice.parameters() {
            self.command += 1;
            let at = self.session.commit_horizon();
            let _ = self.session.schedule(self.command, at, params);
        }
    }

    /// Loops `[a, b)` (source frames), or stops looping; seeks only when the region changes.
    pub fn set_loop(&mut self, region: Option<(u64, u64)>) {
        let region = region.filter(|(a, b)| b > a);
        if region == self.loop_region {
            return;
        }
        self.loop_region = region;
        self.finished_input = false;
        if self.session.set_loop(region).is_err() {
            self.loop_region = None;
            let _ = self.session.set_loop(None);
        }
        self.reschedule();
    }

    /// Applies new practice settings from the next block on.
    pub fn set_practice(&mut self, p: Practice) {
        let p = p.clamped();
        if p == self.practice {
            return;
        }
        if p.parameters().is_some() {
            self.practice = p;
            self.reschedule();
        }
    }

    /// Renders up to `out.len() / 2` stereo frames from `store`. Fewer frames come back when
    /// the store is not decoded that far yet or the track ended.
    pub fn render(&mut self, store: &PcmStore, out: &mut [f32]) -> Rendered {
        let want = out.len() / 2;
        let mut got = 0;
        let mut ended = false;
        let mut idle_rounds = 0;
        while got < want {
            while self.session.next_applied().is_some() {}
            let take = (want - got).min(self.out.len() / 2);
            let stamp = match self.session.read_output(&mut self.out[..take * 2]) {
                Ok(s) => s,
                Err(_) => break,
            };
            if stamp.frames > 0 {
                out[got * 2..(got + stamp.frames) * 2]
                    .copy_from_slice(&self.out[..stamp.frames * 2]);
                got += stamp.frames;
                let receipt: Option<OutputConsumption> = stamp.consumed(stamp.frames).ok();
                if let Some(r) = receipt {
                    let _ = self.session.acknowledge(r);
                }
                idle_rounds = 0;
                continue;
            }
            if self.session.finished() {
                ended = true;
                break;
            }
            match self.session.advance(8).status {
                ProcessStatus::NeedSource => {
                    if !self.supply(store) {
                        break; // not decoded yet
                    }
                }
                ProcessStatus::Fault => break,
                ProcessStatus::Finished => {
                    ended = true;
                    break;
                }
                ProcessStatus::Paused => break,
                _ => {}
            }
            idle_rounds += 1;
            if idle_rounds > 10_000 {
                break; // never spin in the audio callback
            }
        }
        Rendered {
            frames: got,
            position: self.session.position(),
            ended,
        }
    }

    /// Feeds the session's source request from the store; false when nothing could be fed.
    fn supply(&mut self, store: &PcmStore) -> bool {
        let Some(req) = self.session.source_request() else {
            return false;
        };
        let start = req.start_frame;
        let end = start + req.frames as u64;
        let decoded = store.frames();
        if start >= decoded {
            if store.is_complete() && self.loop_region.is_none() && !self.finished_input {
                self.finished_input = self.session.finish_input().is_ok();
                return self.finished_input;
            }
            return false;
        }
        self.scratch.clear();
        let ch = store.channels();
        let scratch = &mut self.scratch;
        store.for_each_slice(start, end.min(decoded), |s| {
            for f in s.chunks_exact(ch) {
                let (l, r) = stereo_of(f);
                // the library refuses non-finite input; a damaged frame plays as silence
                scratch.push(if l.is_finite() { l } else { 0.0 });
                scratch.push(if r.is_finite() { r } else { 0.0 });
            }
        });
        if self.scratch.is_empty() {
            return false;
        }
        self.session.supply(req, &self.scratch).is_ok()
    }
}

/// A frame of any channel count as a stereo pair: mono is doubled, more than two channels
/// are averaged into left (even) and right (odd).
pub fn stereo_of(f: &[f32]) -> (f32, f32) {
    match f.len() {
        0 => (0.0, 0.0),
        1 => (f[0], f[0]),
        2 => (f[0], f[1]),
        _ => {
            let (mut l, mut r, mut nl, mut nr) = (0.0, 0.0, 0, 0);
            for (i, x) in f.iter().enumerate() {
                if i % 2 == 0 {
                    l += x;
                    nl += 1;
                } else {
                    r += x;
                    nr += 1;
                }
            }
            (l / nl.max(1) as f32, r / nr.max(1) as f32)
        }
    }
}
