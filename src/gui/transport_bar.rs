//! The transport bar: play, stop, loop, practice speed and transposition, the playhead,
//! volume, zoom, and the progress of an opening file.

use super::*;

impl SoriApp {
    pub(super) fn transport_bar(&mut self, ui: &mut egui::Ui) {
        let cmds = TransportBar.show(ui, &self.session);
        self.apply_all(ui.ctx(), cmds);
    }
}

/// The transport bar has no state of its own: it draws the session's and returns the
/// commands its controls ask for.
struct TransportBar;

impl TransportBar {
    fn show(&self, ui: &mut egui::Ui, session: &Session) -> Vec<Command> {
        let mut cmds = Vec::new();
        // wraps onto a second row in a narrow window rather than cutting controls off
        ui.horizontal_wrapped(|ui| {
            let playing = session.is_playing();
            let has_track = session.track().is_some();
            let label = if playing { "Pause" } else { "Play" };
            if ui
                .add_enabled(has_track, egui::Button::new(label))
                .on_hover_text("Space")
                .clicked()
            {
                cmds.push(Command::TogglePlay);
            }
            if ui
                .add_enabled(has_track, egui::Button::new("Stop"))
                .clicked()
            {
                cmds.push(Command::Stop);
            }
            let loop_on = session.loop_on();
            if ui
                .add_enabled(has_track, egui::Button::new("Loop").selected(loop_on))
                .on_hover_text("L: loop the selection (or the whole track)")
                .clicked()
            {
                cmds.push(Command::ToggleLoop);
            }
            if ui
                .add_enabled(has_track, egui::Button::new("Loop note"))
                .on_hover_text("N: loop the current note")
                .clicked()
            {
                cmds.push(Command::LoopNote);
            }
            if loop_on {
                ui.label(format!(
                    "pass {}",
                    session.player().transport.loop_passes() + 1
                ))
                .on_hover_text("Times through the loop so far");
            }
            ui.separator();
            practice_controls(ui, session, &mut cmds);
            ui.separator();
            let pos = session.position_s();
            let dur = session.duration_s();
            ui.label(
                RichText::new(format!(
                    "{} / {}",
                    format_time(pos, 0.01),
                    format_time(dur, 0.01)
                ))
                .monospace()
                .size(16.0),
            )
            .on_hover_text("Playhead / length");
            ui.label(if playing { "Playing" } else { "Paused" });
            ui.separator();
            let mut vol = session.player().transport.volume();
            ui.label("Volume");
            if ui
                .add(egui::Slider::new(&mut vol, 0.0..=1.5).show_value(false))
                .changed()
            {
                cmds.push(Command::SetVolume(vol));
            }
            ui.separator();
            if ui.button(" + ").on_hover_text("Zoom in (+)").clicked() {
                let v = session.view();
                cmds.push(Command::Zoom {
                    factor: 2.0,
                    anchor_s: v.start_s + v.len_s / 2.0,
                });
            }
            if ui.button(" - ").on_hover_text("Zoom out (-)").clicked() {
                let v = session.view();
                cmds.push(Command::Zoom {
                    factor: 0.5,
                    anchor_s: v.start_s + v.len_s / 2.0,
                });
            }
            if ui.button("Fit").on_hover_text("Whole track (F)").clicked() {
                cmds.push(Command::ZoomToFit);
            }
            if let Some(job) = &session.job() {
                ui.separator();
                let frac = job.progress.fraction();
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(180.0)
                        .show_percentage(),
                )
                .on_hover_text(format!("Opening {}", job.source.title()));
                ui.label(format!("Opening {}…", job.source.title()));
            }
        });
        cmds
    }
}

/// Speed (pitch held), transposition and varispeed, changeable while playing.
fn practice_controls(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>) {
    let t = &session.player().transport;
    let mut p = t.practice();
    let before = p;
    ui.label("Speed");
    ui.add(
        egui::Slider::new(
            &mut p.speed,
            crate::audio::stretch::SPEED_MIN..=crate::audio::stretch::SPEED_MAX,
        )
        .logarithmic(true)
        .fixed_decimals(2)
        .suffix("×"),
    )
    .on_hover_text("Playback speed; the pitch stays unless Varispeed is on");
    ui.add_enabled_ui(!p.varispeed, |ui| {
        ui.label("Transpose");
        ui.add(
            egui::Slider::new(
                &mut p.semitones,
                -crate::audio::stretch::SEMITONES_MAX..=crate::audio::stretch::SEMITONES_MAX,
            )
            .step_by(1.0)
            .suffix(" st"),
        )
        .on_hover_text("Semitones up or down, at the same speed");
    });
    ui.checkbox(&mut p.varispeed, "Varispeed")
        .on_hover_text("Pitch follows speed, as on a tape machine");
    if p != crate::audio::stretch::Practice::default()
        && ui
            .small_button("Reset")
            .on_hover_text("Normal speed and pitch")
            .clicked()
    {
        p = crate::audio::stretch::Practice::default();
    }
    if p != before {
        cmds.push(Command::SetPractice(p));
    }
}
