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

/// <summary><c>struct fuse_ctx</c> (fuse_lowlevel.h): who made a request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_ctx
{
    public uint uid;
    public uint gid;
    public int pid;
    public uint umask;
}

/// <summary><c>struct fuse_conn_info</c> (fuse_common.h, libfuse 3.14): what the kernel offers and what the mount wants.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_conn_info
{
    public uint proto_major;
    public uint proto_minor;
    public uint max_write;
    public uint max_read;
    public uint max_readahead;
    public uint capable;
    public uint want;
    public uint max_background;
    public uint congestion_threshold;
    public uint time_gran;
    public fixed uint reserved[22];
}

/// <summary><c>struct fuse_entry_param</c> (fuse_lowlevel.h): a lookup's answer and how long the kernel may keep it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_entry_param
{
    public ulong ino;
    public ulong generation;
    public stat attr;
    public double attr_timeout;
    public double entry_timeout;
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
/// <c>struct fuse_lowlevel_ops</c> (fuse_lowlevel.h, libfuse 3.14), in declaration order. Operations mdevkit
/// does not implement stay null, and libfuse answers ENOSYS for them (FLUSH included: the kernel then stops
/// sending it).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_lowlevel_ops
{
    public delegate* unmanaged[Cdecl]<nint, fuse_conn_info*, void> init;
    public nint destroy;
    public delegate* unmanaged[Cdecl]<nint, ulong, byte*, void> lookup;
    public delegate* unmanaged[Cdecl]<nint, ulong, ulong, void> forget;
    public delegate* unmanaged[Cdecl]<nint, ulong, fuse_file_info*, void> getattr;
    public delegate* unmanaged[Cdecl]<nint, ulong, stat*, int, fuse_file_info*, void> setattr;
    public delegate* unmanaged[Cdecl]<nint, ulong, void> readlink;
    public nint mknod;
    public nint mkdir;
    public nint unlink;
    public nint rmdir;
    public nint symlink;
    public nint rename;
    public nint link;
    public delegate* unmanaged[Cdecl]<nint, ulong, fuse_file_info*, void> open;
    public delegate* unmanaged[Cdecl]<nint, ulong, nuint, long, fuse_file_info*, void> read;
    public delegate* unmanaged[Cdecl]<nint, ulong, byte*, nuint, long, fuse_file_info*, void> write;
    public nint flush;
    public delegate* unmanaged[Cdecl]<nint, ulong, fuse_file_info*, void> release;
    public nint fsync;
    public delegate* unmanaged[Cdecl]<nint, ulong, fuse_file_info*, void> opendir;
    public delegate* unmanaged[Cdecl]<nint, ulong, nuint, long, fuse_file_info*, void> readdir;
    public delegate* unmanaged[Cdecl]<nint, ulong, fuse_file_info*, void> releasedir;
    public nint fsyncdir;
    public nint statfs;
    public nint setxattr;
    public nint getxattr;
    public nint listxattr;
    public nint removexattr;
    public nint access;
    public nint create;
    public nint getlk;
    public nint setlk;
    public nint bmap;
    public nint ioctl;
    public nint poll;
    public nint write_buf;
    public nint retrieve_reply;
    public nint forget_multi;
    public nint flock;
    public nint fallocate;
    public nint readdirplus;
    public nint copy_file_range;
    public nint lseek;
}

/// <summary><c>struct iovec</c> (sys/uio.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct iovec
{
    public byte* iov_base;
    public nuint iov_len;
}

/// <summary><c>struct fuse_buf</c> (fuse_common.h): one request as libfuse's dispatcher takes it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_buf
{
    public nuint size;
    public int flags;
    public byte* mem;
    public int fd;
    public long pos;
}

/// <summary>
/// <c>struct fuse_custom_io</c> (fuse_lowlevel.h, libfuse 3.14): how the session reads requests from and writes
/// answers to <c>/dev/fuse</c>. Without splice callbacks libfuse reads and writes plain buffers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_custom_io
{
    public delegate* unmanaged[Cdecl]<int, iovec*, int, nint, nint> writev;
    public delegate* unmanaged[Cdecl]<int, byte*, nuint, nint, nint> read;
    public nint splice_receive;
    public nint splice_send;
}

/// <summary><c>struct fuse_in_header</c> (linux/fuse.h): what precedes every request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_in_header
{
    public uint len;
    public uint opcode;
    public ulong unique;
    public ulong nodeid;
    public uint uid;
    public uint gid;
    public uint pid;
    public ushort total_extlen;
    public ushort padding;
}

/// <summary><c>struct fuse_out_header</c> (linux/fuse.h): what precedes every answer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_out_header
{
    public uint len;
    public int error;
    public ulong unique;
}

/// <summary><c>struct fuse_init_in</c> (linux/fuse.h): what the kernel offers.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_init_in
{
    public uint major;
    public uint minor;
    public uint max_readahead;
    public uint flags;
    public uint flags2;
    private fixed uint _unused[11];
}

/// <summary><c>struct fuse_init_out</c> (linux/fuse.h): what the mount takes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct fuse_init_out
{
    public uint major;
    public uint minor;
    public uint max_readahead;
    public uint flags;
    public ushort max_background;
    public ushort congestion_threshold;
    public uint max_write;
    public uint time_gran;
    public ushort max_pages;
    public ushort map_alignment;
    public uint flags2;
    private fixed uint _unused[7];
}

#pragma warning restore CA1707, IDE1006, CS8981
