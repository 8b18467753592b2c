//! Autosave and recovery: unsaved edits are written to a recovery file in the user's data
//! folder (never over the notes file itself); the next launch offers to restore them.

use std::path::{Path, PathBuf};

use super::{Document, native, save};

/// The user's data folder for Sori (`SORI_DATA_DIR` overrides it, for tests and portable use).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SORI_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("org", "Sori", "Sori").map(|p| p.data_dir().to_path_buf())
}

/// A stable short name for a notes path (FNV-1a of its text).
fn key(notes_path: &Path) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in notes_path.to_string_lossy().as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    let stem = notes_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = stem
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    format!("{stem}-{h:016x}.recovery.toml")
}

/// Where the recovery copy of `notes_path` lives.
pub fn recovery_path(notes_path: &Path) -> Option<PathBuf> {
    data_dir().map(|d| d.join("recovery").join(key(notes_path)))
}

/// Writes the recovery copy (atomically). Call at most every few seconds while dirty.
pub fn write(notes_path: &Path, doc: &Document) -> std::io::Result<PathBuf> {
    let p =
        recovery_path(notes_path).ok_or_else(|| std::io::Error::other("no user data folder"))?;
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let header = format!(
        "# Sori recovery copy of {}\n",
        notes_path.display().to_string().replace('\n', " ")
    );
    save::atomic_write(&p, (header + &native::to_string(doc)).as_bytes())?;
    Ok(p)
}

/// The recovery copy for `notes_path`, if one exists and is newer than the notes file.
pub fn find(notes_path: &Path) -> Option<Document> {
    let p = recovery_path(notes_path)?;
    let rec_time = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
    if let Ok(saved) = std::fs::metadata(notes_path).and_then(|m| m.modified())
        && saved > rec_time
    {
        return None; // saved since: the recovery copy is stale
    }
    native::read(&p).ok()
}

/// Removes the recovery copy (after a save, or when the user declines to restore).
pub fn clear(notes_path: &Path) {
    if let Some(p) = recovery_path(notes_path) {
        let _ = std::fs::remove_file(p);
    }
}
