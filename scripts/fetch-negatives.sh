#!/bin/sh
# Hard negatives for measuring and training the fusion lens (issue 27): music and Western
# look-alike instruments that hold no Korean instrument, from Debian packages of freely
# licensed material. Nothing here is committed: everything goes to a cache folder, with a
# labels.csv in the columns of shared/testdata/labels.csv plus `group`, `source` and
# `licence`, so that
#
#   sori eval ../shared/testdata ~/.cache/sori/negatives
#
# scores the lens on both. Usage: scripts/fetch-negatives.sh [CACHE_DIR]
#
#   * game and film-like music (30 s excerpts, from 30 s in): Wesnoth (orchestral, lutes,
#     harps, flutes, choirs), SuperTux and Frozen Bubble (pop/electronic);
#   * Western instruments that a listener could mistake for Korean ones (harp, guitar,
#     marimba, glockenspiel, vibraphone, violin, cello, pizzicato and bowed string sections,
#     flute, pan flute, oboe, clarinet, choir, harmonica, accordion, banjo, piano, tubular
#     bells, acoustic drum kit, timpani), each a pentatonic phrase with bends left out,
#     rendered by FluidSynth from the Fluid R3 General MIDI sound font.
#
# Kept out on purpose: warzone2100-music and extremetuxracer-data, which are held back for
# independent checks of the lens on music it has never heard.
set -eu

CACHE="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/sori/negatives}"
MUSIC_PKGS="wesnoth-1.16-music supertux-data frozen-bubble-data"
FONT_PKG="fluid-soundfont-gm"

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  else
    echo "Please install $2 (apt-get install $2) and run this again." >&2
    exit 1
  fi
}
need python3 python3
need fluidsynth fluidsynth
need dpkg-deb dpkg

mkdir -p "$CACHE/debs" "$CACHE/x" "$CACHE/audio" "$CACHE/licences"
cd "$CACHE/debs"
for p in $MUSIC_PKGS $FONT_PKG; do
  ls "$p"_*.deb >/dev/null 2>&1 || apt-get download "$p" >/dev/null 2>&1 || {
    echo "Could not download the Debian package $p (is apt-get update needed?)." >&2
    exit 1
  }
  [ -d "$CACHE/x/$p" ] || { mkdir -p "$CACHE/x/$p" && dpkg-deb -x "$p"_*.deb "$CACHE/x/$p"; }
  cp "$CACHE/x/$p/usr/share/doc/$p/copyright" "$CACHE/licences/$p.copyright" 2>/dev/null || true
done

python3 - "$CACHE" <<'EOF'
import csv, glob, os, struct, subprocess, sys

cache = sys.argv[1]
rows = []

def add(path, start, end, family, lane, instrument, group, source, licence):
    rows.append([os.path.relpath(path, cache), f"{start:.3f}", f"{end:.3f}", family, lane,
                 instrument, "", group, source, licence])

# Music: up to `cap` tracks a package (evenly through its sorted list) of the ones long
# enough not to be jingles, an excerpt from 30 to 60 s of each.
music = [
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/*.ogg", "other", 16,
     "game soundtrack (orchestral, acoustic)", "GPL-2+ (see licences/wesnoth-1.16-music.copyright)"),
    ("supertux-data", "usr/share/games/supertux2/music/*/*.ogg", "pop", 12,
     "game soundtrack (pop, electronic)", "per track, GPL-2+/CC-BY-SA (see licences/supertux-data.copyright)"),
    ("frozen-bubble-data", "usr/share/games/frozen-bubble/snd/*.ogg", "pop", 3,
     "game soundtrack (pop)", "GPL-2 (see licences/frozen-bubble-data.copyright)"),
]
for pkg, pattern, family, cap, what, licence in music:
    tracks = [f for f in sorted(glob.glob(os.path.join(cache, "x", pkg, pattern)))
              if os.path.getsize(f) >= 600_000]
    step = max(1, len(tracks) // cap)
    for f in tracks[::step][:cap]:
        name = os.path.splitext(os.path.basename(f))[0]
        add(f, 30.0, 60.0, family, family, what, f"{pkg}/{name}", f"Debian package {pkg}", licence)

# Look-alikes: General MIDI programs, one phrase each.
font = glob.glob(os.path.join(cache, "x", "fluid-soundfont-gm", "usr/share/sounds/sf2/FluidR3_GM.sf2"))
lookalikes = [
    (46, "harp (Western)"), (24, "guitar, nylon strings"), (25, "guitar, steel strings"),
    (105, "banjo"), (12, "marimba (mallets)"), (9, "glockenspiel"), (11, "vibraphone (mallets)"),
    (13, "xylophone (mallets)"), (14, "tubular bells"), (0, "piano"), (40, "violin"),
    (42, "cello (strings)"), (45, "pizzicato strings"), (48, "string ensemble (strings)"),
    (73, "flute"), (75, "pan flute (flute)"), (68, "oboe"), (71, "clarinet"),
    (52, "choir aahs"), (22, "harmonica"), (21, "accordion"), (47, "timpani"),
]

def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))

