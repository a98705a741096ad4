using System.Reflection;
using System.Runtime.InteropServices;

namespace DataParallelTraining;

/// <summary>
/// MPI.NET imports MS-MPI's <c>msmpi.dll</c>. MPICH shares MS-MPI's ABI, so on Linux that name is mapped to
/// MPICH's <c>libmpich.so.12</c> (Debian's <c>mpich</c> package). Open MPI has another ABI and does not work.
/// </summary>
public static class MpichLoader
{
    public static void MapMsMpiToMpich()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(MPI.Communicator).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase))
        {
            return IntPtr.Zero;
        }

        if (NativeLibrary.TryLoad("libmpich.so.12", out var handle))
        {
            return handle;
        }

        throw new DllNotFoundException("MPICH's libmpich.so.12 was not found: install it with 'apt-get install mpich' and launch with 'mpiexec.mpich -n 2 ...'.");
    }
}
