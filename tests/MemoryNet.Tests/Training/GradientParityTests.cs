using MemoryNet.Inference;
using MemoryNet.Losses;
using MemoryNet.Training;
using MemoryNet.Weights;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Training;

/// <summary>
/// The training step's gradients against the official code's (tools/make_gradient_fixtures.py: the official
/// train.py objective, Charbonnier + 0.05·edge over the three stages, on the tiny parity networks). Forward parity
/// alone would not catch a kernel whose backward is wrong.
/// </summary>
public class GradientParityTests
{
    static string Fixture(string name) => TestPaths.Fixtures("Parity", name);

    [Theory]
    [InlineData("tiny_mprnet_derain")]
    [InlineData("tiny_memorynet")]
    public void OneFp32StepHasTheOfficialGradients(string net)
    {
        var io = Safetensors.Read(Fixture(net + "_grad.safetensors")).Tensors
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        using var model = ModelFile.Load(Fixture(net + "_plain.pth"));
        model.train();
        using var loss = new RestorationLoss();
        using var step = new TrainStep(model, Precision.Fp32, new StepObjective(loss));
        var parts = step.Run(io["input"], io["target"], lr: 0);
        Assert.InRange(parts.Total / io["loss"].item<float>(), 1 - 1e-5, 1 + 1e-5);

        var ours = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var report = new List<string>();
        int compared = 0;
        foreach (var (key, expected) in io.Where(kv => kv.Key.StartsWith("grad.")))
        {
            var name = key["grad.".Length..];
            Assert.True(ours.ContainsKey(name), $"{net}: no parameter {name}");
            var g = ours[name].grad;
            Assert.NotNull(g);
            double scale = Math.Max(expected.abs().max().item<float>(), 1e-6);
            double diff = (g!.reshape(expected.shape) - expected).abs().max().item<float>();
            if (diff > 1e-3 * scale + 1e-6) report.Add($"{name}: max diff {diff:E2} (max |grad| {scale:E2})");
            compared++;
        }
        Assert.True(compared > 100, $"{net}: only {compared} gradients compared");
        Assert.True(report.Count == 0,
            $"{net}: {report.Count} of {compared} gradients differ:\n" + string.Join("\n", report));
    }
}
