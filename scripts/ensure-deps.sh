#!/bin/sh
# Installs the Debian/Ubuntu packages Sori needs when they are missing.
#   scripts/ensure-deps.sh build   - to compile
#   scripts/ensure-deps.sh test    - to compile and run the tests (a PulseAudio server with a
#                                    null sink stands in for a sound card in one of them)
#   scripts/ensure-deps.sh bench   - to run make bench (PulseAudio and parec for the seek
#                                    latency, Xvfb for the real app's idle CPU and memory)
#   scripts/ensure-deps.sh run     - to compile and open the window
#   scripts/ensure-deps.sh package - to build the .deb and validate it (make package)
# Without root or sudo it prints the apt-get command to run and fails.
set -eu

BUILD="pkg-config libasound2-dev gcc g++ make"
TEST="pulseaudio pulseaudio-utils libasound2-plugins"
RUN="libgl1 libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6"
PACKAGE="dpkg-dev binutils desktop-file-utils appstream shared-mime-info"

case "${1:-build}" in
  build) WANT="$BUILD" ;;
  test) WANT="$BUILD $TEST" ;;
  bench) WANT="$BUILD $TEST $RUN xvfb" ;;
  run) WANT="$BUILD $RUN" ;;
  package) WANT="$BUILD $PACKAGE" ;;
  *) echo "usage: $0 build|test|bench|run|package" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed: see https://rustup.rs, then run this again." >&2
  exit 1
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian-like system: install the equivalents of: $WANT" >&2
  exit 0
fi

MISSING=""
for p in $WANT; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    MISSING="$MISSING $p"
  fi
done
[ -z "$MISSING" ] && exit 0

echo "Installing system packages:$MISSING"
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "Please run:  apt-get update && apt-get install -y$MISSING" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $MISSING
