#!/bin/sh
# `make package`: builds Sori and writes target/debian/sori_VERSION_ARCH.deb with Debian's
# own tools (dpkg-shlibdeps for the library dependencies, dpkg-deb to pack).
# Installs: the binary, the desktop entry, icons (16–512 px and SVG), AppStream metainfo,
# the MIME type of the notes files, and the licences (the font, glossary and lens model are
# inside the binary). Menus, MIME and icon caches refresh through dpkg's triggers.
set -eu
cd "$(dirname "$0")/../.."
ID=org.sori.Sori
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
ARCH=$(dpkg --print-architecture)
OUT=target/debian
ROOT=$OUT/root

# Built as `make test` builds it (release, with the test targets' features), so the binary
# packed is the one the tests ran, and a tested tree is not compiled a second time.
cargo test --release --locked --no-run

rm -rf "$ROOT"
mkdir -p "$ROOT/DEBIAN"
install -Dm755 target/release/sori "$ROOT/usr/bin/sori"
strip --strip-unneeded "$ROOT/usr/bin/sori"
install -Dm644 packaging/linux/$ID.desktop "$ROOT/usr/share/applications/$ID.desktop"
install -Dm644 packaging/linux/$ID.metainfo.xml "$ROOT/usr/share/metainfo/$ID.metainfo.xml"
install -Dm644 packaging/linux/$ID.xml "$ROOT/usr/share/mime/packages/$ID.xml"
for n in 16 24 32 48 64 128 256 512; do
  install -Dm644 "packaging/icons/png/sori-$n.png" \
    "$ROOT/usr/share/icons/hicolor/${n}x${n}/apps/$ID.png"
done
install -Dm644 packaging/icons/sori.svg "$ROOT/usr/share/icons/hicolor/scalable/apps/$ID.svg"
DOC=$ROOT/usr/share/doc/sori
install -Dm644 packaging/linux/copyright "$DOC/copyright"
install -Dm644 README.md "$DOC/README.md"
for f in assets/licenses/*; do
  install -Dm644 "$f" "$DOC/licenses/$(basename "$f")"
done

# Library dependencies of the binary, as Debian names them on this release.
SHL=$(mktemp -d)
trap 'rm -rf "$SHL"' EXIT
mkdir -p "$SHL/debian"
printf 'Source: sori\n\nPackage: sori\nArchitecture: any\n' > "$SHL/debian/control"
BIN=$(pwd)/$ROOT/usr/bin/sori
SHLIBS=$(cd "$SHL" && dpkg-shlibdeps -O "$BIN" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
# The window's libraries are loaded at run time (not linked), so they are named here.
DEPENDS="${SHLIBS:+$SHLIBS, }libgl1, libegl1, libxkbcommon-x11-0, libxcursor1, libxrandr2, libxi6"

cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: sori
Version: $VERSION
Architecture: $ARCH
Maintainer: The Sori developers <maintainers@sori.invalid>
Installed-Size: $(du -sk "$ROOT/usr" | cut -f1)
Depends: $DEPENDS
Recommends: libwayland-client0, libwayland-egl1, xdg-desktop-portal-gtk | zenity
Section: sound
Priority: optional
Homepage: https://github.com/sori-app/sori
Description: explore how Korean instruments are woven into pop tracks
 Sori (소리, "sound") opens an audio file, plays it and shows its waveform and
 spectrogram, with lanes that show where the timbres of traditional Korean
 instruments (gayageum, haegeum, daegeum, piri, janggu, kkwaenggwari, jing)
 stand against pop production, each with evidence a listener can check, and
 notes synced to playback that travel to and from Sonic Visualiser, Audacity,
 ELAN/Praat, JAMS and subtitle formats.
CONTROL

DEB=$OUT/sori_${VERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
