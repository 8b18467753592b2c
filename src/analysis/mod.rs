//! Analysis: pure DSP on PCM (peaks, spectra, features, the fusion lens). No GUI, no audio device.
//!
//! Read from the bottom up; each module uses only those above it in this list (no cycles):
//!
//! * [`dsp`]: shared numerical helpers (quantiles, line fit, parabolic offset, window, dB,
//!   cents, vibrato of a pitch curve). [`tagger`] (CED-Tiny) and [`peaks`] stand alone.
//! * [`frames`]: the 10 ms frame grid, growing signals, the FFT frame.
//! * [`partials`] (sinusoidal tracks), then [`features`] (per-frame features), then
//!   [`cues`] (onsets, vibrato, bends, beat grid … read off the features); [`spectrum`] for the
//!   display.
//! * [`lanes`]: the ten lanes, each a `LaneId` with everything known per lane.
//! * [`block`]: what the lens measures per 0.1 s block; [`head`] and [`model`]: the fitted
//!   classifier over it; [`references`]: the cited reference library.
//! * [`lens`]: the lanes and their segments; [`similar`]: Find similar.

pub mod block;
pub mod cues;
pub mod dsp;
pub mod features;
pub mod frames;
pub mod head;
pub mod lanes;
pub mod lens;
pub mod model;
pub mod partials;
pub mod peaks;
pub mod references;
pub mod similar;
pub mod spectrum;
pub mod tagger;