def midi(program, notes, channel=0, tpq=480):
    ev = bytearray()
    ev += vlq(0) + bytes([0xC0 | channel, program])
    t = 0
    for start, dur, key, vel in notes:  # in ticks
        ev += vlq(start - t) + bytes([0x90 | channel, key, vel]); t = start
        ev += vlq(dur) + bytes([0x80 | channel, key, 0]); t = start + dur
    ev += vlq(tpq) + b"\xff\x2f\x00"
    track = b"MTrk" + struct.pack(">I", len(ev)) + bytes(ev)
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + track

def phrase(low):
    # A pentatonic line (C D F G A, a pyeongjo-like set), quarter and eighth notes at 90 BPM.
    scale = [0, 2, 5, 7, 9, 12, 14, 17]
    steps = [0, 2, 3, 4, 3, 2, 4, 5, 4, 3, 1, 0, 2, 1, 0]
    notes, t = [], 0
    for i, s in enumerate(steps):
        d = 480 if i % 3 == 0 else 240
        notes.append((t, d, low + scale[s], 96))
        t += d
    return notes

if font:
    for program, name in lookalikes:
        low = 48 if program in (42, 47) else 60
        mid = os.path.join(cache, "audio", f"gm{program:03d}.mid")
        wav = os.path.join(cache, "audio", f"gm{program:03d}.wav")
        if not os.path.exists(wav):
            with open(mid, "wb") as fh:
                fh.write(midi(program, phrase(low)))
            subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", "44100", "-F", wav, font[0], mid],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        add(wav, 0.0, 0.0, "other", "other", name, f"gm/{program}",
            "Fluid R3 GM sound font (Debian fluid-soundfont-gm), rendered by FluidSynth",
            "MIT (see licences/fluid-soundfont-gm.copyright)")
    # An acoustic drum kit groove on the percussion channel: kick, snare, hi-hat in 4/4.
    wav = os.path.join(cache, "audio", "gm-drumkit.wav")
    if not os.path.exists(wav):
        notes = []
        for bar in range(4):
            for q in range(8):
                t = bar * 1920 + q * 240
                notes.append((t, 100, 42, 80))  # closed hi-hat
                if q in (0, 4):
                    notes.append((t, 100, 36, 110))  # kick
                if q in (2, 6):
                    notes.append((t, 100, 38, 105))  # snare
        notes.sort()
        mid = wav[:-4] + ".mid"
        # Simultaneous notes: write each at its own tick order (same-tick events chain at 0).
        ev = []
        for s, d, k, v in notes:
            ev.append((s, 0x99, k, v)); ev.append((s + d, 0x89, k, 0))
        ev.sort()
        data, t = bytearray(), 0
        for s, st, k, v in ev:
            data += vlq(s - t) + bytes([st, k, v]); t = s
        data += vlq(480) + b"\xff\x2f\x00"
        with open(mid, "wb") as fh:
            fh.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(data)) + bytes(data))
        subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", "44100", "-F", wav, font[0], mid],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    add(wav, 0.0, 0.0, "pop", "pop", "acoustic drum kit (Western; not janggu)", "gm/drumkit",
        "Fluid R3 GM sound font (Debian fluid-soundfont-gm), rendered by FluidSynth",
        "MIT (see licences/fluid-soundfont-gm.copyright)")

with open(os.path.join(cache, "labels.csv"), "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["file", "start_s", "end_s", "family", "lane", "instrument", "note", "group", "source", "licence"])
    w.writerows(rows)
print(f"{len(rows)} negatives listed in {os.path.join(cache, 'labels.csv')}")
EOF
