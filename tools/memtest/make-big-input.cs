#:project ../../src/MemoryNet.Cli/MemoryNet.Cli.csproj
// Makes the inputs of the large-image memory check (deploy/README.md, "Memory"):
//   dotnet run tools/memtest/make-big-input.cs -- OUTDIR
// writes OUTDIR/memorynet-random.safetensors and OUTDIR/memorynet-s-random.safetensors (seeded random weights:
// the cost of a network does not depend on its weights) and OUTDIR/big.png (4000×3000, an upscaled sample photo).
using MemoryNet.Imaging;
using MemoryNet.Modules;
using MemoryNet.Weights;

string dir = args.Length > 0 ? args[0] : ".";
Directory.CreateDirectory(dir);
TorchSharp.torch.manual_seed(1);
using (var m = new MemoryNetModel(ArchSpec.MemoryNet)) ModelFile.Save(m, Path.Combine(dir, "memorynet-random.safetensors"));
using (var s = new MemoryNetModel(ArchSpec.MemoryNetS)) ModelFile.Save(s, Path.Combine(dir, "memorynet-s-random.safetensors"));
var src = ImageCodec.Read(Path.Combine(AppContext.GetData("EntryPointFileDirectoryPath") as string ?? ".", "..", "..", "samples", "astronaut.jpg"));
int w = 4000, h = 3000;
var px = new float[(long)w * h * 3];
for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
        for (int k = 0; k < 3; k++)
            px[((long)y * w + x) * 3 + k] = src.Pixels[((long)(y * src.Height / h) * src.Width + x * src.Width / w) * src.Channels + k];
ImageCodec.Write(new ImageData(w, h, 3, 8, px), Path.Combine(dir, "big.png"));
Console.WriteLine($"wrote {dir}/memorynet-random.safetensors, memorynet-s-random.safetensors, big.png");
