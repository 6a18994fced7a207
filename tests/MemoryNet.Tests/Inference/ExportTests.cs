using System.Collections;
using System.IO.Compression;
using MemoryNet.Architectures.Mpr;
using MemoryNet.Weights;
using TorchSharp;

namespace MemoryNet.Tests.Inference;

/// <summary>models export: a torch.save-format checkpoint with the reference names, read back by our own
/// reader.</summary>
[Collection("Console")]
public class ExportTests
{
    static readonly ArchSpec Small = new("small", 8, 4, 4, 1, 3);

    static string SavedRandom(string dir)
    {
        torch.manual_seed(5);
        using var model = new MemoryNetModel(Small);
        var path = Path.Combine(dir, "m.safetensors");
        ModelFile.Save(model, path);
        return path;
    }

    [Fact]
    public void Export_writes_a_zip_checkpoint_that_loads_back_to_the_same_weights_and_outputs()
    {
        var dir = TestPaths.TempDir();
        var src = SavedRandom(dir);
        var pth = Path.Combine(dir, "m.pth");
        var (code, err) = CliRunner.Run(["models", "export", src, "-o", pth]);
        Assert.True(code == 0, string.Join("\n", err));

        // the layout torch.save writes: stored entries, data aligned to 64 bytes, version and byteorder records
        using (var zip = ZipFile.OpenRead(pth))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("archive/data.pkl", names);
            Assert.Contains("archive/version", names);
            Assert.Contains("archive/byteorder", names);
            Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
        }

        // a plain state_dict under the reference names, the shared PReLU stored once
        var graph = (IDictionary)PthReader.Read(pth);
        using var original = ModelFile.Read(src);
        var expected = StateDict.Entries(ModelFile.Load(src));
        // our reader keeps no order
        Assert.Equal(expected.Select(e => e.Key).Order(), graph.Keys.Cast<string>().Order());
        using var storages = ZipFile.OpenRead(pth);
        int distinct = expected.Select(e => e.Value.Handle).Distinct().Count();
        Assert.Equal(distinct, storages.Entries.Count(e => e.FullName.StartsWith("archive/data/")));
        Assert.True(distinct < expected.Count, "the shared PReLU must be one storage");

        // same tensors, same restored image
        using var a = ModelFile.Load(src);
        using var b = ModelFile.Load(pth, Small);
        foreach (var (key, t) in expected)
            Assert.True(((torch.Tensor)graph[key]!).allclose(t.detach().contiguous(), 0, 0), key);
        a.eval(); b.eval();
        using var _ = torch.no_grad();
        var x = torch.rand(1, 3, 24, 32, generator: new torch.Generator(9));
        Assert.True(a.forward(x)[0].allclose(b.forward(x)[0], 0, 0));
    }

    [Fact]
    public void Export_can_wrap_the_state_dict_as_the_official_scripts_save_it_and_refuses_other_extensions()
    {
        var dir = TestPaths.TempDir();
        var src = SavedRandom(dir);
        var pth = Path.Combine(dir, "w.pth");
        Assert.Equal(0, CliRunner.Run(["models", "export", src, "-o", pth, "--wrap"]).Code);
        var graph = (IDictionary)PthReader.Read(pth);
        Assert.Equal(["state_dict"], graph.Keys.Cast<string>());
        Assert.IsAssignableFrom<IDictionary>(graph["state_dict"]);
        using var m = ModelFile.Load(pth, Small);   // the loader finds the wrapped dict
        var (code, err) = CliRunner.Run(["models", "export", src, "-o", Path.Combine(dir, "w.safetensors")]);
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains(".pth"));
    }
}
