using MemoryNet.Data;
using MemoryNet.Memory;
using MemoryNet.Training;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Memory;

// not beside other tests: the runs here compare networks drawn from one seed of the global generator, which tests
// running in parallel also draw from
[Collection("Console")]
public class MemoryInitTests
{
    /// <summary>At the reference initialisation (items uniform in ±1/√3) the addresses are nearly uniform: the
    /// instance and semantic reads, the only image stages 2 and 3 of MemoryNet see, hardly change with the pixel.
    /// Items ten times larger make every level of the memory follow its input.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ReferenceItemsMakeNearlyConstantReadsAndLargerItemsDoNot(int seed)
    {
        torch.manual_seed(seed);
        using var unit = new MemoryUnit(2, 10, 5, 3);
        using var pixels = rand(4096, 3);
        var (part, ins, sem) = unit.InputSensitivity(pixels);
        Assert.True(part is > 0.02 and < 0.5, $"part read follows the pixel at {part:G3} of its spread");
        Assert.True(ins < 0.01, $"instance read follows the pixel at {ins:G3} of its spread");
        Assert.True(sem < 0.001, $"semantic read follows the pixel at {sem:G3} of its spread");

        using (no_grad()) unit.Items.mul_(10);
        var (part10, ins10, sem10) = unit.InputSensitivity(pixels);
        Assert.True(part10 > 1, $"part read at scale 10: {part10:G3}");
        Assert.True(ins10 > 0.2, $"instance read at scale 10: {ins10:G3}");
        Assert.True(sem10 > 0.05, $"semantic read at scale 10: {sem10:G3}");
    }

    /// <summary>train's memory-init-scale draws the new network's memory items that many times larger; the rest of the
    /// network is drawn as before.</summary>
    [Fact]
    public void TrainingFromScratchScalesTheInputMemoryItems()
    {
        var root = TestPaths.TempDir();
        var data = MemoryNet.Tests.Training.TrainerTests.MakePairs(Path.Combine(root, "data"), 2);
        Tensor Items(double scale, out Tensor other)
        {
            var o = new TrainOptions
            {
                Data = { Folder = data, Patch = 16, Batch = 1, Workers = 1 },
                Network = { Arch = "memorynet-s", MemoryInitScale = scale },
                Optimiser = { Steps = 1, Lr = 1e-12, LrMin = 0, WarmupEpochs = 0 },
                Run = { Threads = 1, Seed = 5, Out = Path.Combine(root, $"run-{scale}") },
                Logging = { LogEvery = 1 },
            };
            o.Validate();
            new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default);
            using var net = ModelFile.Load(Path.Combine(o.Run.Out, "latest.safetensors"));
            other = net.state_dict()["shallow_feat1.0.weight"].detach().clone();
            return net.Memory!.Unit.Items.detach().clone();
        }
        using var reference = Items(1, out var otherRef);
        using var scaled = Items(7, out var otherScaled);
        Assert.True(reference.abs().max().item<float>() <= 1 / Math.Sqrt(3) + 1e-4);
        Assert.True((scaled - reference * 7).abs().max().item<float>() < 1e-3, "items not drawn 7× larger");
        Assert.True((otherScaled - otherRef).abs().max().item<float>() < 1e-6, "the rest of the network changed");
    }

    [Fact]
    public void MemoryInitScaleIsCheckedAgainstTheNetworkAndInit()
    {
        var noMemory = new TrainOptions
        {
            Data = { Folder = "x" }, Optimiser = { Steps = 1 },
            Network = { Arch = "memorynet-s", MemoryBranches = 0, MemoryInitScale = 3 },
        };
        noMemory.Validate();
        Assert.Contains("needs a network with the input memory",
            Assert.Throws<UserInputException>(() => new Trainer(noMemory, new EmptySource(), null).Spec()).Message);
        var withInit = new TrainOptions
        {
            Data = { Folder = "x" }, Optimiser = { Steps = 1 }, Network = { MemoryInitScale = 3, Init = "w.pth" },
        };
        Assert.Contains("memory-init-scale", Assert.Throws<UserInputException>(withInit.Validate).Message);
        var zero = new TrainOptions
            { Data = { Folder = "x" }, Optimiser = { Steps = 1 }, Network = { MemoryInitScale = 0 } };
        Assert.Contains("memory-init-scale must be", Assert.Throws<UserInputException>(zero.Validate).Message);
    }

    sealed class EmptySource : ISampleSource
    {
        public int Count => 0;
        public Patch Make(int index, int patchSize, MemoryNet.Data.Synthesis.SynthRng rng) =>
            throw new NotSupportedException();
    }
}
