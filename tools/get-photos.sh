#!/usr/bin/env bash
# Fetches permissively licensed clean photographs from Debian packages (without
# installing them) into DEST/train and DEST/test, split BY PHOTOGRAPH, and writes
# DEST/LICENSES.md naming each photo's author and licence.
#
#   tools/get-photos.sh DEST
#
# Sources (see docs/synthesis.md and shared/spec/degradations.md):
#   mate-backgrounds          usr/share/backgrounds/mate/nature/*.jpg    GPL-2+
#   lomiri-wallpapers-16.04   usr/share/backgrounds/*.jpg                CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0
#   python3-skimage           usr/lib/python3/dist-packages/skimage/data  public domain / CC0
# Skipped: RainDrops.jpg (real raindrops) and umang_* (a graphic, not a photo).
set -euo pipefail

if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
DEST=$1
command -v apt-get >/dev/null || { echo "error: apt-get not found (this script needs a Debian/Ubuntu machine)" >&2; exit 1; }
command -v dpkg >/dev/null || { echo "error: dpkg not found" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PKGS=(mate-backgrounds lomiri-wallpapers-16.04 python3-skimage)
echo "downloading ${PKGS[*]} (no installation) ..." >&2
( cd "$WORK" && apt-get download "${PKGS[@]}" >/dev/null 2>"$WORK/apt.log" ) || {
  cat "$WORK/apt.log" >&2
  echo "error: apt-get download failed (try 'sudo apt-get update' first)" >&2
  exit 1
}
for deb in "$WORK"/*.deb; do dpkg -x "$deb" "$WORK/root"; done
R=$WORK/root
MATE=$R/usr/share/backgrounds/mate/nature
LOMIRI=$R/usr/share/backgrounds
SKI=$R/usr/lib/python3/dist-packages/skimage/data

# name in DEST | file inside the packages | split | author | licence | source
# The split is by photograph (both motorcycle views of one scene stay together).
PHOTOS=$(cat <<'LIST'
mate-Aqua.jpg|MATE/Aqua.jpg|train|Charles Barbin (2008)|GPL-2+|mate-backgrounds
mate-Blinds.jpg|MATE/Blinds.jpg|train|Lennart Poettering, Andrea Cimitan (2008)|GPL-2+|mate-backgrounds
mate-Dune.jpg|MATE/Dune.jpg|train|Marco Cogoni (2007), Hylke Bons (2008)|GPL-2+|mate-backgrounds
mate-FreshFlower.jpg|MATE/FreshFlower.jpg|train|Jens Ansorg (2005)|GPL-2+|mate-backgrounds
mate-Garden.jpg|MATE/Garden.jpg|train|Charles Barbin (2008)|GPL-2+|mate-backgrounds
mate-GreenMeadow.jpg|MATE/GreenMeadow.jpg|train|Timothy Schellhase (2005), Lapo Calamandrei (2008)|GPL-2+|mate-backgrounds
mate-LadyBird.jpg|MATE/LadyBird.jpg|train|Charles Barbin (2008)|GPL-2+|mate-backgrounds
mate-Storm.jpg|MATE/Storm.jpg|test|Sergey Nazarov (2008)|GPL-2+|mate-backgrounds
mate-TwoWings.jpg|MATE/TwoWings.jpg|train|Charles Barbin, Hylke Bons (2008)|GPL-2+|mate-backgrounds
mate-Wood.jpg|MATE/Wood.jpg|train|Jean-François Fortin Tam (2008)|GPL-2+|mate-backgrounds
mate-YellowFlower.jpg|MATE/YellowFlower.jpg|test|Charles Barbin (2008)|GPL-2+|mate-backgrounds
lomiri-aitzgorri_by_Aitzol_Berasategi.jpg|LOMIRI/aitzgorri_by_Aitzol_Berasategi.jpg|train|Aitzol Berasategi (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-analogpattern_by_Peter_Nerlich.jpg|LOMIRI/analogpattern_by_Peter_Nerlich.jpg|train|Peter Nerlich (2018)|CC-BY-SA-4.0|lomiri-wallpapers-16.04
lomiri-Bridge_by_Sander_Klootwijk.jpg|LOMIRI/Bridge_by_Sander_Klootwijk.jpg|test|Sander Klootwijk (2018)|CC-BY-SA-4.0|lomiri-wallpapers-16.04
lomiri-Dragonfly_by_Bolly.jpg|LOMIRI/Dragonfly_by_Bolly.jpg|train|"Bolly" (2018)|CC-BY-SA-4.0|lomiri-wallpapers-16.04
lomiri-free_by_Peter_Nerlich.jpg|LOMIRI/free_by_Peter_Nerlich.jpg|train|Peter Nerlich (2018)|CC-BY-SA-4.0|lomiri-wallpapers-16.04
lomiri-friends_by_Aitzol_Berasategi.jpg|LOMIRI/friends_by_Aitzol_Berasategi.jpg|train|Aitzol Berasategi (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-greentock_by_Peter_Nerlich.jpg|LOMIRI/greentock_by_Peter_Nerlich.jpg|train|Peter Nerlich (2018)|CC-BY-SA-4.0|lomiri-wallpapers-16.04
lomiri-life_by_Aitzol_Berasategi.jpg|LOMIRI/life_by_Aitzol_Berasategi.jpg|train|Aitzol Berasategi (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-picosdeeuropa_by_Aitzol_Berasategi.jpg|LOMIRI/picosdeeuropa_by_Aitzol_Berasategi.jpg|train|Aitzol Berasategi (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-Picture_0B_by_freespace.jpg|LOMIRI/Picture_0B_by_freespace.jpg|test|Trevor "Freespace" (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-Picture_1A_by_freespace.jpg|LOMIRI/Picture_1A_by_freespace.jpg|train|Trevor "Freespace" (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-seeding_by_Clements_Engelhardt.jpg|LOMIRI/seeding_by_Clements_Engelhardt.jpg|train|Clemens Engelhardt (2018)|CC0-1.0|lomiri-wallpapers-16.04
lomiri-sunset_by_Aitzol_Berasategi.jpg|LOMIRI/sunset_by_Aitzol_Berasategi.jpg|test|Aitzol Berasategi (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
lomiri-Wine_by_Jakkub_Mede.jpg|LOMIRI/Wine_by_Jakkub_Mede.jpg|train|Jakub Mede (2018)|CC-BY-4.0|lomiri-wallpapers-16.04
skimage-astronaut.png|SKI/astronaut.png|train|NASA (Eileen Collins portrait)|public domain|python3-skimage
skimage-chelsea.png|SKI/chelsea.png|train|Stefan van der Walt|CC0-1.0|python3-skimage
skimage-coffee.png|SKI/coffee.png|train|Rachel Michetti (courtesy of Pikolo Espresso Bar)|CC0-1.0|python3-skimage
skimage-rocket.jpg|SKI/rocket.jpg|train|SpaceX (DSCOVR launch on Falcon 9)|public domain|python3-skimage
skimage-hubble_deep_field.jpg|SKI/hubble_deep_field.jpg|train|NASA / Hubble (eXtreme Deep Field)|public domain|python3-skimage
skimage-motorcycle_left.png|SKI/motorcycle_left.png|test|Middlebury 2014 stereo (Scharstein et al.)|see skimage _fetchers.py (Middlebury benchmark)|python3-skimage
skimage-motorcycle_right.png|SKI/motorcycle_right.png|test|Middlebury 2014 stereo (Scharstein et al.)|see skimage _fetchers.py (Middlebury benchmark)|python3-skimage
LIST
)

mkdir -p "$DEST/train" "$DEST/test"
LIC=$DEST/LICENSES.md
{
  echo "# Licences of the photographs in this folder"
  echo
  echo "Fetched by tools/get-photos.sh from Debian packages (apt-get download + dpkg -x)."
  echo "Authors and licences are taken from each package's debian/copyright file"
  echo "(mate-backgrounds, lomiri-wallpapers-16.04) and from the docstrings in"
  echo "skimage/data/_fetchers.py (python3-skimage). Full licence texts: the packages'"
  echo "copyright files, copied here as copyright-*.txt."
  echo
  echo "| file | split | author | licence | package |"
  echo "|---|---|---|---|---|"
} > "$LIC.tmp"

n_train=0; n_test=0
while IFS='|' read -r name src split author licence pkg; do
  [[ -z "$name" ]] && continue
  case $src in
    MATE/*) path=$MATE/${src#MATE/} ;;
    LOMIRI/*) path=$LOMIRI/${src#LOMIRI/} ;;
    SKI/*) path=$SKI/${src#SKI/} ;;
  esac
  if [[ ! -f "$path" ]]; then
    echo "warning: $pkg has no ${src#*/}; skipped" >&2
    continue
  fi
  cp "$path" "$DEST/$split/$name"
  [[ $split == train ]] && n_train=$((n_train + 1)) || n_test=$((n_test + 1))
  echo "| $split/$name | $split | $author | $licence | $pkg |" >> "$LIC.tmp"
done <<< "$PHOTOS"

cat >> "$LIC.tmp" <<'NOTE'

The motorcycle images: "The two images are part of the Middlebury 2014 stereo
benchmark ... created by Nera Nesic, Porter Westling, Xi Wang, York Kitajima,
Greg Krathwohl, and Daniel Scharstein at Middlebury College" (skimage docstring);
they ship in scikit-image under its BSD-3-Clause distribution terms.
NOTE
for pkg in mate-backgrounds lomiri-wallpapers-16.04 python3-skimage; do
  f=$R/usr/share/doc/$pkg/copyright
  [[ -f $f ]] && cp "$f" "$DEST/copyright-$pkg.txt"
done
mv "$LIC.tmp" "$LIC"
echo "wrote $n_train train and $n_test test photos to $DEST (licences: $LIC)" >&2
