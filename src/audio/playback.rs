//! Playback with rodio from a [`PcmStore`].
//!
//! The output device lives on its own thread (a cpal stream is not `Send` everywhere, and
//! opening a device can take a while); the GUI never waits for it. Transport state is a set
//! of atomics: the GUI writes requests (play, seek, loop), the audio callback writes the
//! position of the frame it has actually consumed, which is what the playhead shows.

use std::num::NonZero;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::store::{CHUNK_FRAMES, PcmStore};

const NO_SEEK: u64 = u64::MAX;

/// Transport state shared between the GUI and the audio callback.
#[derive(Debug)]
pub struct Transport {
    playing: AtomicBool,
    position: AtomicU64,
    seek_to: AtomicU64,
    loop_on: AtomicBool,
    loop_start: AtomicU64,
    loop_end: AtomicU64,
    volume_bits: AtomicU32,
    /// Bumped whenever a new track is attached: older sources end themselves.
    generation: AtomicU64,
    /// Frames of the attached track that are decoded so far.
    ended: AtomicBool,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            playing: AtomicBool::new(false),
            position: AtomicU64::new(0),
            seek_to: AtomicU64::new(NO_SEEK),
            loop_on: AtomicBool::new(false),
            loop_start: AtomicU64::new(0),
            loop_end: AtomicU64::new(0),
            volume_bits: AtomicU32::new(1.0f32.to_bits()),
            generation: AtomicU64::new(0),
            ended: AtomicBool::new(false),
        }
    }
}

impl Transport {
    pub fn is_playing(&self) -> bool {
        self.playing.load(Ordering::Acquire)
    }
    pub fn set_playing(&self, on: bool) {
        self.ended.store(false, Ordering::Release);
        self.playing.store(on, Ordering::Release);
    }
    /// True once playback ran off the end of the track (cleared by the next play).
    pub fn reached_end(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
    /// Frame the audio callback will play next (or the seek target, right after a seek).
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }
    pub fn seek(&self, frame: u64) {
        self.position.store(frame, Ordering::Release);
        self.seek_to.store(frame, Ordering::Release);
    }
    pub fn set_loop(&self, on: bool, start: u64, end: u64) {
        self.loop_start.store(start, Ordering::Release);
        self.loop_end.store(end, Ordering::Release);
        self.loop_on.store(on && end > start, Ordering::Release);
    }
    pub fn loop_on(&self) -> bool {
        self.loop_on.load(Ordering::Acquire)
    }
    pub fn loop_range(&self) -> (u64, u64) {
        (
            self.loop_start.load(Ordering::Acquire),
            self.loop_end.load(Ordering::Acquire),
        )
    }
    pub fn volume(&self) -> f32 {
        f32::from_bits(self.volume_bits.load(Ordering::Relaxed))
    }
    pub fn set_volume(&self, v: f32) {
        let v = if v.is_finite() {
            v.clamp(0.0, 2.0)
        } else {
            1.0
        };
        self.volume_bits.store(v.to_bits(), Ordering::Relaxed);
    }
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// A rodio source that plays the store from the transport's position, as stereo.
pub struct StoreSource {
    store: Arc<PcmStore>,
    t: Arc<Transport>,
    generation: u64,
    chunk: Option<(usize, super::store::Chunk)>,
    pos: u64,
    right: Option<f32>,
}

impl StoreSource {
    pub fn new(store: Arc<PcmStore>, t: Arc<Transport>) -> Self {
        let generation = t.generation();
        let pos = t.position();
        Self {
            store,
            t,
            generation,
            chunk: None,
            pos,
            right: None,
        }
    }

    fn frame(&mut self, frame: u64) -> Option<(f32, f32)> {
        let ci = (frame / CHUNK_FRAMES as u64) as usize;
        if self.chunk.as_ref().map(|(i, _)| *i) != Some(ci) {
            self.chunk = self.store.chunk(ci).map(|c| (ci, c));
        }
        let (_, chunk) = self.chunk.as_ref()?;
        let ch = self.store.channels();
        let off = (frame % CHUNK_FRAMES as u64) as usize * ch;
        let f = chunk.get(off..off + ch)?;
        Some(match ch {
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
        })
    }
}

impl Iterator for StoreSource {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        if let Some(r) = self.right.take() {
            return Some(r);
        }
        if self.t.generation() != self.generation {
            return None; // another track was opened: this source ends
        }
        let seek = self.t.seek_to.swap(NO_SEEK, Ordering::AcqRel);
        if seek != NO_SEEK {
            self.pos = seek;
        }
        if !self.t.is_playing() {
            self.right = Some(0.0);
            return Some(0.0);
        }
        if self.t.loop_on() {
            let (a, b) = self.t.loop_range();
            if self.pos >= b || self.pos < a {
                self.pos = a;
            }
        }
        let vol = self.t.volume();
        match self.frame(self.pos) {
            Some((l, r)) => {
                self.pos += 1;
                self.t.position.store(self.pos, Ordering::Release);
                self.right = Some(r * vol);
                Some(l * vol)
            }
            None => {
                if self.store.is_complete() && self.pos >= self.store.frames() {
                    self.t.playing.store(false, Ordering::Release);
                    self.t.ended.store(true, Ordering::Release);
                    self.t
                        .position
                        .store(self.store.frames(), Ordering::Release);
                }
                // Not decoded yet (or at the end): silence, position holds.
                self.right = Some(0.0);
                Some(0.0)
            }
        }
    }
}

impl rodio::Source for StoreSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> rodio::ChannelCount {
        NonZero::new(2).unwrap_or(NonZero::<u16>::MIN)
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        NonZero::new(self.store.sample_rate()).unwrap_or(NonZero::<u32>::MIN)
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// What the audio thread reports about the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    Opening,
    Ready(String),
    /// One sentence for the user.
    Unavailable(String),
}

