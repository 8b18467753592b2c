//! The annotation document: notes synced to playback, their native TOML file, and safe
//! saving. No GUI code here.

pub mod glossary;
pub mod history;
pub mod interchange;
pub mod links;
pub mod native;
pub mod recovery;
pub mod save;
pub mod time;

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Reads a whole notes file of at most [`native::MAX_BYTES`]; a larger one is refused before
/// it is read (and a file that grows while it is read stops at the limit). The error is a
/// phrase for the user.
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let limit = native::MAX_BYTES;
    let too_big = |len: u64| {
        format!(
            "it is {:.0} MB; notes files over {} MB are refused",
            len as f64 / (1024.0 * 1024.0),
            limit >> 20
        )
    };
    let file = std::fs::File::open(path).map_err(|e| format!("could not read it ({e})"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("could not read it ({e})"))?;
    if meta.is_dir() {
        return Err("it is a folder, not a notes file".into());
    }
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("could not read it ({e})"))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// What a note is about; each has its own colour in the GUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Traditional,
    Pop,
    #[default]
    Fusion,
    Structure,
    Discussion,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Traditional,
        Category::Pop,
        Category::Fusion,
        Category::Structure,
        Category::Discussion,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Traditional => "traditional",
            Category::Pop => "pop",
            Category::Fusion => "fusion",
            Category::Structure => "structure",
            Category::Discussion => "discussion",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One note: a point (no `end`) or a region of the track.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Note {
    /// Seconds from the start of the track.
    pub start: f64,
    pub end: Option<f64>,
    pub title: String,
    pub category: Category,
    /// Glossary ids.
    pub instruments: Vec<String>,
    pub body: String,
    pub sources: Vec<String>,
    /// Image path, relative to the notes file.
    pub image: Option<String>,
}

impl Note {
    pub fn point(start: f64, title: impl Into<String>) -> Self {
        Self {
            start,
            title: title.into(),
            ..Default::default()
        }
    }
    pub fn region(start: f64, end: f64, title: impl Into<String>) -> Self {
        Self {
            start,
            end: Some(end),
            title: title.into(),
            ..Default::default()
        }
    }
    /// True if the note covers time `t` (a point note covers `hold` seconds after it).
    pub fn covers(&self, t: f64, hold: f64) -> bool {
        t >= self.start && t < self.end.unwrap_or(self.start + hold)
    }
}

/// Rows for drawing `notes` (in their order) in a lane so that no region hides another: a
/// region takes the first row free at its start, points go in row 0. Returns each note's row
/// and the number of rows (at least 1).
pub fn lane_rows(notes: &[Note]) -> (Vec<usize>, usize) {
    let mut row_end: Vec<f64> = Vec::new();
    let rows = notes
        .iter()
        .map(|n| match n.end {
            Some(e) => match row_end.iter().position(|&end| end <= n.start + 1e-9) {
                Some(r) => {
                    row_end[r] = e;
                    r
                }
                None => {
                    row_end.push(e);
                    row_end.len() - 1
                }
            },
            None => 0,
        })
        .collect();
    (rows, row_end.len().max(1))
}

/// A notes document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub title: String,
    pub notes: Vec<Note>,
}

impl Document {
    /// Keeps notes in time order (stable for equal starts).
    pub fn sort(&mut self) {
        self.notes.sort_by(|a, b| {
            a.start.total_cmp(&b.start).then(
                a.end
                    .unwrap_or(a.start)
                    .total_cmp(&b.end.unwrap_or(b.start)),
            )
        });
    }
    /// Index of the note that is current at time `t`: the latest-starting note covering it.
    pub fn current(&self, t: f64, hold: f64) -> Option<usize> {
        self.notes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.covers(t, hold))
            .max_by(|a, b| a.1.start.total_cmp(&b.1.start))
            .map(|(i, _)| i)
    }
    /// Start of the next note strictly after `t` (Shift+→).
    pub fn next_start(&self, t: f64) -> Option<f64> {
        self.notes
            .iter()
            .map(|n| n.start)
            .filter(|&s| s > t + 1e-6)
            .min_by(f64::total_cmp)
    }
    /// Start of the previous note strictly before `t` (Shift+←).
    pub fn prev_start(&self, t: f64) -> Option<f64> {
        self.notes
            .iter()
            .map(|n| n.start)
            .filter(|&s| s < t - 1e-6)
            .max_by(f64::total_cmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_note_prefers_the_latest_start_and_points_hold() {
        let mut d = Document {
            title: String::new(),
            notes: vec![
                Note::region(0.0, 10.0, "a"),
                Note::region(4.0, 6.0, "b"),
                Note::point(8.0, "c"),
            ],
        };
        d.sort();
        assert_eq!(d.current(2.0, 3.0), Some(0));
        assert_eq!(
            d.current(5.0, 3.0),
            Some(1),
            "the inner, later note is current"
        );
        assert_eq!(
            d.current(9.0, 3.0),
            Some(2),
            "a point note holds for a while"
        );
        assert_eq!(d.current(12.0, 3.0), None);
        assert_eq!(d.next_start(4.0), Some(8.0));
        assert_eq!(d.prev_start(4.0), Some(0.0));
        assert_eq!(d.prev_start(0.0), None);
    }
}
