//! The waveform peak pyramid: per channel min/max over blocks of `BASE` frames, then
//! pairwise merged levels, so the min/max of any frame range is O(log n) block lookups
//! plus at most two partial blocks read from the PCM store. Any zoom level is a lookup.

use crate::audio::PcmStore;

/// Frames per level-0 block.
pub const BASE: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinMax {
    pub min: f32,
    pub max: f32,
}

impl MinMax {
    pub const EMPTY: MinMax = MinMax {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
    };
    pub fn merge(self, o: MinMax) -> MinMax {
        MinMax {
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }
    pub fn add(&mut self, x: f32) {
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }
    pub fn is_empty(&self) -> bool {
        self.min > self.max
    }
}

/// Folds interleaved `frames` (`stride` samples each) into one min/max per channel of
/// `acc`; a channel past the frame's width reads the frame's last sample.
fn fold_frames(frames: &[f32], stride: usize, acc: &mut [MinMax]) {
    match (stride, acc.len()) {
        (1, 1) => fold_lanes::<1>(frames, acc),
        (2, 2) => fold_lanes::<2>(frames, acc),
        _ => {
            for frame in frames.chunks_exact(stride) {
                for (c, a) in acc.iter_mut().enumerate() {
                    a.add(frame[c.min(stride - 1)]);
                }
            }
        }
    }
}

/// [`fold_frames`] for `CH` channels in eight running lanes each, which the compiler turns
/// into SIMD (a single running min/max takes one sample at a time).
fn fold_lanes<const CH: usize>(frames: &[f32], acc: &mut [MinMax]) {
    let mut lo = [[f32::INFINITY; CH]; 8];
    let mut hi = [[f32::NEG_INFINITY; CH]; 8];
    let c = frames.chunks_exact(8 * CH);
    let rest = c.remainder();
    for x in c {
        for k in 0..8 {
            for j in 0..CH {
                let v = x[k * CH + j];
                lo[k][j] = lo[k][j].min(v);
                hi[k][j] = hi[k][j].max(v);
            }
        }
    }
    for frame in rest.chunks_exact(CH) {
        for j in 0..CH {
            lo[0][j] = lo[0][j].min(frame[j]);
            hi[0][j] = hi[0][j].max(frame[j]);
        }
    }
    for (j, a) in acc.iter_mut().enumerate().take(CH) {
        for k in 0..8 {
            a.min = a.min.min(lo[k][j]);
            a.max = a.max.max(hi[k][j]);
        }
    }
}

/// Peak pyramid of one track, built incrementally while decoding.
#[derive(Debug, Default)]
pub struct PeakPyramid {
    channels: usize,
    /// `levels[c][k][i]`: channel c, level k, block i (covers `BASE << k` frames).
    levels: Vec<Vec<Vec<MinMax>>>,
    /// Frames folded into complete level-0 blocks.
    covered: u64,
}

impl PeakPyramid {
    pub fn new(channels: usize) -> Self {
        Self {
            channels,
            levels: vec![vec![Vec::new()]; channels],
            covered: 0,
        }
    }

    /// Frames covered by complete blocks.
    pub fn covered(&self) -> u64 {
        self.covered
    }

    /// Room for every level of the announced length, so that a long recording's levels do not
    /// grow by doubling (which holds up to twice the levels, and a copy, for a moment).
    fn reserve(&mut self, store: &PcmStore) {
        let Some(frames) = store.frames_to_reserve() else {
            return;
        };
        let n = frames.div_ceil(BASE) as usize;
        for levels in &mut self.levels {
            let mut k = 0;
            let mut blocks = n;
            while blocks > 0 {
                if levels.len() == k {
                    levels.push(Vec::new());
                }
                let _ = levels[k].try_reserve_exact(blocks);
                blocks /= 2;
                k += 1;
            }
        }
    }

