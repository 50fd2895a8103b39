using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

#pragma warning disable CA1707, IDE1006, CS8981 // C names, verbatim, so they can be checked against the headers.

/// <summary><c>struct fuse_args</c> (fuse_opt.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_args
{
    public int argc;
    public byte** argv;
    public int allocated;
}

/// <summary><c>struct fuse_context</c> (fuse.h): who made the current request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_context
{
    public nint fuse;
    public uint uid;
    public uint gid;
    public int pid;
    public nint private_data;
    public uint umask;
}

/// <summary><c>struct fuse_file_info</c> (fuse_common.h, libfuse 3.14).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_file_info
{
    public int flags;
    /// <summary>The bit-fields writepage, direct_io, keep_cache, flush, nonseekable, flock_release, cache_readdir, noflush.</summary>
    public uint bits;
    public uint padding2;
    public ulong fh;
    public ulong lock_owner;
    public uint poll_events;
}

/// <summary>
/// The leading fields of <c>struct fuse_config</c> (fuse.h, libfuse 3.14) up to <c>kernel_cache</c>; the
/// init callback gets a pointer to libfuse's own instance and sets only these.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_config
{
    public int set_gid;
    public uint gid;
    public int set_uid;
    public uint uid;
    public int set_mode;
    public uint umask;
    public double entry_timeout;
    public double negative_timeout;
    public double attr_timeout;
    public int intr;
    public int intr_signal;
    public int remember;
    public int hard_remove;
    public int use_ino;
    public int readdir_ino;
    public int direct_io;
    public int kernel_cache;
}

/// <summary><c>struct timespec</c> on 64-bit Linux.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct timespec
{
    public long tv_sec;
    public long tv_nsec;
}

/// <summary><c>struct stat</c> on x86-64 Linux (144 bytes); <see cref="NativeLayout"/> refuses other architectures.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct stat
{
    public ulong st_dev;
    public ulong st_ino;
    public ulong st_nlink;
    public uint st_mode;
    public uint st_uid;
    public uint st_gid;
    public int __pad0;
    public ulong st_rdev;
    public long st_size;
    public long st_blksize;
    public long st_blocks;
    public timespec st_atim;
    public timespec st_mtim;
    public timespec st_ctim;
    public fixed long __glibc_reserved[3];
}

/// <summary>
/// <c>struct fuse_operations</c> (fuse.h, libfuse 3.14), in declaration order. Operations mdevkit does not
/// implement stay null, and libfuse answers ENOSYS for them.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_operations
{
    public delegate* unmanaged[Cdecl]<byte*, stat*, fuse_file_info*, int> getattr;
    public delegate* unmanaged[Cdecl]<byte*, byte*, nuint, int> readlink;
    public nint mknod;
    public nint mkdir;
    public nint unlink;
    public nint rmdir;
    public nint symlink;
    public nint rename;
    public nint link;
    public nint chmod;
    public nint chown;
    public delegate* unmanaged[Cdecl]<byte*, long, fuse_file_info*, int> truncate;
    public delegate* unmanaged[Cdecl]<byte*, fuse_file_info*, int> open;
    public delegate* unmanaged[Cdecl]<byte*, byte*, nuint, long, fuse_file_info*, int> read;
    public delegate* unmanaged[Cdecl]<byte*, byte*, nuint, long, fuse_file_info*, int> write;
    public nint statfs;
    public nint flush;
    public delegate* unmanaged[Cdecl]<byte*, fuse_file_info*, int> release;
    public nint fsync;
    public nint setxattr;
    public nint getxattr;
    public nint listxattr;
    public nint removexattr;
    public delegate* unmanaged[Cdecl]<byte*, fuse_file_info*, int> opendir;
    public delegate* unmanaged[Cdecl]<byte*, nint, delegate* unmanaged[Cdecl]<nint, byte*, stat*, long, int, int>, long, fuse_file_info*, int, int> readdir;
    public nint releasedir;
    public nint fsyncdir;
    public delegate* unmanaged[Cdecl]<nint, fuse_config*, nint> init;
    public nint destroy;
    public nint access;
    public nint create;
    public nint @lock;
    public delegate* unmanaged[Cdecl]<byte*, timespec*, fuse_file_info*, int> utimens;
    public nint bmap;
    public nint ioctl;
    public nint poll;
    public nint write_buf;
    public nint read_buf;
    public nint flock;
    public nint fallocate;
    public nint copy_file_range;
    public nint lseek;
}

#pragma warning restore CA1707, IDE1006, CS8981
