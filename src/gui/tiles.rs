//! Spectrogram tiles at the resolution of the current zoom, computed on a worker thread and
//! kept in an LRU cache (as Sonic Visualiser and Audacity cache per zoom level).
//!
//! A tile is `TILE_COLS` columns at `spp = 2^level` frames per column; the GUI picks the
//! level just finer than the screen so tiles are never stretched more than 2×.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};

use crate::analysis::spectrum::{SpecParams, columns};

use crate::session::Track;

pub const TILE_COLS: usize = 256;
const CACHE_TILES: usize = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub track: u64,
    pub params: SpecParams,
    /// Frames per column = 2^level (level may be negative: sub-sample columns).
    pub level: i32,
    pub index: i64,
}

impl TileKey {
    pub fn spp(&self) -> f64 {
        2f64.powi(self.level)
    }
    pub fn start_frame(&self) -> f64 {
        self.index as f64 * TILE_COLS as f64 * self.spp()
    }
}

/// Computed tile: column-major u8 dB, `TILE_COLS` × rows.
#[derive(Debug)]
pub struct Tile {
    pub key: TileKey,
    pub data: Vec<u8>,
    /// Frames decoded when it was computed; a tile made from a partial store is redone later.
    pub frames_at: u64,
    pub complete: bool,
    /// Unique per computation: a recomputed tile gets a new serial (its texture is redone).
    pub serial: u64,
}

static TILE_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[derive(Default)]
struct State {
    queue: VecDeque<(TileKey, Arc<Track>)>,
    cache: HashMap<TileKey, (Arc<Tile>, u64)>,
    clock: u64,
    busy: Option<TileKey>,
    stop: bool,
}

/// The tile worker and its cache.
pub struct Tiles {
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Default for Tiles {
    fn default() -> Self {
        Self::new()
    }
}

impl Tiles {
    pub fn new() -> Self {
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let s2 = state.clone();
        let _ = std::thread::Builder::new()
            .name("sori-tiles".into())
            .spawn(move || worker(s2));
        Self { state }
    }

    /// The tile if it is ready; otherwise queues it (most recent requests first) and returns
    /// whatever older version exists, so the view never flashes empty while it refines.
    pub fn get(&self, key: TileKey, track: &Arc<Track>) -> Option<Arc<Tile>> {
        let (lock, cv) = &*self.state;
        let Ok(mut st) = lock.lock() else { return None };
        st.clock += 1;
        let clock = st.clock;
        let frames = track.store.frames();
        let mut stale = true;
        let found = st.cache.get_mut(&key).map(|(t, used)| {
            *used = clock;
            stale = !t.complete && (t.frames_at < frames || track.analysis_done());
            t.clone()
        });
        if (found.is_none() || stale)
            && st.busy != Some(key)
            && !st.queue.iter().any(|(k, _)| *k == key)
        {
            st.queue.push_front((key, track.clone()));
            st.queue.truncate(64);
            cv.notify_one();
        }
        found
    }

    /// The cached tile, if any, without queuing anything.
    pub fn peek(&self, key: &TileKey) -> Option<Arc<Tile>> {
        self.state
            .0
            .lock()
            .ok()
            .and_then(|s| s.cache.get(key).map(|(t, _)| t.clone()))
    }

    /// True while tiles are queued or being computed (the GUI keeps repainting meanwhile).
    pub fn pending(&self) -> bool {
        self.state
            .0
            .lock()
            .map(|s| !s.queue.is_empty() || s.busy.is_some())
            .unwrap_or(false)
    }

    /// Drops queued requests (e.g. after opening another file).
    pub fn clear_queue(&self) {
        if let Ok(mut s) = self.state.0.lock() {
            s.queue.clear();
        }
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.0.lock() {
            s.stop = true;
        }
        self.state.1.notify_all();
    }
}

/// Computes one tile (also used directly by tests and the benchmark).
pub fn compute(key: TileKey, track: &Track, cancel: &dyn Fn() -> bool) -> Tile {
    let complete = track.analysis_done();
    let frames_at = track.store.frames();
    let data = match track.overview.read() {
        Ok(ov) => columns(
            &track.store,
            Some(&ov),
            key.params,
            key.start_frame(),
            key.spp(),
            TILE_COLS,
            cancel,
        ),
        Err(_) => columns(
            &track.store,
            None,
            key.params,
            key.start_frame(),
            key.spp(),
            TILE_COLS,
            cancel,
        ),
    };
    let serial = TILE_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Tile {
        key,
        data,
        frames_at,
        complete,
        serial,
    }
}

fn worker(state: Arc<(Mutex<State>, Condvar)>) {
    let (lock, cv) = &*state;
    loop {
        let (key, track) = {
            let Ok(mut st) = lock.lock() else { return };
            loop {
                if st.stop {
                    return;
                }
                if let Some(job) = st.queue.pop_front() {
                    st.busy = Some(job.0);
                    break job;
                }
                st = match cv.wait(st) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        };
        let tile = compute(key, &track, &|| false);
        let Ok(mut st) = lock.lock() else { return };
        st.busy = None;
        st.clock += 1;
        let clock = st.clock;
        st.cache.insert(key, (Arc::new(tile), clock));
        if st.cache.len() > CACHE_TILES {
            // evict the least recently used quarter
            let mut ages: Vec<(u64, TileKey)> =
                st.cache.iter().map(|(k, (_, u))| (*u, *k)).collect();
            ages.sort_unstable_by_key(|a| a.0);
            for (_, k) in ages.into_iter().take(CACHE_TILES / 4) {
                st.cache.remove(&k);
            }
        }
    }
}
