using MemoryNet.Architectures.Mpr;
using MemoryNet.Inference;

namespace MemoryNet.Tests.Inference;

public class ShardingTests
{
    static Func<string, string?> Env(params (string, string)[] vars) => name =>
        vars.FirstOrDefault(v => v.Item1 == name).Item2;

    [Fact]
    public void Shards_partition_any_list_exactly()
    {
        var files = Enumerable.Range(0, 1000).Select(i => $"/data/in/img_{i:0000}.png").ToList();
        foreach (int n in new[] { 1, 2, 3, 7, 64 })
        {
            var parts = Enumerable.Range(0, n).Select(i => new Shard(i, n).Select(files)).ToList();
            Assert.Equal(files.Count, parts.Sum(p => p.Count));
            Assert.Equal(files.OrderBy(f => f), parts.SelectMany(p => p).OrderBy(f => f));
            if (n == 3) Assert.All(parts, p => Assert.InRange(p.Count, 250, 420)); // balanced statistically
        }
    }

    [Fact]
    public void A_files_shard_depends_on_its_name_only()
    {
        // workers listing the folder at different moments (files arriving) still agree
        var early = new[] { "/a/x1.png", "/a/x3.png" };
        var late = new[] { "/a/x0.png", "/a/x1.png", "/a/x2.png", "/a/x3.png" };
        foreach (var f in early) Assert.Equal(Shard.Of(f, 3), Shard.Of(late.Single(l => l == f), 3));
        Assert.Equal(Shard.Of("/mnt/one/photo.jpg", 5), Shard.Of("/other/mount/photo.jpg", 5));
        Assert.Equal(0xcbf29ce484222325UL, Shard.Hash("")); // FNV-1a offset basis: fixed across runs
    }

    [Theory]
    [InlineData("0/3", 0, 3)]
    [InlineData("2/3", 2, 3)]
    [InlineData(" 0 / 1 ", 0, 1)]
    public void Parses_valid_shards(string text, int i, int n) => Assert.Equal(new Shard(i, n), Shard.Parse(text));

    [Theory]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    public void Refuses_bad_shards(string text) => Assert.Throws<UserInputException>(() => Shard.Parse(text));

    [Fact]
    public void Resolves_from_option_then_kubernetes_then_slurm()
    {
        var k8s = Env(("JOB_COMPLETION_INDEX", "2"), ("JOB_COMPLETION_COUNT", "5"), ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"));
        Assert.Equal(new Shard(1, 2), Shard.Resolve("1/2", k8s, out var src));
        Assert.Equal("shard", src);
        Assert.Equal(new Shard(2, 5), Shard.Resolve(null, k8s, out src));
        Assert.StartsWith("JOB_COMPLETION_INDEX", src);
        Assert.Equal(new Shard(1, 4),
            Shard.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")), out _));
        // --array=1-4 → ids 1..4, index = id − min
        Assert.Equal(new Shard(3, 4),
            Shard.Resolve(null,
                Env(("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1")),
                out _));
        // --array=0-8:2 → ids 0,2,4,6,8
        Assert.Equal(new Shard(3, 5),
            Shard.Resolve(null,
                Env(("SLURM_ARRAY_TASK_ID", "6"), ("SLURM_ARRAY_TASK_COUNT", "5"), ("SLURM_ARRAY_TASK_MIN", "0"),
                    ("SLURM_ARRAY_TASK_STEP", "2")), out _));
        Assert.Equal(Shard.All, Shard.Resolve(null, Env(), out src));
        Assert.Equal("none", src);
    }

    [Fact]
    public void Incomplete_or_bad_environment_is_a_clear_error()
    {
        var e = Assert.Throws<UserInputException>(() => Shard.Resolve(null, Env(("JOB_COMPLETION_INDEX", "0")), out _));
        Assert.Contains("JOB_COMPLETION_COUNT", e.Message);
        Assert.Throws<UserInputException>(
            () => Shard.Resolve(null, Env(("JOB_COMPLETION_INDEX", "5"), ("JOB_COMPLETION_COUNT", "5")), out _));
        Assert.Throws<UserInputException>(
            () => Shard.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "2")), out _));
    }
}

public class MemoryBudgetTests
{
    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("2g", 2L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("800MB", 800L << 20)]
    [InlineData("4096", 4096L)]
    public void Parses_sizes(string text, long bytes) => Assert.Equal(bytes, MemoryBudget.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1GB")]
    [InlineData("0")]
    public void Refuses_bad_sizes(string text) => Assert.Throws<UserInputException>(() => MemoryBudget.Parse(text));

    [Fact]
    public void Small_images_run_whole_and_big_ones_get_the_largest_tile_that_fits()
    {
        foreach (var spec in new[] { ArchSpec.MemoryNet, ArchSpec.MemoryNetS, ArchSpec.MprnetDeblur })
        {
            Assert.Equal(0, MemoryBudget.ChooseTile(spec, 64, 48, MemoryBudget.DefaultBytes));
            int tile = MemoryBudget.ChooseTile(spec, 4000, 3000, MemoryBudget.DefaultBytes);
            Assert.True(tile is >= 64 and < 4000 && tile % 8 == 0, $"{spec.Name}: tile {tile}");
            Assert.True(MemoryBudget.Estimate(spec, 4000, 3000, tile) <= MemoryBudget.DefaultBytes);
            Assert.True(MemoryBudget.Estimate(spec, 4000, 3000, tile + 8) > MemoryBudget.DefaultBytes);
            Assert.True(MemoryBudget.ChooseTile(spec, 4000, 3000, 4L << 30) > tile);
        }
        // a bigger network gets smaller tiles under the same budget
        Assert.True(MemoryBudget.ChooseTile(ArchSpec.MemoryNet, 4000, 3000, 2L << 30)
            < MemoryBudget.ChooseTile(ArchSpec.MemoryNetS, 4000, 3000, 2L << 30));
    }
}
