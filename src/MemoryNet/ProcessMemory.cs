using System.Diagnostics;

namespace MemoryNet;

/// <summary>Resident memory of this process, read from /proc/self/status (elsewhere: the runtime's working
/// set).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM), in MB.</summary>
    public static double PeakRssMb() =>
        ProcStatusMb("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    /// <summary>Current resident set size (VmRSS), in MB.</summary>
    public static double CurrentRssMb() =>
        ProcStatusMb("VmRSS:") ?? Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    static double? ProcStatusMb(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field));
            if (line is not null) return ParseStatusKb(line) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>The kB value of a /proc/self/status line ("VmRSS:\t  812345 kB"); null when it has none. The kernel
    /// pads the number to 8 digits after a tab, so from 10,000,000 kB on no space separates the two.</summary>
    public static long? ParseStatusKb(string line)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], out long kb) ? kb : null;
    }
}
