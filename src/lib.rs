//! Sori (소리): explore how traditional Korean instruments are woven into modern pop tracks.
//!
//! Layers (an arrow is "may use"): gui, cli → session → render, analysis → audio.
//! `audio`, `analysis` and `render` never touch egui.

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod csv;
pub mod demo;
pub mod fuzzing;
pub mod gui;
pub mod notes;
pub mod parallel;
pub mod render;
pub mod session;
#[cfg(test)]
mod testdir;
#[cfg(test)]
mod testdir_tests;

/// A file's name for messages ("song.mp3"), or the whole path when it has none.
pub(crate) fn display_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
