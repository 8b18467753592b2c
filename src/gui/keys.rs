//! Keyboard, mouse wheel and dropped files outside the text fields: the shortcuts of
//! DESIGN.md section 5, listed in [`SHORTCUTS`] for the Help menu.

use super::*;

impl SoriApp {
    /// Ctrl+= / Ctrl+− / Ctrl+0: text and controls larger, smaller, normal (remembered).
    pub(super) fn scale_keys(&mut self, ctx: &egui::Context) {
        let (up, down, reset) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND, Key::Equals)
                    || i.consume_key(Modifiers::COMMAND, Key::Plus),
                i.consume_key(Modifiers::COMMAND, Key::Minus),
                i.consume_key(Modifiers::COMMAND, Key::Num0),
            )
        });
        if up {
            self.session.apply(Command::ScaleText(TEXT_SCALE_STEP));
        }
        if down {
            self.session
                .apply(Command::ScaleText(1.0 / TEXT_SCALE_STEP));
        }
        if reset {
            self.session.apply(Command::ScaleText(1.0));
        }
    }

    pub(super) fn handle_input(&mut self, ctx: &egui::Context) {
        // Dropped files.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open_track(Command::Open(p));
        }
        if let Some((kind, rx)) = &self.dialog
            && let Ok(res) = rx.try_recv()
        {
            let kind = *kind;
            self.dialog = None;
            if let Some(p) = res {
                self.dialog_answer(kind, p);
            }
        }
        // Save, undo and redo work even while typing in a note.
        let (save, undo, redo) = ctx.input_mut(|i| {
            // Redo first: Ctrl+Z would also match Ctrl+Shift+Z.
            let redo = i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                || i.consume_key(Modifiers::COMMAND, Key::Y);
            (
                i.consume_key(Modifiers::COMMAND, Key::S),
                i.consume_key(Modifiers::COMMAND, Key::Z),
                redo,
            )
        });
        if save {
            self.session.apply(Command::Notes(NotesCmd::Save));
        }
        if redo {
            self.session.apply(Command::Notes(NotesCmd::Redo));
        } else if undo {
            self.session.apply(Command::Notes(NotesCmd::Undo));
        }
        // Other keyboard shortcuts only when no text field has focus.
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let mut cmds = Vec::new();
        let view = self.session.view();
        ctx.input_mut(|i| {
            if i.consume_key(Modifiers::NONE, Key::Space) {
                cmds.push(Command::TogglePlay);
            }
            if i.consume_key(Modifiers::NONE, Key::Home) {
                cmds.push(Command::Seek(0.0));
                cmds.push(Command::ScrollTo(0.0));
            }
            if i.consume_key(Modifiers::NONE, Key::End) {
                cmds.push(Command::Seek(f64::MAX));
            }
            // Shift+arrows first: a plain-arrow match would also take them.
            if i.consume_key(Modifiers::SHIFT, Key::ArrowRight) {
                cmds.push(Command::Notes(NotesCmd::Next));
            }
            if i.consume_key(Modifiers::SHIFT, Key::ArrowLeft) {
                cmds.push(Command::Notes(NotesCmd::Prev));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowLeft) {
                cmds.push(Command::Nudge(-(view.len_s / 20.0).max(0.001)));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowRight) {
                cmds.push(Command::Nudge((view.len_s / 20.0).max(0.001)));
            }
            if i.consume_key(Modifiers::NONE, Key::L) {
                cmds.push(Command::ToggleLoop);
            }
            if i.consume_key(Modifiers::NONE, Key::M) {
                cmds.push(Command::Notes(NotesCmd::Add));
            }
            if i.consume_key(Modifiers::NONE, Key::N) {
                cmds.push(Command::LoopNote);
            }
            if (i.consume_key(Modifiers::NONE, Key::Delete)
                || i.consume_key(Modifiers::NONE, Key::Backspace))
                && let Some(sel) = self.session.notes().selected
            {
                cmds.push(Command::Notes(NotesCmd::Delete(sel)));
            }
            if i.consume_key(Modifiers::NONE, Key::Escape) {
                cmds.push(Command::SetSelection(None));
            }
            let zoom_anchor = self
                .session
                .position_s()
                .clamp(view.start_s, view.start_s + view.len_s);
            if i.consume_key(Modifiers::NONE, Key::Plus)
                || i.consume_key(Modifiers::NONE, Key::Equals)
            {
                cmds.push(Command::Zoom {
                    factor: 2.0,
                    anchor_s: zoom_anchor,
                });
            }
            if i.consume_key(Modifiers::NONE, Key::Minus) {
                cmds.push(Command::Zoom {
                    factor: 0.5,
                    anchor_s: zoom_anchor,
                });
            }
            if i.consume_key(Modifiers::NONE, Key::F) {
                cmds.push(Command::ZoomToFit);
            }
            if i.consume_key(Modifiers::NONE, Key::Z) {
                cmds.push(Command::ZoomToSelection);
            }
        });
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::O)) {
            self.file_dialog(Dialog::OpenAudio);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
            cmds.push(if self.session.similar().is_empty() {
                Command::FindSimilar
            } else {
                Command::ClearSimilar
            });
        }
        for c in cmds {
            self.session.apply(c);
        }
    }
}

pub(super) const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Play / pause"),
    ("Home / End", "Go to start / end"),
    ("← / →", "Step back / forward (1/20 of the view)"),
    ("+ / -, Ctrl+wheel, pinch", "Zoom in / out"),
    ("Wheel, Shift+wheel", "Scroll in time"),
    ("F", "Zoom to fit the whole track"),
    ("Z", "Zoom to the selection"),
    ("Drag on the view", "Select a region"),
    ("Click on the view", "Move the playhead"),
    ("L", "Loop the selection (the counter shows the pass)"),
    ("N", "Loop the current note"),
    ("F5 or F11", "Presentation: full screen, large note cards"),
    (
        "PageDown / PageUp (presenting)",
        "Next / previous note, played from its start",
    ),
    ("B (presenting)", "Blank the screen, and back"),
    ("Esc (presenting)", "Leave presentation"),
    ("Ctrl+= / Ctrl+− / Ctrl+0", "Text larger / smaller / normal"),
    ("Esc", "Clear the selection"),
    ("Ctrl+O", "Open a file (or drop one on the window)"),
    ("M", "Add a note at the playhead (or over the selection)"),
    ("Shift+← / Shift+→", "Previous / next note"),
    ("Delete", "Delete the selected note"),
    ("Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y", "Undo, redo"),
    ("Ctrl+S", "Save the notes"),
    (
        "Ctrl+F",
        "Find regions of similar timbre to the selection (again: clear)",
    ),
    (
        "Click a lens lane",
        "Tint the spectrogram in that lane's band",
    ),
    ("Right-click a lens segment", "Draft a note from it"),
];
