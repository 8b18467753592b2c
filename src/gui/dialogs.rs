//! The app's questions and dialogs: "save the notes first?", "reload?", "restore?", the
//! system file dialogs (on their own thread), the glossary and the picture export window.

use super::*;

impl SoriApp {
    /// Opens another track, asking first when the notes have unsaved edits.
    pub(super) fn open_track(&mut self, cmd: Command) {
        if self.session.notes().is_dirty() && self.session.track().is_some() {
            self.pending = Some(Pending::Run(cmd));
        } else {
            self.session.apply(cmd);
        }
    }

    /// The "save first?", "reload?" and "restore?" questions.
    pub(super) fn questions(&mut self, ctx: &egui::Context) {
        // Closing the window with unsaved notes asks first.
        if ctx.input(|i| i.viewport().close_requested())
            && self.session.notes().is_dirty()
            && self.pending.is_none()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Quit);
        }
        if let Some(p) = self.pending.clone() {
            let mut answer: Option<Option<bool>> = None; // Some(Some(save)) or Some(None) = cancel
            egui::Modal::new(egui::Id::unique("sori-unsaved")).show(ctx, |ui| {
                ui.heading("Save the notes first?");
                ui.label("The notes have changes that are not saved.");
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        answer = Some(Some(true));
                    }
                    if ui.button("Don't save").clicked() {
                        answer = Some(Some(false));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(None);
                    }
                });
            });
            match answer {
                Some(Some(save)) => {
                    if save {
                        self.session.apply(Command::Notes(NotesCmd::Save));
                        if self.session.notes().is_dirty() {
                            self.pending = None; // saving failed: the notice says why; stay
                            return;
                        }
                    } else {
                        // Not saved, not lost: the recovery copy keeps them for next time.
                        self.session.apply(Command::Notes(NotesCmd::Discard));
                    }
                    self.pending = None;
                    match p {
                        Pending::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
                        Pending::Run(cmd) => self.session.apply(cmd),
                    }
                }
                Some(None) => self.pending = None,
                None => {}
            }
        }
        if self.session.notes().changed_on_disk
            && self.pending.is_none()
            && let Some(a) = ask(
                ctx,
                "sori-reload",
                "The notes file changed on disk",
                "Another program changed it. Reload it, or keep the notes as they are here?",
                ["Reload", "Keep mine"],
            )
        {
            self.session.apply(Command::Notes(NotesCmd::Reload(a)));
        }
        if self.session.notes().pending_recovery.is_some()
            && let Some(a) = ask(
                ctx,
                "sori-restore",
                "Restore unsaved notes?",
                "Sori found notes edits that were not saved when it last closed.",
                ["Restore them", "Discard them"],
            )
        {
            self.session.apply(Command::Notes(NotesCmd::Restore(a)));
        }
    }

    pub(super) fn glossary_window(&mut self, ctx: &egui::Context) {
        let glossary = crate::notes::glossary::Glossary::bundled();
        let filter = &mut self.glossary_filter;
        egui::Window::new("Glossary")
            .open(&mut self.show_glossary)
            .default_width(460.0)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    ui.label("Search");
                    ui.text_edit_singleline(filter);
                });
                let f = filter.to_lowercase();
                let hit =
                    |s: &[&str]| f.is_empty() || s.iter().any(|x| x.to_lowercase().contains(&f));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.heading("Instruments");
                    for i in glossary.instruments.iter().filter(|i| {
                        hit(&[&i.id, &i.hangul, &i.romanization, &i.family, &i.description])
                    }) {
                        ui.label(
                            RichText::new(format!(
                                "{} ({}) — {}",
                                i.hangul, i.romanization, i.family
                            ))
                            .strong(),
                        );
                        ui.label(&i.description);
                        ui.label(RichText::new(format!("Range: {}", i.range)).small());
                        ui.label(
                            RichText::new(format!("Lane: {}  ·  Source: {}", i.lane, i.source))
                                .small()
                                .weak(),
                        );
                        ui.separator();
                    }
                    ui.heading("Terms");
                    for t in glossary
                        .terms
                        .iter()
                        .filter(|t| hit(&[&t.id, &t.hangul, &t.romanization, &t.description]))
                    {
                        ui.label(
                            RichText::new(format!("{} ({})", t.hangul, t.romanization)).strong(),
                        );
                        ui.label(&t.description);
                        ui.label(
                            RichText::new(format!("Source: {}", t.source))
                                .small()
                                .weak(),
                        );
                        ui.separator();
                    }
                });
            });
    }

    /// Shows a file dialog; its answer is acted on by [`Self::dialog_answer`].
    pub(super) fn file_dialog(&mut self, kind: Dialog) {
        if self.dialog.is_some() {
            return;
        }
        let notes_filter = &crate::notes::interchange::Format::extensions();
        let dlg = rfd::FileDialog::new();
        let dlg = match kind {
            Dialog::OpenAudio => dlg
                .set_title("Open audio file")
                .add_filter("Audio", AUDIO_EXTENSIONS)
                .add_filter("All files", &["*"]),
            Dialog::OpenNotes => dlg
                .set_title("Open or import notes")
                .add_filter("Notes", notes_filter),
            Dialog::SaveNotesAs => dlg
                .set_title("Save notes as")
                .add_filter("Notes", notes_filter)
                .set_file_name("notes.sori.toml"),
            Dialog::ExportNotes => dlg
                .set_title("Export notes (format by extension)")
                .add_filter("Notes", notes_filter),
            Dialog::ExportPicture(_) => dlg
                .set_title("Export picture")
                .add_filter("PNG image", &["png"])
                .set_file_name(format!(
                    "{}.png",
                    self.session
                        .track()
                        .map(|t| t.title())
                        .unwrap_or_else(|| "sori".into())
                )),
            Dialog::NoteImage(_) => dlg
                .set_title("Choose an image for the note")
                .add_filter("Images", &["png", "jpg", "jpeg"]),
        };
        let folder = match kind {
            Dialog::OpenAudio => self.session.settings().last_folder.clone(),
            _ => self.session.notes().base_dir(),
        };
        let dlg = match folder {
            Some(dir) => dlg.set_directory(dir),
            None => dlg,
        };
        let run = move || match kind {
            Dialog::OpenAudio | Dialog::OpenNotes | Dialog::NoteImage(_) => dlg.pick_file(),
            Dialog::SaveNotesAs | Dialog::ExportNotes | Dialog::ExportPicture(_) => dlg.save_file(),
        };
        // macOS needs dialogs on the main thread; elsewhere keep the UI responsive.
        if cfg!(target_os = "macos") {
            if let Some(p) = run() {
                self.dialog_answer(kind, p);
            }
            return;
        }
        let (tx, rx) = channel();
        if std::thread::Builder::new()
            .name("sori-dialog".into())
            .spawn(move || {
                let _ = tx.send(run());
            })
            .is_ok()
        {
            self.dialog = Some((kind, rx));
        } else {
            self.session.apply(Command::Notify {
                text: "The file dialog could not be opened.".into(),
                error: true,
            });
        }
    }

    pub(super) fn dialog_answer(&mut self, kind: Dialog, p: PathBuf) {
        match kind {
            Dialog::OpenAudio => self.open_track(Command::Open(p)),
            Dialog::OpenNotes => self.session.apply(Command::Notes(NotesCmd::Open(p))),
            Dialog::NoteImage(index) => self
                .session
                .apply(Command::Notes(NotesCmd::SetImage { index, picked: p })),
            Dialog::SaveNotesAs => self.session.apply(Command::Notes(NotesCmd::SaveAs(p))),
            Dialog::ExportNotes => self.session.apply(Command::Notes(NotesCmd::Export(p))),
            Dialog::ExportPicture(o) => self.export_picture(o, p),
        }
    }

    /// Draws the picture on a worker thread with the same code as `sori render`; the notice
    /// says when it is written.
    pub(super) fn export_picture(&mut self, o: ExportOptions, path: PathBuf) {
        let Some(track) = self.session.track().cloned() else {
            return;
        };
        let path = if path.extension().is_none() {
            path.with_extension("png")
        } else {
            path
        };
        let (from, to) = if o.whole_track {
            (0.0, None)
        } else {
            let v = self.session.view();
            (v.start_s.max(0.0), Some(v.start_s + v.len_s))
        };
        let s = &self.session.settings();
        let opts = crate::render::picture::PictureOptions {
            width: o.size.0,
            height: o.size.1,
            from_s: from,
            to_s: to,
            colormap: s.colormap,
            db: s.db,
            params: s.spec_params(),
            title: track.title(),
            notes: self.session.notes().doc().notes.clone(),
            lanes: track.lens().map(|l| l.lanes.clone()).unwrap_or_default(),
        };
        let done = self.session.background_notices();
        let spawned = std::thread::Builder::new()
            .name("sori-export-picture".into())
            .spawn(move || {
                let msg = (|| {
                    let peaks = track
                        .peaks
                        .read()
                        .map_err(|_| "the waveform is unavailable".to_string())?;
                    let ov = track
                        .overview
                        .read()
                        .map_err(|_| "the spectrogram is unavailable".to_string())?;
                    let img = crate::render::picture::render_picture(
                        &track.store,
                        &peaks,
                        Some(&ov),
                        &opts,
                    );
                    crate::render::save_png(&path, &img).map_err(|e| e.to_string())?;
                    Ok::<_, String>(())
                })();
                let _ = done.send(match msg {
                    Ok(()) => (format!("Picture exported to {}.", path.display()), false),
                    Err(e) => (
                        format!(
                            "The picture could not be exported to {} ({e}).",
                            path.display()
                        ),
                        true,
                    ),
                });
            });
        if spawned.is_err() {
            self.session.apply(Command::Notify {
                text: "The picture could not be exported (no worker thread).".into(),
                error: true,
            });
        }
    }

    pub(super) fn export_window(&mut self, ctx: &egui::Context) {
        let Some(mut o) = self.export else { return };
        let mut open = true;
        let mut go = false;
        egui::Window::new("Export picture")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label("Waveform, spectrogram, lens lanes and note regions with their titles.");
                ui.radio_value(&mut o.whole_track, false, "The current view");
                ui.radio_value(&mut o.whole_track, true, "The whole track");
                ui.separator();
                for sz in EXPORT_SIZES {
                    let label = match sz.0 {
                        3840 => format!("{} × {} (4K)", sz.0, sz.1),
                        _ => format!("{} × {}", sz.0, sz.1),
                    };
                    ui.radio_value(&mut o.size, sz, label);
                }
                ui.separator();
                go = ui.button("Export…").clicked();
            });
        self.export = if open && !go { Some(o) } else { None };
        if go {
            self.file_dialog(Dialog::ExportPicture(o));
        }
    }
}

/// A modal question with two answers: `Some(true)` for the first, `Some(false)` for the
/// second, `None` while unanswered.
pub(super) fn ask(
    ctx: &egui::Context,
    id: &str,
    heading: &str,
    text: &str,
    answers: [&str; 2],
) -> Option<bool> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.heading(heading);
        ui.label(text);
        ui.horizontal(|ui| {
            if ui.button(answers[0]).clicked() {
                answer = Some(true);
            }
            if ui.button(answers[1]).clicked() {
                answer = Some(false);
            }
        });
    });
    answer
}
