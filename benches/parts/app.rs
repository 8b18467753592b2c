//! The real app, as a user runs it: the `sori` binary opens a file on a virtual X display
//! (Xvfb), with its default settings (the tagger on) and a home folder of its own. Once it
//! has finished its work (the CPU it takes falls to nothing) and 6 s more have passed (a
//! paused app lets go of the audio device after 5 s), the CPU it uses while paused and idle
//! is read from `/proc` over [`IDLE_S`] seconds, with its peak RSS.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds over which the idle CPU is measured.
pub const IDLE_S: f64 = 10.0;

/// What [`measure`] read.
pub struct AppRun {
    /// From start until the app's CPU fell below 2 % of a core for a second.
    pub settled_after: Duration,
    /// CPU while paused and idle, in percent of one core.
    pub idle_cpu_percent: f64,
    /// Peak resident set size (VmHWM) at the end, MiB.
    pub peak_rss_mib: f64,
    /// A sound server was running, so the app had its output stream open throughout.
    pub audio: bool,
}

/// A child process that is killed (and reaped) when this goes out of scope.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// utime + stime of every thread of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) is in parentheses and may hold spaces
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // after the name: state is field 3, so utime (14) and stime (15) are at 11 and 12
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Peak resident set size (VmHWM) of process `pid`, KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn clock_ticks_per_s() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Address of the running PulseAudio, if one runs.
pub fn pulse_server() -> Option<String> {
    let out = Command::new("pactl").arg("info").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Server String: "))
        .map(|s| format!("unix:{}", s.trim()))
}

/// Runs the app on `file` until it is idle (at most `limit`), then measures it.
pub fn measure(file: &Path, limit: Duration) -> Result<AppRun, String> {
    let display = (90..120)
        .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
        .ok_or("no free X display number")?;
    let xvfb = Command::new("Xvfb")
        .args([
            format!(":{display}"),
            "-screen".into(),
            "0".into(),
            "1600x1000x24".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("Xvfb could not start ({e}); apt-get install xvfb"))?;
    let _xvfb = Killed(xvfb);
    let socket = format!("/tmp/.X11-unix/X{display}");
    let t = Instant::now();
    while !Path::new(&socket).exists() {
        if t.elapsed() > Duration::from_secs(10) {
            return Err("Xvfb did not come up in 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The app's own home (settings, notes, cache), removed however this run ends.
    let home = crate::support::tmpdir("bench-home");
    let mut app = Command::new(env!("CARGO_BIN_EXE_sori"));
    // The sound server the user's own home would find (the app gets a home of its own).
    let server = pulse_server();
    if let Some(server) = &server {
        app.env("PULSE_SERVER", server);
        if let Some(home) = std::env::var_os("HOME") {
            app.env(
                "PULSE_COOKIE",
                Path::new(&home).join(".config/pulse/cookie"),
            );
        }
    }
    let app = app
        .arg(file)
        .env("DISPLAY", format!(":{display}"))
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sori could not start ({e})"))?;
    let pid = app.id();
    let app = Killed(app);
    let hz = clock_ticks_per_s();
    let start = Instant::now();
    // settled: a whole second under 2 % of a core, after the first 3 s
    let mut last = cpu_ticks(pid).ok_or("the app ended at once")?;
    let settled_after = loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu_ticks(pid).ok_or("the app ended while working")?;
        let busy = (now - last) as f64 / hz;
        last = now;
        if start.elapsed() > Duration::from_secs(3) && busy < 0.02 {
            break start.elapsed();
        }
        if start.elapsed() > limit {
            return Err(format!(
                "the app was still busy after {} s",
                limit.as_secs()
            ));
        }
    };
    // A paused app lets go of the audio device after 5 s (see audio::playback).
    std::thread::sleep(Duration::from_secs(6));
    let a = cpu_ticks(pid).ok_or("the app ended")?;
    std::thread::sleep(Duration::from_secs_f64(IDLE_S));
    let b = cpu_ticks(pid).ok_or("the app ended")?;
    let peak = peak_rss_kib(pid).unwrap_or(0);
    drop(app);
    Ok(AppRun {
        settled_after,
        idle_cpu_percent: 100.0 * (b - a) as f64 / hz / IDLE_S,
        peak_rss_mib: peak as f64 / 1024.0,
        audio: server.is_some(),
    })
}
