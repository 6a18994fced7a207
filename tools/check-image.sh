#!/usr/bin/env bash
# Checks the container image of tools/image.sh as a user would: `podman load` the archive, then run `--help`,
# `models list` and one `restore --task derain` on a mounted folder, as the image's non-root user.
#
#   tools/check-image.sh OUTDIR      (OUTDIR holds memorynet-VERSION-image.tar)
#
# Some sandboxed machines (this project's CI among them) forbid setrlimit to containers and run cgroups in hybrid mode,
# where podman's default runtime (crun) and default ulimits fail; the script then retries with runc and no default
# ulimits (CONTAINERS_CONF with default_ulimits = []) and says so. Needs podman (and runc for that fallback).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(cd "${1:?usage: $0 OUTDIR}" && pwd)"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"
archive="$out/memorynet-$version-image.tar"
tag="localhost/memorynet:$version"
[ -f "$archive" ] || { echo "$archive: not found (run tools/image.sh $out)" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

podman rmi -f "$tag" >/dev/null 2>&1 || true
podman load -i "$archive" | tail -1
user="$(podman image inspect --format '{{.Config.User}}' "$tag")"
[ "$user" = "10001:10001" ] || { echo "FAIL: the image runs as '$user', not the non-root user 10001" >&2; exit 1; }

run=(podman run --rm --network=none)
if ! "${run[@]}" "$tag" --help >"$work/help.txt" 2>&1; then
  echo "note: podman run failed here ($(head -1 "$work/help.txt")); retrying with runc and no default ulimits" >&2
  printf '[containers]\ndefault_ulimits = []\n' >"$work/containers.conf"
  export CONTAINERS_CONF="$work/containers.conf"
  run=(podman --runtime runc run --rm --network=none)
  "${run[@]}" "$tag" --help >"$work/help.txt" 2>&1 || { cat "$work/help.txt" >&2; exit 1; }
fi
grep -q "restore" "$work/help.txt" || { echo "FAIL: --help does not list the commands" >&2; cat "$work/help.txt" >&2; exit 1; }
# output to a file first: with pipefail, `| grep -q` stops reading at its first match and the writer's SIGPIPE fails
# the pipeline at random
"${run[@]}" "$tag" models list >"$work/models.txt"
grep -q "derain" "$work/models.txt" || { echo "FAIL: models list shows no derain model" >&2; cat "$work/models.txt" >&2; exit 1; }

mkdir -p "$work/data" && chmod 777 "$work/data"
cp "$root/samples/demo/derain.png" "$work/data/rainy.png"
"${run[@]}" -v "$work/data:/data" "$tag" restore rainy.png -o rainy-restored.png --task derain
[ -s "$work/data/rainy-restored.png" ] || { echo "FAIL: no restored image in the mounted folder" >&2; exit 1; }
owner="$(stat -c %u "$work/data/rainy-restored.png")"
[ "$owner" = 10001 ] || { echo "FAIL: the output belongs to uid $owner, not the image's user" >&2; exit 1; }
echo "image OK: $archive ($(du -h "$archive" | cut -f1)); --help, models list and a restore on a mounted folder as uid 10001"
