//! `make bench`: times the loading pipeline and prints medians.
//!
//! * decode alone (symphonia) vs decode + peak pyramid + whole-track spectrogram, as the app
//!   loads a file, and vs `sori analyze` (features measured while decoding, then the lens),
//!   for a 4-minute 44.1 kHz stereo MP3 made here with LAME;
//! * time from "open" to the first waveform (the first decoded chunk folded into the peaks);
//! * for a 3-hour 44.1 kHz stereo WAV made here: open → first waveform, and the peak RSS of
//!   a process that decodes it, and of one that opens and analyses it as the app does.
//!
//! `BENCH_FILE=song.mp3 make bench` adds the same rows for your own file; `BENCH_QUICK=1` skips
//! the 3-hour rows; `BENCH_KEEP=1` keeps the 3-hour WAV (and its notes) to open in the app;
//! `BENCH_FRAMES=file.wav` runs only the GUI frame-time rows on that file (making the 3-hour
//! WAV and its notes there first if it does not exist); `BENCH_SEEK=1` runs only the seek-latency
//! row (see `parts/seek.rs`; it needs PulseAudio and `parec`, and starts a private null sink
//! when no sound server runs); `BENCH_APP=file` runs only the real app's rows on that file
//! (idle CPU and peak RSS under Xvfb, see `parts/app.rs`); `BENCH_SCROLL=file` only the
//! underruns while the app plays that file and its view is zoomed and scrolled.
//!
//! The run ends with one summary table: each figure the project set a target for, the target,
//! and whether it is met (ratios beside the absolute times; `sori analyze` against
//! `ffmpeg -i f -f f32le /dev/null` as a user would time it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sori::analysis::spectrum::SpecParams;
use sori::audio::decode_file;
use sori::session::{LoadJob, LoadStatus, Source};

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "parts/seek.rs"]
mod seek;

#[path = "parts/app.rs"]
mod app;

const RUNS: usize = 9;

/// One line of the summary table printed at the end: what was measured, the figure, the
/// target the project set for it, and whether the figure meets it (`None`: not measured).
struct SummaryRow {
    what: String,
    figure: String,
    target: &'static str,
    met: Option<bool>,
}

static SUMMARY: std::sync::Mutex<Vec<SummaryRow>> = std::sync::Mutex::new(Vec::new());

fn summarize(what: impl Into<String>, figure: String, target: &'static str, met: Option<bool>) {
    if let Ok(mut v) = SUMMARY.lock() {
        v.push(SummaryRow {
            what: what.into(),
            figure,
            target,
            met,
        });
    }
}

fn print_summary() {
    let Ok(rows) = SUMMARY.lock() else { return };
    if rows.is_empty() {
        return;
    }
    let w = rows
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(0);
    let f = rows
        .iter()
        .map(|r| r.figure.chars().count())
        .max()
        .unwrap_or(0);
    let t = rows
        .iter()
        .map(|r| r.target.chars().count())
        .max()
        .unwrap_or(0);
    println!();
    println!("summary (medians of {RUNS} runs unless said)");
    println!("  {:w$}  {:f$}  {:t$}  met", "what", "figure", "target");
    for r in rows.iter() {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "not measured",
        };
        println!("  {:w$}  {:f$}  {:t$}  {met}", r.what, r.figure, r.target);
    }
}

/// `ffmpeg -i path -f f32le /dev/null`, the decode the analysis is compared with (median of
/// `runs`); `None` when ffmpeg is not installed.
fn ffmpeg_decode(path: &Path, runs: usize) -> Option<Duration> {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let ok = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(path)
            .args(["-f", "f32le", "-y", "/dev/null"])
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        v.push(t.elapsed());
    }
    Some(median(v))
}

/// `a / b`, with the ratio and both figures, for the summary.
fn ratio_figure(a: Duration, b: Duration) -> (f64, String) {
    let r = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    (r, format!("{r:.2}x ({} vs {})", ms(a), ms(b)))
}

