//! Analysis: pure DSP on PCM (peaks, spectra, features, the fusion lens). No GUI, no audio device.

pub mod cues;
pub mod features;
pub mod head;
pub mod lens;
pub mod model;
pub mod partials;
pub mod peaks;
pub mod references;
pub mod similar;
pub mod spectrum;
pub mod tagger;
