//! Seek latency during playback, measured at the output: Sori's own player plays a track on
//! the default device, and `parec` records what that device sends out (the monitor of a
//! PulseAudio sink). The track is silence with a tone from [`TONE_AT_S`] on; playback runs
//! in the silence, a seek jumps into the tone, and the latency is the time from the seek
//! call to the moment the first loud sample reaches the recorder.
//!
//! The recorder's own delay is not subtracted, so each figure is an upper bound on what a
//! listener hears. The seek call is what a click on the timeline makes in the frame that
//! receives the click, so click → sound adds at most one GUI frame (see the frame rows).
//!
//! With no sound server reachable, a private PulseAudio with a null sink is started for the
//! measurement (and stopped after it), when `pulseaudio` is installed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app::Killed;
use sori::audio::PcmStore;
use sori::audio::playback::{DeviceState, Player};

const RATE: u32 = 44_100;
const TONE_AT_S: f64 = 20.0;
/// A recorded sample louder than this is the tone (which plays at 0.5); the silence is 0.
const LOUD: f32 = 0.1;

fn pulse_reachable() -> bool {
    crate::app::pulse_server().is_some()
}

/// A sound server for the measurement: the running one, or a private null sink.
struct Server {
    /// The private server, stopped when this goes (`None`: one was already running).
    _private: Option<Killed>,
}

