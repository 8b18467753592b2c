//! Analysis: pure DSP on PCM (peaks, spectra). No GUI, no audio device.

pub mod peaks;
pub mod spectrum;
