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
            if (line is not null) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }
}
