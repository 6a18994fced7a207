#!/usr/bin/env bash
# The release artifacts:
#   OUTDIR/memorynet-VERSION-RID.tar.gz   a self-contained MemoryNet for one platform (RID: linux-x64 unless RID is
#                                         set) that runs without the .NET SDK or runtime
#   OUTDIR/MemoryNet.VERSION.nupkg        the library as a NuGet package (samples/consumer uses it)
#
#   tools/release.sh OUTDIR               then tools/check-release.sh OUTDIR runs both as a user would
#
# Layout of the archive (one folder, memorynet-VERSION-RID/):
#   memorynet        the command: sets jemalloc as ./memorynet does (when libjemalloc2 is installed), runs bin/
#   bin/             `dotnet publish --self-contained` of the CLI (the .NET runtime, TorchSharp and this platform's libtorch)
#   models/          the bundled models with their cards and recipes (the CLI finds them beside bin/)
#   samples/demo/    the demo images (`memorynet demo`) and samples/LICENSES.md
#   README.md, CHANGELOG.md
# VERSION is the <Version> of Directory.Build.props.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: $0 OUTDIR}"
rid="${RID:-linux-x64}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"
[ -n "$version" ] || { echo "$root/Directory.Build.props: no <Version>" >&2; exit 2; }
name="memorynet-$version-$rid"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"
mkdir -p "$dir/bin" "$dir/models/recipes" "$dir/samples"

echo "publishing $name (self-contained)…" >&2
dotnet publish "$root/src/MemoryNet.Cli/MemoryNet.Cli.csproj" -c Release -r "$rid" --self-contained true \
  -p:DebugType=none -p:GenerateDocumentationFile=false -o "$dir/bin" --nologo -v q -clp:ErrorsOnly >&2
cp "$root"/models/*.safetensors "$root"/models/*.md "$dir/models/"
cp "$root"/models/recipes/*.yml "$dir/models/recipes/"
cp -r "$root/samples/demo" "$dir/samples/demo"
cp "$root/samples/LICENSES.md" "$dir/samples/"
cp "$root/README.md" "$root/CHANGELOG.md" "$dir/"

cat > "$dir/memorynet" <<'EOF'
#!/usr/bin/env bash
# MemoryNet for .NET (release build). jemalloc when installed (Debian: libjemalloc2), as the repository's launcher
# does: glibc's heap fragments under libtorch's varying activation sizes; dirty_decay_ms:-1 keeps freed pages for
# reuse. MEMORYNET_MALLOC=glibc opts out; a MALLOC_CONF set by the caller wins.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
if [ "${MEMORYNET_MALLOC:-}" != glibc ] && [ -f "$jemalloc" ] && [[ ":${LD_PRELOAD:-}:" != *":$jemalloc:"* ]]; then
  export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$jemalloc"
  export MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:-1}"
fi
exec "$here/bin/MemoryNet.Cli" "$@"
EOF
chmod +x "$dir/memorynet"

echo "packing MemoryNet.$version.nupkg…" >&2
dotnet pack "$root/src/MemoryNet/MemoryNet.csproj" -c Release -o "$out" --nologo -v q -clp:ErrorsOnly >&2

archive="$out/$name.tar.gz"
tar -C "$stage" -cf - "$name" | gzip -1 > "$archive.tmp"
mv "$archive.tmp" "$archive"
echo "$archive ($(du -h "$archive" | cut -f1); unpacked $(du -sh "$dir" | cut -f1))"
echo "$out/MemoryNet.$version.nupkg ($(du -h "$out/MemoryNet.$version.nupkg" | cut -f1))"
