using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MemoryNet.Kernels;

/// <summary>
/// Settings that libtorch and libgomp read once, when they load: applied here, in order, when this library loads,
/// before any tensor is made (<see cref="OpenMpSpin"/>, then <see cref="TorchLogLevel"/>). Linux only.
/// </summary>
internal static class NativeSetup
{
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnvNative(string name, string value, int overwrite);

    /// <summary>Sets a variable in the native environment (where libtorch and libgomp read it) unless it is set
    /// already.</summary>
    internal static void SetEnvIfUnset(string name, string value) => SetEnvNative(name, value, 0);

#pragma warning disable CA2255 // a module initializer is the one place that runs before libtorch is loaded
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            OpenMpSpin.Configure();
            TorchLogLevel.Configure();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
        }
    }
}
