//! The analysis's frame grid and the signals it reads: feature frames every [`HOP_S`], a
//! [`Signal`] that grows at its end and forgets its start, and a Hann-windowed FFT frame
//! ([`Hann`]) centred on a frame. Shared by the frame features and the partial tracker,
//! which both walk this grid.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::dsp::{self, dot};

/// Hop between feature frames, seconds.
pub const HOP_S: f64 = 0.01;

/// A signal that grows at its end and forgets its start: samples keep their absolute index
/// (`len` counts the forgotten ones too), so the measurements that follow it need not know
/// how much of it is still held. Hours of audio are measured in a few seconds of memory.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    data: Vec<f32>,
    /// Absolute index of `data[0]`.
    offset: usize,
}

impl Signal {
    pub(crate) fn from_vec(data: Vec<f32>) -> Self {
        Self { data, offset: 0 }
    }

    /// Samples forgotten from the start.
    #[cfg(test)]
    pub(crate) fn forgotten(&self) -> usize {
        self.offset
    }

    /// Samples still held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.data.len()
    }

    /// Appends samples at the end.
    pub(crate) fn extend(&mut self, samples: impl IntoIterator<Item = f32>) {
        self.data.extend(samples);
    }

    /// Samples so far, forgotten ones included.
    pub(crate) fn len(&self) -> usize {
        self.offset + self.data.len()
    }

    /// `x[start..start + n]`, if all of it is held.
    pub(crate) fn slice(&self, start: isize, n: usize) -> Option<&[f32]> {
        let a = usize::try_from(start).ok()?.checked_sub(self.offset)?;
        self.data.get(a..a + n)
    }

    /// Sample `j`; silence outside the signal (and in its forgotten start).
    pub(crate) fn at(&self, j: isize) -> f32 {
        usize::try_from(j)
            .ok()
            .and_then(|j| j.checked_sub(self.offset))
            .and_then(|j| self.data.get(j))
            .copied()
            .unwrap_or(0.0)
    }

    /// Fills `buf` with `x[start..]`, silence outside what is held.
    pub(crate) fn read(&self, start: i64, buf: &mut [f32]) {
        read_slice(&self.data, start - self.offset as i64, buf);
    }

    /// Forgets all but the last `keep` samples (in batches, so that it costs little).
    pub(crate) fn forget_all_but(&mut self, keep: usize) {
        if self.data.len() > 2 * keep.max(1) {
            let drop = self.data.len() - keep;
            self.data.drain(..drop);
            self.offset += drop;
        }
    }

    pub(crate) fn into_vec(self) -> Vec<f32> {
        self.data
    }
}

/// Reads `x[start..]` into `buf`, silence outside `x`.
pub(crate) fn read_slice(x: &[f32], start: i64, buf: &mut [f32]) {
    buf.fill(0.0);
    let lo = start.max(0);
    let hi = (start + buf.len() as i64).min(x.len() as i64);
    if lo < hi {
        buf[(lo - start) as usize..(hi - start) as usize]
            .copy_from_slice(&x[lo as usize..hi as usize]);
    }
}

/// Whether frame `i` (centred at `rate`) can be measured from `len` samples when it needs
/// `reach` samples past its centre; once the track is complete (`n_frames`), every frame is.
pub(crate) fn frame_ready(
    i: usize,
    rate: f32,
    reach: isize,
    len: usize,
    n_frames: Option<usize>,
) -> bool {
    match n_frames {
        Some(end) => i < end,
        None => centre(i, rate) + reach <= len as isize,
    }
}

/// Centre (in samples at `rate`) of feature frame `i`.
pub(crate) fn centre(i: usize, rate: f32) -> isize {
    (i as f64 * HOP_S * rate as f64).round() as isize
}

/// A forward real FFT of size `n` with its buffers and a Hann window.
pub(crate) struct Hann {
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    pub(crate) spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    window: Vec<f32>,
}

impl Hann {
    pub(crate) fn new(n: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        Self {
            input: fft.make_input_vec(),
            spec: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            window: dsp::hann(n),
            fft,
        }
    }

    /// The frame length, samples.
    pub(crate) fn size(&self) -> usize {
        self.input.len()
    }

    /// Scale from |X|² to power, so a full-scale sine has power 1 in its bin.
    pub(crate) fn power_norm(&self) -> f32 {
        (2.0 / self.window.iter().sum::<f32>()).powi(2)
    }

    /// Windows the `n` samples of `x` centred on `c` (silence outside `x`) into the input and
    /// transforms them; returns the frame's sum of squares and peak (before windowing).
    pub(crate) fn frame(&mut self, x: &Signal, c: isize) -> (f32, f32) {
        let n = self.input.len();
        let start = c - n as isize / 2;
        let (mut sum_sq, mut peak) = (0.0f32, 0.0f32);
        if let Some(seg) = x.slice(start, n) {
            for ((v, s), w) in self.input.iter_mut().zip(seg).zip(&self.window) {
                *v = s * w;
            }
            sum_sq = dot(seg, seg);
            peak = seg.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        } else {
            for (k, v) in self.input.iter_mut().enumerate() {
                let s = x.at(start + k as isize);
                sum_sq += s * s;
                peak = peak.max(s.abs());
                *v = s * self.window[k];
            }
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spec, &mut self.scratch)
            .is_err()
        {
            self.spec
                .iter_mut()
                .for_each(|c| *c = Complex::new(0.0, 0.0));
        }
        (sum_sq, peak)
    }
}
