//! Everything the GUI, the tests and the command line can ask of a [`Session`](super::Session):
//! the one way its state changes.

use std::path::PathBuf;

use super::{Source, Theme};
use crate::notes::Note;
use crate::render::{ColorMap, DbRange};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Open(PathBuf),
    OpenDemo,
    Play,
    Pause,
    TogglePlay,
    Stop,
    /// Seek to seconds (clamped to the track).
    Seek(f64),
    /// Seek relative to the playhead.
    Nudge(f64),
    SetSelection(Option<(f64, f64)>),
    /// L: loop the selection (or the whole track when nothing is selected).
    ToggleLoop,
    SetVolume(f32),
    /// Zoom by `factor` (>1 zooms in) keeping time `anchor_s` under the same pixel.
    Zoom {
        factor: f64,
        anchor_s: f64,
    },
    ScrollTo(f64),
    ZoomToFit,
    ZoomToSelection,
    SetColorMap(ColorMap),
    SetDbRange(DbRange),
    SetWindow(usize),
    RetryAudio,
    DismissNotice(usize),
    /// Everything that changes the notes.
    Notes(NotesCmd),
    /// Seek to note `index`, select it and play it; with "pause at the end of each note" on,
    /// playback pauses when the note ends (a presentation's next-note step).
    PlayNote(usize),
    /// Forget the pause at the end of the note `PlayNote` started: playback goes on past it.
    PlayOnPastNoteEnd,
    /// Draw the view over `[from_s, to_s]`, within the usual zoom limits.
    ShowRange {
        from_s: f64,
        to_s: f64,
    },
    /// Open a recording with the notes file `notes` instead of its own.
    OpenWithNotes {
        source: Source,
        notes: PathBuf,
    },
    /// Page the view to keep the playhead in sight while playing.
    SetFollow(bool),
    /// Presentation mode on or off.
    SetPresenting(bool),
    SetTheme(Theme),
    /// In presentation, pause when the current note's region ends.
    SetPauseAtNoteEnd(bool),
    /// Forget the recently opened files.
    ClearRecent,
    /// Show a one-sentence notice.
    Notify {
        text: String,
        error: bool,
    },
    /// Tint the spectrogram in lane `i`'s band over its segments (`None`: no tint).
    SetTint(Option<usize>),
    /// Light up the regions whose timbre is closest to the selection's.
    FindSimilar,
    ClearSimilar,
    /// Practice speed, transposition and varispeed.
    SetPractice(crate::audio::stretch::Practice),
    /// Loop the current note's region (a point note: the next few seconds); again: stop.
    LoopNote,
    /// Multiply the text scale (1 resets it).
    ScaleText(f32),
    /// Turn the AudioSet tagger on or off (off: the lanes from the signal cues alone).
    SetTagger(bool),
}

/// The commands that change the notes (nested in [`Command::Notes`], so that each is handled
/// by name: a new one cannot fall through a catch-all).
#[derive(Debug, Clone, PartialEq)]
pub enum NotesCmd {
    /// M: a point note at the playhead, or a region note over the selection.
    Add,
    Delete(usize),
    Select(Option<usize>),
    /// Click on a note: seek to its start and select it.
    Seek(usize),
    /// Shift+→ / Shift+←.
    Next,
    Prev,
    /// Replace note `index`; `coalesce` merges with the previous edit (typing, dragging).
    Update {
        index: usize,
        note: Note,
        coalesce: bool,
    },
    /// Ends a coalesced run of edits (focus left the field, the drag ended).
    EndEdit,
    /// The image the user picked for note `index` (copied next to the notes when it is
    /// elsewhere).
    SetImage {
        index: usize,
        picked: PathBuf,
    },
    Undo,
    Redo,
    Save,
    SaveAs(PathBuf),
    /// Open another notes file (any supported format) for the current track.
    Open(PathBuf),
    /// Write the notes in the format of the path's extension.
    Export(PathBuf),
    /// Answer to "restore unsaved edits from last time?".
    Restore(bool),
    /// Answer to "the notes file changed on disk: reload?".
    Reload(bool),
    /// A draft note from segment `segment` of lane `lane`: its time, the lane's instrument
    /// and category, the evidence as the body.
    DraftFromSegment {
        lane: usize,
        segment: usize,
    },
    /// "Don't save": the edits are dropped from the document's dirty state but kept in the
    /// recovery copy, so the next launch can still offer them back.
    Discard,
    /// The window closes: unsaved edits go to the recovery copy now.
    KeepForRecovery,
}
