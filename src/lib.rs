//! Sori (소리): explore how traditional Korean instruments are woven into modern pop tracks.
//!
//! Layers (an arrow is "may use"): gui, cli → session → render, analysis → audio.
//! `audio`, `analysis` and `render` never touch egui.

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod demo;
pub mod fuzzing;
pub mod gui;
pub mod notes;
pub mod render;
pub mod session;
