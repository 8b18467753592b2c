//! The notes document of the open track: where it lives, its edit history, autosave.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::notes::history::Editor;
use crate::notes::{Document, native, recovery, save};

use super::track::Source;

/// The built-in demo's notes (copied to the user's data folder when edited and saved).
pub static DEMO_NOTES: &str = include_str!("../../assets/demo.sori.toml");

/// Why the notes could not be saved; each reads as one sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(
        "The notes file on disk has errors; Sori will not overwrite it. Fix it, or save the notes under another name."
    )]
    FileOnDiskHasErrors,
    #[error("There is no place to save these notes.")]
    NoPath,
    #[error("The notes could not be saved to {} ({first}).", path.display())]
    NotWritable {
        path: PathBuf,
        first: std::io::Error,
    },
    #[error("The notes could not be saved ({first}; also {fallback}).")]
    FallbackFailed {
        first: std::io::Error,
        fallback: std::io::Error,
    },
}

/// How often unsaved edits are written to the recovery copy.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct NotesState {
    pub editor: Editor,
    /// Where Ctrl+S writes.
    pub path: Option<PathBuf>,
    /// The notes file on disk could not be read: it is never overwritten without asking.
    pub load_error: Option<String>,
    /// Unsaved edits found from an earlier session, waiting for the user's answer.
    pub pending_recovery: Option<Document>,
    pub selected: Option<usize>,
    last_autosave: Option<Instant>,
    /// Modification time of the notes file when Sori last read or wrote it.
    disk_mtime: Option<std::time::SystemTime>,
    last_disk_check: Option<Instant>,
    /// Another program changed the notes file: the GUI offers to reload it.
    pub changed_on_disk: bool,
}

/// Where the demo's notes are kept once the user saves them.
pub fn demo_notes_path() -> Option<PathBuf> {
    recovery::data_dir().map(|d| d.join("demo.sori.toml"))
}

