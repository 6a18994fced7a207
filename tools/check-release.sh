#!/usr/bin/env bash
# Checks the release artifacts of tools/release.sh as their users would run them.
#   1. The archive, unpacked in a temporary folder with no dotnet on PATH and DOTNET_ROOT pointing nowhere: it must
#      print its help, list the bundled models, restore the demo's rainy image with the bundled derain model and run
#      the demo.
#   2. The NuGet package: samples/consumer, copied out of the repository (so no build setting of ours applies), is
#      restored from OUTDIR as a package feed, built, and restores the same image.
#
#   tools/check-release.sh OUTDIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(readlink -f "${1:?usage: $0 OUTDIR (made by tools/release.sh)}")"
archive="$(ls "$out"/memorynet-*.tar.gz | head -1)"
package="$(ls "$out"/MemoryNet.*.nupkg | head -1)"
version="$(basename "$package" .nupkg)"; version="${version#MemoryNet.}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

tar -C "$work" -xzf "$archive"
dir="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'memorynet-*' | head -1)"
# a PATH with only what the wrapper script uses: no dotnet
mkdir -p "$work/path"
for tool in bash dirname readlink; do ln -s "$(command -v "$tool")" "$work/path/$tool"; done
run() { env -i HOME="$work" PATH="$work/path" DOTNET_ROOT=/nonexistent "$dir/memorynet" "$@"; }
# outputs captured before matching: with pipefail, `| grep -q` stops reading at its first match and the writer's
# SIGPIPE would fail the pipeline at random
help="$(run --help)"; grep -q "restore" <<<"$help" || { echo "release: --help does not list restore" >&2; exit 1; }
models="$(run models list)"
grep -q "derain" <<<"$models" || { echo "release: models list does not show derain" >&2; exit 1; }
run restore --task derain "$dir/samples/demo/derain.png" -o "$work/out.png" >/dev/null
[ -s "$work/out.png" ] || { echo "release: restore wrote nothing" >&2; exit 1; }
(cd "$work" && run demo --out "$work/demo" >/dev/null)
compgen -G "$work/demo/*derain*" >/dev/null || { echo "release: demo wrote no derain strip" >&2; exit 1; }
echo "archive ok: $(basename "$archive") ran help, models list, restore --task derain and demo without .NET on PATH"

cp -r "$root/samples/consumer" "$work/consumer"
cat > "$work/consumer/nuget.config" <<XML
<configuration><packageSources><add key="release" value="$out" /></packageSources></configuration>
XML
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/memorynet/$version"   # the package just made, not a cached one
dotnet build "$work/consumer/Consumer.csproj" -c Release -p:MemoryNetVersion="$version" -o "$work/consumer/bin" --nologo -v q -clp:ErrorsOnly
dotnet "$work/consumer/bin/Consumer.dll" "$root/models/derain.safetensors" "$root/samples/demo/derain.png" "$work/consumer.png"
[ -s "$work/consumer.png" ] || { echo "package: the consumer wrote nothing" >&2; exit 1; }
echo "package ok: $(basename "$package") restored an image from samples/consumer"
