//! [`Session::apply`]: where each [`Command`] changes the session, in one place.

use super::*;

impl Session {
    pub fn apply(&mut self, cmd: Command) {
        let t = self.player.transport.clone();
        let rate = self.sample_rate();
        match cmd {
            // A notes file opens with its recording, found next to it by name.
            Command::Open(path) if crate::notes::native::is_sidecar(&path) => {
                match crate::notes::native::audio_for_sidecar(&path, crate::audio::AUDIO_EXTENSIONS) {
                    Some(audio) => self.apply(Command::OpenWithNotes {
                        source: Source::File(audio),
                        notes: path,
                    }),
                    None => self.notify(
                        format!(
                            "No recording named like {} next to it: open the audio file, and Sori opens its notes with it.",
                            path.file_name().unwrap_or_default().to_string_lossy()
                        ),
                        true,
                    ),
                }
            }
            Command::Open(path) => {
                self.settings.add_recent(&path);
                self.start_load(Source::File(path));
            }
            Command::OpenDemo => self.start_load(Source::Demo),
            Command::OpenWithNotes { source, notes } => {
                if let Source::File(path) = &source {
                    self.settings.add_recent(path);
                }
                self.start_load(source);
                self.notes_override = Some(notes);
            }
            Command::Play => {
                self.pause_at = None;
                if self.track.is_some() {
                    if t.reached_end()
                        || self.position_s() >= self.duration_s() - 1e-3 && self.track_complete()
                    {
                        t.seek(0);
                    }
                    t.set_playing(true);
                }
            }
            Command::Pause => {
                self.pause_at = None;
                t.set_playing(false);
            }
            Command::TogglePlay => {
                let cmd = if t.is_playing() {
                    Command::Pause
                } else {
                    Command::Play
                };
                self.apply(cmd);
            }
            Command::Stop => {
                self.pause_at = None;
                t.set_playing(false);
                let back = if t.loop_on() { t.loop_range().0 } else { 0 };
                t.seek(back);
            }
            Command::Seek(s) => {
                let s = s.clamp(0.0, self.duration_s());
                t.seek((s * rate).round() as u64);
            }
            Command::Nudge(d) => self.apply(Command::Seek(self.position_s() + d)),
            Command::SetSelection(sel) => {
                self.selection = sel.and_then(|(a, b)| {
                    let (a, b) = (a.min(b).max(0.0), a.max(b).min(self.duration_s()));
                    (b - a > 0.0).then_some((a, b))
                });
                if t.loop_on() {
                    match self.selection {
                        Some((a, b)) => t.set_loop(true, (a * rate) as u64, (b * rate) as u64),
                        None => t.set_loop(false, 0, 0),
                    }
                }
            }
            Command::ToggleLoop => {
                if t.loop_on() {
                    t.set_loop(false, 0, 0);
                } else if self.track.is_some() {
                    let (a, b) = self.selection.unwrap_or((0.0, self.duration_s()));
                    self.start_loop(a, b);
                }
            }
            Command::SetVolume(v) => {
                t.set_volume(v);
                self.settings.volume = t.volume();
            }
            Command::Zoom { factor, anchor_s } => {
                if !(factor.is_finite() && factor > 0.0) {
                    return;
                }
                let min_len = MIN_VIEW_FRAMES / rate;
                let max_len = self.total_s().max(min_len);
                let len = (self.view.len_s / factor).clamp(min_len, max_len);
                let frac = ((anchor_s - self.view.start_s) / self.view.len_s).clamp(0.0, 1.0);
                self.view.len_s = len;
                self.view.start_s = anchor_s - frac * len;
                self.clamp_view();
            }
            Command::ShowRange { from_s, to_s } => {
                if !(from_s.is_finite() && to_s.is_finite()) {
                    return;
                }
                let min_len = MIN_VIEW_FRAMES / rate;
                let max_len = self.total_s().max(min_len);
                self.view = View {
                    start_s: from_s,
                    len_s: (to_s - from_s).clamp(min_len, max_len),
                };
                self.clamp_view();
            }
            Command::ScrollTo(start) => {
                self.view.start_s = start;
                self.clamp_view();
            }
            Command::ZoomToFit => {
                self.view = View {
                    start_s: 0.0,
                    len_s: self.total_s().max(MIN_VIEW_FRAMES / rate),
                };
            }
            Command::ZoomToSelection => {
                if let Some((a, b)) = self.selection {
                    let pad = (b - a) * 0.05;
                    self.view = View {
                        start_s: a - pad,
                        len_s: (b - a + 2.0 * pad).max(MIN_VIEW_FRAMES / rate),
                    };
                    self.clamp_view();
                }
            }
            Command::SetColorMap(m) => self.settings.colormap = m,
            Command::SetDbRange(r) => {
                let floor = r.floor.clamp(-127.0, -10.0);
                let ceiling = r.ceiling.clamp(floor + 10.0, 20.0);
                self.settings.db = DbRange { floor, ceiling };
            }
            Command::SetWindow(w) => {
                if WINDOW_SIZES.contains(&w) && w != self.settings.window {
                    self.settings.window = w;
                    self.rebuild_overview();
                }
            }
            Command::SetTagger(on) => {
                self.settings.tagger = on;
                self.tagger_on
                    .store(on, std::sync::atomic::Ordering::Relaxed);
                match (&self.track, on) {
                    (Some(t), false) => t.clear_tags(),
                    // A track opened with the tagger off is tagged now, in the background.
                    (Some(t), true) if t.lens().is_some() && t.tags().is_none() => {
                        if let Err(e) = t.spawn_tagger(self.tagger_on.clone()) {
                            self.notices.push(Notice {
                                text: format!("The tagger could not start ({e})."),
                                error: true,
                            });
                        }
                    }
                    _ => {}
                }
            }
            Command::RetryAudio => {
                self.last_device = None;
                self.player.reopen();
            }
            Command::SetTint(lane) => self.tint = lane.filter(|&i| i < LANES.len()),
            Command::FindSimilar => {
                self.clear_similar();
                let Some((a, b)) = self.selection else {
                    self.notify(
                        "Select a region first: Find similar looks for its timbre.",
                        false,
                    );
                    return;
                };
                let Some(lens) = self.track.as_ref().and_then(|t| t.lens()) else {
                    self.notify("The fusion lens is still measuring this track.", false);
                    return;
                };
                // Over what the lens already measured (the tagger's hidden features once
                // it has heard the track, else the per-block cues): a lookup, no DSP.
                self.similar = if lens.timbre.is_empty() {
                    find_similar(&lens.blocks, a, b, 5)
                } else {
                    find_similar_by_timbre(&lens.blocks, &lens.timbre, TIMBRE_HOP_S, a, b, 5)
                };
                self.similar_query = Some((a.min(b), a.max(b)));
                if self.similar.is_empty() {
                    self.notify(
                        "Nothing similar found: choose a region shorter than half the track.",
                        false,
                    );
                }
            }
            Command::ClearSimilar => self.clear_similar(),
            Command::SetPractice(p) => {
                t.set_practice(p);
                if !t.practice_available() && !p.clamped().is_neutral() {
                    self.notify(
                        "Speed and transposition need a recording sampled at 32 kHz or more; this one plays as it is.",
                        false,
                    );
                }
            }
            Command::LoopNote => {
                if t.loop_on() {
                    t.set_loop(false, 0, 0);
                    return;
                }
                // the note at the playhead, else the selected one, else the next one
                let pos = self.position_s();
                let next = self.notes.doc().next_start(pos - 1e-3).and_then(|s| {
                    self.notes.doc().notes.iter().position(|n| n.start == s)
                });
                let Some(n) = self
                    .current_note()
                    .or(self.notes.selected)
                    .or(next)
                    .and_then(|i| self.notes.doc().notes.get(i))
                else {
                    self.notify("There is no note to loop.", false);
                    return;
                };
                let (a, b) = (n.start, n.end.unwrap_or(n.start + POINT_HOLD_S));
                let b = b.min(self.duration_s());
                if b > a {
                    self.selection = Some((a, b));
                    self.start_loop(a, b);
                }
            }
            Command::ScaleText(f) => {
                let s = &mut self.settings.text_scale;
                *s = if f == 1.0 || !f.is_finite() {
                    1.0
                } else {
                    (*s * f).clamp(TEXT_SCALE_MIN, TEXT_SCALE_MAX)
                };
            }
            Command::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
            Command::Notify { text, error } => self.notify(text, error),
            Command::ClearRecent => self.settings.recent.clear(),
            Command::SetFollow(on) => self.follow = on,
            Command::SetTheme(theme) => self.settings.theme = theme,
            Command::SetPauseAtNoteEnd(on) => {
                self.settings.pause_at_note_end = on;
                if !on {
                    self.pause_at = None;
                }
            }
            Command::PlayOnPastNoteEnd => self.pause_at = None,
            Command::SetPresenting(on) => {
                self.presenting = on;
                self.pause_at = None;
            }
            Command::PlayNote(i) => {
                let Some(n) = self.notes.doc().notes.get(i) else {
                    return;
                };
                // where the note ends: its region's end, else the next note's start
                let end = n.end.or_else(|| self.notes.doc().next_start(n.start));
                self.apply(Command::Notes(NotesCmd::Seek(i)));
                self.apply(Command::Play);
                if self.presenting && self.settings.pause_at_note_end {
                    self.pause_at = end;
                }
            }
            Command::Notes(cmd) => self.apply_notes(cmd),
        }
    }

