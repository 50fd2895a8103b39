using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// The static entry points libfuse's low-level API calls. Each finds the mount through the request's
/// user data, converts C arguments, replies exactly once, and catches everything: an exception must never
/// unwind into C, so a bug answers EIO and is logged. A reply fails only when the request was interrupted
/// or the mount is gone; nothing is owed then, except the lookup counted and the file opened for it.
/// </summary>
internal static unsafe class Callbacks
{
    private const int MaxRememberedThreads = 4096;

    // How long the kernel may keep entries and attributes: for good, as every removal is invalidated explicitly.
    private const double CacheSeconds = 365 * 24 * 3600;
    private static readonly ConcurrentDictionary<int, int> s_processOfThread = new();

    public static fuse_lowlevel_ops Operations() => new()
    {
        init = &Init,
        lookup = &Lookup,
        forget = &Forget,
        getattr = &GetAttr,
        setattr = &SetAttr,
        readlink = &ReadLink,
        open = &Open,
        read = &Read,
        write = &Write,
        release = &Release,
        opendir = &OpenDir,
        readdir = &ReadDir,
        releasedir = &ReleaseDir,
    };

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Init(nint userdata, fuse_conn_info* connection)
    {
        // Symlinks are cached like entries (a link's text never changes); O_TRUNC comes with the open, so a
        // shell's `>` costs no SETATTR. Contents are never cached: every open is direct I/O.
        connection->want |= (LibFuse.FUSE_CAP_CACHE_SYMLINKS | LibFuse.FUSE_CAP_ATOMIC_O_TRUNC) & connection->capable;
        try
        {
            MountOf(userdata).Initialized();
        }
        catch (Exception e)
        {
            MountOf(userdata).Warn($"init failed: {e}");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Lookup(nint request, ulong parent, byte* name)
    {
        try
        {
            var error = FileSystem(request).Lookup(parent, Marshal.PtrToStringUTF8((nint)name) ?? "", out var id, out var attributes);
            if (error != Errno.None)
            {
                ReplyError(request, error);
                return;
            }
            var entry = new fuse_entry_param { ino = id, attr_timeout = CacheSeconds, entry_timeout = CacheSeconds };
            Fill(&entry.attr, attributes);
            if (LibFuse.fuse_reply_entry(request, &entry) != 0)
            {
                // The lookup was interrupted: the kernel never got the entry, so it will not forget it.
                FileSystem(request).Nodes.Forget(id, 1);
            }
        }
        catch (Exception e)
        {
            Fail(request, "lookup", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Forget(nint request, ulong id, ulong lookups)
    {
        try
        {
            FileSystem(request).Nodes.Forget(id, lookups);
        }
        catch (Exception e)
        {
            Target(request).Warn($"forget failed: {e}");
        }
        LibFuse.fuse_reply_none(request);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void GetAttr(nint request, ulong id, fuse_file_info* info)
    {
        try
        {
            ReplyAttributes(request, FileSystem(request).GetAttributes(id, out var attributes), attributes);
        }
        catch (Exception e)
        {
            Fail(request, "getattr", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void SetAttr(nint request, ulong id, stat* wanted, int changes, fuse_file_info* info)
    {
        try
        {
            var error = FileSystem(request).SetAttributes(id,
                mode: (changes & LibFuse.FUSE_SET_ATTR_MODE) != 0,
                owner: (changes & (LibFuse.FUSE_SET_ATTR_UID | LibFuse.FUSE_SET_ATTR_GID)) != 0,
                size: (changes & LibFuse.FUSE_SET_ATTR_SIZE) != 0,
                out var attributes);
            ReplyAttributes(request, error, attributes);
        }
        catch (Exception e)
        {
            Fail(request, "setattr", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void ReadLink(nint request, ulong id)
    {
        try
        {
            var error = FileSystem(request).ReadLink(id, out var target);
            if (error != Errno.None)
            {
                ReplyError(request, error);
                return;
            }
            fixed (byte* text = Encoding.UTF8.GetBytes(target + "\0"))
            {
                _ = LibFuse.fuse_reply_readlink(request, text);
            }
        }
        catch (Exception e)
        {
            Fail(request, "readlink", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Open(nint request, ulong id, fuse_file_info* info)
    {
        try
        {
            var error = FileSystem(request).Open(id, info->flags, CurrentCaller(request), out var handle);
            if (error != Errno.None)
            {
                ReplyError(request, error);
                return;
            }
            info->fh = handle;
            // show() makes the content on each read, shorter than the size stat reports: nothing may be cached.
            info->bits |= LibFuse.DirectIo;
            if (LibFuse.fuse_reply_open(request, info) != 0)
            {
                // The open was interrupted; libfuse sends no release for it.
                FileSystem(request).Release(handle);
            }
        }
        catch (Exception e)
        {
            Fail(request, "open", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Read(nint request, ulong id, nuint size, long offset, fuse_file_info* info)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var read = FileSystem(request).Read(info->fh, offset, buffer.AsSpan(0, (int)size));
            if (read < 0)
            {
                _ = LibFuse.fuse_reply_err(request, -read);
                return;
            }
            fixed (byte* data = buffer)
            {
                _ = LibFuse.fuse_reply_buf(request, data, (nuint)read);
            }
        }
        catch (Exception e)
        {
            Fail(request, "read", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Write(nint request, ulong id, byte* data, nuint size, long offset, fuse_file_info* info)
    {
        try
        {
            var written = FileSystem(request).Write(info->fh, new ReadOnlySpan<byte>(data, (int)size), CurrentCaller(request));
            if (written < 0)
            {
                _ = LibFuse.fuse_reply_err(request, -written);
                return;
            }
            _ = LibFuse.fuse_reply_write(request, (nuint)written);
        }
        catch (Exception e)
        {
            Fail(request, "write", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Release(nint request, ulong id, fuse_file_info* info)
    {
        try
        {
            ReplyError(request, FileSystem(request).Release(info->fh));
        }
        catch (Exception e)
        {
            Fail(request, "release", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OpenDir(nint request, ulong id, fuse_file_info* info)
    {
        try
        {
            var error = FileSystem(request).OpenDirectory(id, out var handle);
            if (error != Errno.None)
            {
                ReplyError(request, error);
                return;
            }
            info->fh = handle;
            if (LibFuse.fuse_reply_open(request, info) != 0)
            {
                FileSystem(request).ReleaseDirectory(handle);
            }
        }
        catch (Exception e)
        {
            Fail(request, "opendir", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void ReadDir(nint request, ulong id, nuint size, long offset, fuse_file_info* info)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var entries = FileSystem(request).Listing(info->fh);
            nuint used = 0;
            fixed (byte* start = buffer)
            {
                // An entry's offset is where the next read continues: the index after it.
                for (var index = (int)offset; index < entries.Count; index++)
                {
                    var attributes = new stat { st_ino = entries[index].Inode, st_mode = entries[index].Mode };
                    fixed (byte* name = entries[index].Name)
                    {
                        var needed = LibFuse.fuse_add_direntry(request, start + used, size - used, name, &attributes, index + 1);
                        if (needed > size - used)
                        {
                            break;
                        }
                        used += needed;
                    }
                }
                _ = LibFuse.fuse_reply_buf(request, start, used);
            }
        }
        catch (Exception e)
        {
            Fail(request, "readdir", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void ReleaseDir(nint request, ulong id, fuse_file_info* info)
    {
        try
        {
            FileSystem(request).ReleaseDirectory(info->fh);
            _ = LibFuse.fuse_reply_err(request, 0);
        }
        catch (Exception e)
        {
            Fail(request, "releasedir", e);
        }
    }

    private static void ReplyAttributes(nint request, Errno error, NodeAttributes attributes)
    {
        if (error != Errno.None)
        {
            ReplyError(request, error);
            return;
        }
        stat result;
        Fill(&result, attributes);
        _ = LibFuse.fuse_reply_attr(request, &result, CacheSeconds);
    }

    private static void Fill(stat* result, NodeAttributes attributes)
    {
        *result = default;
        var seconds = attributes.Time.ToUnixTimeSeconds();
        var nanoseconds = attributes.Time.ToUnixTimeMilliseconds() % 1000 * 1_000_000;
        result->st_ino = attributes.Inode;
        result->st_mode = attributes.Mode;
        result->st_nlink = attributes.Links;
        result->st_size = attributes.Size;
        result->st_blksize = 4096;
        result->st_atim = result->st_mtim = result->st_ctim = new timespec { tv_sec = seconds, tv_nsec = nanoseconds };
    }

    private static void ReplyError(nint request, Errno error) => _ = LibFuse.fuse_reply_err(request, (int)error);

    // What fuse_session_new was given: a handle to the mount.
    private static FuseMount MountOf(nint userdata) => (FuseMount)GCHandle.FromIntPtr(userdata).Target!;

    private static FuseMount Target(nint request) => MountOf(LibFuse.fuse_req_userdata(request));

    private static SysfsFileSystem FileSystem(nint request) => Target(request).FileSystem;

    private static Caller CurrentCaller(nint request)
    {
        var context = LibFuse.fuse_req_ctx(request);
        return new Caller(ProcessOf(context->pid), context->uid, context->gid);
    }

    // FUSE names the calling thread; what holds a device (as VFIO binds it to one process) is its thread
    // group. Reading a thread's status costs more than the rest of a request, so a known answer is only
    // checked (thread ids are reused after they exit), with a signal 0 that reaches the thread only in that group.
    private static int ProcessOf(int threadId)
    {
        if (threadId <= 0)
        {
            return threadId;
        }
        if (s_processOfThread.TryGetValue(threadId, out var known)
            && Libc.tgkill(known, threadId, 0) == 0)
        {
            return known;
        }
        var process = ThreadGroupOf(threadId);
        if (s_processOfThread.Count >= MaxRememberedThreads)
        {
            s_processOfThread.Clear();
        }
        s_processOfThread[threadId] = process;
        return process;
    }

    // The thread group in /proc/<thread>/status; a thread that is already gone keeps its own id.
    private static int ThreadGroupOf(int threadId)
    {
        try
        {
            var status = WholeFile.Read($"/proc/{threadId.ToString(CultureInfo.InvariantCulture)}/status").AsSpan();
            var tgid = status.IndexOf("\nTgid:", StringComparison.Ordinal);
            if (tgid >= 0)
            {
                var value = status[(tgid + "\nTgid:".Length)..];
                return int.Parse(value[..value.IndexOf('\n')].Trim(), CultureInfo.InvariantCulture);
            }
        }
        catch (SysfsException)
        {
        }
        return threadId;
    }


    private static void Fail(nint request, string operation, Exception e)
    {
        Target(request).Warn($"{operation} failed: {e}");
        ReplyError(request, Errno.EIO);
    }
}
