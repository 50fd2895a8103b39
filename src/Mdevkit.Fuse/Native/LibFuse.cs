using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// libfuse3's high-level API. Functions that libfuse exports in several versions with different
/// signatures are bound by their versioned names (fuse_new_31, fuse_loop_mt_312), never by the bare
/// name, whose default version depends on the installed library.
/// </summary>
internal static unsafe partial class LibFuse
{
    private const string Library = "libfuse3.so.3";

    [LibraryImport(Library)]
    public static partial nint fuse_new_31(fuse_args* args, fuse_operations* operations, nuint size, nint privateData);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fuse_mount(nint fuse, string mountpoint);

    [LibraryImport(Library)]
    public static partial void fuse_unmount(nint fuse);

    [LibraryImport(Library)]
    public static partial void fuse_destroy(nint fuse);

    [LibraryImport(Library)]
    public static partial int fuse_loop_mt_312(nint fuse, nint config);

    // The loop configuration of libfuse 3.12 and later; the struct itself stays libfuse's.
    [LibraryImport(Library)]
    public static partial nint fuse_loop_cfg_create();

    [LibraryImport(Library)]
    public static partial void fuse_loop_cfg_destroy(nint config);

    [LibraryImport(Library)]
    public static partial void fuse_loop_cfg_set_max_threads(nint config, uint value);

    [LibraryImport(Library)]
    public static partial void fuse_loop_cfg_set_idle_threads(nint config, uint value);

    [LibraryImport(Library)]
    public static partial void fuse_exit(nint fuse);

    [LibraryImport(Library)]
    public static partial fuse_context* fuse_get_context();
}
