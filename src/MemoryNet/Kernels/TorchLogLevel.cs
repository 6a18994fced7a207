using System.Runtime.InteropServices;

namespace MemoryNet.Kernels;

/// <summary>
/// libtorch logs its C++ warnings to stderr at level WARNING, and some repeat on every convolution: on CPUs whose
/// NNPACK support it does not recognise (the AMD EPYC machines here) each small image printed 10–40 lines of
/// "Could not initialize NNPACK! Reason: Unsupported hardware.", thousands in a batch of thumbnails. Python's torch
/// applies TORCH_CPP_LOG_LEVEL through c10::initLogging; TorchSharp never calls it. So when the library loads, the
/// level is set to ERROR (unless the user set TORCH_CPP_LOG_LEVEL: INFO or WARNING bring the warnings back) and
/// libc10's initLogging is called to apply it.
/// </summary>
internal static class TorchLogLevel
{
    public const string Variable = "TORCH_CPP_LOG_LEVEL";
    public const string Default = "ERROR";
    const string InitLogging = "_ZN3c1011initLoggingEv"; // c10::initLogging()

    /// <summary>Called by <see cref="NativeSetup"/> when the library loads.</summary>
    internal static unsafe void Configure()
    {
        NativeSetup.SetEnvIfUnset(Variable, Default);
        // libc10 is found where TorchSharp's own loads will look (the runtimes folder of the deps file);
        // loading it first is harmless: libtorch later links to this same copy by its soname
        if (!NativeLibrary.TryLoad("c10", typeof(TorchSharp.torch).Assembly, null, out var c10)) return;
        if (NativeLibrary.TryGetExport(c10, InitLogging, out var init))
            ((delegate* unmanaged<void>)init)();
    }
}