/// A new notes file for a track starts from this short template.
fn template(source: &Source) -> Document {
    let mut intro = crate::notes::Note::point(0.0, "About this track");
    intro.category = crate::notes::Category::Structure;
    intro.body = "Who made it, and when? Which traditional Korean instruments can you hear, and where does the pop production take over?".into();
    Document {
        title: source.title(),
        notes: vec![intro],
    }
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl NotesState {
    /// Loads the notes that belong to `source` (the sidecar, or the demo's), or `explicit`.
    /// Returns a notice for the user, if any.
    pub fn load_for(source: &Source, explicit: Option<&Path>) -> (Self, Option<String>) {
        let path = match (explicit, source) {
            (Some(p), _) => Some(p.to_path_buf()),
            (None, Source::File(audio)) => Some(native::sidecar_for(audio)),
            (None, Source::Demo) => demo_notes_path(),
        };
        let mut st = NotesState {
            path: path.clone(),
            ..Default::default()
        };
        let mut notice = None;
        let on_disk = path.as_ref().filter(|p| p.exists());
        let doc = match on_disk {
            Some(p) => match crate::notes::interchange::read(p) {
                Ok((d, warnings)) => {
                    if !warnings.is_empty() {
                        notice = Some(warnings.join(" "));
                    }
                    d
                }
                Err(e) => {
                    let msg = format!(
                        "The notes file could not be read ({e}); it will not be overwritten unless you choose to."
                    );
                    st.load_error = Some(msg.clone());
                    notice = Some(msg);
                    template(source)
                }
            },
            None if *source == Source::Demo => {
                native::parse(DEMO_NOTES).unwrap_or_else(|_| template(source))
            }
            None => template(source),
        };
        st.editor = Editor::new(doc);
        st.disk_mtime = path.as_deref().and_then(mtime);
        if let Some(p) = &path {
            st.pending_recovery = recovery::find(p).filter(|r| r != st.editor.doc());
        }
        (st, notice)
    }

    pub fn doc(&self) -> &Document {
        self.editor.doc()
    }
    pub fn is_dirty(&self) -> bool {
        self.editor.is_dirty()
    }

    /// Folder for notes images: next to the notes file.
    pub fn base_dir(&self) -> Option<PathBuf> {
        self.path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
    }

    /// Saves to the notes path; if its folder is not writable, to the user's data folder.
    /// Returns a sentence for the user.
    pub fn save(&mut self) -> Result<String, SaveError> {
        if self.load_error.is_some() {
            return Err(SaveError::FileOnDiskHasErrors);
        }
        let Some(path) = self.path.clone() else {
            return Err(SaveError::NoPath);
        };
        let text = native::to_string(self.editor.doc());
        match save::atomic_write(&path, text.as_bytes()) {
            Ok(()) => {
                self.editor.mark_saved();
                recovery::clear(&path);
                self.disk_mtime = mtime(&path);
                self.changed_on_disk = false;
                Ok(format!("Notes saved to {}.", path.display()))
            }
            Err(first) => {
                // A read-only class USB stick or network share: keep the work in the data folder.
                let name = path
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_else(|| "notes.sori.toml".into());
                let Some(fallback) = recovery::data_dir().map(|d| d.join("notes").join(name))
                else {
                    return Err(SaveError::NotWritable { path, first });
                };
                let result = fallback
                    .parent()
                    .map(std::fs::create_dir_all)
                    .unwrap_or(Ok(()))
                    .and_then(|_| save::atomic_write(&fallback, text.as_bytes()));
                match result {
                    Ok(()) => {
                        recovery::clear(&path);
                        self.path = Some(fallback.clone());
                        self.editor.mark_saved();
                        Ok(format!(
                            "{} is not writable ({first}); the notes were saved to {} instead.",
                            path.parent()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default(),
                            fallback.display()
                        ))
                    }
                    Err(fallback) => Err(SaveError::FallbackFailed { first, fallback }),
                }
            }
        }
    }

    /// Saves as `path` (chosen by the user: clears a load error).
    pub fn save_as(&mut self, path: PathBuf) -> Result<String, SaveError> {
        self.path = Some(path);
        self.load_error = None;
        self.save()
    }

    /// Writes the recovery copy when there are unsaved edits and the last copy is old.
    pub fn autosave(&mut self, now: Instant) {
        if !self.is_dirty()
            || self
                .last_autosave
                .is_some_and(|t| now.duration_since(t) < AUTOSAVE_EVERY)
        {
            return;
        }
        if let Some(p) = &self.path {
            let _ = recovery::write(p, self.editor.doc());
        }
        self.last_autosave = Some(now);
    }

    /// Notices (about once a second) when another program changed the notes file.
    pub fn check_disk(&mut self, now: Instant) {
        if self
            .last_disk_check
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.last_disk_check = Some(now);
        if let Some(p) = &self.path {
            let m = mtime(p);
            if m.is_some() && m != self.disk_mtime {
                self.changed_on_disk = true;
            }
        }
    }

    /// Reloads the notes file from disk (after the user agreed), or keeps the edits.
    pub fn answer_disk_change(&mut self, reload: bool, source: &Source) -> Option<String> {
        self.changed_on_disk = false;
        let path = self.path.clone()?;
        self.disk_mtime = mtime(&path);
        if !reload {
            return None;
        }
        let (st, notice) = NotesState::load_for(source, Some(&path));
        *self = st;
        notice
    }

    /// Writes the recovery copy now if there are unsaved edits (before the notes are replaced,
    /// and on quit).
    pub fn flush_recovery(&mut self) {
        if self.is_dirty()
            && let Some(p) = &self.path
        {
            let _ = recovery::write(p, self.editor.doc());
        }
    }

    /// The user's answer to "restore unsaved edits?".
    pub fn answer_recovery(&mut self, restore: bool) {
        if let Some(doc) = self.pending_recovery.take() {
            if restore {
                self.editor.replace(doc, true);
            } else if let Some(p) = &self.path {
                recovery::clear(p);
            }
        }
    }
}
