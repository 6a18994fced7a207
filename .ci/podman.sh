#!/usr/bin/env bash
# Installs what tools/image.sh and tools/check-image.sh need: podman (builds, saves, loads and runs the image without a
# daemon), debootstrap (the image's Debian from the Debian archive: no container registry needed) and runc (the runtime
# that works on sandboxed machines where crun cannot set limits).
set -euo pipefail
missing=()
for tool in podman debootstrap runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing ${missing[*]} for the container image check…" >&2
export DEBIAN_FRONTEND=noninteractive
# another apt may hold the dpkg lock for a while: wait for it rather than fail
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then break; fi
  [ "$attempt" -lt 10 ] || { echo "could not install ${missing[*]} with apt-get" >&2; exit 1; }
  echo "apt-get failed (dpkg lock held?); retrying in 15 s" >&2
  sleep 15
done
