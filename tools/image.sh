#!/usr/bin/env bash
# The container image: OUTDIR/memorynet-VERSION-image.tar, an image archive that `podman load` and `docker load` read,
# made from the release archive of tools/release.sh (run that first, with the same OUTDIR).
#
#   tools/image.sh OUTDIR          needs podman and debootstrap (apt-get install -y podman debootstrap), run as root
#
# The image: a minimal Debian 12 (debootstrap --variant=minbase, with libjemalloc2 and ICU) built here from the Debian archive, so
# that no container registry is needed; the self-contained release in /opt/memorynet (models inside); a non-root user
# `memorynet` (uid 10001); working directory /data (mount your photos there); entrypoint `memorynet`.
# Environment: ROOTFS (a folder to keep the debootstrap tree in between runs; default a temporary one),
#   DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: $0 OUTDIR (holding the release archive of tools/release.sh)}"
out="$(cd "$out" && pwd)"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"
release="$out/memorynet-$version-linux-x64.tar.gz"
[ -f "$release" ] || { echo "$release: not found (run tools/release.sh $out first)" >&2; exit 2; }
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y podman debootstrap" >&2; exit 2; }
done
tag="memorynet:$version"
ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT

rootfs="${ROOTFS:-$ctx/rootfs}"
if [ ! -x "$rootfs/bin/bash" ]; then
  echo "debootstrap: a minimal Debian 12 in $rootfs…" >&2
  debootstrap --variant=minbase --include=libjemalloc2,libicu72,ca-certificates bookworm "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$ctx/debootstrap.log" 2>&1 \
    || { tail -20 "$ctx/debootstrap.log" >&2; exit 1; }
fi
# the user, without running anything inside the image (no container runtime is needed to build it)
grep -q '^memorynet:' "$rootfs/etc/passwd" || {
  echo 'memorynet:x:10001:10001:MemoryNet:/data:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
  echo 'memorynet:x:10001:' >>"$rootfs/etc/group"
}
mkdir -p "$rootfs/data" && chown 10001:10001 "$rootfs/data"
tar -C "$rootfs" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' -cf "$ctx/rootfs.tar" .

mkdir -p "$ctx/opt"
tar -C "$ctx/opt" -xzf "$release"
mv "$ctx/opt/memorynet-$version-linux-x64" "$ctx/memorynet"
cat >"$ctx/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
COPY memorynet /opt/memorynet
ENV PATH=/opt/memorynet:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DOTNET_CLI_TELEMETRY_OPTOUT=1
LABEL org.opencontainers.image.title="MemoryNet for .NET" org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="Remove rain, raindrops, shadows and motion blur from photos (research-use models)"
USER 10001:10001
WORKDIR /data
ENTRYPOINT ["/opt/memorynet/memorynet"]
CMD ["--help"]
EOF
echo "podman build $tag…" >&2
podman build --quiet -t "$tag" -f "$ctx/Containerfile" "$ctx" >&2
image="$out/memorynet-$version-image.tar"
rm -f "$image"
podman save --format docker-archive -o "$image.tmp" "$tag" >&2
mv "$image.tmp" "$image"
echo "$image ($(du -h "$image" | cut -f1)), tag $tag"
