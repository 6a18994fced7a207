using System.Runtime.Intrinsics.X86;

namespace MemoryNet.Kernels;

/// <summary>What the processor computes natively, where it decides a code path.</summary>
public static class CpuFeatures
{
    /// <summary>
    /// Whether bf16 dot products run in hardware: AVX512-BF16 (CPUID leaf 7 sub-leaf 1, EAX bit 5) or AMX-BF16 (leaf 7,
    /// EDX bit 22) on x86, the BF16 feature on Arm (Linux reports it in /proc/cpuinfo). Without it libtorch emulates
    /// bf16 and a bf16 network is slower than fp32.
    /// </summary>
    public static bool HasBf16 { get; } = Detect();

    static bool Detect()
    {
        if (X86Base.IsSupported)
        {
            var (maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
            if (maxLeaf < 7) return false;
            var (_, _, _, edx0) = X86Base.CpuId(7, 0);
            var (eax1, _, _, _) = X86Base.CpuId(7, 1);
            return (eax1 & (1 << 5)) != 0 || (edx0 & (1 << 22)) != 0;
        }
        try
        {
            return File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo")
                .Any(l => l.StartsWith("Features", StringComparison.Ordinal)
                    && l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("bf16"));
        }
        catch (IOException) { return false; }
    }
}
