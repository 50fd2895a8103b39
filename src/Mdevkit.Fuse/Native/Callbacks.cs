using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// The static entry points libfuse calls. Each finds the adapter through the request context's
/// private data, converts C arguments, and catches everything: an exception must never unwind into C,
/// so a bug answers EIO and is logged.
/// </summary>
internal static unsafe class Callbacks
{
    private const int MaxRememberedThreads = 4096;
    private static readonly ConcurrentDictionary<int, int> s_processOfThread = new();

    public static fuse_operations Operations() => new()
    {
        getattr = &GetAttr,
        readlink = &ReadLink,
        truncate = &Truncate,
        open = &Open,
        read = &Read,
        write = &Write,
        release = &Release,
        opendir = &OpenDir,
        readdir = &ReadDir,
        init = &Init,
        utimens = &Utimens,
    };

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Init(nint connection, fuse_config* config)
    {
        // sysfs is never cached: every lookup, attribute and read goes to the tree, so a device made or a
        // type that vanished shows at once (direct I/O on every open: show() makes the content on each read,
        // shorter than the size stat reports). Inode numbers are the tree's, so `ls -i` and `find` stay stable.
        config->entry_timeout = 0;
        config->negative_timeout = 0;
        config->attr_timeout = 0;
        config->use_ino = 1;
        config->readdir_ino = 1;
        config->direct_io = 1;
        config->kernel_cache = 0;
        // The return value becomes the private data of every later request: hand back what fuse_new got.
        var privateData = LibFuse.fuse_get_context()->private_data;
        try
        {
            Target(privateData).Initialized();
        }
        catch (Exception e)
        {
            Log("init", e);
        }
        return privateData;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetAttr(byte* path, stat* result, fuse_file_info* info)
    {
        try
        {
            var error = FileSystem().GetAttributes(Text(path), out var attributes);
            if (error != Errno.None)
            {
                return -(int)error;
            }
            *result = default;
            var seconds = attributes.Time.ToUnixTimeSeconds();
            var nanoseconds = attributes.Time.ToUnixTimeMilliseconds() % 1000 * 1_000_000;
            result->st_ino = attributes.Inode;
            result->st_mode = attributes.Mode;
            result->st_nlink = attributes.Links;
            result->st_size = attributes.Size;
            result->st_blksize = 4096;
            result->st_atim = result->st_mtim = result->st_ctim = new timespec { tv_sec = seconds, tv_nsec = nanoseconds };
            return 0;
        }
        catch (Exception e)
        {
            return Log("getattr", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ReadLink(byte* path, byte* buffer, nuint size)
    {
        try
        {
            var error = FileSystem().ReadLink(Text(path), out var target);
            if (error != Errno.None)
            {
                return -(int)error;
            }
            // libfuse wants a NUL-terminated string, truncated to fit.
            var destination = new Span<byte>(buffer, (int)size);
            var written = Encoding.UTF8.GetBytes(target.AsSpan(), destination[..^1]);
            destination[written] = 0;
            return 0;
        }
        catch (ArgumentException)
        {
            return -(int)Errno.ENAMETOOLONG;
        }
        catch (Exception e)
        {
            return Log("readlink", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(byte* path, long size, fuse_file_info* info)
    {
        try
        {
            return -(int)FileSystem().Truncate(Text(path));
        }
        catch (Exception e)
        {
            return Log("truncate", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(byte* path, fuse_file_info* info)
    {
        try
        {
            var error = FileSystem().Open(Text(path), info->flags, CurrentCaller(), out var handle);
            if (error != Errno.None)
            {
                return -(int)error;
            }
            info->fh = handle;
            return 0;
        }
        catch (Exception e)
        {
            return Log("open", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(byte* path, byte* buffer, nuint size, long offset, fuse_file_info* info)
    {
        try
        {
            return FileSystem().Read(info->fh, offset, new Span<byte>(buffer, (int)size));
        }
        catch (Exception e)
        {
            return Log("read", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(byte* path, byte* data, nuint size, long offset, fuse_file_info* info)
    {
        try
        {
            return FileSystem().Write(info->fh, new ReadOnlySpan<byte>(data, (int)size), CurrentCaller());
        }
        catch (Exception e)
        {
            return Log("write", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Release(byte* path, fuse_file_info* info)
    {
        try
        {
            return -(int)FileSystem().Release(info->fh);
        }
        catch (Exception e)
        {
            return Log("release", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OpenDir(byte* path, fuse_file_info* info)
    {
        try
        {
            return -(int)FileSystem().OpenDirectory(Text(path));
        }
        catch (Exception e)
        {
            return Log("opendir", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ReadDir(byte* path, nint buffer, delegate* unmanaged[Cdecl]<nint, byte*, stat*, long, int, int> fill, long offset, fuse_file_info* info, int flags)
    {
        try
        {
            var error = FileSystem().ListDirectory(Text(path), out var names);
            if (error != Errno.None)
            {
                return -(int)error;
            }
            // Offset 0 for every entry: libfuse collects the whole listing and pages it to the kernel itself.
            foreach (var name in (IEnumerable<string>)[".", "..", .. names])
            {
                var bytes = Encoding.UTF8.GetBytes(name + "\0");
                fixed (byte* entry = bytes)
                {
                    if (fill(buffer, entry, null, 0, 0) != 0)
                    {
                        break;
                    }
                }
            }
            return 0;
        }
        catch (Exception e)
        {
            return Log("readdir", e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Utimens(byte* path, timespec* times, fuse_file_info* info)
    {
        try
        {
            return -(int)FileSystem().SetTimes(Text(path));
        }
        catch (Exception e)
        {
            return Log("utimens", e);
        }
    }

    private static FuseMount Target(nint privateData) =>
        (FuseMount)GCHandle.FromIntPtr(privateData).Target!;

    private static SysfsFileSystem FileSystem() => Target(LibFuse.fuse_get_context()->private_data).FileSystem;

    private static Caller CurrentCaller()
    {
        var context = LibFuse.fuse_get_context();
        return new Caller(ProcessOf(context->pid), context->uid, context->gid);
    }

    // FUSE names the calling thread; what holds a device (as VFIO binds it to one process) is its thread
    // group. Reading a thread's status costs more than the rest of a request, so a known answer is only
    // checked, with one lookup of /proc/<process>/task/<thread> (thread ids are reused after they exit).
    private static int ProcessOf(int threadId)
    {
        if (threadId <= 0)
        {
            return threadId;
        }
        if (s_processOfThread.TryGetValue(threadId, out var known)
            && Directory.Exists($"/proc/{known.ToString(CultureInfo.InvariantCulture)}/task/{threadId.ToString(CultureInfo.InvariantCulture)}"))
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

    private static string Text(byte* path) => Marshal.PtrToStringUTF8((nint)path) ?? "";

    private static int Log(string operation, Exception e)
    {
        Target(LibFuse.fuse_get_context()->private_data).Warn($"{operation} failed: {e}");
        return -(int)Errno.EIO;
    }
}
