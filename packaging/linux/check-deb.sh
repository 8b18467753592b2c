#!/bin/sh
# Checks the package `make package` built: unpacks it into a temporary root, runs the
# installed `sori --version` and `--help` from there, and validates the desktop entry,
# the AppStream metainfo and the MIME definition as installed. With SORI_INSTALL_DEB=1 (CI,
# as root) it also installs the package with apt, runs /usr/bin/sori and removes it again.
set -eu
cd "$(dirname "$0")/../.."
ID=org.sori.Sori
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
DEB=target/debian/sori_${VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || { echo "no $DEB: run make package first" >&2; exit 1; }

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
dpkg-deb -x "$DEB" "$ROOT"
for f in usr/bin/sori usr/share/applications/$ID.desktop usr/share/metainfo/$ID.metainfo.xml \
  usr/share/mime/packages/$ID.xml usr/share/icons/hicolor/512x512/apps/$ID.png \
  usr/share/icons/hicolor/16x16/apps/$ID.png usr/share/icons/hicolor/scalable/apps/$ID.svg \
  usr/share/doc/sori/copyright usr/share/doc/sori/licenses/fonts-nanum-copyright.txt; do
  [ -e "$ROOT/$f" ] || { echo "missing from the package: /$f" >&2; exit 1; }
done

"$ROOT/usr/bin/sori" --version | grep -qx "sori $VERSION" || {
  echo "the packaged sori --version does not say sori $VERSION" >&2; exit 1; }
"$ROOT/usr/bin/sori" --help | grep -q "Usage: sori" || {
  echo "the packaged sori --help printed no usage" >&2; exit 1; }

desktop-file-validate "$ROOT/usr/share/applications/$ID.desktop"
appstreamcli validate --no-net "$ROOT/usr/share/metainfo/$ID.metainfo.xml"
# The notes type must compile into a MIME database and claim *.sori.toml.
mkdir -p "$ROOT/mime/packages"
cp "$ROOT/usr/share/mime/packages/$ID.xml" "$ROOT/mime/packages/"
update-mime-database "$ROOT/mime" 2>/dev/null
grep -q "application/x-sori-notes:\*\.sori\.toml" "$ROOT/mime/globs2" || {
  echo "the MIME definition does not claim *.sori.toml" >&2; exit 1; }

if [ "${SORI_INSTALL_DEB:-0}" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "./$DEB" >/dev/null
  /usr/bin/sori --version | grep -qx "sori $VERSION"
  apt-get remove -y -qq sori >/dev/null
  echo "installed with apt, ran /usr/bin/sori --version, removed"
fi
echo "package ok: $DEB"
