namespace PackageSearch;

/// <summary>glibc's <c>mallopt</c>, which the sample uses to keep large blocks on the heap.</summary>
internal static class NativeMethods
{
    public const int TrimThreshold = -1;
    public const int MmapMax = -4;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    public static extern int mallopt(int param, int value);
}