/// The 95th percentile of `sorted` (the largest of fewer than 20).
fn p95(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    sorted
        .get((n * 95 / 100).min(n.saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// This bench run again in child mode (`SORI_BENCH_RSS_CHILD`) on `path`: the numbers it
/// prints (see `main`).
fn child(path: &Path, mode: &str) -> Vec<u64> {
    let exe = std::env::current_exe().expect("bench exe");
    let out = std::process::Command::new(&exe)
        .env("SORI_BENCH_RSS_CHILD", path)
        .env("SORI_BENCH_MODE", mode)
        .output()
        .expect("child");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|s| s.parse::<u64>().unwrap_or(0))
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The bench's "song": a few tones, a noise burst pattern and silence gaps, stereo, one frame
/// at a time (so that hours of it never sit in memory).
struct Song {
    rate: u32,
    i: u64,
    seed: u64,
}

impl Song {
    fn new(rate: u32) -> Self {
        Self {
            rate,
            i: 0,
            seed: 1,
        }
    }
}

impl Iterator for Song {
    type Item = (f32, f32);
    fn next(&mut self) -> Option<(f32, f32)> {
        let t = self.i as f64 / self.rate as f64;
        self.i += 1;
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = ((self.seed >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 0.2;
        let beat = (-(t % 0.5) / 0.05).exp();
        let f = 220.0 * 2f64.powf(((t / 2.0) as i64 % 12) as f64 / 12.0);
        let s = 0.3 * (2.0 * std::f64::consts::PI * f * t).sin() + noise * beat;
        Some((s as f32, (s * 0.8) as f32))
    }
}

fn song(rate: u32, secs: f64) -> Vec<f32> {
    let frames = (rate as f64 * secs) as usize;
    Song::new(rate)
        .take(frames)
        .flat_map(|(l, r)| [l, r])
        .collect()
}

/// Writes `secs` of the song as a 16-bit stereo WAV, streamed to disk.
fn long_wav(path: &Path, rate: u32, secs: f64) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("bench WAV");
    for (l, r) in Song::new(rate).take((rate as f64 * secs) as usize) {
        for x in [l, r] {
            w.write_sample((x.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .expect("bench WAV");
        }
    }
    w.finalize().expect("bench WAV");
}

/// Opens `path` as the app does. Returns the times until the decoded store, peaks and
/// overview spectrogram are complete; until the first waveform data; until the lens's
/// features are measured too; and until the fusion lens is done.
fn load(path: &Path) -> (Duration, Duration, Duration, Duration) {
    let t0 = Instant::now();
    let job = LoadJob::start(
        Source::File(path.to_path_buf()),
        SpecParams::default(),
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let status = job.wait();
    let total = t0.elapsed();
    if let LoadStatus::Failed(e) = status {
        panic!("{e}");
    }
    let first = job
        .first_audio
        .lock()
        .ok()
        .and_then(|f| *f)
        .unwrap_or(total);
    let (mut features, mut lens) = (total, total);
    if let Some(t) = job.track() {
        while !t.features_measured() {
            std::thread::sleep(Duration::from_millis(1));
        }
        features = t0.elapsed();
        while t.lens_busy() {
            std::thread::sleep(Duration::from_millis(1));
        }
        lens = t0.elapsed();
    }
    (total, first, features, lens)
}

fn rows(label: &str, path: &Path, targets: bool) {
    let decode = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                decode_file(path).expect("decode");
                t.elapsed()
            })
            .collect(),
    );
    let (mut totals, mut firsts, mut feats, mut lenses) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let (t, f, fe, l) = load(path);
        totals.push(t);
        firsts.push(f);
        feats.push(fe);
        lenses.push(l);
    }
    let (total, first) = (median(totals), median(firsts));
    let (feats, lenses) = (median(feats), median(lenses));
    let ratio = |d: Duration| d.as_secs_f64() / decode.as_secs_f64();
    println!("{label}");
    println!(
        "  decode alone (median of {RUNS})                       {}",
        ms(decode)
    );
    println!(
        "  decode + peaks + full spectrogram (median of {RUNS})  {}",
        ms(total)
    );
    println!(
        "  ratio to decode alone                                {:.2}x",
        ratio(total)
    );
    println!(
        "  ... + the lens's frame features, as the app opens it  {} ({:.2}x decode alone)",
        ms(feats),
        ratio(feats)
    );
    println!(
        "  ... + the fusion lens, as the app opens it            {} ({:.2}x decode alone)",
        ms(lenses),
        ratio(lenses)
    );
    println!(
        "  open -> first waveform data (median of {RUNS})        {}",
        ms(first)
    );
    // What `sori analyze` does: decode while measuring every feature, then the fusion-lens lanes.
    let analyze = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(sori::analysis::lens::analyze_file(path).expect("analyze"));
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "  decode + features + lens (sori analyze, median of {RUNS}) {}",
        ms(analyze)
    );
    if targets {
        let (r, fig) = ratio_figure(analyze, decode);
        summarize(
            format!("analyze --no-tagger vs symphonia decode, {label}"),
            fig,
            "<= 1.3x",
            Some(r <= 1.3),
        );
        summarize(
            format!("open -> first waveform, {label}"),
            ms(first),
            "< 100 ms",
            Some(first < Duration::from_millis(100)),
        );
    }
    println!(
        "  ratio to decode alone                                {:.2}x",
        analyze.as_secs_f64() / decode.as_secs_f64()
    );
    // The same with the AudioSet tagger beside the lens (its plan built once beforehand, as
    // in the app, where one tagger serves every track).
    let Ok(tagger) = sori::analysis::tagger::Tagger::new() else {
        println!("  (the tagger could not be loaded)");
        return;
    };
    let threads = sori::parallel::cores();
    let tagged = |_| {
        let t = Instant::now();
        let (_, _, lens, tags) =
            sori::analysis::lens::analyze_file_tagged(path, Some(&tagger), threads)
                .expect("analyze");
        std::hint::black_box((lens, tags.map(|t| t.expect("tagged"))));
        t.elapsed()
    };
    tagged(0);
    let with_tagger = median((0..RUNS).map(tagged).collect());
    println!(
        "  the same with the tagger (median of {RUNS})            {}",
        ms(with_tagger)
    );
    if targets {
        let what = format!("analyze, tagger on, vs ffmpeg decode, {label}");
        match ffmpeg_decode(path, RUNS) {
            Some(ff) => {
                // as the command runs: the tagger's plan built too, in a process of its own
                let (analyze, _) = analyze_in_child(path, RUNS);
                let (r, fig) = ratio_figure(analyze, ff);
                println!("  sori analyze (tagger on, its own process) vs ffmpeg decode {fig}");
                summarize(what, fig, "<= 2.5x", Some(r <= 2.5));
            }
            None => summarize(what, "ffmpeg not found".into(), "<= 2.5x", None),
        }
    }
    println!(
        "  ratio to decode alone                                {:.2}x",
        with_tagger.as_secs_f64() / decode.as_secs_f64()
    );
}

/// Frames of the app on a bare `egui::Context` at 1600×1000, 60 a second of egui's clock (CPU
/// only: layout, our drawing and tessellation).
struct Frames {
    ctx: eframe::egui::Context,
    time: f64,
}

impl Frames {
    fn new() -> Self {
        Self {
            ctx: eframe::egui::Context::default(),
            time: 0.0,
        }
    }

    /// Draws one frame; returns the time it took and the delay the app asked for before the
    /// next one (`Duration::MAX`: none).
    fn frame(&mut self, app: &mut sori::gui::SoriApp) -> (Duration, Duration) {
        use eframe::egui;
        self.time += 1.0 / 60.0;
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0));
        let input = egui::RawInput {
            screen_rect: Some(screen),
            time: Some(self.time),
            ..Default::default()
        };
        let t = Instant::now();
        let out = self.ctx.run_ui(input, |ui| app.show(ui));
        std::hint::black_box(self.ctx.tessellate(out.shapes, out.pixels_per_point));
        let spent = t.elapsed();
        let next = out
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map_or(Duration::MAX, |v| v.repaint_delay);
        (spent, next)
    }
}

