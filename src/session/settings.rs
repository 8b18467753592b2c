//! What persists between runs: the spectrogram's look, the volume, the recent files, the
//! text scale and theme, presentation and tagger choices.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analysis::spectrum::SpecParams;
use crate::render::{ColorMap, DbRange};

/// Settings that persist between runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub colormap: ColorMap,
    pub db: DbRange,
    pub window: usize,
    pub volume: f32,
    pub recent: Vec<PathBuf>,
    pub last_folder: Option<PathBuf>,
    /// Size of text and controls (Ctrl+= / Ctrl+−), 1 = normal.
    pub text_scale: f32,
    pub theme: Theme,
    /// In presentation, playback pauses when the current note's region ends.
    pub pause_at_note_end: bool,
    /// A second opinion from the AudioSet tagger, run in the background after the lens.
    pub tagger: bool,
}

/// Colour themes: dark, light, and a high-contrast one for washed-out projectors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
    HighContrast,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Dark, Theme::Light, Theme::HighContrast];
    pub fn label(self) -> &'static str {
        match self {
            Theme::Dark => "Dark",
            Theme::Light => "Light",
            Theme::HighContrast => "High contrast (projector)",
        }
    }
}

/// Text scale limits and step.
pub const TEXT_SCALE_MIN: f32 = 0.75;

pub const TEXT_SCALE_MAX: f32 = 3.0;

pub const TEXT_SCALE_STEP: f32 = 1.125;

impl Default for Settings {
    fn default() -> Self {
        Self {
            colormap: ColorMap::Magma,
            db: DbRange::default(),
            window: 2048,
            volume: 0.8,
            recent: Vec::new(),
            last_folder: None,
            text_scale: 1.0,
            theme: Theme::Dark,
            pause_at_note_end: true,
            tagger: true,
        }
    }
}

pub const RECENT_MAX: usize = 10;

pub const WINDOW_SIZES: [usize; 3] = [1024, 2048, 4096];

impl Settings {
    pub fn spec_params(&self) -> SpecParams {
        let window = if WINDOW_SIZES.contains(&self.window) {
            self.window
        } else {
            2048
        };
        SpecParams { window, rows: 384 }
    }
    pub(super) fn add_recent(&mut self, p: &std::path::Path) {
        self.recent.retain(|r| r != p);
        self.recent.insert(0, p.to_path_buf());
        self.recent.truncate(RECENT_MAX);
        if let Some(dir) = p.parent() {
            self.last_folder = Some(dir.to_path_buf());
        }
    }
}
