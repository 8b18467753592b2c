//! Playback with rodio from a [`PcmStore`].
//!
//! The output device lives on its own thread (a cpal stream is not `Send` everywhere, and
//! opening a device can take a while); the GUI never waits for it. Transport state is a set
//! of atomics: the GUI writes requests (play, seek, loop), the audio callback writes the
//! position of the frame it has actually consumed, which is what the playhead shows.
//!
//! The audio callback is real-time safe: it takes no lock, allocates nothing and reads no
//! file. A render thread per source reads the store (which may do all three, for a long
//! recording spilled to its cache file) and hands the callback finished blocks through a
//! wait-free ring ([`rtrb`]).

use std::num::NonZero;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::store::{CHUNK_FRAMES, PcmStore};
use super::stretch::{Practice, Stretcher, stereo_of};

/// Transport state shared between the GUI and the audio callback.
#[derive(Debug)]
pub struct Transport {
    playing: AtomicBool,
    position: AtomicU64,
    seek_to: AtomicU64,
    /// Seeks asked for so far: blocks rendered before the latest are dropped unheard.
    seek_epoch: AtomicU64,
    loop_on: AtomicBool,
    loop_start: AtomicU64,
    loop_end: AtomicU64,
    volume_bits: AtomicU32,
    speed_bits: AtomicU32,
    semitones_bits: AtomicU32,
    varispeed: AtomicBool,
    /// Times playback wrapped from the loop's end to its start since the loop was set.
    loop_passes: AtomicU64,
    /// Practice needs a sample rate the stretcher accepts; false for this track otherwise.
    practice_available: AtomicBool,
    /// Bumped whenever a new track is attached: older sources end themselves.
    generation: AtomicU64,
    /// Frames of the attached track that are decoded so far.
    ended: AtomicBool,
    /// Tells the audio thread that playback was asked for (it reopens the device it let go
    /// of while paused); `None` without an audio thread.
    waker: Mutex<Option<Sender<Msg>>>,
    /// The newest source's render thread, woken at once by a seek or play (the GUI's side
    /// only: the callback never takes this lock).
    renderer: Mutex<Option<std::thread::Thread>>,
    /// Blocks the callback played as silence because the render thread was behind.
    starved: AtomicU64,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            playing: AtomicBool::new(false),
            position: AtomicU64::new(0),
            seek_to: AtomicU64::new(0),
            seek_epoch: AtomicU64::new(0),
            loop_on: AtomicBool::new(false),
            loop_start: AtomicU64::new(0),
            loop_end: AtomicU64::new(0),
            volume_bits: AtomicU32::new(1.0f32.to_bits()),
            speed_bits: AtomicU32::new(1.0f32.to_bits()),
            semitones_bits: AtomicU32::new(0.0f32.to_bits()),
            varispeed: AtomicBool::new(false),
            loop_passes: AtomicU64::new(0),
            practice_available: AtomicBool::new(true),
            generation: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            waker: Mutex::new(None),
            renderer: Mutex::new(None),
            starved: AtomicU64::new(0),
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
        self.wake_renderer();
        if on
            && let Ok(w) = self.waker.lock()
            && let Some(tx) = w.as_ref()
        {
            let _ = tx.send(Msg::Play);
        }
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
        self.seek_epoch.fetch_add(1, Ordering::AcqRel);
        self.wake_renderer();
    }
    fn wake_renderer(&self) {
        if let Ok(r) = self.renderer.lock()
            && let Some(th) = r.as_ref()
        {
            th.unpark();
        }
    }
    /// Blocks played as silence because rendering fell behind the device (an underrun of
    /// Sori's own, before the device's).
    pub fn starved_blocks(&self) -> u64 {
        self.starved.load(Ordering::Relaxed)
    }
    pub fn set_loop(&self, on: bool, start: u64, end: u64) {
        if (on && end > start) != self.loop_on() || (start, end) != self.loop_range() {
            self.loop_passes.store(0, Ordering::Release);
        }
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
    /// Complete passes through the loop since it was set (wraps from its end to its start).
    pub fn loop_passes(&self) -> u64 {
        self.loop_passes.load(Ordering::Acquire)
    }
    pub fn practice(&self) -> Practice {
        Practice {
            speed: f32::from_bits(self.speed_bits.load(Ordering::Acquire)),
            semitones: f32::from_bits(self.semitones_bits.load(Ordering::Acquire)),
            varispeed: self.varispeed.load(Ordering::Acquire),
        }
    }
    /// Speed, transposition and varispeed, clamped to what playback supports.
    pub fn set_practice(&self, p: Practice) {
        let p = p.clamped();
        self.speed_bits.store(p.speed.to_bits(), Ordering::Release);
        self.semitones_bits
            .store(p.semitones.to_bits(), Ordering::Release);
        self.varispeed.store(p.varispeed, Ordering::Release);
    }
    /// False when the attached track's sample rate rules out speed and transposition.
    pub fn practice_available(&self) -> bool {
        self.practice_available.load(Ordering::Acquire)
    }
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// Frames rendered at a time; transport changes (seek, loop, practice) take effect at the
/// next block, and a switch between plain and stretched playback crossfades over one block.
pub const BLOCK_FRAMES: usize = 256;

/// Blocks the render thread keeps ready ahead of the callback (about 93 ms at 44.1 kHz:
/// more than the longest device period, 4 × ~10 ms). A seek does not wait for them: the
/// callback drops blocks rendered before it.
const AHEAD_BLOCKS: usize = 16;
/// Ring capacity: room for a seek's fresh blocks behind the stale ones still queued.
const RING_BLOCKS: usize = 3 * AHEAD_BLOCKS;

/// What one rendered block tells the transport once the callback plays it.
#[derive(Debug, Clone, Copy, Default)]
struct BlockMeta {
    /// The frame after the block (what the playhead shows), if playback moved.
    position: Option<u64>,
    /// Playback ran off the end of the track in this block.
    ended: bool,
    /// Some frames were not decoded yet (silence stands in for them).
    missing: bool,
}

/// Renders the store from the transport's position in blocks of stereo: the recording as
/// it is, or through the [`Stretcher`] when practice asks for another speed or pitch. It
/// reads the store (which may lock or read the cache file), so it runs on the render
/// thread, never in the audio callback.
struct Renderer {
    store: Arc<PcmStore>,
    t: Arc<Transport>,
    /// The seek requests taken so far ([`Transport::seek_epoch`]).
    epoch: u64,
    chunk: Option<(usize, super::store::Chunk)>,
    /// Next frame of plain playback.
    pos: u64,
    stretch: Option<Stretcher>,
    /// The last block came from the stretcher.
    stretching: bool,
    buf: Vec<f32>,
    other: Vec<f32>,
    meta: BlockMeta,
}

impl Renderer {
    /// Builds the renderer (and its stretcher, which allocates).
    fn new(store: Arc<PcmStore>, t: Arc<Transport>) -> Self {
        let epoch = t.seek_epoch.load(Ordering::Acquire);
        let pos = t.position();
        let stretch = Stretcher::new(&store);
        t.practice_available
            .store(stretch.is_some(), Ordering::Release);
        Self {
            store,
            t,
            epoch,
            chunk: None,
            pos,
            stretch,
            stretching: false,
            buf: vec![0.0; BLOCK_FRAMES * 2],
            other: vec![0.0; BLOCK_FRAMES * 2],
            meta: BlockMeta::default(),
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
        Some(stereo_of(f))
    }

    fn end_of_track(&mut self) {
        self.meta.ended = true;
        self.meta.position = Some(self.store.frames());
    }

    /// Plain playback of one block into `buf` (`other` when `into_other`).
    fn render_plain(&mut self, into_other: bool) {
        let loop_range = self.t.loop_on().then(|| self.t.loop_range());
        let mut out = std::mem::take(if into_other {
            &mut self.other
        } else {
            &mut self.buf
        });
        out.fill(0.0);
        let mut missing = false;
        let mut ended = false;
        for i in 0..BLOCK_FRAMES {
            if let Some((a, b)) = loop_range {
                if self.pos == b {
                    self.pos = a;
                    if !into_other {
                        self.t.loop_passes.fetch_add(1, Ordering::AcqRel);
                    }
                } else if self.pos > b || self.pos < a {
                    self.pos = a; // the loop was set elsewhere: start at its start
                }
            }
            match self.frame(self.pos) {
                Some((l, r)) => {
                    out[2 * i] = l;
                    out[2 * i + 1] = r;
                    self.pos += 1;
                }
                None => {
                    if self.store.is_complete() && self.pos >= self.store.frames() {
                        ended = true;
                        break;
                    }
                    // Not decoded yet: silence, position holds.
                    missing = true;
                }
            }
        }
        if into_other {
            self.other = out;
        } else {
            self.buf = out;
            self.meta.missing = missing;
            self.meta.position = Some(self.pos);
            if ended {
                self.end_of_track();
            }
        }
    }

    /// Stretched playback of one block into `buf` (`other` when `into_other`).
    fn render_stretched(&mut self, into_other: bool) {
        let Some(st) = self.stretch.as_mut() else {
            return;
        };
        let loop_range = self.t.loop_on().then(|| self.t.loop_range());
        st.set_loop(loop_range);
        let before = st.position();
        let out = if into_other {
            &mut self.other
        } else {
            &mut self.buf
        };
        out.fill(0.0);
        let r = st.render(&self.store, out);
        if into_other {
            return;
        }
        if let Some((a, b)) = loop_range {
            // the source position jumped back from the loop's end to its start
            if r.frames > 0
                && r.position + 1.0 < before
                && before >= a as f64
                && r.position < b as f64
            {
                self.t.loop_passes.fetch_add(1, Ordering::AcqRel);
            }
        }
        if r.ended {
            self.end_of_track();
            return;
        }
        self.meta.missing = r.frames == 0;
        if r.frames > 0 {
            self.pos = (r.position.max(0.0).round() as u64).min(self.store.frames());
            self.meta.position = Some(self.pos);
        }
    }

    /// Takes the latest seek, if one came since the last block.
    fn take_seek(&mut self) {
        let e = self.t.seek_epoch.load(Ordering::Acquire);
        if e == self.epoch {
            return;
        }
        self.epoch = e;
        let to = self.t.seek_to.load(Ordering::Acquire);
        self.pos = to;
        if self.stretching
            && let Some(st) = self.stretch.as_mut()
        {
            st.seek(to);
        }
    }

    /// Renders the next block into `buf`: picks up loop and practice changes.
    fn render(&mut self) -> BlockMeta {
        self.meta = BlockMeta::default();
        let practice = self.t.practice();
        let want_stretch = !practice.is_neutral() && self.stretch.is_some();
        match (self.stretching, want_stretch) {
            (false, false) => self.render_plain(false),
            (true, true) => {
                if let Some(st) = self.stretch.as_mut() {
                    st.set_practice(practice);
                }
                self.render_stretched(false);
            }
            (false, true) => {
                // into the stretcher: it starts where plain playback is; crossfade one block
                let at = self.pos;
                if let Some(st) = self.stretch.as_mut() {
                    st.set_practice(practice);
                    st.set_loop(self.t.loop_on().then(|| self.t.loop_range()));
                    st.seek(at);
                }
                self.render_plain(true);
                self.pos = at;
                self.render_stretched(false);
                crossfade(&self.other, &mut self.buf);
                self.stretching = true;
            }
            (true, false) => {
                // back to the recording as it is, from where the stretcher got to
                self.render_stretched(true);
                self.render_plain(false);
                crossfade(&self.other, &mut self.buf);
                self.stretching = false;
            }
        }
        self.meta
    }
}

/// Fades `from` out and `to` in over the block (stereo, equal length).
fn crossfade(from: &[f32], to: &mut [f32]) {
    let n = (to.len() / 2).max(1) as f32;
    for (i, (o, f)) in to.chunks_exact_mut(2).zip(from.chunks_exact(2)).enumerate() {
        let g = (i as f32 + 0.5) / n;
        o[0] = o[0] * g + f[0] * (1.0 - g);
        o[1] = o[1] * g + f[1] * (1.0 - g);
    }
}

/// One rendered block on its way from the render thread to the callback.
struct Block {
    samples: [f32; BLOCK_FRAMES * 2],
    /// The seek requests taken when it was rendered: older than the transport's, it is
    /// dropped unheard.
    epoch: u64,
    meta: BlockMeta,
}

impl Transport {
    /// What the callback does with a block it plays: the playhead moves, the end stops.
    fn played(&self, meta: BlockMeta) {
        if meta.ended {
            self.playing.store(false, Ordering::Release);
            self.ended.store(true, Ordering::Release);
        }
        if let Some(p) = meta.position {
            self.position.store(p, Ordering::Release);
        }
    }
}

/// The render thread: keeps [`AHEAD_BLOCKS`] blocks of the current seek ready in the ring,
/// and ends when the callback's side is gone or another track was opened.
fn render_loop(mut r: Renderer, mut ring: rtrb::Producer<Block>, generation: u64) {
    // Blocks pushed since the last seek: after a seek the ring may be full of stale blocks
    // the callback has not dropped yet, and fresh ones go in behind them at once.
    let mut fresh = 0usize;
    loop {
        if ring.is_abandoned() || r.t.generation() != generation {
            return;
        }
        let before = r.epoch;
        r.take_seek();
        if r.epoch != before {
            fresh = 0;
        }
        let queued = RING_BLOCKS - ring.slots();
        let playing = r.t.is_playing();
        if ring.slots() > 0 && (queued < AHEAD_BLOCKS || fresh < AHEAD_BLOCKS) {
            let from = r.pos;
            let meta = r.render();
            // Paused, a block with undecoded frames waits: when play comes the decoder may
            // have them, and silence would be queued ahead of the sound.
            if playing || !meta.missing {
                let mut samples = [0.0f32; BLOCK_FRAMES * 2];
                samples.copy_from_slice(&r.buf);
                let block = Block {
                    samples,
                    epoch: r.epoch,
                    meta,
                };
                if ring.push(block).is_ok() {
                    fresh += 1;
                    continue;
                }
            } else {
                r.pos = from; // rendered again from the same place next time
            }
        }
        std::thread::park_timeout(if playing {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(10)
        });
    }
}

/// A rodio source that plays the store from the transport's position, as stereo. It runs in
/// the audio callback and only pops blocks from a wait-free ring: no lock, no allocation,
/// no file read there. A render thread of its own fills the ring.
pub struct StoreSource {
    t: Arc<Transport>,
    ring: rtrb::Consumer<Block>,
    generation: u64,
    sample_rate: u32,
    buf: [f32; BLOCK_FRAMES * 2],
    idx: usize,
}

impl StoreSource {
    /// Builds the source and starts its render thread (off the audio callback).
    pub fn new(store: Arc<PcmStore>, t: Arc<Transport>) -> std::io::Result<Self> {
        let generation = t.generation();
        let sample_rate = store.sample_rate();
        let renderer = Renderer::new(store, t.clone());
        let (producer, ring) = rtrb::RingBuffer::new(RING_BLOCKS);
        let thread = std::thread::Builder::new()
            .name("sori-render".into())
            .spawn(move || render_loop(renderer, producer, generation))?;
        if let Ok(mut r) = t.renderer.lock() {
            *r = Some(thread.thread().clone());
        }
        Ok(Self {
            t,
            ring,
            generation,
            sample_rate,
            buf: [0.0; BLOCK_FRAMES * 2],
            idx: BLOCK_FRAMES * 2,
        })
    }

    /// The next block to play: drops blocks from before the latest seek; silence while
    /// paused or when the render thread is behind (counted).
    fn fill(&mut self) {
        self.idx = 0;
        let epoch = self.t.seek_epoch.load(Ordering::Acquire);
        while self.ring.peek().is_ok_and(|b| b.epoch != epoch) {
            let _ = self.ring.pop();
        }
        if !self.t.is_playing() {
            self.buf = [0.0; BLOCK_FRAMES * 2];
            return;
        }
        match self.ring.pop() {
            Ok(block) => {
                self.buf = block.samples;
                self.t.played(block.meta);
                let vol = self.t.volume();
                if vol != 1.0 {
                    self.buf.iter_mut().for_each(|x| *x *= vol);
                }
            }
            Err(_) => {
                self.buf = [0.0; BLOCK_FRAMES * 2];
                self.t.starved.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Iterator for StoreSource {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        if self.idx >= self.buf.len() {
            if self.t.generation() != self.generation {
                return None; // another track was opened: this source ends
            }
            self.fill();
        }
        let v = self.buf.get(self.idx).copied().unwrap_or(0.0);
        self.idx += 1;
        Some(v)
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
        NonZero::new(self.sample_rate).unwrap_or(NonZero::<u32>::MIN)
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

#[derive(Debug)]
enum Msg {
    Attach(Arc<PcmStore>),
    Reopen,
    /// Playback was asked for.
    Play,
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
            Ok(_) => {
                if let Ok(mut w) = transport.waker.lock() {
                    *w = Some(tx.clone());
                }
                Some(tx)
            }
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

/// What the user reads when the device stops during use.
pub const DEVICE_LOST: &str = "The audio output device stopped working; playback paused. Sori reconnects when it is back (or choose Playback → Retry audio device).";

/// First and longest pause between attempts to open a missing device.
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(16);

fn set_state(state: &Mutex<DeviceState>, s: DeviceState) {
    if let Ok(mut g) = state.lock() {
        *g = s;
    }
}

/// Periods the device's ring buffer holds (cpal's ALSA backend double-buffers).
const DEVICE_PERIODS: u32 = 2;

/// Frames per device period for a device at `rate`, `scale` times about 10 ms (a power of
/// two). At scale 1 the device holds about 21 ms, which is what a seek plays through before
/// the new place is heard; rodio's own default is 50 ms periods, 100 ms of buffer. The
/// callback renders 256-frame blocks of the store, well inside a period.
fn period_frames(rate: u32, scale: u32) -> u32 {
    (rate / 100).max(64).next_power_of_two() * scale
}

/// Largest period scale: 4 × ~10 ms, about rodio's default buffer.
const MAX_SCALE: u32 = 4;
/// Underruns within [`UNDERRUN_WINDOW`] that make the audio thread reopen the device with
/// periods twice as long (a machine that cannot keep a short buffer full gets a longer one,
/// rather than a crackle every few seconds).
const UNDERRUNS_TO_GROW: u32 = 2;
const UNDERRUN_WINDOW: Duration = Duration::from_secs(30);

/// Paused this long, the audio thread lets go of the device: no callbacks, no wakeups,
/// nothing for the sound server to mix (about 1–2 % of a core otherwise). Play opens it
/// again, which takes a few tens of milliseconds, once.
const RELEASE_AFTER: Duration = Duration::from_secs(5);

/// What an open stream's error callback reports to the audio thread.
#[derive(Default)]
struct StreamFlags {
    /// The stream ended with an error.
    failed: AtomicBool,
    /// Buffer underruns (the device ran out of samples: a gap in the sound).
    underruns: AtomicU32,
}

/// Opens the default output device with periods of [`period_frames`]`(rate, scale)`, or, if
/// the device refuses that, with rodio's default buffer (`None` for the period then).
fn open_sink(
    scale: u32,
    flags: &Arc<StreamFlags>,
) -> Result<(rodio::MixerDeviceSink, Option<u32>), rodio::DeviceSinkError> {
    use rodio::cpal::traits::{DeviceTrait, HostTrait};
    // The device is looked up once (with a sound server that is a round trip to it).
    let device = rodio::cpal::default_host()
        .default_output_device()
        .ok_or(rodio::DeviceSinkError::NoDevice)?;
    let with = |period: Option<u32>| {
        let mut builder = rodio::DeviceSinkBuilder::from_device(device.clone())?;
        if let Some(p) = period {
            builder = builder.with_buffer_size(rodio::cpal::BufferSize::Fixed(p));
        }
        let f2 = flags.clone();
        builder
            .with_error_callback(move |e| {
                // Glitches and a refused real-time priority leave the stream playing (a
                // server that is starting up reports them); the rest end it.
                use rodio::cpal::ErrorKind as K;
                match e.kind() {
                    K::Xrun => {
                        f2.underruns.fetch_add(1, Ordering::AcqRel);
                    }
                    K::RealtimeDenied | K::DeviceChanged => {}
                    _ => f2.failed.store(true, Ordering::Release),
                }
            })
            .open_stream()
            .map(|s| (s, period))
    };
    match device.default_output_config() {
        Ok(c) => with(Some(period_frames(c.sample_rate(), scale))).or_else(|_| with(None)),
        Err(_) => with(None),
    }
}

fn audio_thread(rx: Receiver<Msg>, t: Arc<Transport>, state: Arc<Mutex<DeviceState>>) {
    // Each stream gets flags of its own: a stream that died can go on reporting errors from
    // its thread for a while, and must not fail the one opened after it.
    let mut flags = Arc::new(StreamFlags::default());
    let mut scale = 1;
    // Opens the default device (the state says Ready), or says why it could not; the caller
    // decides which sentence the user reads then.
    let open = |flags: &mut Arc<StreamFlags>,
                scale: u32|
     -> Result<rodio::MixerDeviceSink, String> {
        *flags = Arc::new(StreamFlags::default());
        match open_sink(scale, flags).map_err(|e| e.to_string()) {
            Ok((mut sink, period)) => {
                sink.log_on_drop(false);
                let cfg = sink.config();
                let buffer = match period {
                    Some(p) => format!(
                        ", {:.0} ms buffer",
                        1000.0 * (DEVICE_PERIODS * p) as f64 / cfg.sample_rate().get() as f64
                    ),
                    None => String::new(),
                };
                set_state(
                    &state,
                    DeviceState::Ready(format!(
                        "{} Hz, {} ch{buffer}",
                        cfg.sample_rate(),
                        cfg.channel_count()
                    )),
                );
                Ok(sink)
            }
            Err(e) => Err(format!(
                "No audio output device could be opened ({e}); everything but sound still works."
            )),
        }
    };
    let unavailable = |why: String| set_state(&state, DeviceState::Unavailable(why));
    let mut sink = open(&mut flags, scale).map_err(unavailable).ok();
    let mut current: Option<Arc<PcmStore>> = None;
    // While there is no device, it is tried again after a pause that doubles up to a limit, so
    // that sound comes back by itself when the device (or the sound server) does.
    let mut retry_in = RETRY_FIRST;
    let mut next_try = std::time::Instant::now() + retry_in;
    // Underruns counted since `since` on the current stream.
    let mut underruns_seen = 0;
    let mut since = std::time::Instant::now();
    // The device was let go of while paused (not lost): play opens it again.
    let mut released = false;
    let mut paused_since: Option<std::time::Instant> = None;
    // A fresh source for the current track on a (re)opened stream.
    // A source for `store` on `sink`'s mixer (the render thread it needs may fail to start).
    let add = |sink: &rodio::MixerDeviceSink, store: &Arc<PcmStore>| match StoreSource::new(
        store.clone(),
        t.clone(),
    ) {
        Ok(src) => sink.mixer().add(src),
        Err(e) => set_state(
            &state,
            DeviceState::Unavailable(format!(
                "Playback could not start its render thread ({e}); everything but sound still works."
            )),
        ),
    };
    let feed = |sink: &Option<rodio::MixerDeviceSink>, current: &Option<Arc<PcmStore>>| {
        if let (Some(s), Some(store)) = (sink, current) {
            t.generation.fetch_add(1, Ordering::AcqRel);
            add(s, store);
        }
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(Msg::Attach(store)) => {
                if let Some(s) = &sink {
                    add(s, &store);
                }
                current = Some(store);
            }
            Ok(Msg::Play) => {
                if released {
                    released = false;
                    sink = open(&mut flags, scale)
                        .map_err(|why| {
                            t.set_playing(false);
                            unavailable(why)
                        })
                        .ok();
                    feed(&sink, &current);
                    (underruns_seen, since) = (0, std::time::Instant::now());
                    retry_in = RETRY_FIRST;
                    next_try = std::time::Instant::now() + retry_in;
                }
            }
            Ok(Msg::Reopen) => {
                released = false;
                drop(sink.take());
                sink = open(&mut flags, scale).map_err(unavailable).ok();
                feed(&sink, &current);
                (underruns_seen, since) = (0, std::time::Instant::now());
                retry_in = RETRY_FIRST;
                next_try = std::time::Instant::now() + retry_in;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if released => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let paused_for = if t.is_playing() {
                    paused_since = None;
                    Duration::ZERO
                } else {
                    paused_since
                        .get_or_insert_with(std::time::Instant::now)
                        .elapsed()
                };
                let underruns = flags.underruns.load(Ordering::Acquire);
                if since.elapsed() > UNDERRUN_WINDOW {
                    underruns_seen = underruns;
                    since = std::time::Instant::now();
                }
                if sink.is_some() && flags.failed.load(Ordering::Acquire) {
                    // Open the device again at once: a passing error (a sound server that is
                    // still starting reports some) goes unnoticed and playback carries on;
                    // only a device that cannot be opened counts as lost.
                    drop(sink.take());
                    sink = open(&mut flags, scale).ok();
                    feed(&sink, &current);
                    (underruns_seen, since) = (0, std::time::Instant::now());
                    if sink.is_none() {
                        t.set_playing(false);
                        unavailable(DEVICE_LOST.into());
                        retry_in = RETRY_FIRST;
                        next_try = std::time::Instant::now() + retry_in;
                    }
                } else if sink.is_some() && paused_for >= RELEASE_AFTER {
                    drop(sink.take());
                    released = true;
                    paused_since = None;
                } else if sink.is_some()
                    && scale < MAX_SCALE
                    && underruns.saturating_sub(underruns_seen) >= UNDERRUNS_TO_GROW
                {
                    // The device keeps running dry: the same device with longer periods,
                    // playing on from where it was.
                    scale *= 2;
                    drop(sink.take());
                    sink = open(&mut flags, scale).map_err(unavailable).ok();
                    feed(&sink, &current);
                    (underruns_seen, since) = (0, std::time::Instant::now());
                } else if sink.is_none() && std::time::Instant::now() >= next_try {
                    let lost = state
                        .lock()
                        .map(|s| matches!(*s, DeviceState::Unavailable(ref m) if m == DEVICE_LOST))
                        .unwrap_or(false);
                    // After a loss the sentence that says what happened stays, not the open error.
                    sink = match open(&mut flags, scale) {
                        Ok(s) => Some(s),
                        Err(why) if !lost => {
                            unavailable(why);
                            None
                        }
                        Err(_) => None,
                    };
                    feed(&sink, &current);
                    (underruns_seen, since) = (0, std::time::Instant::now());
                    retry_in = (retry_in * 2).min(RETRY_MAX);
                    next_try = std::time::Instant::now() + retry_in;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The renderer and the callback's rules in one thread, block by block, so that a test
    /// knows exactly which block a transport change lands in.
    struct SyncSource {
        r: Renderer,
        buf: Vec<f32>,
        idx: usize,
    }

    impl SyncSource {
        fn new(store: Arc<PcmStore>, t: Arc<Transport>) -> Self {
            Self {
                r: Renderer::new(store, t),
                buf: vec![0.0; BLOCK_FRAMES * 2],
                idx: BLOCK_FRAMES * 2,
            }
        }
    }

    impl Iterator for SyncSource {
        type Item = f32;
        fn next(&mut self) -> Option<f32> {
            if self.idx >= self.buf.len() {
                self.idx = 0;
                self.r.take_seek();
                if self.r.t.is_playing() {
                    let meta = self.r.render();
                    self.r.t.played(meta);
                    let vol = self.r.t.volume();
                    self.buf = self.r.buf.iter().map(|x| x * vol).collect();
                } else {
                    self.buf.fill(0.0);
                }
            }
            let v = self.buf[self.idx];
            self.idx += 1;
            Some(v)
        }
    }

    /// Pulls `frames` stereo frames; returns the left channel.
    fn pull(src: &mut impl Iterator<Item = f32>, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|_| {
                let l = src.next().unwrap_or(f32::NAN);
                src.next();
                l
            })
            .collect()
    }

    #[test]
    fn source_plays_from_position_loops_counts_passes_and_stops_at_end() {
        let n = 4000u64;
        let samples: Vec<f32> = (0..n).flat_map(|i| [i as f32, -(i as f32)]).collect();
        let store = Arc::new(PcmStore::from_interleaved(1000, 2, &samples));
        let t = Arc::new(Transport::default());
        let mut src = SyncSource::new(store, t.clone());
        // paused: silence, position holds
        assert_eq!(pull(&mut src, 300), vec![0.0; 300]);
        assert_eq!(t.position(), 0);
        // a seek and play take effect at the next block
        pull(&mut src, BLOCK_FRAMES - 300 % BLOCK_FRAMES);
        t.seek(10);
        t.set_playing(true);
        let got = pull(&mut src, 3);
        assert_eq!(got, vec![10.0, 11.0, 12.0]);
        assert_eq!(
            t.position(),
            10 + BLOCK_FRAMES as u64,
            "position is the frame after the rendered block"
        );
        pull(&mut src, BLOCK_FRAMES - 3);
        // a loop of 100 frames: the output wraps from 199 to 100 and each wrap is counted
        t.set_loop(true, 100, 200);
        let got = pull(&mut src, 2 * BLOCK_FRAMES);
        assert_eq!(
            got[0], 100.0,
            "outside the loop, playback jumps to its start"
        );
        assert_eq!(&got[98..102], &[198.0, 199.0, 100.0, 101.0]);
        assert!(got.iter().all(|v| (100.0..200.0).contains(v)));
        assert_eq!(
            t.loop_passes(),
            5,
            "512 frames of a 100-frame loop wrap five times"
        );
        t.set_loop(true, 100, 300);
        assert_eq!(t.loop_passes(), 0, "a new loop counts from zero");
        t.set_loop(false, 0, 0);
        pull(&mut src, BLOCK_FRAMES);
        t.seek(n - 10);
        let got = pull(&mut src, BLOCK_FRAMES * 2);
        assert_eq!(&got[..2], &[(n - 10) as f32, (n - 9) as f32]);
        assert!(!t.is_playing(), "playback stops at the end of the track");
        assert!(t.reached_end());
        assert_eq!(t.position(), n);
    }

    const SR: u32 = 44_100;

    fn sine_store(hz: f64, seconds: f64) -> Arc<PcmStore> {
        let n = (SR as f64 * seconds) as usize;
        let s: Vec<f32> = (0..n)
            .flat_map(|i| {
                let v = 0.5 * (std::f64::consts::TAU * hz * i as f64 / SR as f64).sin() as f32;
                [v, v]
            })
            .collect();
        Arc::new(PcmStore::from_interleaved(SR, 2, &s))
    }

    /// Frequency of a steady sine from interpolated upward zero crossings.
    fn measured_hz(y: &[f32]) -> f64 {
        let mut first = None;
        let mut last = 0.0;
        let mut count = 0;
        for i in 1..y.len() {
            if y[i - 1] < 0.0 && y[i] >= 0.0 {
                let t = (i - 1) as f64 + (-y[i - 1] / (y[i] - y[i - 1])) as f64;
                if first.is_none() {
                    first = Some(t);
                } else {
                    count += 1;
                }
                last = t;
            }
        }
        first.map_or(f64::NAN, |f| count as f64 * SR as f64 / (last - f))
    }

    /// Plays the whole store with `practice`; returns the left channel until the end.
    fn play_through(store: Arc<PcmStore>, practice: Practice) -> Vec<f32> {
        let t = Arc::new(Transport::default());
        t.set_practice(practice);
        let mut src = SyncSource::new(store.clone(), t.clone());
        t.set_playing(true);
        let mut out = Vec::new();
        while !t.reached_end() && out.len() < store.frames() as usize * 5 {
            out.extend(pull(&mut src, BLOCK_FRAMES));
        }
        out
    }

    #[test]
    fn half_speed_holds_the_pitch_and_doubles_the_duration() {
        let store = sine_store(440.0, 2.0);
        let out = play_through(
            store.clone(),
            Practice {
                speed: 0.5,
                ..Practice::default()
            },
        );
        let ratio = out.len() as f64 / store.frames() as f64;
        assert!(
            (ratio - 2.0).abs() < 0.02,
            "at 0.5× two seconds last {:.3} s",
            out.len() as f64 / SR as f64
        );
        let mid = &out[out.len() / 4..3 * out.len() / 4];
        let hz = measured_hz(mid);
        assert!(
            (hz - 440.0).abs() <= 0.5,
            "stretched sine measures {hz:.3} Hz"
        );
    }

    #[test]
    fn transposing_an_octave_doubles_the_frequency_at_the_same_speed() {
        let store = sine_store(440.0, 2.0);
        let up = Practice {
            semitones: 12.0,
            ..Practice::default()
        };
        let out = play_through(store.clone(), up);
        let ratio = out.len() as f64 / store.frames() as f64;
        assert!((ratio - 1.0).abs() < 0.02, "duration ratio {ratio:.3}");
        let hz = measured_hz(&out[out.len() / 4..3 * out.len() / 4]);
        assert!(
            (hz - 880.0).abs() <= 1.0,
            "+12 semitones measures {hz:.3} Hz"
        );
        // varispeed: pitch follows speed
        let tape = Practice {
            speed: 0.5,
            semitones: 7.0, // ignored with varispeed
            varispeed: true,
        };
        let out = play_through(store, tape);
        let hz = measured_hz(&out[out.len() / 4..3 * out.len() / 4]);
        assert!(
            (hz - 220.0).abs() <= 0.5,
            "varispeed 0.5× measures {hz:.3} Hz"
        );
    }

    /// Largest sample-to-sample step allowed while speed changes, as a multiple of the
    /// largest step of the undisturbed sine (a click from a jump in the waveform is a step of
    /// up to twice the amplitude, about 30 times the sine's own step at 440 Hz).
    const STEP_LIMIT: f32 = 1.5;

    #[test]
    fn changing_speed_while_playing_makes_no_click() {
        let store = sine_store(440.0, 6.0);
        let t = Arc::new(Transport::default());
        let mut src = SyncSource::new(store, t.clone());
        t.set_playing(true);
        let mut out = Vec::new();
        let speeds = [1.0, 0.75, 0.5, 1.25, 2.0, 1.0, 0.9, 1.0];
        for (k, &speed) in speeds.iter().enumerate() {
            t.set_practice(Practice {
                speed,
                semitones: if k == 6 { 3.0 } else { 0.0 },
                varispeed: false,
            });
            for _ in 0..40 {
                out.extend(pull(&mut src, BLOCK_FRAMES));
            }
        }
        assert!(
            t.is_playing(),
            "still playing after {} s",
            out.len() / SR as usize
        );
        let own = 0.5 * (std::f32::consts::TAU * 440.0 / SR as f32);
        let worst = out
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= STEP_LIMIT * own,
            "largest step {worst:.4} vs the sine's own {own:.4}"
        );
        // and the sound never drops out: every 10 ms window has signal
        let silent = out
            .chunks(441)
            .filter(|w| w.iter().fold(0.0f32, |m, v| m.max(v.abs())) < 0.1)
            .count();
        assert_eq!(
            silent, 0,
            "{silent} silent 10 ms windows while changing speed"
        );
    }

    /// Left = frame index, right = its negative: any skipped or repeated frame shows.
    fn ramp(frames: std::ops::Range<usize>) -> Vec<f32> {
        frames.flat_map(|i| [i as f32, -(i as f32)]).collect()
    }

    #[test]
    fn the_callback_only_pops_rendered_blocks_while_a_spilled_store_grows_and_is_read() {
        use crate::audio::store::{StoreWriter, reads_on_this_thread};
        let dir = crate::testdir::TestDir::new("ring");
        let n = CHUNK_FRAMES * 12;
        // three chunks in memory: the rest is read back from the cache file
        let store = Arc::new(
            PcmStore::with_budget(44_100, 2, 3 * CHUNK_FRAMES * 2 * 4)
                .spilling_to(dir.to_path_buf()),
        );
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut w = StoreWriter::new(&store);
                for start in (0..n).step_by(CHUNK_FRAMES / 4) {
                    w.write(&store, &ramp(start..(start + CHUNK_FRAMES / 4).min(n)));
                    std::thread::sleep(Duration::from_millis(2));
                }
                w.finish(&store);
            })
        };
        let reader = {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                let mut out = vec![0.0; 4096];
                let mut k = 0i64;
                while !done.load(Ordering::Acquire) {
                    k = (k + 7919 * 4096) % n as i64;
                    store.read_mono(k, &mut out);
                }
            })
        };
        let t = Arc::new(Transport::default());
        let mut src = match StoreSource::new(store.clone(), t.clone()) {
            Ok(s) => s,
            Err(e) => panic!("render thread: {e}"),
        };
        let reads_before = reads_on_this_thread();
        // The callback's side: pulls blocks as a device would, seeks come from "the GUI".
        let mut played = Vec::new();
        let pull_frames = |src: &mut StoreSource, played: &mut Vec<f32>, want: usize| {
            let mut got = 0;
            for _ in 0..200_000 {
                let block = pull(src, BLOCK_FRAMES);
                let heard = block.iter().filter(|v| **v != 0.0).count();
                got += heard;
                played.extend(block.into_iter().filter(|v| *v != 0.0));
                if got >= want {
                    return;
                }
                if heard == 0 {
                    std::thread::sleep(Duration::from_micros(500));
                }
            }
            panic!("only {got} of {want} frames came through the ring");
        };
        t.seek(3);
        t.set_playing(true);
        pull_frames(&mut src, &mut played, 20_000);
        while store.frames() < 10 * CHUNK_FRAMES as u64 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let seeks = [
            5u64,
            2 * CHUNK_FRAMES as u64 + 100,
            7 * CHUNK_FRAMES as u64 - 1000,
        ];
        let mut marks = vec![0];
        for &to in &seeks {
            marks.push(played.len());
            t.seek(to);
            pull_frames(&mut src, &mut played, 30_000);
        }
        marks.push(played.len());
        let reads_in_callback = reads_on_this_thread() - reads_before;
        done.store(true, Ordering::Release);
        let _ = writer.join();
        let _ = reader.join();
        assert_eq!(
            reads_in_callback, 0,
            "the callback read the store itself {reads_in_callback} times"
        );
        assert!(
            store.disk_reads() > 0,
            "the test must play chunks read back from the cache file"
        );
        // Every stretch between seeks plays on from its target, frame after frame.
        let starts = [3u64].iter().chain(&seeks).copied().collect::<Vec<_>>();
        for (k, w) in marks.windows(2).enumerate() {
            let heard = &played[w[0]..w[1]];
            let want: Vec<f32> = (0..heard.len())
                .map(|i| (starts[k] + i as u64) as f32)
                .collect();
            assert!(
                heard == want.as_slice(),
                "after the seek to {}: first frames {:?}",
                starts[k],
                &heard[..heard.len().min(5)]
            );
        }
    }
}
