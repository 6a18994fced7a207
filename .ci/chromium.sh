#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (tests/MemoryNet.Tests/Web/BrowserTests.cs) when it is missing.
# Playwright drives /usr/bin/chromium directly: no `playwright install`, no browser download from elsewhere.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# another apt may hold the dpkg lock for a while: wait for it rather than fail
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null; then break; fi
  [ "$attempt" -lt 10 ] || { echo "could not install chromium with apt-get" >&2; exit 1; }
  echo "apt-get failed (dpkg lock held?); retrying in 15 s" >&2
  sleep 15
done
[ -x /usr/bin/chromium ] || { echo "apt-get installed chromium but /usr/bin/chromium is missing" >&2; exit 1; }