    /// Folds in whatever full blocks the store now has (all of it once the store is complete).
    pub fn update(&mut self, store: &PcmStore) {
        let frames = store.frames();
        let complete = store.is_complete();
        let target = if complete {
            frames
        } else {
            frames / BASE * BASE
        };
        if target <= self.covered {
            return;
        }
        let ch = self.channels.max(1);
        if self.covered == 0 {
            self.reserve(store);
        }
        let mut block = vec![MinMax::EMPTY; ch];
        let mut in_block = 0u64;
        let start = self.covered;
        let mut new_blocks: Vec<Vec<MinMax>> = vec![Vec::new(); ch];
        let stride = store.channels().max(1);
        store.for_each_slice(start, target, |mut s| {
            // A block at a time (or what of it this slice holds).
            while !s.is_empty() {
                let take = ((BASE - in_block) as usize).min(s.len() / stride);
                if take == 0 {
                    break;
                }
                let (frames, rest) = s.split_at(take * stride);
                fold_frames(frames, stride, &mut block);
                s = rest;
                in_block += take as u64;
                if in_block == BASE {
                    for c in 0..ch {
                        new_blocks[c].push(block[c]);
                        block[c] = MinMax::EMPTY;
                    }
                    in_block = 0;
                }
            }
        });
        if in_block > 0 {
            for c in 0..ch {
                new_blocks[c].push(block[c]);
            }
        }
        self.covered = target;
        for (c, blocks) in new_blocks.into_iter().enumerate() {
            let levels = &mut self.levels[c];
            levels[0].extend(blocks);
            // Merge upward: level k+1 holds one block per complete pair of level k.
            let mut k = 0;
            loop {
                let have = levels[k].len() / 2;
                if have == 0 {
                    break;
                }
                if levels.len() == k + 1 {
                    levels.push(Vec::new());
                }
                let done = levels[k + 1].len();
                for i in done..have {
                    let m = levels[k][2 * i].merge(levels[k][2 * i + 1]);
                    levels[k + 1].push(m);
                }
                k += 1;
            }
        }
    }

    /// Exact min/max of `channel` over frames `[a, b)`; `None` when the range holds no frames.
    pub fn min_max(&self, store: &PcmStore, channel: usize, a: u64, b: u64) -> Option<MinMax> {
        let frames = store.frames();
        let b = b.min(frames);
        if a >= b || channel >= self.channels {
            return None;
        }
        let mut acc = MinMax::EMPTY;
        let raw = |from: u64, to: u64, acc: &mut MinMax| {
            let ch = store.channels();
            store.for_each_slice(from, to, |s| {
                for f in s.chunks_exact(ch) {
                    acc.add(f[channel]);
                }
            });
        };
        // Blocks fully inside [a, b) and already in the pyramid.
        let first_block = a.div_ceil(BASE);
        let last_block = (b.min(self.covered) / BASE).max(first_block); // exclusive
        if first_block >= last_block {
            raw(a, b, &mut acc);
            return Some(acc);
        }
        raw(a, first_block * BASE, &mut acc);
        raw(last_block * BASE, b, &mut acc);
        let levels = &self.levels[channel];
        let (mut lo, mut hi) = (first_block as usize, last_block as usize);
        let mut k = 0;
        while lo < hi && k < levels.len() {
            let lv = &levels[k];
            let hi_here = hi.min(lv.len());
            // Blocks the next level does not cover yet are taken here.
            let lifted = if k + 1 < levels.len() {
                levels[k + 1].len() * 2
            } else {
                0
            };
            while hi > lifted.max(lo) {
                hi -= 1;
                if hi < hi_here {
                    acc = acc.merge(lv[hi]);
                }
            }
            if lo < hi && lo % 2 == 1 {
                acc = acc.merge(lv[lo]);
                lo += 1;
            }
            if lo < hi && hi % 2 == 1 {
                hi -= 1;
                acc = acc.merge(lv[hi]);
            }
            lo /= 2;
            hi /= 2;
            k += 1;
        }
        Some(acc)
    }

