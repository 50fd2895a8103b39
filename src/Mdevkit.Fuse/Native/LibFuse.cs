using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// libfuse3's low-level API. Functions that libfuse exports in several versions with different
/// signatures are bound by their versioned names (fuse_session_loop_mt_312), never by the bare
/// name, whose default version depends on the installed library.
/// </summary>
internal static unsafe partial class LibFuse
{
    private const string Library = "libfuse3.so.3";

    // Capabilities of fuse_conn_info.want (fuse_common.h).
    public const uint FUSE_CAP_ATOMIC_O_TRUNC = 1 << 3;
    public const uint FUSE_CAP_CACHE_SYMLINKS = 1 << 23;

    // What setattr is asked to change (fuse_lowlevel.h).
    public const int FUSE_SET_ATTR_MODE = 1 << 0;
    public const int FUSE_SET_ATTR_UID = 1 << 1;
    public const int FUSE_SET_ATTR_GID = 1 << 2;
    public const int FUSE_SET_ATTR_SIZE = 1 << 3;

    // The direct_io bit of fuse_file_info's bit-fields.
    public const uint DirectIo = 1 << 1;

    [LibraryImport(Library)]
    public static partial nint fuse_session_new(fuse_args* args, fuse_lowlevel_ops* operations, nuint size, nint userdata);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fuse_session_mount(nint session, string mountpoint);

    [LibraryImport(Library)]
    public static partial void fuse_session_unmount(nint session);

    [LibraryImport(Library)]
    public static partial void fuse_session_destroy(nint session);

    [LibraryImport(Library)]
    public static partial void fuse_session_exit(nint session);

    [LibraryImport(Library)]
    public static partial int fuse_session_loop_mt_312(nint session, nint config);

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
    public static partial nint fuse_req_userdata(nint request);

    [LibraryImport(Library)]
    public static partial fuse_ctx* fuse_req_ctx(nint request);

    [LibraryImport(Library)]
    public static partial int fuse_reply_err(nint request, int error);

    [LibraryImport(Library)]
    public static partial void fuse_reply_none(nint request);

    [LibraryImport(Library)]
    public static partial int fuse_reply_entry(nint request, fuse_entry_param* entry);

    [LibraryImport(Library)]
    public static partial int fuse_reply_attr(nint request, stat* attributes, double timeout);

    [LibraryImport(Library)]
    public static partial int fuse_reply_readlink(nint request, byte* link);

    [LibraryImport(Library)]
    public static partial int fuse_reply_open(nint request, fuse_file_info* info);

    [LibraryImport(Library)]
    public static partial int fuse_reply_write(nint request, nuint count);

    [LibraryImport(Library)]
    public static partial int fuse_reply_buf(nint request, byte* buffer, nuint size);

    [LibraryImport(Library)]
    public static partial nuint fuse_add_direntry(nint request, byte* buffer, nuint size, byte* name, stat* attributes, long nextOffset);

    [LibraryImport(Library)]
    public static partial int fuse_lowlevel_notify_inval_entry(nint session, ulong parent, byte* name, nuint length);

    [LibraryImport(Library)]
    public static partial int fuse_session_fd(nint session);

    [LibraryImport(Library)]
    public static partial int fuse_session_custom_io(nint session, fuse_custom_io* io, int fd);

    [LibraryImport(Library)]
    public static partial void fuse_session_process_buf(nint session, fuse_buf* buffer);
}
