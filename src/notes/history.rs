//! Undo and redo for a notes document. Documents are small (kilobytes), so each step keeps a
//! snapshot; a drag keeps one snapshot for the whole gesture.

use super::Document;

/// Most steps kept.
pub const MAX_STEPS: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct Editor {
    doc: Document,
    undo: Vec<Document>,
    redo: Vec<Document>,
    /// Edits since the last save (or load).
    revision: u64,
    saved_revision: u64,
    in_gesture: bool,
}

impl Editor {
    pub fn new(doc: Document) -> Self {
        Self {
            doc,
            ..Default::default()
        }
    }
    pub fn doc(&self) -> &Document {
        &self.doc
    }
    pub fn is_dirty(&self) -> bool {
        self.revision != self.saved_revision
    }
    pub fn mark_saved(&mut self) {
        self.saved_revision = self.revision;
    }
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    fn snapshot(&mut self) {
        self.undo.push(self.doc.clone());
        if self.undo.len() > MAX_STEPS {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// One undoable edit. The document is kept in time order afterwards.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Document) -> R) -> R {
        if !self.in_gesture {
            self.snapshot();
        }
        let r = f(&mut self.doc);
        self.doc.sort();
        self.revision += 1;
        r
    }

    /// Starts a gesture (a drag): the edits until `end_gesture` undo as one step.
    pub fn begin_gesture(&mut self) {
        if !self.in_gesture {
            self.snapshot();
            self.in_gesture = true;
        }
    }
    pub fn end_gesture(&mut self) {
        self.in_gesture = false;
    }

    pub fn undo(&mut self) -> bool {
        self.in_gesture = false;
        match self.undo.pop() {
            Some(prev) => {
                self.redo.push(std::mem::replace(&mut self.doc, prev));
                self.revision += 1;
                true
            }
            None => false,
        }
    }
    pub fn redo(&mut self) -> bool {
        self.in_gesture = false;
        match self.redo.pop() {
            Some(next) => {
                self.undo.push(std::mem::replace(&mut self.doc, next));
                self.revision += 1;
                true
            }
            None => false,
        }
    }

    /// Replaces the whole document (open, reload, restore), clearing the history.
    pub fn replace(&mut self, doc: Document, dirty: bool) {
        *self = Self::new(doc);
        if dirty {
            self.revision = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::Note;

    #[test]
    fn undo_redo_and_dirty_state() {
        let mut e = Editor::new(Document::default());
        assert!(!e.is_dirty());
        e.edit(|d| d.notes.push(Note::point(5.0, "b")));
        e.edit(|d| d.notes.push(Note::point(1.0, "a")));
        assert_eq!(e.doc().notes[0].title, "a", "kept in time order");
        assert!(e.is_dirty());
        e.mark_saved();
        assert!(!e.is_dirty());
        assert!(e.undo());
        assert_eq!(e.doc().notes.len(), 1);
        assert!(e.is_dirty(), "undoing past the save is a change");
        assert!(e.redo());
        assert_eq!(e.doc().notes.len(), 2);
        assert!(e.undo() && e.undo());
        assert!(e.doc().notes.is_empty());
        assert!(!e.undo(), "nothing left to undo");
        e.redo();
        e.edit(|d| d.title = "new".into());
        assert!(!e.can_redo(), "a new edit clears redo");
    }

    #[test]
    fn a_drag_undoes_as_one_step() {
        let mut e = Editor::new(Document {
            title: String::new(),
            notes: vec![Note::region(1.0, 2.0, "r")],
        });
        e.begin_gesture();
        for i in 1..=20 {
            e.edit(|d| d.notes[0].end = Some(2.0 + i as f64 * 0.1));
        }
        e.end_gesture();
        assert_eq!(e.doc().notes[0].end, Some(4.0));
        assert!(e.undo());
        assert_eq!(e.doc().notes[0].end, Some(2.0));
        assert!(!e.can_undo());
    }
}
