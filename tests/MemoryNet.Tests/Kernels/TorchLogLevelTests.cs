using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MemoryNet.Tests.Kernels;

public class TorchLogLevelTests
{
    [Fact]
    public void Libtorch_logs_only_errors_unless_the_user_chose_a_level()
    {
        // the user's choice wins
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL") is not null) return;
        RuntimeHelpers.RunModuleConstructor(typeof(MemoryNet.UserInputException).Module.ModuleHandle);
        using var warmUp = TorchSharp.torch.ones(2); // libtorch is loaded by now either way
        Assert.True(NativeLibrary.TryLoad("c10", typeof(TorchSharp.torch).Assembly, null, out var c10),
            "libc10 not found");
        Assert.True(NativeLibrary.TryGetExport(c10, "FLAGS_caffe2_log_level", out var flag));
        int level = Marshal.ReadInt32(flag); // 0 INFO, 1 WARNING (libtorch's default), 2 ERROR
        Assert.Equal(2, level);
    }
}
