//! The PCM store: decoded audio, appended by the decoder thread and read concurrently by
//! the audio callback, the analysis and the GUI.
//!
//! Samples are kept interleaved in fixed-size chunks behind `Arc`s, so a reader clones a
//! chunk handle under a short read lock and then reads without holding any lock. The
//! number of published frames is an atomic: readers never see a frame that is not written.
//!
//! A long recording does not stay in memory: once the store holds more than its resident
//! budget ([`RESIDENT_BUDGET`], about 6 minutes of 44.1 kHz stereo), every chunk is also
//! written to an unnamed cache file (deleted by the OS however the app ends), and the least
//! recently read chunks are dropped from memory until [`SPILLED_RESIDENT`] is left (from the
//! first chunk on, when the container announces a length past the budget): a song
//! never touches the disk, and a recording that has gone to disk keeps only what its
//! readers are at (the decoder's edge, the playhead, the view) in memory. A chunk read
//! again is read back from the file. If the file cannot be made or written, the chunks stay
//! in memory as before.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// One chunk of interleaved samples. (`Arc<Vec<_>>` rather than `Arc<[_]>`: a full buffer
/// moves into the Arc without a copy.)
pub type Chunk = Arc<Vec<f32>>;

/// Frames per chunk (about 1.5 s at 44.1 kHz).
pub const CHUNK_FRAMES: usize = 1 << 16;

/// Bytes of samples a store keeps in memory before it spills to its cache file.
pub const RESIDENT_BUDGET: usize = 128 << 20;

/// Bytes of samples a store that has spilled keeps in memory (about 95 s of 44.1 kHz
/// stereo: far more than its readers use at once).
pub const SPILLED_RESIDENT: usize = 32 << 20;

struct Slot {
    /// The samples, while they are in memory.
    mem: Option<Chunk>,
    /// Samples in the chunk (the last one may be short).
    len: usize,
    /// Written to the cache file at `index * chunk bytes`.
    on_disk: bool,
    /// When it was last read (a store-wide counter), for dropping the stalest first.
    used: AtomicU64,
}

struct Slots {
    list: Vec<Slot>,
    resident_bytes: usize,
    /// Some chunk is in the cache file (from then on the store keeps to
    /// [`SPILLED_RESIDENT`]).
    spilled: bool,
}

pub struct PcmStore {
    sample_rate: u32,
    channels: usize,
    slots: RwLock<Slots>,
    frames: AtomicU64,
    complete: AtomicBool,
    /// Total frames expected, when the container says so (0 = unknown).
    expected_frames: AtomicU64,
    budget: usize,
    tick: AtomicU64,
    /// Chunks read back from the cache file so far.
    disk_reads: AtomicU64,
    /// The cache file, made when the store first outgrows its budget.
    spill: Mutex<Spill>,
    /// Where the cache file goes (`None`: the user's cache folder).
    spill_dir: Option<std::path::PathBuf>,
}