enum Msg {
    Attach(Arc<PcmStore>),
    Reopen,
}

/// Handle to the audio thread.
pub struct Player {
    pub transport: Arc<Transport>,
    state: Arc<Mutex<DeviceState>>,
    tx: Option<Sender<Msg>>,
}

impl Player {
    /// Starts the audio thread, which tries to open the default output device.
    pub fn start() -> Self {
        let transport = Arc::new(Transport::default());
        let state = Arc::new(Mutex::new(DeviceState::Opening));
        let (tx, rx) = channel();
        let (t2, s2) = (transport.clone(), state.clone());
        let spawned = std::thread::Builder::new()
            .name("sori-audio".into())
            .spawn(move || audio_thread(rx, t2, s2));
        let tx = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                set_state(
                    &state,
                    DeviceState::Unavailable(format!(
                        "The audio thread could not start ({e}); playback is off."
                    )),
                );
                None
            }
        };
        Self {
            transport,
            state,
            tx,
        }
    }

    /// A player with no device at all (command line, tests).
    pub fn silent() -> Self {
        Self {
            transport: Arc::new(Transport::default()),
            state: Arc::new(Mutex::new(DeviceState::Unavailable(
                "Playback is off.".into(),
            ))),
            tx: None,
        }
    }

    pub fn device_state(&self) -> DeviceState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(DeviceState::Opening)
    }

    /// Makes `store` the track that plays; the position goes to 0 and playback stops.
    pub fn attach(&self, store: Arc<PcmStore>) {
        self.transport.set_playing(false);
        self.transport.generation.fetch_add(1, Ordering::AcqRel);
        self.transport.seek(0);
        self.transport.set_loop(false, 0, 0);
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Attach(store));
        }
    }

    /// Tries the output device again (after it was missing or failed).
    pub fn reopen(&self) {
        if let Some(tx) = &self.tx {
            set_state(&self.state, DeviceState::Opening);
            let _ = tx.send(Msg::Reopen);
        }
    }
}

fn set_state(state: &Mutex<DeviceState>, s: DeviceState) {
    if let Ok(mut g) = state.lock() {
        *g = s;
    }
}

fn audio_thread(rx: Receiver<Msg>, t: Arc<Transport>, state: Arc<Mutex<DeviceState>>) {
    let failed = Arc::new(AtomicBool::new(false));
    let open = |failed: &Arc<AtomicBool>| -> Option<rodio::MixerDeviceSink> {
        failed.store(false, Ordering::Release);
        let f2 = failed.clone();
        let builder = rodio::DeviceSinkBuilder::from_default_device()
            .map(|b| b.with_error_callback(move |_e| f2.store(true, Ordering::Release)));
        match builder.and_then(|b| b.open_stream()) {
            Ok(mut sink) => {
                sink.log_on_drop(false);
                let cfg = sink.config();
                set_state(
                    &state,
                    DeviceState::Ready(format!(
                        "{} Hz, {} ch",
                        cfg.sample_rate(),
                        cfg.channel_count()
                    )),
                );
                Some(sink)
            }
            Err(e) => {
                set_state(
                    &state,
                    DeviceState::Unavailable(format!(
                        "No audio output device could be opened ({e}); everything but sound still works."
                    )),
                );
                None
            }
        }
    };
    let mut sink = open(&failed);
    let mut current: Option<Arc<PcmStore>> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(Msg::Attach(store)) => {
                if let Some(s) = &sink {
                    s.mixer().add(StoreSource::new(store.clone(), t.clone()));
                }
                current = Some(store);
            }
            Ok(Msg::Reopen) => {
                drop(sink.take());
                sink = open(&failed);
                if let (Some(s), Some(store)) = (&sink, &current) {
                    t.generation.fetch_add(1, Ordering::AcqRel);
                    s.mixer().add(StoreSource::new(store.clone(), t.clone()));
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if sink.is_some() && failed.load(Ordering::Acquire) {
                    sink = None;
                    t.set_playing(false);
                    set_state(
                        &state,
                        DeviceState::Unavailable(
                            "The audio output device stopped working; playback paused. Choose Playback → Retry audio device when it is back.".into(),
                        ),
                    );
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_plays_from_position_loops_and_stops_at_end() {
        let samples: Vec<f32> = (0..1000).flat_map(|i| [i as f32, -(i as f32)]).collect();
        let store = Arc::new(PcmStore::from_interleaved(1000, 2, &samples));
        let t = Arc::new(Transport::default());
        let mut src = StoreSource::new(store, t.clone());
        // paused: silence, position holds
        assert_eq!(src.next(), Some(0.0));
        assert_eq!(src.next(), Some(0.0));
        assert_eq!(t.position(), 0);
        t.seek(10);
        t.set_playing(true);
        assert_eq!(src.next(), Some(10.0));
        assert_eq!(src.next(), Some(-10.0));
        assert_eq!(
            t.position(),
            11,
            "position is the next frame after the consumed one"
        );
        t.set_loop(true, 100, 102);
        let got: Vec<f32> = (0..6).map(|_| src.next().unwrap_or(f32::NAN)).collect();
        assert_eq!(got, vec![100.0, -100.0, 101.0, -101.0, 100.0, -100.0]);
        t.set_loop(false, 0, 0);
        t.seek(999);
        assert_eq!(src.next(), Some(999.0));
        src.next();
        src.next();
        assert!(!t.is_playing(), "playback stops at the end of the track");
        assert!(t.reached_end());
    }
}
