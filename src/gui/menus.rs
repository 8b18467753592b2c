//! The menu bar: File, View, Playback, Lens, Help.

use super::*;

impl SoriApp {
    pub(super) fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    self.file_dialog(Dialog::OpenAudio);
                    ui.close();
                }
                ui.menu_button("Open recent", |ui| {
                    if self.session.settings().recent.is_empty() {
                        ui.label("No recent files");
                    }
                    let mut pick = None;
                    for p in &self.session.settings().recent {
                        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        if ui.button(name).on_hover_text(p.display().to_string()).clicked() {
                            pick = Some(p.clone());
                        }
                    }
                    if let Some(p) = pick {
                        self.open_track(Command::Open(p));
                        ui.close();
                    }
                    if !self.session.settings().recent.is_empty() && ui.button("Clear list").clicked() {
                        self.session.apply(Command::ClearRecent);
                    }
                });
                if ui.button("Open demo").clicked() {
                    self.open_track(Command::OpenDemo);
                    ui.close();
                }
                ui.separator();
                if ui.button("Open or import notes…").clicked() {
                    self.file_dialog(Dialog::OpenNotes);
                    ui.close();
                }
                if ui.button("Save notes  (Ctrl+S)").clicked() {
                    self.session.apply(Command::Notes(NotesCmd::Save));
                    ui.close();
                }
                if ui.button("Save notes as…").clicked() {
                    self.file_dialog(Dialog::SaveNotesAs);
                    ui.close();
                }
                if ui.button("Export notes… (Audacity .txt, Sonic Visualiser .csv, .vtt, .srt, .jams, .TextGrid)").clicked() {
                    self.file_dialog(Dialog::ExportNotes);
                    ui.close();
                }
                if ui.add_enabled(self.session.track().is_some(), egui::Button::new("Export picture…")).clicked() {
                    self.export = Some(ExportOptions { whole_track: false, size: (1920, 1080) });
                    ui.close();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.label("Colour map");
                for m in ColorMap::ALL {
                    if ui.radio(self.session.settings().colormap == m, m.label()).clicked() {
                        self.session.apply(Command::SetColorMap(m));
                    }
                }
                ui.separator();
                ui.label("FFT window");
                for w in WINDOW_SIZES {
                    if ui.radio(self.session.settings().window == w, format!("{w} samples")).clicked() {
                        self.session.apply(Command::SetWindow(w));
                    }
                }
                ui.separator();
                let mut db = self.session.settings().db;
                ui.add(egui::Slider::new(&mut db.floor, -127.0..=-20.0).text("dB floor"));
                ui.add(egui::Slider::new(&mut db.ceiling, -40.0..=20.0).text("dB ceiling"));
                if db != self.session.settings().db {
                    self.session.apply(Command::SetDbRange(db));
                }
                if ui.button("Reset dB range").clicked() {
                    self.session.apply(Command::SetDbRange(DbRange::default()));
                }
                ui.separator();
                if ui.button("Zoom to fit  (F)").clicked() {
                    self.session.apply(Command::ZoomToFit);
                }
                if ui.button("Zoom to selection  (Z)").clicked() {
                    self.session.apply(Command::ZoomToSelection);
                }
                let mut follow = self.session.follow();
                if ui.checkbox(&mut follow, "Follow playhead").changed() {
                    self.session.apply(Command::SetFollow(follow));
                }
                ui.separator();
                ui.label("Theme");
                for t in Theme::ALL {
                    if ui.radio(self.session.settings().theme == t, t.label()).clicked() {
                        self.session.apply(Command::SetTheme(t));
                    }
                }
                ui.horizontal(|ui| {
                    ui.label(format!("Text size {:.0} %", self.session.settings().text_scale * 100.0));
                    if ui.button("Larger").on_hover_text("Ctrl+=").clicked() {
                        self.session.apply(Command::ScaleText(TEXT_SCALE_STEP));
                    }
                    if ui.button("Smaller").on_hover_text("Ctrl+−").clicked() {
                        self.session.apply(Command::ScaleText(1.0 / TEXT_SCALE_STEP));
                    }
                    if ui.button("Reset").on_hover_text("Ctrl+0").clicked() {
                        self.session.apply(Command::ScaleText(1.0));
                    }
                });
                ui.separator();
                if ui.button("Presentation  (F5)").clicked() {
                    ui.close();
                    let cmds = self.present.enter(ui.ctx(), &self.session);
                    self.apply_all(ui.ctx(), cmds);
                }
            });
            ui.menu_button("Playback", |ui| {
                if ui.button("Play / pause  (Space)").clicked() {
                    self.session.apply(Command::TogglePlay);
                }
                if ui.button("Stop").clicked() {
                    self.session.apply(Command::Stop);
                }
                if ui.button("Loop selection  (L)").clicked() {
                    self.session.apply(Command::ToggleLoop);
                }
                if ui.button("Loop the current note  (N)").clicked() {
                    self.session.apply(Command::LoopNote);
                }
                let mut pause = self.session.settings().pause_at_note_end;
                if ui.checkbox(&mut pause, "Presentation: pause at the end of each note").changed() {
                    self.session.apply(Command::SetPauseAtNoteEnd(pause));
                }
                if ui.button("Retry audio device").clicked() {
                    self.session.apply(Command::RetryAudio);
                }
            });
            ui.menu_button("Lens", |ui| {
                let mut on = self.session.settings().tagger;
                if ui
                    .checkbox(&mut on, "Second opinion from the AudioSet tagger")
                    .on_hover_text(
                        "CED-Tiny listens to the track in 10-second windows in the background; the lanes \
                         weigh its classes with the signal measurements. Off: signal measurements alone.",
                    )
                    .changed()
                {
                    self.session.apply(Command::SetTagger(on));
                }
                ui.separator();
                if ui.button("Find similar to the selection  (Ctrl+F)").clicked() {
                    self.session.apply(Command::FindSimilar);
                }
                if ui.button("Clear similar").clicked() {
                    self.session.apply(Command::ClearSimilar);
                }
                ui.separator();
                ui.label("Tint the spectrogram with");
                let mut tint = self.session.tint();
                ui.radio_value(&mut tint, None, "no lane");
                for (k, l) in crate::analysis::lens::LANES.iter().enumerate() {
                    ui.radio_value(&mut tint, Some(k), l.label);
                }
                if tint != self.session.tint() {
                    self.session.apply(Command::SetTint(tint));
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Glossary of instruments and terms").clicked() {
                    self.show_glossary = true;
                }
                if ui.button("Keyboard shortcuts").clicked() {
                    self.show_shortcuts = true;
                }
                if ui.button("About Sori").clicked() {
                    self.show_about = true;
                }
            });
        });
    }
}