    /// One min/max per pixel column: column `i` covers frames `[start + i*spp, start + (i+1)*spp)`.
    /// Columns with fractional widths are rounded to whole frames.
    pub fn columns(
        &self,
        store: &PcmStore,
        channel: usize,
        start: f64,
        spp: f64,
        n: usize,
    ) -> Vec<Option<MinMax>> {
        // From a block a column on, column edges move to the nearest block edge (by at most
        // half a column, so no more than half a pixel on screen), and a column is read from
        // the pyramid alone: reading the samples at every edge would cost more than the rest
        // of the frame, and touch a chunk of audio per column (from disk, for a long file).
        let snap = spp >= BASE as f64;
        let edge = |x: f64| {
            if snap {
                (x / BASE as f64).round() * BASE as f64
            } else {
                x
            }
        };
        (0..n)
            .map(|i| {
                let a = edge(start + i as f64 * spp);
                let b = edge(start + (i + 1) as f64 * spp);
                if b <= 0.0 {
                    return None;
                }
                let (a, b) = (
                    a.max(0.0).floor() as u64,
                    (b.max(0.0).ceil() as u64).max(a.max(0.0) as u64 + 1),
                );
                self.min_max(store, channel, a, b)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::StoreWriter;

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn pyramid_equals_brute_force_at_random_ranges() {
        // Mono and stereo take the vectorised fold, three channels the general one.
        for chans in [1usize, 2, 3] {
            let mut seed = 7u64;
            let frames = 300_000usize;
            let samples: Vec<f32> = (0..frames * chans)
                .map(|_| (lcg(&mut seed) % 20001) as f32 / 10000.0 - 1.0)
                .collect();
            let store = PcmStore::from_interleaved(44100, chans, &samples);
            let mut p = PeakPyramid::new(chans);
            p.update(&store);
            for _ in 0..2000 {
                let ch = (lcg(&mut seed) % chans as u64) as usize;
                // random zoom: range length from 1 frame to the whole file
                let len = 1 + lcg(&mut seed) % (1u64 << (lcg(&mut seed) % 19));
                let a = lcg(&mut seed) % frames as u64;
                let b = (a + len).min(frames as u64);
                let got = p.min_max(&store, ch, a, b).expect("non-empty range");
                let mut want = MinMax::EMPTY;
                for f in a..b {
                    want.add(samples[f as usize * chans + ch]);
                }
                assert_eq!(got, want, "range {a}..{b} channel {ch} of {chans}");
            }
        }
    }

    #[test]
    fn pyramid_is_exact_while_decoding_grows() {
        let frames = 200_000usize;
        // No length announced, the true one, and a header that claims four times as much
        // (the levels are made room for up front, and stay exact whatever was announced).
        for announced in [None, Some(frames as u64), Some(4 * frames as u64)] {
            let mut seed = 3u64;
            let samples: Vec<f32> = (0..frames)
                .map(|_| (lcg(&mut seed) % 1000) as f32 / 1000.0)
                .collect();
            let store = PcmStore::new(8000, 1);
            if let Some(n) = announced {
                store.set_expected_frames(n);
            }
            let mut w = StoreWriter::new(&store);
            let mut p = PeakPyramid::new(1);
            for part in samples.chunks(70_001) {
                w.write(&store, part);
                p.update(&store);
                let n = store.frames();
                for _ in 0..200 {
                    let a = lcg(&mut seed) % n.max(1);
                    let b = a + 1 + lcg(&mut seed) % (n - a);
                    let got = p.min_max(&store, 0, a, b).expect("range in decoded part");
                    let want =
                        samples[a as usize..b as usize]
                            .iter()
                            .fold(MinMax::EMPTY, |mut m, &x| {
                                m.add(x);
                                m
                            });
                    assert_eq!(
                        got, want,
                        "partial store, range {a}..{b} of {n}, {announced:?} announced"
                    );
                }
            }
            w.finish(&store);
            p.update(&store);
            assert_eq!(p.covered(), frames as u64);
            let all = p.min_max(&store, 0, 0, frames as u64).expect("whole file");
            assert_eq!(all.max, samples.iter().cloned().fold(f32::MIN, f32::max));
        }
    }

    #[test]
    fn zoomed_far_out_columns_come_from_the_pyramid_without_reading_audio() {
        // Forty chunks of noise in a store that keeps two in memory: the rest is on disk.
        let mut seed = 11u64;
        let frames = crate::audio::store::CHUNK_FRAMES * 40 + 999;
        let samples: Vec<f32> = (0..frames)
            .map(|_| (lcg(&mut seed) % 20001) as f32 / 10000.0 - 1.0)
            .collect();
        let dir = crate::testdir::TestDir::new("peaks");
        let store = PcmStore::with_budget(44100, 1, 2 * crate::audio::store::CHUNK_FRAMES * 4)
            .spilling_to(dir.to_path_buf());
        let mut w = StoreWriter::new(&store);
        for part in samples.chunks(70_001) {
            w.write(&store, part);
        }
        w.finish(&store);
        let mut p = PeakPyramid::new(1);
        p.update(&store);
        assert!(store.spill_error().is_none());
        let before = store.disk_reads();
        // 2000 columns over 40 chunks: 5.1 blocks of 256 frames a column.
        let n = 2000;
        let spp = frames as f64 / n as f64;
        let cols = p.columns(&store, 0, 0.0, spp, n);
        // At most the track's last, partial block is read (it is in the newest chunk).
        assert!(
            store.disk_reads() <= before + 1,
            "{} chunks read",
            store.disk_reads() - before
        );
        // Each column holds the samples well inside it, and none from well outside it.
        let half = BASE as f64 / 2.0;
        for (i, c) in cols.iter().enumerate() {
            let c = c.expect("a column of audio");
            let (a, b) = (i as f64 * spp, (i + 1) as f64 * spp);
            let range = |x: f64, y: f64| {
                let (x, y) = (x.max(0.0) as usize, (y.ceil() as usize).min(frames));
                samples[x..y].iter().fold(MinMax::EMPTY, |mut m, v| {
                    m.add(*v);
                    m
                })
            };
            let (inner, outer) = (range(a + half, b - half), range(a - half, b + half));
            assert!(
                c.min <= inner.min && c.max >= inner.max,
                "column {i} misses its middle"
            );
            assert!(
                c.min >= outer.min && c.max <= outer.max,
                "column {i} reaches too far"
            );
        }
    }
}