    /// The demo's notes show a picture of the haegeum passage: Sori draws it with its own
    /// renderer into the data folder the first time the demo is analysed.
    pub(super) fn make_demo_picture(&mut self) {
        let Some(track) = &self.track else { return };
        if track.source != Source::Demo || !track.analysis_done() || self.demo_picture_started {
            return;
        }
        self.demo_picture_started = true;
        let Some(dir) = notes_state::demo_notes_path()
            .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        else {
            return;
        };
        let out = dir.join("demo-haegeum.png");
        if out.exists() {
            return;
        }
        let _ = track.spawn_demo_picture(dir, out);
    }

    pub(super) fn find_note(&self, n: &Note) -> Option<usize> {
        self.notes.doc().notes.iter().position(|x| x == n)
    }

    /// Adds `n` (times rounded to the millisecond) as one undo step and selects it.
    pub(super) fn add_note(&mut self, mut n: Note) {
        n.start = (n.start * 1000.0).round() / 1000.0;
        n.end = n.end.map(|e| (e * 1000.0).round() / 1000.0);
        self.notes.editor.end_gesture();
        self.notes.editor.edit(|d| d.notes.push(n.clone()));
        self.notes.selected = self.find_note(&n);
    }

    /// Loops `[a, b)` seconds; a playhead outside the loop goes to its start.
    pub(super) fn start_loop(&mut self, a: f64, b: f64) {
        let t = &self.player.transport;
        let rate = self.sample_rate();
        t.set_loop(true, (a * rate) as u64, (b * rate) as u64);
        let pos = self.position_s();
        if pos < a || pos >= b {
            t.seek((a * rate) as u64);
        }
    }

