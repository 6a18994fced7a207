// Restores one image with a MemoryNet/MPRNet model through the library's public API.
//   dotnet run -- MODEL INPUT OUTPUT
using MemoryNet.Imaging;
using MemoryNet.Inference;
using MemoryNet.Weights;

if (args.Length != 3) { Console.Error.WriteLine("usage: consumer MODEL INPUT OUTPUT"); return 2; }
using var model = ModelFile.LoadForRestoring(args[0]);   // with the file's --tlc default, if any
var restorer = new Restorer(model);
var restored = ImageRestorer.Restore(restorer, ImageCodec.Read(args[1]), bits: 8, new TileSettings());
ImageCodec.Write(restored, args[2]);
Console.WriteLine($"{args[1]} -> {args[2]} ({restored.Width}x{restored.Height}, {model.Spec.Name})");
return 0;
