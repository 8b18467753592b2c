//! The PCM store: decoded audio, appended by the decoder thread and read concurrently by
//! the audio callback, the analysis and the GUI.
//!
//! Samples are kept interleaved in fixed-size chunks behind `Arc`s, so a reader clones a
//! chunk handle under a short read lock and then reads without holding any lock. The
//! number of published frames is an atomic: readers never see a frame that is not written.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// One chunk of interleaved samples. (`Arc<Vec<_>>` rather than `Arc<[_]>`: a full buffer
/// moves into the Arc without a copy.)
pub type Chunk = Arc<Vec<f32>>;

/// Frames per chunk (about 1.5 s at 44.1 kHz).
pub const CHUNK_FRAMES: usize = 1 << 16;

pub struct PcmStore {
    sample_rate: u32,
    channels: usize,
    chunks: RwLock<Vec<Chunk>>,
    frames: AtomicU64,
    complete: AtomicBool,
    /// Total frames expected, when the container says so (0 = unknown).
    expected_frames: AtomicU64,
}

impl std::fmt::Debug for PcmStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmStore")
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("frames", &self.frames())
            .finish()
    }
}

impl PcmStore {
    pub fn new(sample_rate: u32, channels: usize) -> Self {
        Self {
            sample_rate: sample_rate.max(1),
            channels: channels.max(1),
            chunks: RwLock::new(Vec::new()),
            frames: AtomicU64::new(0),
            complete: AtomicBool::new(false),
            expected_frames: AtomicU64::new(0),
        }
    }

    /// A store holding the given interleaved samples, marked complete.
    pub fn from_interleaved(sample_rate: u32, channels: usize, samples: &[f32]) -> Self {
        let store = Self::new(sample_rate, channels);
        let mut w = StoreWriter::new(&store);
        w.write(&store, samples);
        w.finish(&store);
        store
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Frames decoded and readable so far.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Acquire)
    }
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }
    pub fn set_expected_frames(&self, n: u64) {
        self.expected_frames.store(n, Ordering::Release);
    }
    /// The length the container announced, if any (the store may end up shorter or longer).
    pub fn expected_frames(&self) -> Option<u64> {
        match self.expected_frames.load(Ordering::Acquire) {
            0 => None,
            n => Some(n),
        }
    }

    /// Handle to chunk `i`, if it has been published.
    pub fn chunk(&self, i: usize) -> Option<Chunk> {
        let chunks = self.chunks.read().unwrap_or_else(|e| e.into_inner());
        chunks.get(i).cloned()
    }

    /// Calls `f` with consecutive interleaved slices covering frames `[start, end)`
    /// (clamped to what is decoded).
    pub fn for_each_slice(&self, start: u64, end: u64, mut f: impl FnMut(&[f32])) {
        let end = end.min(self.frames());
        let mut pos = start;
        let ch = self.channels;
        while pos < end {
            let ci = (pos / CHUNK_FRAMES as u64) as usize;
            let Some(chunk) = self.chunk(ci) else { break };
            let off = (pos % CHUNK_FRAMES as u64) as usize;
            let avail = chunk.len() / ch;
            if off >= avail {
                break;
            }
            let take = ((end - pos) as usize).min(avail - off);
            f(&chunk[off * ch..(off + take) * ch]);
            pos += take as u64;
        }
    }

    /// Mono mix (mean of channels) of frames `[start, start + out.len())`; frames outside the
    /// decoded range are zero.
    pub fn read_mono(&self, start: i64, out: &mut [f32]) {
        out.fill(0.0);
        let n = out.len() as i64;
        let lo = start.max(0);
        let hi = (start + n).min(self.frames() as i64);
        if lo >= hi {
            return;
        }
        let ch = self.channels;
        let scale = 1.0 / ch as f32;
        let mut i = (lo - start) as usize;
        self.for_each_slice(lo as u64, hi as u64, |s| {
            for frame in s.chunks_exact(ch) {
                out[i] = frame.iter().sum::<f32>() * scale;
                i += 1;
            }
        });
    }

    /// One channel of frames `[start, end)` appended to `out`.
    pub fn read_channel(&self, channel: usize, start: u64, end: u64, out: &mut Vec<f32>) {
        let ch = self.channels;
        let c = channel.min(ch - 1);
        self.for_each_slice(start, end, |s| out.extend(s.chunks_exact(ch).map(|f| f[c])));
    }
}