/// Draws frames (as the app goes on drawing while a file opens) until the file is decoded
/// and analysed, or `limit` has passed.
fn frames_until_analysed(
    frame: &mut dyn FnMut(&mut sori::gui::SoriApp) -> (Duration, Duration),
    app: &mut sori::gui::SoriApp,
    limit: Duration,
) -> Result<(), String> {
    let opened = Instant::now();
    loop {
        frame(app);
        let s = &app.session;
        if s.track()
            .is_some_and(|t| t.analysis_done() && !t.lens_busy())
            && !s.is_loading()
        {
            return Ok(());
        }
        if opened.elapsed() > limit {
            return Err(format!(
                "the file was not analysed in {:.0} minutes",
                limit.as_secs_f64() / 60.0
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// GUI frame times with `path` open, on a bare `egui::Context` (CPU only: layout, our drawing
/// code and tessellation; no GPU), 1600×1000, spectrogram + lanes + notes, while a script
/// zooms from the whole track to one second and back, scrolls, and plays (the playhead is
/// moved every frame, as playback moves it). Returns the median, the 95th percentile and
/// the number of frames, and whether the app stops asking for frames once it is idle.
fn frame_times(path: &Path) -> FrameTimes {
    use sori::session::Command;
    let settings = sori::session::Settings {
        tagger: false,
        ..Default::default()
    };
    let mut app = sori::gui::SoriApp::new(
        settings,
        sori::audio::playback::Player::silent(),
        Some(path.to_path_buf()),
    );
    let mut frames = Frames::new();
    let mut frame = |app: &mut sori::gui::SoriApp| frames.frame(app);
    frames_until_analysed(&mut frame, &mut app, Duration::MAX)
        .expect("no time limit on the frame rows");
    let total = app.session.total_s();
    let mut times = Vec::new();
    let mut run = |app: &mut sori::gui::SoriApp, cmd: Command, times: &mut Vec<Duration>| {
        app.session.apply(cmd);
        times.push(frame(app).0);
    };
    run(&mut app, Command::ZoomToFit, &mut times);
    // Zoom in on the last minutes, 5 % a frame, down to one second in view.
    let anchor = total - 30.0;
    for _ in 0..400 {
        if app.session.view().len_s <= 1.0 {
            break;
        }
        run(
            &mut app,
            Command::Zoom {
                factor: 1.05,
                anchor_s: anchor,
            },
            &mut times,
        );
    }
    // Scroll back and forth at that zoom, and then a minute in view.
    for k in 0..120 {
        let start = anchor - 0.05 * k as f64;
        run(&mut app, Command::ScrollTo(start), &mut times);
    }
    for _ in 0..200 {
        if app.session.view().len_s >= 60.0 {
            break;
        }
        run(
            &mut app,
            Command::Zoom {
                factor: 0.95,
                anchor_s: anchor,
            },
            &mut times,
        );
    }
    for k in 0..120 {
        run(
            &mut app,
            Command::ScrollTo(anchor - 60.0 - 2.0 * k as f64),
            &mut times,
        );
    }
    // Play: the playhead moves a frame's worth at a time.
    let mut at = anchor - 300.0;
    for _ in 0..300 {
        at += 1.0 / 60.0;
        run(&mut app, Command::Seek(at), &mut times);
    }
    // Back out to the whole track.
    for _ in 0..200 {
        if app.session.view().len_s >= total * 0.999 {
            break;
        }
        run(
            &mut app,
            Command::Zoom {
                factor: 0.9,
                anchor_s: anchor,
            },
            &mut times,
        );
    }
    // Idle: paused, no input. Frames go on only while the app asks for them (tiles being
    // computed); then it must ask for none.
    let mut settle = 0;
    let idle = loop {
        let (_, next) = frame(&mut app);
        settle += 1;
        if next >= Duration::from_secs(1) || settle >= 500 {
            break next;
        }
        std::thread::sleep(next.min(Duration::from_millis(20)));
    };
    let n = times.len();
    times.sort();
    FrameTimes {
        p50: times[n / 2],
        p95: p95(&times),
        frames: n,
        settle,
        idle_next: idle,
    }
}

/// Underruns while the app plays a long file and the view is zoomed and scrolled over it:
/// the real player on a sound server (a private null sink when none runs), the app opened on
/// `path` with it (tagger off, as in the frame-time rows), then `secs` seconds of playback
/// while every frame, paced at 60 per second, zooms or scrolls. Returns the blocks the audio
/// callback found nothing rendered for, and the seconds played.
fn scroll_underruns(path: &Path, secs: f64) -> Result<(u64, f64), String> {
    use sori::session::Command;
    seek::with_output(|player| {
        let settings = sori::session::Settings {
            tagger: false,
            ..Default::default()
        };
        let mut app = sori::gui::SoriApp::new(settings, player, Some(path.to_path_buf()));
        let mut frames = Frames::new();
        let mut frame = |app: &mut sori::gui::SoriApp| frames.frame(app);
        frames_until_analysed(&mut frame, &mut app, Duration::from_secs(1800))?;
        let total = app.session.total_s();
        app.session.apply(Command::Seek(total / 2.0));
        app.session.apply(Command::Play);
        std::thread::sleep(Duration::from_millis(500));
        let transport = app.session.player().transport.clone();
        let before = transport.starved_blocks();
        let from_s = app.session.position_s();
        let t0 = Instant::now();
        let mut k = 0u64;
        while t0.elapsed().as_secs_f64() < secs {
            let next = t0 + Duration::from_secs_f64((k + 1) as f64 / 60.0);
            // a cycle of 10 s: zoom in 3 s, scroll 4 s, zoom out 3 s, around the playhead
            let phase = (k % 600) as f64 / 60.0;
            let at = app.session.position_s();
            let cmd = if phase < 3.0 {
                Command::Zoom {
                    factor: 1.08,
                    anchor_s: at,
                }
            } else if phase < 7.0 {
                let v = app.session.view();
                Command::ScrollTo(
                    v.start_s + v.len_s * if (k / 600) % 2 == 0 { 0.05 } else { -0.05 },
                )
            } else {
                Command::Zoom {
                    factor: 1.0 / 1.08,
                    anchor_s: at,
                }
            };
            app.session.apply(cmd);
            frame(&mut app);
            k += 1;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let played = t0.elapsed().as_secs_f64();
        let starved = transport.starved_blocks() - before;
        let moved = app.session.position_s() - from_s;
        app.session.apply(Command::Pause);
        // the playhead must have gone on at about the speed of the clock, or nothing was heard
        if moved < 0.9 * played {
            return Err(format!(
                "the playhead moved {moved:.1} s in {played:.1} s: playback did not run"
            ));
        }
        Ok((starved, played))
    })
}

struct FrameTimes {
    p50: Duration,
    p95: Duration,
    frames: usize,
    /// Frames until the app stopped asking for the next one, and what it asked for then.
    settle: usize,
    idle_next: Duration,
}

fn seek_rows() {
    match seek::measure(RUNS) {
        Ok(s) => {
            let worst = s.latencies.iter().max().copied().unwrap_or_default();
            let mut sorted = s.latencies.clone();
            sorted.sort();
            let p95 = p95(&sorted);
            summarize(
                format!("seek latency at the output, p95 of {}", sorted.len()),
                ms(p95),
                "<= 30 ms",
                Some(p95 <= Duration::from_millis(30)),
            );
            println!(
                "  seek while playing -> the new place at the output ({}, median of {}) {} (worst {})",
                s.device,
                s.latencies.len(),
                ms(median(s.latencies)),
                ms(worst)
            );
            match s.play_after_pause {
                Some(d) => println!(
                    "  play after 6.5 s paused (the device let go, opened again) -> sound {}",
                    ms(d)
                ),
                None => println!("  play after 6.5 s paused: no sound came within 3 s"),
            }
            println!(
                "  dropouts in {:.1} s of playback with every core busy   {} (device then: {}; render thread behind for {} blocks)",
                s.loaded_s, s.dropouts, s.device_after, s.starved
            );
        }
        Err(why) => {
            println!("  seek latency not measured: {why}");
            summarize("seek latency at the output, p95", why, "<= 30 ms", None);
        }
    }
}

/// The real app on `path` under Xvfb, default settings (tagger on): idle CPU and peak RSS.
fn app_rows(path: &Path, limit: Duration) -> Option<app::AppRun> {
    match app::measure(path, limit) {
        Ok(r) => {
            println!(
                "  the app (Xvfb, tagger on): done working after {:.0} s, peak RSS {:.0} MiB",
                r.settled_after.as_secs_f64(),
                r.peak_rss_mib
            );
            println!(
                "  the app paused and idle ({}): CPU over {:.0} s {:.2} % of a core",
                if r.audio {
                    "sound server running"
                } else {
                    "no sound server"
                },
                app::IDLE_S,
                r.idle_cpu_percent
            );
            Some(r)
        }
        Err(why) => {
            println!("  the app under Xvfb not measured: {why}");
            None
        }
    }
}

fn frame_rows(path: &Path) -> FrameTimes {
    let f = frame_times(path);
    println!(
        "  GUI frame time, 1600x1000, zoom/scroll/play script ({} frames): median {}, p95 {}",
        f.frames,
        ms(f.p50),
        ms(f.p95)
    );
    let idle = if f.idle_next == Duration::MAX {
        "none".to_string()
    } else {
        format!("one in {}", ms(f.idle_next))
    };
    println!(
        "  paused and idle: {} frames to settle, then next frame asked for: {idle}",
        f.settle
    );
    f
}

/// A notes file beside `audio` with a note every `every_s` seconds.
fn sidecar_notes(audio: &Path, secs: f64, every_s: f64) {
    let mut doc = String::from("version = 1\ntitle = \"Benchmark notes\"\n");
    let mut t = 1.0;
    let mut k = 0;
    while t < secs {
        doc.push_str(&format!(
            "\n[[note]]\nstart = \"{}\"\ntitle = \"Note {k}\"\nbody = \"A note on the phrase at this point, a line or two long.\"\n",
            sori::notes::time::format(t)
        ));
        t += every_s;
        k += 1;
    }
    std::fs::write(sori::notes::native::sidecar_for(audio), doc).expect("bench notes");
}

fn peak_rss_kib() -> Option<u64> {
    app::peak_rss_kib(std::process::id())
}

fn main() {
    // Child mode: open one file like the app does and report the peak RSS (KiB) and the time.
    if let Ok(p) = std::env::var("SORI_BENCH_RSS_CHILD") {
        let path = Path::new(&p);
        let mode = std::env::var("SORI_BENCH_MODE").unwrap_or_default();
        let t = Instant::now();
        match mode.as_str() {
            "decode" => {
                let _kept = decode_file(path).map(|(s, _)| s.frames());
            }
            "analyze" => {
                // As `sori analyze` runs: the tagger on every core beside the lens.
                let tagger = sori::analysis::tagger::Tagger::new().ok();
                let threads = sori::parallel::cores();
                let _kept =
                    sori::analysis::lens::analyze_file_tagged(path, tagger.as_ref(), threads)
                        .map(|(_, _, lens, tags)| (lens, tags.map(|t| t.map(|w| w.len()))));
            }
            "first" => {
                // Time to the first waveform data, in microseconds; then stop the load.
                let job = LoadJob::start(
                    Source::File(path.to_path_buf()),
                    SpecParams::default(),
                    std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
                );
                let first = loop {
                    if let Some(f) = job.first_audio.lock().ok().and_then(|f| *f) {
                        break f;
                    }
                    if job.status() != LoadStatus::Loading {
                        break t.elapsed();
                    }
                    std::thread::sleep(Duration::from_micros(200));
                };
                job.cancel();
                println!("{}", first.as_micros());
                return;
            }
            _ => {
                load(path);
            }
        }
        println!(
            "{} {}",
            peak_rss_kib().unwrap_or(0),
            t.elapsed().as_millis()
        );
        return;
    }
    if let Ok(p) = std::env::var("BENCH_APP") {
        println!("{p}");
        app_rows(Path::new(&p), Duration::from_secs(1800));
        return;
    }
    if let Ok(p) = std::env::var("BENCH_SCROLL") {
        match scroll_underruns(Path::new(&p), 60.0) {
            Ok((starved, played)) => println!(
                "{p}: playing while zooming and scrolling, {played:.0} s: {starved} blocks the callback found nothing rendered for"
            ),
            Err(why) => println!("{p}: not measured: {why}"),
        }
        return;
    }
    if std::env::var("BENCH_SEEK").is_ok() {
        seek_rows();
        return;
    }
    if let Ok(p) = std::env::var("BENCH_FRAMES") {
        let path = PathBuf::from(p);
        if !path.exists() {
            eprintln!(
                "making a 3-hour 44.1 kHz stereo WAV (1.9 GB) and its notes at {}…",
                path.display()
            );
            long_wav(&path, 44100, 3.0 * 3600.0);
            sidecar_notes(&path, 3.0 * 3600.0, 30.0);
        }
        println!("{}", path.display());
        frame_rows(&path);
        return;
    }
    let quick = std::env::var("BENCH_QUICK").is_ok();
    // The 3-hour WAV, and the app's cache file of its samples (f32) while it has it open.
    let need = if quick { 200 << 20 } else { 6u64 << 30 };
    if let Err(why) = enough_disk(&std::env::temp_dir(), need) {
        eprintln!("{why}");
        std::process::exit(1);
    }
    // Removed when this function returns or panics; a run killed midway is swept by the next.
    let dir = support::tmpdir("bench");

    let mp3 = dir.join("four-minutes.mp3");
    eprintln!("making a 4-minute 44.1 kHz stereo MP3 (LAME, 128 kb/s)…");
    support::mp3(&mp3, 44100, 2, &song(44100, 240.0));
    rows("4-minute 44.1 kHz stereo MP3", &mp3, true);
    match app_rows(&mp3, Duration::from_secs(300)) {
        Some(r) => summarize(
            "CPU while paused and idle, real app under Xvfb",
            format!("{:.2} % of a core", r.idle_cpu_percent),
            "< 0.5 %",
            Some(r.idle_cpu_percent < 0.5),
        ),
        None => summarize(
            "CPU while paused and idle, real app under Xvfb",
            "not measured".into(),
            "< 0.5 %",
            None,
        ),
    }
    println!("playback");
    seek_rows();

    if let Ok(own) = std::env::var("BENCH_FILE") {
        rows(&format!("your file: {own}"), &PathBuf::from(own), false);
    }
    if quick {
        print_summary();
        return;
    }
    sixty_rows(&dir, &mp3);

    eprintln!("making a 3-hour 44.1 kHz stereo WAV (1.9 GB, in a temporary folder)…");
    let wav = dir.join("three-hours.wav");
    long_wav(&wav, 44100, 3.0 * 3600.0);
    let child = |mode: &str| child(&wav, mode);
    let firsts: Vec<Duration> = (0..RUNS)
        .map(|_| Duration::from_micros(child("first").first().copied().unwrap_or(0)))
        .collect();
    let dec = child("decode");
    let full = child("open");
    let at = |v: &Vec<u64>, i: usize| v.get(i).copied().unwrap_or(0);
    println!(
        "3-hour 44.1 kHz stereo WAV (f32 PCM alone is {:.0} MiB)",
        3.0 * 3600.0 * 44100.0 * 2.0 * 4.0 / 1048576.0
    );
    let first = median(firsts);
    println!(
        "  open -> first waveform data (median of {RUNS})        {}",
        ms(first)
    );
    summarize(
        "open -> first waveform, 3-hour WAV",
        ms(first),
        "< 1 s",
        Some(first < Duration::from_secs(1)),
    );
    println!(
        "  decoded into the store in {} ms, peak RSS            {:.0} MiB",
        at(&dec, 1),
        at(&dec, 0) as f64 / 1024.0
    );
    println!(
        "  opened and analysed (peaks, spectrogram, lens) in {} ms, peak RSS {:.0} MiB",
        at(&full, 1),
        at(&full, 0) as f64 / 1024.0
    );
    sidecar_notes(&wav, 3.0 * 3600.0, 30.0);
    let f = frame_rows(&wav);
    summarize(
        "GUI frame time p95, 3-hour file, zoom/scroll/play (tagger off)",
        ms(f.p95),
        "< 8 ms",
        Some(f.p95 < Duration::from_millis(8)),
    );
    let app_run = app_rows(&wav, Duration::from_secs(1800));
    summarize(
        "3-hour WAV open and analysed in the app, peak RSS",
        app_run.as_ref().map_or("not measured".into(), |r| {
            format!("{:.0} MiB", r.peak_rss_mib)
        }),
        "< 600 MiB",
        app_run.map(|r| r.peak_rss_mib < 600.0),
    );
    let what =
        "audio underruns while scrolling a 3-hour file (callback blocks with nothing rendered)";
    match scroll_underruns(&wav, 60.0) {
        Ok((starved, played)) => {
            println!(
                "  playing while zooming and scrolling, {played:.0} s: {starved} blocks the callback found nothing rendered for"
            );
            summarize(
                what,
                format!("{starved} in {played:.0} s"),
                "0",
                Some(starved == 0),
            );
        }
        Err(why) => {
            println!("  underruns while scrolling not measured: {why}");
            summarize(what, why, "0", None);
        }
    }
    if std::env::var("BENCH_KEEP").is_ok() {
        // Out of the temporary folder's name, so no later run sweeps it.
        let kept = std::env::temp_dir().join("sori-bench-kept");
        let _ = std::fs::remove_dir_all(&kept);
        match std::fs::rename(&*dir, &kept) {
            Ok(()) => println!("(kept for you: {})", kept.join("three-hours.wav").display()),
            Err(e) => eprintln!("could not keep {} ({e})", wav.display()),
        }
    }
    print_summary();
}

/// `sori analyze` with the tagger, as the command runs it (the tagger's plan built in each
/// run), each run in a process of its own: the median time, and the largest peak RSS (KiB).
fn analyze_in_child(path: &Path, runs: usize) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut rss = 0u64;
    for _ in 0..runs {
        let v = child(path, "analyze");
        rss = rss.max(v.first().copied().unwrap_or(0));
        times.push(Duration::from_millis(v.get(1).copied().unwrap_or(0)));
    }
    (median(times), rss)
}

/// `sori analyze` of a 60-minute MP3 (the 4-minute one, 15 times over, joined by ffmpeg
/// without re-encoding), tagger on, in a process of its own: time against ffmpeg's decode,
/// and peak RSS. Five runs: each takes tens of seconds.
fn sixty_rows(dir: &Path, four: &Path) {
    const LONG_RUNS: usize = 5;
    let what = "analyze, tagger on, vs ffmpeg decode, 60-minute MP3";
    let sixty = dir.join("sixty-minutes.mp3");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-stream_loop", "14", "-i"])
        .arg(four)
        .args(["-c", "copy", "-y"])
        .arg(&sixty)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        summarize(what, "ffmpeg not found".into(), "<= 2.5x", None);
        return;
    }
    let (analyze, rss) = analyze_in_child(&sixty, LONG_RUNS);
    let Some(ff) = ffmpeg_decode(&sixty, LONG_RUNS) else {
        summarize(what, "ffmpeg could not decode it".into(), "<= 2.5x", None);
        return;
    };
    let (r, fig) = ratio_figure(analyze, ff);
    let rss_mb = rss as f64 * 1024.0 / 1e6;
    println!("60-minute MP3 (median of {LONG_RUNS})");
    println!("  sori analyze, tagger on, vs ffmpeg decode            {fig}");
    println!("  peak RSS                                             {rss_mb:.0} MB");
    summarize(what, fig, "<= 2.5x", Some(r <= 2.5));
    summarize(
        "analyze, tagger on, 60-minute MP3, peak RSS",
        format!("{rss_mb:.0} MB"),
        "< 300 MB",
        Some(rss_mb < 300.0),
    );
}

/// Refuses, in one sentence, when the folder's disk has less than `need` bytes free.
fn enough_disk(dir: &Path, need: u64) -> Result<(), String> {
    let size = |b: u64| match b as f64 / (1u64 << 30) as f64 {
        gb if gb >= 1.0 => format!("{gb:.1} GB"),
        _ => format!("{} MB", b >> 20),
    };
    eprintln!(
        "this run needs about {} free in {} (removed when it ends)",
        size(need),
        dir.display()
    );
    match free_bytes(dir) {
        Some(free) if free < need => Err(format!(
            "only {} are free in {}, and this run needs about {}: free some space or set TMPDIR to a bigger disk",
            size(free),
            dir.display(),
            size(need)
        )),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` is written by statvfs before it is read.
    let ok = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } == 0;
    // SAFETY: statvfs returned 0, so it filled `st`.
    ok.then(|| {
        let st = unsafe { st.assume_init() };
        st.f_bavail as u64 * st.f_frsize as u64
    })
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> Option<u64> {
    None
}
