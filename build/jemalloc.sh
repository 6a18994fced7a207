# Sourced by ./memorynet and by the release archive's wrapper (tools/release.sh): the allocator settings of every run.
# libtorch's CPU tensors come from malloc; glibc's heap fragments under the varying activation sizes and resident
# memory creeps from image to image (measured: +176 MB over 55 restores of a 256² image); with jemalloc it grows
# +13..37 MB at the same speed. Used when installed (Debian: libjemalloc2); MEMORYNET_MALLOC=glibc opts out.
# dirty_decay_ms:-1 keeps freed pages mapped for reuse: with jemalloc's default decay every activation above a few
# MB was handed back to the kernel and faulted in again on the next use (2.38 M page faults in 5 forwards of the
# 256² memorynet instead of 0.10 M; 2.95 s/image instead of 1.85 s). RSS then stays at the peak, which it reaches
# anyway. A MALLOC_CONF set by the caller wins.
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
if [ "${MEMORYNET_MALLOC:-}" != glibc ] && [ -f "$jemalloc" ] && [[ ":${LD_PRELOAD:-}:" != *":$jemalloc:"* ]]; then
  export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$jemalloc"
  export MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:-1}"
fi
