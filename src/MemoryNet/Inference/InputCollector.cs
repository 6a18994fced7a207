using MemoryNet.Imaging;

namespace MemoryNet.Inference;

/// <summary>Expands files, folders and glob patterns into a sorted, de-duplicated list of image paths.</summary>
public static class InputCollector
{
    /// <summary>Image types this tool cannot read; with includeUnsupported, folders yield them too so that each is
    /// reported.</summary>
    public static readonly string[] UnsupportedImageExtensions = [".gif", ".tif", ".tiff", ".heic", ".heif", ".avif",
        ".jxl", ".ico", ".psd", ".dng", ".cr2", ".nef", ".arw"];

    public static List<string> Collect(IEnumerable<string> inputs, bool recursive = false,
        bool includeUnsupported = false)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                foreach (var f in Directory.EnumerateFiles(input, "*",
                    recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
                    if (ImageCodec.IsImagePath(f)
                        || (includeUnsupported
                            && UnsupportedImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())))
                        found.Add(Path.GetFullPath(f));
            }
            else if (File.Exists(input)) found.Add(Path.GetFullPath(input));
            else if (input.IndexOfAny(['*', '?']) >= 0)
            {
                string dir = Path.GetDirectoryName(input) is { Length: > 0 } d ? d : ".";
                if (dir.IndexOfAny(['*', '?']) >= 0)
                    throw new UserInputException($"{input}: wildcards are supported in the file name only");
                if (!Directory.Exists(dir)) throw new UserInputException($"{input}: folder '{dir}' not found");
                foreach (var f in Directory.EnumerateFiles(dir, Path.GetFileName(input)))
                    found.Add(Path.GetFullPath(f));
            }
            else throw new UserInputException($"{input}: no such file or folder");
        }
        return found.ToList();
    }
}
