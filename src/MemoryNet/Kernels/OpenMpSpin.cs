namespace MemoryNet.Kernels;

/// <summary>
/// libtorch runs its operations on libgomp's OpenMP threads, which by default spin (GOMP_SPINCOUNT 300,000) after each
/// parallel region before they sleep. This library's own kernels (<see cref="Winograd3x3"/>, the fused memory read) run
/// on .NET threads right after such regions, and a spinning OpenMP thread holds one of the cores they need: fp32
/// memorynet at 256² took 1.1–1.2 s with the default spin and 0.73–0.90 s with 10,000 (docs/performance.md). So
/// the spin count is lowered to 10,000 when the library loads, before libtorch (and libgomp, which reads it once) does,
/// unless the user set GOMP_SPINCOUNT or OMP_WAIT_POLICY.
/// </summary>
internal static class OpenMpSpin
{
    public const string SpinCount = "10000";

    /// <summary>Called by <see cref="NativeSetup"/> when the library loads.</summary>
    internal static void Configure()
    {
        if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        NativeSetup.SetEnvIfUnset("GOMP_SPINCOUNT", SpinCount);
    }
}