#[derive(Default)]
enum Spill {
    #[default]
    None,
    File(Arc<File>),
    /// The file could not be made or written: everything stays in memory.
    Failed(String),
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
        Self::with_budget(sample_rate, channels, RESIDENT_BUDGET)
    }

    /// A store that keeps at most about `budget` bytes of samples in memory.
    pub fn with_budget(sample_rate: u32, channels: usize, budget: usize) -> Self {
        Self {
            sample_rate: sample_rate.max(1),
            channels: channels.max(1),
            slots: RwLock::new(Slots {
                list: Vec::new(),
                resident_bytes: 0,
                spilled: false,
            }),
            frames: AtomicU64::new(0),
            complete: AtomicBool::new(false),
            expected_frames: AtomicU64::new(0),
            budget,
            tick: AtomicU64::new(0),
            disk_reads: AtomicU64::new(0),
            spill: Mutex::new(Spill::None),
            spill_dir: None,
        }
    }

    /// The same store with its cache file in `dir` instead of the user's cache folder.
    pub fn spilling_to(mut self, dir: std::path::PathBuf) -> Self {
        self.spill_dir = Some(dir);
        self
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

    /// What the announced length takes in memory, in bytes (0 when none was announced).
    /// A recording announced past the budget goes to the cache file from its first chunk,
    /// so that it never holds the whole budget in memory on its way there.
    fn announced_bytes(&self) -> usize {
        self.frames_to_reserve()
            .map_or(0, |n| n as usize * self.channels * 4)
    }

    /// The announced length to make room for in what is measured per frame: at most 12 hours,
    /// since a header may lie.
    pub fn frames_to_reserve(&self) -> Option<u64> {
        let cap = 12 * 3600 * self.sample_rate as u64;
        self.expected_frames().map(|n| n.min(cap))
    }

    /// Handle to chunk `i`, if it has been published (read back from the cache file if it
    /// is no longer in memory; `None` if that read fails).
    pub fn chunk(&self, i: usize) -> Option<Chunk> {
        READS_HERE.with(|n| n.set(n.get() + 1));
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let len = {
            let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
            let slot = slots.list.get(i)?;
            slot.used.store(tick, Ordering::Relaxed);
            if let Some(m) = &slot.mem {
                return Some(m.clone());
            }
            slot.len
        };
        let file = match &*self.spill.lock().unwrap_or_else(|e| e.into_inner()) {
            Spill::File(f) => f.clone(),
            _ => return None,
        };
        let mut bytes = vec![0u8; len * 4];
        read_at(&file, &mut bytes, self.offset_of(i)).ok()?;
        self.disk_reads.fetch_add(1, Ordering::Relaxed);
        let chunk: Chunk = Arc::new(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        );
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let slots = &mut *slots;
        let slot = slots.list.get_mut(i)?;
        if let Some(m) = &slot.mem {
            return Some(m.clone()); // another reader brought it back meanwhile
        }
        slot.mem = Some(chunk.clone());
        slots.resident_bytes += len * 4;
        self.evict(slots, Some(i));
        Some(chunk)
    }

    /// Why the store could not spill to disk, if it tried and failed.
    pub fn spill_error(&self) -> Option<String> {
        match &*self.spill.lock().unwrap_or_else(|e| e.into_inner()) {
            Spill::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// Chunks read back from the cache file so far.
    pub fn disk_reads(&self) -> u64 {
        self.disk_reads.load(Ordering::Relaxed)
    }

    /// Bytes of samples held in memory now.
    pub fn resident_bytes(&self) -> usize {
        self.slots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .resident_bytes
    }

    fn offset_of(&self, i: usize) -> u64 {
        (i * CHUNK_FRAMES * self.channels * 4) as u64
    }

    /// Appends published chunks. Past the budget they go to the cache file first (with any
    /// older chunk not yet there), outside the lock, so that readers never wait on a write.
    fn publish(&self, chunks: Vec<Chunk>) {
        let new_bytes: usize = chunks.iter().map(|c| c.len() * 4).sum();
        let total = self.frames() as usize * self.channels * 4 + new_bytes;
        let first = self
            .slots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list
            .len();
        let mut written = Vec::new();
        if (total > self.budget || self.announced_bytes() > self.budget)
            && let Some(file) = self.spill_file()
        {
            let older: Vec<(usize, Chunk)> = {
                let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
                (0..first)
                    .filter_map(|i| {
                        let s = &slots.list[i];
                        (!s.on_disk).then(|| s.mem.clone().map(|m| (i, m)))?
                    })
                    .collect()
            };
            let all = older.into_iter().chain(
                chunks
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(k, c)| (first + k, c)),
            );
            let mut bytes = Vec::new();
            for (i, c) in all {
                bytes.clear();
                bytes.extend(c.iter().flat_map(|x| x.to_le_bytes()));
                if let Err(e) = write_at(&file, &bytes, self.offset_of(i)) {
                    *self.spill.lock().unwrap_or_else(|e| e.into_inner()) = Spill::Failed(format!(
                        "the audio cache file could not be written ({e}); the whole recording stays in memory"
                    ));
                    break;
                }
                written.push(i);
            }
        }
        let added: usize = chunks.iter().map(|c| c.len() / self.channels).sum();
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let slots = &mut *guard;
        for c in chunks {
            slots.resident_bytes += c.len() * 4;
            slots.list.push(Slot {
                len: c.len(),
                mem: Some(c),
                on_disk: false,
                used: AtomicU64::new(tick),
            });
        }
        for i in written {
            slots.list[i].on_disk = true;
            slots.spilled = true;
        }
        // The newest chunk stays: the streaming analysis is about to read it.
        let newest = slots.list.len().checked_sub(1);
        self.evict(slots, newest);
        drop(guard);
        self.frames.fetch_add(added as u64, Ordering::AcqRel);
    }

    /// Drops the least recently read chunks that are safe in the cache file until the
    /// resident bytes fit [`SPILLED_RESIDENT`] (or the budget, if smaller; `keep` stays).
    fn evict(&self, slots: &mut Slots, keep: Option<usize>) {
        if !slots.spilled {
            return;
        }
        let limit = self.budget.min(SPILLED_RESIDENT);
        while slots.resident_bytes > limit {
            let victim = slots
                .list
                .iter()
                .enumerate()
                .filter(|(i, s)| s.on_disk && s.mem.is_some() && Some(*i) != keep)
                .min_by_key(|(_, s)| s.used.load(Ordering::Relaxed))
                .map(|(i, _)| i);
            let Some(v) = victim else { break };
            slots.list[v].mem = None;
            slots.resident_bytes -= slots.list[v].len * 4;
        }
    }

    /// The cache file, made on first use; `None` once making or writing it failed.
    fn spill_file(&self) -> Option<Arc<File>> {
        let mut spill = self.spill.lock().unwrap_or_else(|e| e.into_inner());
        match &*spill {
            Spill::File(f) => return Some(f.clone()),
            Spill::Failed(_) => return None,
            Spill::None => {}
        }
        let dir = self.spill_dir.clone().unwrap_or_else(|| {
            directories::ProjectDirs::from("org", "Sori", "Sori")
                .map(|p| p.cache_dir().to_path_buf())
                .unwrap_or_else(std::env::temp_dir)
        });
        let made = std::fs::create_dir_all(&dir).and_then(|()| tempfile::tempfile_in(&dir));
        match made {
            Ok(f) => {
                let f = Arc::new(f);
                *spill = Spill::File(f.clone());
                Some(f)
            }
            Err(e) => {
                *spill = Spill::Failed(format!(
                    "no audio cache file could be made in {} ({e}); the whole recording stays in memory",
                    dir.display()
                ));
                None
            }
        }
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
        let mut rest = &mut out[(lo - start) as usize..];
        self.for_each_slice(lo as u64, hi as u64, |s| {
            let n = (s.len() / ch).min(rest.len());
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
            match ch {
                1 => head.copy_from_slice(&s[..n]),
                // Zipped, so the loop has no bounds checks and vectorises.
                2 => head
                    .iter_mut()
                    .zip(s.chunks_exact(2))
                    .for_each(|(o, f)| *o = (f[0] + f[1]) * scale),
                _ => head
                    .iter_mut()
                    .zip(s.chunks_exact(ch))
                    .for_each(|(o, f)| *o = f.iter().sum::<f32>() * scale),
            }
            rest = tail;
        });
    }

    /// One channel of frames `[start, end)` appended to `out`.
    pub fn read_channel(&self, channel: usize, start: u64, end: u64, out: &mut Vec<f32>) {
        let ch = self.channels;
        let c = channel.min(ch - 1);
        self.for_each_slice(start, end, |s| out.extend(s.chunks_exact(ch).map(|f| f[c])));
    }
}

thread_local! {
    /// Chunk reads made on this thread, from any store: each may take a lock or read the
    /// cache file. The audio callback's thread must make none.
    static READS_HERE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Chunk reads (each a possible lock or file read) this thread has made from any store.
pub fn reads_on_this_thread() -> u64 {
    READS_HERE.with(|n| n.get())
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
        store.publish(chunks);
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

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(windows)]
fn write_at(f: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_write(buf, offset)? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => {
                buf = &buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
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

    #[test]
    fn the_mono_mix_is_the_mean_of_the_channels_everywhere() {
        // Mono and stereo have their own loops, other widths the general one; the read
        // starts before the track, crosses chunk edges and runs past the end.
        for ch in [1usize, 2, 3] {
            let n = CHUNK_FRAMES * 2 + 45;
            let samples: Vec<f32> = (0..n * ch).map(|i| ((i * 7919) % 1000) as f32).collect();
            let store = PcmStore::from_interleaved(8000, ch, &samples);
            let start = -17i64;
            let mut mono = vec![f32::NAN; n + 40];
            store.read_mono(start, &mut mono);
            for (i, &got) in mono.iter().enumerate() {
                let f = start + i as i64;
                let want = if (0..n as i64).contains(&f) {
                    let frame = &samples[f as usize * ch..(f as usize + 1) * ch];
                    frame.iter().sum::<f32>() / ch as f32
                } else {
                    0.0
                };
                // (Within rounding: the mean may be taken as a sum times 1/channels.)
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs(),
                    "frame {f} of {ch} channels: {got} for {want}"
                );
            }
        }
    }

    /// Ten chunks of a recognisable ramp in a store that may hold three in memory.
    fn spilled(dir: Option<std::path::PathBuf>) -> (PcmStore, Vec<f32>, usize) {
        let n = CHUNK_FRAMES * 10 + 77;
        let samples: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
        let budget = 3 * CHUNK_FRAMES * 2 * 4;
        let mut store = PcmStore::with_budget(44100, 2, budget);
        if let Some(d) = dir {
            store = store.spilling_to(d);
        }
        let mut w = StoreWriter::new(&store);
        for part in samples.chunks(10_000) {
            w.write(&store, part);
        }
        w.finish(&store);
        (store, samples, budget)
    }

    #[test]
    fn a_long_recording_spills_to_disk_and_reads_back_exactly() {
        let dir = crate::testdir::TestDir::new("spill");
        let (store, samples, budget) = spilled(Some(dir.to_path_buf()));
        assert_eq!(store.spill_error(), None);
        assert!(
            store.resident_bytes() <= budget,
            "{} bytes in memory for a budget of {budget}",
            store.resident_bytes()
        );
        // Every sample comes back, in order, whichever chunk was dropped from memory.
        let mut left = Vec::new();
        store.read_channel(0, 0, store.frames(), &mut left);
        let want: Vec<f32> = samples.iter().step_by(2).copied().collect();
        assert_eq!(left.len(), want.len());
        assert!(left == want, "samples read back from the cache file differ");
        assert!(
            store.resident_bytes() <= budget,
            "reading back keeps to the budget"
        );
    }

    #[test]
    fn a_song_stays_in_memory_and_a_spilled_recording_keeps_only_a_little() {
        let dir = crate::testdir::TestDir::new("resident");
        let budget = SPILLED_RESIDENT + (8 << 20);
        let chunk_bytes = CHUNK_FRAMES * 2 * 4;
        let write = |chunks: usize| {
            let store = PcmStore::with_budget(44100, 2, budget).spilling_to(dir.to_path_buf());
            let mut w = StoreWriter::new(&store);
            let part = vec![0.25f32; CHUNK_FRAMES * 2];
            for _ in 0..chunks {
                w.write(&store, &part);
            }
            w.finish(&store);
            store
        };
        // Under the budget: nothing is dropped, even above what a spilled store keeps.
        let song = write(budget / chunk_bytes - 1);
        assert!(song.resident_bytes() > SPILLED_RESIDENT);
        assert_eq!(song.resident_bytes(), song.frames() as usize * 2 * 4);
        // Announced past it: to disk from the first chunk, never more than SPILLED_RESIDENT
        // in memory on the way (a song announced as a song stays in memory).
        let announced = PcmStore::with_budget(44100, 2, budget).spilling_to(dir.to_path_buf());
        announced.set_expected_frames(((budget / chunk_bytes + 20) * CHUNK_FRAMES) as u64);
        let mut w = StoreWriter::new(&announced);
        let part = vec![0.5f32; CHUNK_FRAMES * 2];
        let mut most = 0;
        for _ in 0..budget / chunk_bytes + 20 {
            w.write(&announced, &part);
            most = most.max(announced.resident_bytes());
        }
        w.finish(&announced);
        assert!(
            most <= SPILLED_RESIDENT,
            "{most} bytes in memory on the way"
        );
        let mut mono = vec![0.0; announced.frames() as usize];
        announced.read_mono(0, &mut mono);
        assert!(mono.iter().all(|&x| x == 0.5), "samples read back differ");
        // Past it: the store goes to disk and keeps no more than SPILLED_RESIDENT in memory,
        // while it decodes and after a read of the whole recording.
        let long = write(budget / chunk_bytes + 20);
        assert!(
            long.resident_bytes() <= SPILLED_RESIDENT,
            "{}",
            long.resident_bytes()
        );
        let mut mono = vec![0.0; long.frames() as usize];
        long.read_mono(0, &mut mono);
        assert!(mono.iter().all(|&x| x == 0.25), "samples read back differ");
        assert!(
            long.resident_bytes() <= SPILLED_RESIDENT,
            "{}",
            long.resident_bytes()
        );
    }

    #[test]
    fn without_a_cache_file_every_sample_stays_in_memory() {
        // The cache folder is an existing file, so no cache file can be made.
        let dir = crate::testdir::TestDir::new("no-spill");
        let blocker = dir.join("blocker");
        std::fs::write(&blocker, b"not a folder").expect("temp file");
        let (store, samples, budget) = spilled(Some(blocker.join("cache")));
        let why = store.spill_error().unwrap_or_default();
        assert!(why.contains("stays in memory"), "{why}");
        assert!(store.resident_bytes() > budget);
        let mut mono = vec![0.0; samples.len() / 2];
        store.read_mono(0, &mut mono);
        assert_eq!(
            mono[CHUNK_FRAMES * 9 + 3],
            samples[(CHUNK_FRAMES * 9 + 3) * 2] + 0.5
        );
    }
}