    pub(super) fn clear_similar(&mut self) {
        self.similar.clear();
        self.similar_query = None;
    }

    pub(super) fn apply_notes(&mut self, cmd: NotesCmd) {
        // Edits need a track; what keeps edits safe does not.
        if self.track.is_none() && !matches!(cmd, NotesCmd::Discard | NotesCmd::KeepForRecovery) {
            return;
        }
        match cmd {
            NotesCmd::Add => {
                let n = match self.selection {
                    Some((a, b)) => Note::region(a, b, "New note"),
                    None => Note::point(self.position_s(), "New note"),
                };
                self.add_note(n);
            }
            NotesCmd::DraftFromSegment { lane, segment } => {
                let Some(lens) = self.track.as_ref().and_then(|t| t.lens()) else {
                    return;
                };
                let (Some(l), Some(info)) = (lens.lanes.get(lane), LANES.get(lane)) else {
                    return;
                };
                let Some(seg) = l.segments.get(segment) else {
                    return;
                };
                let mut n = Note::region(seg.start_s, seg.end_s, info.label);
                n.category = match info.family {
                    crate::analysis::lens::Family::Korean => crate::notes::Category::Traditional,
                    crate::analysis::lens::Family::Pop => crate::notes::Category::Pop,
                };
                if !info.instrument.is_empty() {
                    n.instruments = vec![info.instrument.to_string()];
                }
                n.body = format!(
                    "Draft from the fusion lens (score {:.2}): {}",
                    seg.score, seg.evidence
                );
                if !seg.closest.is_empty() {
                    let cited: Vec<String> = seg.closest.iter().map(|c| c.describe()).collect();
                    n.body
                        .push_str(&format!("\nClosest references: {}.", cited.join("; ")));
                }
                self.add_note(n);
            }
            NotesCmd::Delete(i) => {
                if i < self.notes.doc().notes.len() {
                    self.notes.editor.end_gesture();
                    self.notes.editor.edit(|d| d.notes.remove(i));
                    self.notes.selected = None;
                }
            }
            NotesCmd::Select(i) => {
                self.notes.selected = i.filter(|&i| i < self.notes.doc().notes.len())
            }
            NotesCmd::Seek(i) => {
                if let Some(n) = self.notes.doc().notes.get(i) {
                    let start = n.start;
                    self.apply(Command::Seek(start));
                    self.notes.selected = Some(i);
                }
            }
            NotesCmd::Next | NotesCmd::Prev => {
                let pos = self.position_s();
                let target = if cmd == NotesCmd::Next {
                    self.notes.doc().next_start(pos)
                } else {
                    self.notes.doc().prev_start(pos)
                };
                if let Some(t) = target {
                    self.apply(Command::Seek(t));
                    self.notes.selected = self.current_note();
                }
            }
            NotesCmd::Update {
                index,
                note,
                coalesce,
            } => {
                if index >= self.notes.doc().notes.len() || self.notes.doc().notes[index] == note {
                    return;
                }
                let mut note = note;
                if !(note.start.is_finite() && note.start >= 0.0) {
                    return;
                }
                if let Some(e) = note.end {
                    if !e.is_finite() {
                        return;
                    }
                    if e < note.start {
                        note.end = Some(note.start);
                    }
                }
                if coalesce {
                    self.notes.editor.begin_gesture();
                } else {
                    self.notes.editor.end_gesture();
                }
                let n2 = note.clone();
                self.notes.editor.edit(move |d| d.notes[index] = n2);
                self.notes.selected = self.find_note(&note);
            }
            NotesCmd::EndEdit => self.notes.editor.end_gesture(),
            NotesCmd::SetImage { index, picked } => {
                let Some(mut note) = self.notes.doc().notes.get(index).cloned() else {
                    return;
                };
                let Some(base) = self.notes.base_dir() else {
                    self.notify("These notes have no folder yet: save them first.", true);
                    return;
                };
                match crate::notes::links::adopt_image(&base, &picked) {
                    Ok(rel) => {
                        note.image = Some(rel);
                        self.apply_notes(NotesCmd::Update {
                            index,
                            note,
                            coalesce: false,
                        });
                    }
                    Err(e) => self.notify(format!("That image could not be used ({e})."), true),
                }
            }
            NotesCmd::Undo => {
                self.notes.editor.undo();
                self.notes.selected = self
                    .notes
                    .selected
                    .filter(|&i| i < self.notes.doc().notes.len());
            }
            NotesCmd::Redo => {
                self.notes.editor.redo();
                self.notes.selected = self
                    .notes
                    .selected
                    .filter(|&i| i < self.notes.doc().notes.len());
            }
            NotesCmd::Save => match self.notes.save() {
                Ok(msg) => self.notify(msg, false),
                Err(e) => self.notify(e.to_string(), true),
            },
            NotesCmd::SaveAs(p) => match self.notes.save_as(p) {
                Ok(msg) => self.notify(msg, false),
                Err(e) => self.notify(e.to_string(), true),
            },
            NotesCmd::Open(p) => {
                let Some(t) = self.track.clone() else { return };
                let (st, notice) = NotesState::load_for(&t.source, Some(&p));
                self.notes = st;
                if let Some(n) = notice {
                    self.notify(n, self.notes.load_error.is_some());
                }
            }
            NotesCmd::Export(p) => {
                let Some(format) = crate::notes::interchange::Format::from_path(&p) else {
                    self.notify(format!("{}: unknown notes format.", p.display()), true);
                    return;
                };
                let (text, warnings) = crate::notes::interchange::export(self.notes.doc(), format);
                match crate::notes::save::atomic_write(&p, text.as_bytes()) {
                    Ok(()) => {
                        let mut msg = format!("Notes exported to {}.", p.display());
                        for w in warnings {
                            msg.push(' ');
                            msg.push_str(&w);
                        }
                        self.notify(msg, false);
                    }
                    Err(e) => self.notify(
                        format!("The notes could not be exported to {} ({e}).", p.display()),
                        true,
                    ),
                }
            }
            NotesCmd::Restore(restore) => self.notes.answer_recovery(restore),
            NotesCmd::Reload(reload) => {
                let Some(t) = self.track.clone() else { return };
                if let Some(n) = self.notes.answer_disk_change(reload, &t.source) {
                    self.notify(n, true);
                }
            }
            NotesCmd::Discard => {
                // Not saved, not lost: the recovery copy keeps them for next time.
                self.notes.flush_recovery();
                self.notes.editor.mark_saved();
            }
            NotesCmd::KeepForRecovery => self.notes.flush_recovery(),
        }
    }
}
