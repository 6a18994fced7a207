// Marks one GNU version-needed entry (Vernaux) of an ELF64 little-endian shared object as weak.
// Used by build/WeakenGlibcxx.targets as an MSBuild inline task; the core is also compiled into the
// tests (with ELF_PATCH_CORE_ONLY) so that the parsing is tested on its own.
using System;
using System.IO;
using System.Text;

public static class ElfVersionNeed
{
    public const ushort VerFlagWeak = 0x2;
    const uint ShtGnuVerneed = 0x6ffffffe;

    public enum Result { Patched, AlreadyWeak, NotReferenced }

    /// <summary>True when any of the given libraries (the first that exists) defines the version string.</summary>
    public static bool SystemHasVersion(string version, string[] candidates)
    {
        foreach (var path in candidates)
        {
            if (!File.Exists(path)) continue;
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            var bytes = File.ReadAllBytes(path);
            return IndexOf(bytes, needle) >= 0;
        }
        return false; // no libstdc++ found where expected: patching is harmless, so behave as if missing
    }

    /// <summary>Sets VER_FLG_WEAK on every Vernaux record naming <paramref name="version"/>.</summary>
    public static Result Weaken(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        if (shoff == 0 || shnum == 0) throw new InvalidDataException("ELF file has no section headers");

        bool found = false, changed = false;
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            int link = (int)U32(elf, sh + 40);
            int strOff = (int)U64(elf, checked((int)shoff + link * shentsize) + 24);
            int off = (int)U64(elf, sh + 24);
            int count = (int)U32(elf, sh + 44); // sh_info: number of Verneed entries

            int vn = off;
            for (int n = 0; n < count; n++)
            {
                int auxCount = U16(elf, vn + 2);
                int aux = vn + (int)U32(elf, vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = CString(elf, strOff + (int)U32(elf, aux + 8));
                    if (name == version)
                    {
                        found = true;
                        ushort flags = (ushort)U16(elf, aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            flags |= VerFlagWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed = true;
                        }
                    }
                    uint next = U32(elf, aux + 12);
                    if (next == 0) break;
                    aux += (int)next;
                }
                uint vnNext = U32(elf, vn + 12);
                if (vnNext == 0) break;
                vn += (int)vnNext;
            }
        }
        return !found ? Result.NotReferenced : changed ? Result.Patched : Result.AlreadyWeak;
    }

    /// <summary>Flags of every Vernaux record naming the version (for tests and diagnostics).</summary>
    public static int[] FlagsOf(byte[] elf, string version)
    {
        var copy = (byte[])elf.Clone();
        var flags = new System.Collections.Generic.List<int>();
        ulong shoff = U64(copy, 0x28);
        int shentsize = U16(copy, 0x3A), shnum = U16(copy, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + i * shentsize;
            if (U32(copy, sh + 4) != ShtGnuVerneed) continue;
            int link = (int)U32(copy, sh + 40);
            int strOff = (int)U64(copy, (int)shoff + link * shentsize + 24);
            int vn = (int)U64(copy, sh + 24);
            for (int n = 0; n < (int)U32(copy, sh + 44); n++)
            {
                int aux = vn + (int)U32(copy, vn + 8);
                for (int a = 0; a < U16(copy, vn + 2); a++)
                {
                    if (CString(copy, strOff + (int)U32(copy, aux + 8)) == version) flags.Add(U16(copy, aux + 4));
                    aux += (int)U32(copy, aux + 12);
                }
                vn += (int)U32(copy, vn + 12);
            }
        }
        return flags.ToArray();
    }

    static int U16(byte[] b, int o) => b[o] | (b[o + 1] << 8);
    static uint U32(byte[] b, int o) => BitConverter.ToUInt32(b, o);
    static ulong U64(byte[] b, int o) => BitConverter.ToUInt64(b, o);

    static string CString(byte[] b, int o)
    {
        int end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, o, end - o);
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i <= hay.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}

#if !ELF_PATCH_CORE_ONLY
public class WeakenElfVersionNeed : Microsoft.Build.Utilities.Task
{
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
    public string Version { get; set; } = "";
    public string SystemLibraries { get; set; } = "";

    public override bool Execute()
    {
        if (ElfVersionNeed.SystemHasVersion(Version, SystemLibraries.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries)))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"system libstdc++ has {Version}; nothing to patch");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            var result = ElfVersionNeed.Weaken(bytes, Version);
            if (result == ElfVersionNeed.Result.Patched)
            {
                // write next to it, then rename: never leave a half-written library behind
                string tmp = path + ".weak.tmp";
                File.WriteAllBytes(tmp, bytes);
                File.Replace(tmp, path, null); // rename over the original
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"{path}: marked {Version} weak");
            }
        }
        return true;
    }
}
#endif
