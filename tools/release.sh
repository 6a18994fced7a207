#!/usr/bin/env bash
# The release artifacts:
#   OUTDIR/memorynet-VERSION-RID.tar.gz   a self-contained MemoryNet for one platform (RID: linux-x64 unless RID is
#                                         set) that runs without the .NET SDK or runtime
#   OUTDIR/MemoryNet.VERSION.nupkg        the library as a NuGet package (samples/consumer uses it)
#
#   tools/release.sh OUTDIR               then tools/check-release.sh OUTDIR runs both as a user would
#   (tools/image.sh OUTDIR then makes the container image from the archive; tools/check-image.sh runs it)
#
# Layout of the archive (one folder, memorynet-VERSION-RID/):
#   memorynet        the command: the allocator settings of ./memorynet (build/jemalloc.sh, copied to bin/), runs bin/
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
# libtorch's Python bindings (32 MB) come with the libtorch package; nothing here loads them
rm -f "$dir/bin/libtorch_python.so"
cp "$root"/models/*.safetensors "$root"/models/*.md "$dir/models/"
cp "$root"/models/recipes/*.yml "$dir/models/recipes/"
cp -r "$root/samples/demo" "$dir/samples/demo"
cp "$root/samples/LICENSES.md" "$dir/samples/"
cp "$root/README.md" "$root/CHANGELOG.md" "$dir/"
cp "$root/build/jemalloc.sh" "$dir/bin/"

cat > "$dir/memorynet" <<'EOF'
#!/usr/bin/env bash
# MemoryNet for .NET (release build): the allocator settings of the repository's launcher (jemalloc.sh), then the CLI.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
. "$here/bin/jemalloc.sh"
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
