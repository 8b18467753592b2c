//! The integration tests, in one binary so that the app links once for all of them (each test
//! binary links eframe, egui and the decoders). The two audio-device tests stay binaries of
//! their own: each points ALSA or PulseAudio at a device of its own through the process's
//! environment, which every test of a binary shares.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod corrupt_files;
mod formats;
mod fuzz_corpus;
mod gui;
mod notes_fuzz;
mod notes_interchange;
mod notes_safety;
mod packaging;
