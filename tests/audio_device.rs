//! The audio device vanishing mid-play and coming back: a real PulseAudio server with a null
//! sink (no sound card needed) is killed during playback and started again. The app state
//! shows a notice and pauses, then the device reconnects by itself and playback goes on,
//! without restarting anything; paused for a while, the player lets go of the device, and
//! play opens it again. Needs `pulseaudio` (with `pactl`) and the ALSA pulse plugin
//! (`libasound2-plugins`), which `make test` installs.

mod support;

use std::path::Path;
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use sori::audio::playback::{DEVICE_LOST, DeviceState, Player};
use sori::session::{Command, Session, Settings};
use support::*;

/// A PulseAudio server of this test's own, with a null sink, on a socket in `dir`.
struct Pulse {
    child: Child,
}

impl Pulse {
    fn start(dir: &Path) -> Pulse {
        let socket = dir.join("native");
        let _ = std::fs::remove_file(&socket);
        let child = Proc::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "-n",
                "--load=module-null-sink",
            ])
            .arg(format!(
                "--load=module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .env("PULSE_RUNTIME_PATH", dir)
            .env("PULSE_STATE_PATH", dir)
            .env("HOME", dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("pulseaudio could not start ({e}); `make test` installs it (packages pulseaudio, libasound2-plugins)")
            });
        let pulse = Pulse { child };
        wait_for("the PulseAudio socket", 15.0, || socket.exists());
        pulse
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for(what: &str, secs: f64, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while !ok() {
        assert!(Instant::now() < end, "gave up waiting {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls the session (as the GUI does every frame) until `ok` holds.
fn poll_until(s: &mut Session, what: &str, secs: f64, mut ok: impl FnMut(&Session) -> bool) {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        s.poll();
        if ok(s) {
            return;
        }
        let notices: Vec<&str> = s.notices().iter().map(|n| n.text.as_str()).collect();
        assert!(
            Instant::now() < end,
            "gave up waiting {secs} s for {what}; device {:?}, notices {notices:?}, playing {}, at {:.2} s",
            s.player().device_state(),
            s.is_playing(),
            s.position_s()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn has_notice(s: &Session, part: &str) -> bool {
    s.notices().iter().any(|n| n.text.contains(part))
}

#[test]
fn the_sound_server_dies_mid_play_and_playback_comes_back() {
    let dir = tmpdir("pulse");
    let mut pulse = Pulse::start(&dir);
    // This test binary has no other test: setting the environment here races with nothing.
    unsafe {
        std::env::set_var(
            "PULSE_SERVER",
            format!("unix:{}", dir.join("native").display()),
        );
        std::env::set_var("PULSE_RUNTIME_PATH", dir.path());
    }
    let audio = dir.join("tone.wav");
    wav(
        &audio,
        44_100,
        2,
        WavFmt::I16,
        false,
        &tone(44_100, 2, 60.0),
    );

    let mut s = Session::new(Player::start(), Settings::default());
    poll_until(&mut s, "the output device", 10.0, |s| {
        matches!(s.player().device_state(), DeviceState::Ready(_))
    });
    s.apply(Command::Open(audio));
    poll_until(&mut s, "the recording", 20.0, |s| {
        s.track().is_some() && !s.is_loading()
    });
    s.apply(Command::Play);
    poll_until(&mut s, "playback to advance", 10.0, |s| {
        s.position_s() > 0.5
    });

    pulse.kill();
    poll_until(&mut s, "the device-lost notice", 15.0, |s| {
        has_notice(s, DEVICE_LOST)
    });
    assert!(
        !s.is_playing(),
        "playback must pause when the device is gone"
    );
    let paused_at = s.position_s();
    assert!(paused_at > 0.5, "the position is kept: {paused_at}");

    let _pulse = Pulse::start(&dir);
    poll_until(&mut s, "the device to come back by itself", 40.0, |s| {
        has_notice(s, "The audio output is back")
    });
    assert!(
        !has_notice(&s, DEVICE_LOST),
        "the device-lost notice goes when the device is back"
    );
    s.apply(Command::Play);
    poll_until(&mut s, "playback to go on", 10.0, |s| {
        s.position_s() > paused_at + 0.5
    });
    assert_eq!(streams(), Some(1), "one stream plays into the server");

    // Paused for a while, the player lets go of the device (an idle app keeps no stream
    // running); play opens it again, and playback goes on from where it was.
    s.apply(Command::Pause);
    poll_until(
        &mut s,
        "the paused player to let go of the device",
        20.0,
        |_| streams() == Some(0),
    );
    assert!(
        matches!(s.player().device_state(), DeviceState::Ready(_)),
        "letting go while paused is not a lost device: {:?}",
        s.player().device_state()
    );
    let held = s.position_s();
    s.apply(Command::Play);
    poll_until(
        &mut s,
        "playback to go on after the long pause",
        10.0,
        |s| s.position_s() > held + 0.5,
    );
    assert_eq!(streams(), Some(1), "play opened the device again");
}

/// Playback streams the sound server has (its sink inputs), if `pactl` can ask it.
fn streams() -> Option<usize> {
    let out = Proc::new("pactl")
        .args(["list", "short", "sink-inputs"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).lines().count())
}
