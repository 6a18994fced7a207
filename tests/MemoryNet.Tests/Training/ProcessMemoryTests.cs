namespace MemoryNet.Tests.Training;

/// <summary>The resident-memory column of every training log line.</summary>
public class ProcessMemoryTests
{
    [Theory]
    [InlineData("VmRSS:\t  812345 kB", 812345L)]
    [InlineData("VmRSS:\t10012345 kB", 10012345L)]   // ≥ 10 GB: no space between the tab and the number
    [InlineData("VmHWM:\t123456789 kB", 123456789L)]
    [InlineData("VmRSS:", null)]
    [InlineData("VmRSS:\tlots kB", null)]
    public void Status_lines_parse_at_every_size_and_a_malformed_one_gives_no_value(string line, long? kb) =>
        Assert.Equal(kb, ProcessMemory.ParseStatusKb(line));

    [Fact]
    public void This_process_has_a_resident_size()
    {
        double rss = ProcessMemory.CurrentRssMb();
        Assert.InRange(rss, 1, 1e7);
        Assert.True(ProcessMemory.PeakRssMb() >= rss * 0.99);
    }
}
