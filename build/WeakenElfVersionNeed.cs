// MSBuild task compiled by RoslynCodeTaskFactory (see TorchSharpNativeFix.targets).
//
// TorchSharp 0.107.0's libLibTorchSharp.so was linked by GCC 13 and records a need for the
// symbol version GLIBCXX_3.4.32 (only for std::ios_base_library_init(), a link-time marker that
// is never called). GCC 12 distributions (Debian 12, Ubuntu 22.04) ship libstdc++ up to 3.4.30,
// so the dynamic loader refuses the library. Setting VER_FLG_WEAK on that one Vernaux entry of
// .gnu.version_r turns the hard failure into a warning that only `ldd -v` shows.
//
// The task edits the given files in place, only when the named version is present and not weak
// yet (idempotent), and leaves everything else of the file untouched.
#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = string.Empty;

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var result = Weaken(bytes, VersionName);
                if (result == null)
                {
                    Log.LogMessage(MessageImportance.Low, "{0}: no non-weak need for {1}; left as is.", path, VersionName);
                    continue;
                }

                File.WriteAllBytes(path, bytes);
                Log.LogMessage(MessageImportance.Normal, "{0}: marked the need for {1} weak ({2}).", path, VersionName, result);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                Log.LogWarning("Could not mark {0} weak in {1}: {2}", VersionName, path, ex.Message);
            }
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>Sets VER_FLG_WEAK on the matching Vernaux entries; returns null when nothing changed.</summary>
    private static string? Weaken(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF files are handled");
        }

        var shoff = checked((int)ReadU64(elf, 0x28));
        var shentsize = ReadU16(elf, 0x3a);
        var shnum = ReadU16(elf, 0x3c);
        var changed = new StringBuilder();
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + (i * shentsize);
            if (ReadU32(elf, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var sectionOffset = checked((int)ReadU64(elf, sh + 0x18));
            var link = ReadU32(elf, sh + 0x28);
            var strtab = checked((int)ReadU64(elf, shoff + ((int)link * shentsize) + 0x18));
            var need = sectionOffset;
            while (true)
            {
                var count = ReadU16(elf, need + 2);
                var file = ReadString(elf, strtab + (int)ReadU32(elf, need + 4));
                var aux = need + (int)ReadU32(elf, need + 8);
                for (var k = 0; k < count; k++)
                {
                    var name = ReadString(elf, strtab + (int)ReadU32(elf, aux + 8));
                    var flags = ReadU16(elf, aux + 4);
                    if (name == versionName && (flags & VerFlagWeak) == 0)
                    {
                        WriteU16(elf, aux + 4, (ushort)(flags | VerFlagWeak));
                        changed.Append(file).Append(' ');
                    }

                    aux += (int)ReadU32(elf, aux + 12);
                }

                var next = ReadU32(elf, need + 12);
                if (next == 0)
                {
                    break;
                }

                need += (int)next;
            }
        }

        return changed.Length == 0 ? null : changed.ToString().Trim();
    }

    private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));

    private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

    private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);

    private static void WriteU16(byte[] b, int o, ushort v)
    {
        b[o] = (byte)v;
        b[o + 1] = (byte)(v >> 8);
    }

    private static string ReadString(byte[] b, int o)
    {
        var end = o;
        while (b[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(b, o, end - o);
    }
}