impl Server {
    fn start() -> Result<Self, String> {
        if pulse_reachable() {
            return Ok(Self { _private: None });
        }
        let child = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-null-sink",
                "--load=module-native-protocol-unix",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("no sound server, and pulseaudio could not start ({e})"))?;
        let server = Self {
            _private: Some(Killed(child)),
        };
        let t = Instant::now();
        while !pulse_reachable() {
            if t.elapsed() > Duration::from_secs(10) {
                return Err("the private PulseAudio did not come up in 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }
}

/// The recorder: a `parec` of the default sink's monitor, read on a thread that reports,
/// once armed, when the first loud sample arrived.
struct Recorder {
    _child: Killed,
    armed: Arc<AtomicBool>,
    heard: Receiver<Instant>,
    /// While set, every recorded sample is kept in `kept`.
    keep: Arc<AtomicBool>,
    kept: Arc<Mutex<Vec<f32>>>,
}

impl Recorder {
    fn start() -> Result<Self, String> {
        let mut child = Command::new("parec")
            .args([
                "--device=@DEFAULT_MONITOR@",
                "--raw",
                "--format=float32le",
                "--channels=1",
                &format!("--rate={RATE}"),
                "--latency-msec=1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("parec could not start ({e})"))?;
        let mut out = child.stdout.take().ok_or("parec gave no output")?;
        let armed = Arc::new(AtomicBool::new(false));
        let (tx, heard) = channel();
        let a2 = armed.clone();
        let keep = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (k2, kept2) = (keep.clone(), kept.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4 * 64];
            let mut carry: Vec<u8> = Vec::new();
            loop {
                let n = match out.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let now = Instant::now();
                carry.extend_from_slice(&buf[..n]);
                let whole = carry.len() / 4 * 4;
                let samples: Vec<f32> = carry[..whole]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                carry.drain(..whole);
                if k2.load(Ordering::Acquire)
                    && let Ok(mut k) = kept2.lock()
                {
                    k.extend_from_slice(&samples);
                }
                if !a2.load(Ordering::Acquire) {
                    continue;
                }
                if let Some(i) = samples.iter().position(|s| s.abs() > LOUD) {
                    // The samples after the loud one were captured later than it.
                    let after = (samples.len() - 1 - i) as f64 / RATE as f64;
                    a2.store(false, Ordering::Release);
                    if tx.send(now - Duration::from_secs_f64(after)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Self {
            _child: Killed(child),
            armed,
            heard,
            keep,
            kept,
        })
    }
}

impl Recorder {
    /// Time from `action` to the first loud sample recorded after it (none within 3 s).
    fn time_to_tone(&self, action: impl FnOnce()) -> Option<Duration> {
        while self.heard.try_recv().is_ok() {}
        self.armed.store(true, Ordering::Release);
        let t0 = Instant::now();
        action();
        let at = self.heard.recv_timeout(Duration::from_secs(3)).ok()?;
        Some(at.saturating_duration_since(t0))
    }
}

/// What [`measure`] found.
pub struct Seeks {
    /// From each seek call to the tone at the output.
    pub latencies: Vec<Duration>,
    /// What the device said about itself when the seeks began, and at the end (its buffer
    /// grows when it keeps running dry).
    pub device: String,
    pub device_after: String,
    /// From play, after a pause long enough for the player to let go of the device, to the
    /// tone at the output (the device is opened again first).
    pub play_after_pause: Option<Duration>,
    /// Seconds of tone recorded while every core was kept busy, and the dropouts in it
    /// (a millisecond or more of silence in the steady tone).
    pub loaded_s: f64,
    pub dropouts: usize,
    /// Blocks the callback found no rendered block for during that loaded stretch (Sori's
    /// render thread fell behind the device).
    pub starved: u64,
}

/// Dropouts in a recording of a steady 1 kHz tone: runs of a millisecond or more of near
/// silence (the tone itself is never that quiet for that long).
fn dropouts(rec: &[f32]) -> usize {
    let gap = RATE as usize / 1000;
    let mut quiet = 0;
    let mut n = 0;
    for (i, s) in rec.iter().enumerate() {
        if s.abs() < 0.05 {
            quiet += 1;
            if quiet == gap {
                n += 1;
                if std::env::var("BENCH_SEEK_VERBOSE").is_ok() {
                    eprintln!("dropout at sample {i}");
                }
            }
        } else {
            quiet = 0;
        }
    }
    n
}

/// `runs` seeks from silence into the tone while playing, then 10 s of the tone while every
/// core is busy (as when the tagger runs beside playback).
pub fn measure(runs: usize) -> Result<Seeks, String> {
    let _server = Server::start()?;
    let total = (RATE as f64 * (TONE_AT_S + 15.0)) as usize;
    let tone_from = (RATE as f64 * TONE_AT_S) as usize;
    let samples: Vec<f32> = (0..total)
        .flat_map(|i| {
            let v = if i >= tone_from {
                0.5 * (std::f64::consts::TAU * 1000.0 * i as f64 / RATE as f64).sin() as f32
            } else {
                0.0
            };
            [v, v]
        })
        .collect();
    let store = Arc::new(PcmStore::from_interleaved(RATE, 2, &samples));
    let player = Player::start();
    let t = Instant::now();
    let device = loop {
        match player.device_state() {
            DeviceState::Ready(d) => break d,
            DeviceState::Unavailable(why) => return Err(why),
            DeviceState::Opening if t.elapsed() > Duration::from_secs(10) => {
                return Err("the output device did not open in 10 s".into());
            }
            DeviceState::Opening => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // The recorder is the instrument: parec's own latency settles over its first seconds
    // (a first seek measured 1.5 s after it started read ~80 ms where every later one read
    // 17-23 ms, and the same first seek read 17 ms once parec had run 4 s), so it runs
    // before the player plays anything.
    let recorder = Recorder::start()?;
    std::thread::sleep(Duration::from_millis(4000));
    player.attach(store);
    let transport = &player.transport;
    transport.set_playing(true);
    std::thread::sleep(Duration::from_millis(1500));
    let mut seen = Vec::with_capacity(runs);
    for _ in 0..runs {
        // back into the silence, long enough for every buffer on the way to hold only silence
        transport.seek(0);
        std::thread::sleep(Duration::from_millis(400));
        let d = recorder
            .time_to_tone(|| transport.seek(tone_from as u64))
            .ok_or("the tone never reached the recorder after a seek")?;
        if std::env::var("BENCH_SEEK_VERBOSE").is_ok() {
            eprintln!("{d:?}");
        }
        seen.push(d);
    }
    // Paused long enough for the player to let go of the device, then play in the tone.
    transport.set_playing(false);
    transport.seek(0);
    std::thread::sleep(Duration::from_millis(6500));
    let play_after_pause = recorder.time_to_tone(|| {
        transport.seek(tone_from as u64);
        transport.set_playing(true);
    });
    // The tone goes on (seek to its start); record it with every core spinning.
    transport.seek(tone_from as u64);
    std::thread::sleep(Duration::from_millis(200));
    let stop = Arc::new(AtomicBool::new(false));
    let cores = sori::parallel::cores();
    let spinners: Vec<_> = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    recorder.keep.store(true, Ordering::Release);
    let starved_before = transport.starved_blocks();
    std::thread::sleep(Duration::from_secs(10));
    let starved = transport.starved_blocks() - starved_before;
    recorder.keep.store(false, Ordering::Release);
    stop.store(true, Ordering::Release);
    for s in spinners {
        let _ = s.join();
    }
    transport.set_playing(false);
    let rec = recorder.kept.lock().map(|k| k.clone()).unwrap_or_default();
    let device_after = match player.device_state() {
        DeviceState::Ready(d) => d,
        other => format!("{other:?}"),
    };
    Ok(Seeks {
        latencies: seen,
        device,
        device_after,
        play_after_pause,
        loaded_s: rec.len() as f64 / RATE as f64,
        dropouts: dropouts(&rec),
        starved,
    })
}

/// A sound server (the running one, or a private null sink) and a player whose output is
/// open on it, for `f`.
pub fn with_output<R>(f: impl FnOnce(Player) -> Result<R, String>) -> Result<R, String> {
    let _server = Server::start()?;
    let player = Player::start();
    let t = Instant::now();
    loop {
        match player.device_state() {
            DeviceState::Ready(_) => break,
            DeviceState::Unavailable(why) => return Err(why),
            DeviceState::Opening if t.elapsed() > Duration::from_secs(10) => {
                return Err("the output device did not open in 10 s".into());
            }
            DeviceState::Opening => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    f(player)
}
