using MemoryNet.Data;
using MemoryNet.Imaging;

namespace MemoryNet.Tests.Metrics;

public class PairedFoldersTests
{
    static void Png(string path, int w = 8, int h = 6, float v = 0.5f)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageCodec.Write(new ImageData(w, h, 3, 8, Enumerable.Repeat(v, w * h * 3).ToArray()), path);
    }

    [Fact]
    public void Pairs_by_stem_with_different_extensions()
    {
        var d = TestPaths.TempDir();
        Png(Path.Combine(d, "p", "1.png")); Png(Path.Combine(d, "p", "2.png"));
        Png(Path.Combine(d, "g", "1.bmp")); Png(Path.Combine(d, "g", "2.png"));
        File.WriteAllText(Path.Combine(d, "g", "notes.txt"), "not an image");
        var items = PairedFolders.MatchByStem(Path.Combine(d, "p"), Path.Combine(d, "g"));
        Assert.Equal(["1", "2"], items.Select(i => i.Name));
        Assert.EndsWith("1.bmp", items[0].Target);
    }

    [Fact]
    public void Strips_known_suffixes_when_that_makes_the_sets_match()
    {
        var d = TestPaths.TempDir();
        foreach (var n in new[] { "0", "1", "10" })
        {
            Png(Path.Combine(d, "data", n + "_rain.png"));
            Png(Path.Combine(d, "gt", n + "_clean.png"));
        }
        var items = PairedFolders.MatchByStem(Path.Combine(d, "data"), Path.Combine(d, "gt"));
        Assert.Equal(["0", "1", "10"], items.Select(i => i.Name));
        Assert.EndsWith("10_clean.png", items[2].Target);
    }

    [Fact]
    public void Unmatched_sets_are_refused_naming_the_files()
    {
        var d = TestPaths.TempDir();
        Png(Path.Combine(d, "p", "a.png")); Png(Path.Combine(d, "p", "b.png")); Png(Path.Combine(d, "p", "extra.png"));
        Png(Path.Combine(d, "g", "a.png")); Png(Path.Combine(d, "g", "b.png")); Png(Path.Combine(d, "g", "lonely.jpg"));
        var e = Assert.Throws<UserInputException>(() => PairedFolders.MatchByStem(Path.Combine(d, "p"),
            Path.Combine(d, "g"), inputLabel: "pred", targetLabel: "gt"));
        Assert.Contains("extra", e.Message);
        Assert.Contains("lonely", e.Message);
        Assert.Contains("pred", e.Message);
    }

    [Fact]
    public void Same_stem_twice_is_refused()
    {
        var d = TestPaths.TempDir();
        Png(Path.Combine(d, "p", "a.png")); Png(Path.Combine(d, "p", "a.bmp"));
        Png(Path.Combine(d, "g", "a.png"));
        var e = Assert.Throws<UserInputException>(
            () => PairedFolders.MatchByStem(Path.Combine(d, "p"), Path.Combine(d, "g")));
        Assert.Contains("a.bmp", e.Message);
    }

    [Fact]
    public void Missing_or_empty_folders_are_refused()
    {
        var d = TestPaths.TempDir();
        Directory.CreateDirectory(Path.Combine(d, "empty"));
        Png(Path.Combine(d, "g", "a.png"));
        Assert.Contains("not found",
            Assert.Throws<UserInputException>(
                () => PairedFolders.MatchByStem(Path.Combine(d, "nope"), Path.Combine(d, "g"))).Message);
        Assert.Contains("no images",
            Assert.Throws<UserInputException>(
                () => PairedFolders.MatchByStem(Path.Combine(d, "empty"), Path.Combine(d, "g"))).Message);
    }

    [Fact]
    public void Size_check_names_every_offender()
    {
        var d = TestPaths.TempDir();
        Png(Path.Combine(d, "p", "a.png"), 8, 6); Png(Path.Combine(d, "g", "a.png"), 8, 6);
        Png(Path.Combine(d, "p", "b.png"), 9, 6); Png(Path.Combine(d, "g", "b.png"), 8, 6);
        Png(Path.Combine(d, "p", "c.png"), 8, 7); Png(Path.Combine(d, "g", "c.png"), 8, 6);
        var items = PairedFolders.MatchByStem(Path.Combine(d, "p"), Path.Combine(d, "g"));
        var e = Assert.Throws<UserInputException>(() => PairedFolders.CheckSizes(items));
        Assert.Contains("b (input 9x6", e.Message);
        Assert.Contains("c (input 8x7", e.Message);
        Assert.DoesNotContain("a (", e.Message);
        PairedFolders.CheckSizes(items, allowMismatch: true);
    }

    [Fact]
    public void Reads_the_istd_layout_with_masks()
    {
        var d = TestPaths.TempDir();
        foreach (var split in new[] { "train", "test" })
            foreach (var n in new[] { "90-1", "90-2" })
                foreach (var l in "ABC") Png(Path.Combine(d, split, $"{split}_{l}", n + ".png"));
        var items = PairedFolders.Read(d, DatasetLayout.Istd, "test");
        Assert.Equal(2, items.Count);
        Assert.Contains(Path.Combine("test", "test_A"), items[0].Input);
        Assert.Contains(Path.Combine("test", "test_B"), items[0].Mask);
        Assert.Contains(Path.Combine("test", "test_C"), items[0].Target);
        // no split: root/test is found
        Assert.Equal(2, PairedFolders.Read(d, DatasetLayout.Istd).Count);
        Assert.Contains("train_A", PairedFolders.Read(d, DatasetLayout.Istd, "train")[0].Input);
    }

    [Fact]
    public void Reads_raindrop_gopro_paired_and_rice_layouts()
    {
        var d = TestPaths.TempDir();
        Png(Path.Combine(d, "rd", "test_a", "data", "3_rain.png"));
        Png(Path.Combine(d, "rd", "test_a", "gt", "3_clean.png"));
        Assert.Single(PairedFolders.Read(Path.Combine(d, "rd"), DatasetLayout.Raindrop, "test_a"));

        foreach (var scene in new[] { "GOPR0384_11_00", "GOPR0385_11_01" })
            foreach (var n in new[] { "000001", "000002" })
            {
                Png(Path.Combine(d, "gopro", "test", scene, "blur", n + ".png"));
                Png(Path.Combine(d, "gopro", "test", scene, "sharp", n + ".png"));
            }
        var g = PairedFolders.Read(Path.Combine(d, "gopro"), DatasetLayout.GoPro);
        Assert.Equal(4, g.Count);
        Assert.Equal("GOPR0384_11_00/000001", g[0].Name);

        Png(Path.Combine(d, "mpr", "input", "1.png")); Png(Path.Combine(d, "mpr", "target", "1.png"));
        Assert.Single(PairedFolders.Read(Path.Combine(d, "mpr"), DatasetLayout.Paired));

        Png(Path.Combine(d, "rice", "cloudy_image", "0.png")); Png(Path.Combine(d, "rice", "ground_truth", "0.png"));
        Assert.Single(PairedFolders.Read(Path.Combine(d, "rice"), DatasetLayout.Rice));

        var e =
            Assert.Throws<UserInputException>(() => PairedFolders.Read(Path.Combine(d, "rice"), DatasetLayout.Istd));
        Assert.Contains("istd layout", e.Message);
    }

    [Fact]
    public void Layout_names_parse_and_unknown_is_refused()
    {
        Assert.Equal(DatasetLayout.GoPro, PairedFolders.ParseLayout("gopro"));
        Assert.Throws<UserInputException>(() => PairedFolders.ParseLayout("cityscapes"));
    }
}
