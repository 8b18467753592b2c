#!/bin/sh
# Regenerates Sori's icon files from sori.svg (run after editing it; the results are
# committed so that building Sori needs neither tool):
#   png/sori-N.png for N in 16 … 512   window icon, Linux hicolor theme, macOS bundle
#   sori.ico                           Windows (16 … 256 in one file)
# Needs rsvg-convert (Debian: librsvg2-bin) and ImageMagick's convert.
set -eu
cd "$(dirname "$0")"
mkdir -p png
for n in 16 24 32 48 64 128 256 512; do
  rsvg-convert -w "$n" -h "$n" sori.svg -o "png/sori-$n.png"
done
convert png/sori-16.png png/sori-24.png png/sori-32.png png/sori-48.png png/sori-64.png \
  png/sori-128.png png/sori-256.png sori.ico