/// The decoder side of a store: buffers samples and publishes them chunk by chunk.
pub struct StoreWriter {
    pending: Vec<f32>,
    channels: usize,
}

impl StoreWriter {
    pub fn new(store: &PcmStore) -> Self {
        Self {
            pending: Vec::with_capacity(CHUNK_FRAMES * store.channels),
            channels: store.channels,
        }
    }

    pub fn push_interleaved(&mut self, samples: &[f32]) -> Vec<Chunk> {
        // Returned chunks are the ones that became full; the caller publishes them.
        let cap = CHUNK_FRAMES * self.channels;
        let mut full = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (cap - self.pending.len()).min(rest.len());
            self.pending.extend(
                rest[..take]
                    .iter()
                    .map(|&x| if x.is_finite() { x } else { 0.0 }),
            );
            rest = &rest[take..];
            if self.pending.len() == cap {
                full.push(Arc::new(std::mem::replace(
                    &mut self.pending,
                    Vec::with_capacity(cap),
                )));
            }
        }
        full
    }

    /// Publishes `chunks` (from `push_interleaved`) to the store.
    pub fn publish(&self, store: &PcmStore, chunks: Vec<Chunk>) {
        if chunks.is_empty() {
            return;
        }
        let added: usize = chunks.iter().map(|c| c.len() / self.channels).sum();
        let mut list = store.chunks.write().unwrap_or_else(|e| e.into_inner());
        list.extend(chunks);
        drop(list);
        store.frames.fetch_add(added as u64, Ordering::AcqRel);
    }

    /// Publishes the last partial chunk and marks the store complete.
    pub fn finish(mut self, store: &PcmStore) {
        self.flush_partial(store);
        store.complete.store(true, Ordering::Release);
    }

    /// Publishes the pending partial chunk (only valid as the very last publish).
    fn flush_partial(&mut self, store: &PcmStore) {
        let frames_in_pending = self.pending.len() / self.channels;
        self.pending.truncate(frames_in_pending * self.channels);
        if !self.pending.is_empty() {
            let last: Chunk = Arc::new(std::mem::take(&mut self.pending));
            self.publish(store, vec![last]);
        }
    }

    /// Convenience: push and publish at once.
    pub fn write(&mut self, store: &PcmStore, samples: &[f32]) {
        let full = self.push_interleaved(samples);
        self.publish(store, full);
    }

    pub fn pending_frames(&self) -> usize {
        self.pending.len() / self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_across_chunk_boundaries() {
        let n = CHUNK_FRAMES * 2 + 123;
        let samples: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
        let store = PcmStore::from_interleaved(8000, 2, &samples);
        assert_eq!(store.frames(), n as u64);
        let mut right = Vec::new();
        store.read_channel(
            1,
            CHUNK_FRAMES as u64 - 2,
            CHUNK_FRAMES as u64 + 2,
            &mut right,
        );
        let want: Vec<f32> = (CHUNK_FRAMES - 2..CHUNK_FRAMES + 2)
            .map(|f| (f * 2 + 1) as f32)
            .collect();
        assert_eq!(right, want);
        let mut mono = [9.0f32; 4];
        store.read_mono(n as i64 - 2, &mut mono);
        assert_eq!(mono[2], 0.0, "past the end reads as silence");
        assert_eq!(mono[0], ((n - 2) * 4 + 1) as f32 / 2.0);
    }
}
