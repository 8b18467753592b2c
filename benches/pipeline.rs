//! `make bench`: times the loading pipeline and prints medians.
//!
//! * decode alone (symphonia) vs decode + peak pyramid + whole-track spectrogram, as the app
//!   loads a file, and vs `sori analyze` (features measured while decoding, then the lens),
//!   for a 4-minute 44.1 kHz stereo MP3 made here with LAME;
//! * time from "open" to the first waveform (the first decoded chunk folded into the peaks);
//! * peak RSS of a process that opens and analyses a 60-minute 44.1 kHz stereo file.
//!
//! `BENCH_FILE=song.mp3 make bench` adds the same rows for your own file; `BENCH_QUICK=1` skips
//! the 60-minute rows.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sori::analysis::spectrum::SpecParams;
use sori::audio::decode_file;
use sori::session::{LoadJob, LoadStatus, Source};

#[path = "../tests/support/mod.rs"]
mod support;

const RUNS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A 4-minute "song": a few tones, a noise burst pattern and silence gaps, stereo.
fn song(rate: u32, secs: f64) -> Vec<f32> {
    let frames = (rate as f64 * secs) as usize;
    let mut seed = 1u64;
    let mut v = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = i as f64 / rate as f64;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = ((seed >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 0.2;
        let beat = (-(t % 0.5) / 0.05).exp();
        let f = 220.0 * 2f64.powf(((t / 2.0) as i64 % 12) as f64 / 12.0);
        let s = 0.3 * (2.0 * std::f64::consts::PI * f * t).sin() + noise * beat;
        v.push(s as f32);
        v.push((s * 0.8) as f32);
    }
    v
}

fn load(path: &Path) -> (Duration, Duration) {
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
    // The lens follows on the loading thread: let it finish before the next run starts.
    if let Some(t) = job.track() {
        while t.lens_busy() {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    (total, first)
}

fn rows(label: &str, path: &Path) {
    let decode = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                decode_file(path).expect("decode");
                t.elapsed()
            })
            .collect(),
    );
    let mut totals = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..RUNS {
        let (t, f) = load(path);
        totals.push(t);
        firsts.push(f);
    }
    let total = median(totals);
    let first = median(firsts);
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
        total.as_secs_f64() / decode.as_secs_f64()
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
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
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
    println!(
        "  ratio to decode alone                                {:.2}x",
        with_tagger.as_secs_f64() / decode.as_secs_f64()
    );
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    // Child mode: open one file like the app does and report the peak RSS.
    if let Ok(p) = std::env::var("SORI_BENCH_RSS_CHILD") {
        if std::env::var("SORI_BENCH_DECODE_ONLY").is_ok() {
            let t = Instant::now();
            let kept = decode_file(Path::new(&p))
                .map(|(s, _)| s.frames())
                .unwrap_or(0);
            println!(
                "{} {} {kept}",
                peak_rss_kib().unwrap_or(0),
                t.elapsed().as_millis()
            );
            return;
        }
        let (t, _) = load(Path::new(&p));
        println!("{} {}", peak_rss_kib().unwrap_or(0), t.as_millis());
        return;
    }
    let dir = std::env::temp_dir().join(format!("sori-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let mp3 = dir.join("four-minutes.mp3");
    eprintln!("making a 4-minute 44.1 kHz stereo MP3 (LAME, 128 kb/s)…");
    support::mp3(&mp3, 44100, 2, &song(44100, 240.0));
    rows("4-minute 44.1 kHz stereo MP3", &mp3);

    if let Ok(own) = std::env::var("BENCH_FILE") {
        rows(&format!("your file: {own}"), &PathBuf::from(own));
    }
    if std::env::var("BENCH_QUICK").is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }

    eprintln!("making a 60-minute 44.1 kHz stereo WAV…");
    let wav = dir.join("sixty-minutes.wav");
    support::wav(
        &wav,
        44100,
        2,
        support::WavFmt::I16,
        false,
        &song(44100, 3600.0),
    );
    let exe = std::env::current_exe().expect("bench exe");
    let child = |decode_only: bool| -> (u64, u64) {
        let mut cmd = std::process::Command::new(&exe);
        cmd.env("SORI_BENCH_RSS_CHILD", &wav);
        if decode_only {
            cmd.env("SORI_BENCH_DECODE_ONLY", "1");
        }
        let out = cmd.output().expect("child");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut it = text
            .split_whitespace()
            .map(|s| s.parse::<u64>().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    let (rss_dec, t_dec) = child(true);
    let (rss, t) = child(false);
    println!(
        "60-minute 44.1 kHz stereo WAV (f32 PCM alone is {:.0} MiB)",
        3600.0 * 44100.0 * 2.0 * 4.0 / 1048576.0
    );
    println!(
        "  decoded alone in {t_dec} ms, peak RSS                  {:.0} MiB",
        rss_dec as f64 / 1024.0
    );
    println!(
        "  opened and analysed in {t} ms, peak RSS             {:.0} MiB",
        rss as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
