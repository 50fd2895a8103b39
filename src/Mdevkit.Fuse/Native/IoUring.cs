using System.Runtime.InteropServices;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse.Native;

#pragma warning disable CA1707, IDE1006, CS8981 // C names, verbatim, so they can be checked against the headers.

/// <summary><c>struct io_sqring_offsets</c> (linux/io_uring.h): where the submission ring's fields lie in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct io_sqring_offsets
{
    public uint head;
    public uint tail;
    public uint ring_mask;
    public uint ring_entries;
    public uint flags;
    public uint dropped;
    public uint array;
    private readonly uint _reserved1;
    private readonly ulong _reserved2;
}

/// <summary><c>struct io_cqring_offsets</c> (linux/io_uring.h): where the completion ring's fields lie in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct io_cqring_offsets
{
    public uint head;
    public uint tail;
    public uint ring_mask;
    public uint ring_entries;
    public uint overflow;
    public uint cqes;
    public uint flags;
    private readonly uint _reserved1;
    private readonly ulong _reserved2;
}

/// <summary><c>struct io_uring_params</c> (linux/io_uring.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct io_uring_params
{
    public uint sq_entries;
    public uint cq_entries;
    public uint flags;
    public uint sq_thread_cpu;
    public uint sq_thread_idle;
    public uint features;
    public uint wq_fd;
    private fixed uint _reserved[3];
    public io_sqring_offsets sq_off;
    public io_cqring_offsets cq_off;
}

/// <summary>
/// <c>struct io_uring_sqe</c> (linux/io_uring.h), with the members of its unions a passthrough command uses.
/// A ring set up with <see cref="IoUring.IORING_SETUP_SQE128"/> has 128-byte entries whose last 80 bytes,
/// from <see cref="addr3"/> on, are the command's own.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct io_uring_sqe
{
    public byte opcode;
    public byte flags;
    public ushort ioprio;
    public int fd;
    public uint cmd_op;
    private readonly uint _pad1;
    public ulong addr;
    public uint len;
    public uint uring_cmd_flags;
    public ulong user_data;
    public ushort buf_index;
    public ushort personality;
    public int splice_fd_in;
    public ulong addr3;
    private readonly ulong _pad2;
}

/// <summary><c>struct io_uring_cqe</c> (linux/io_uring.h) of a ring without 32-byte completions.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct io_uring_cqe
{
    public ulong user_data;
    public int res;
    public uint flags;
}

/// <summary>
/// One io_uring instance owned by one thread: 128-byte submission entries, submitted and waited for one at a
/// time. glibc has no wrappers for io_uring's system calls, so they go through <c>syscall(2)</c>.
/// </summary>
internal sealed unsafe partial class IoUring : IDisposable
{
    public const uint IORING_SETUP_SQE128 = 1 << 10;
    private const uint IORING_SETUP_R_DISABLED = 1 << 6;
    private const uint IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    private const uint IORING_SETUP_DEFER_TASKRUN = 1 << 13;
    private const long SYS_io_uring_register = 427;
    private const uint IORING_REGISTER_ENABLE_RINGS = 12;
    public const byte IORING_OP_POLL_ADD = 6;
    public const byte IORING_OP_URING_CMD = 46;
    public const int SqeSize = 128;

    // x86-64 system call numbers (NativeLayout admits no other architecture).
    private const long SYS_io_uring_setup = 425;
    private const long SYS_io_uring_enter = 426;
    private const uint IORING_ENTER_GETEVENTS = 1;
    private const uint IORING_FEAT_SINGLE_MMAP = 1;
    private const long IORING_OFF_SQ_RING = 0;
    private const long IORING_OFF_CQ_RING = 0x8000000;
    private const long IORING_OFF_SQES = 0x10000000;
    private const int PROT_READ = 1;
    private const int PROT_WRITE = 2;
    private const int MAP_SHARED = 1;
    private const int MAP_POPULATE = 0x8000;

    private readonly int _fd;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly byte* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _sqArray;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly io_uring_cqe* _cqes;
    private uint _nextTail;

    private IoUring(int fd, in io_uring_params parameters)
    {
        _fd = fd;
        _sqRingSize = parameters.sq_off.array + (parameters.sq_entries * sizeof(uint));
        _cqRingSize = parameters.cq_off.cqes + (parameters.cq_entries * (uint)sizeof(io_uring_cqe));
        var single = (parameters.features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
        {
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        }
        _sqRing = Map(_sqRingSize, IORING_OFF_SQ_RING);
        _cqRing = single ? _sqRing : Map(_cqRingSize, IORING_OFF_CQ_RING);
        _sqesSize = parameters.sq_entries * (nuint)SqeSize;
        _sqes = Map(_sqesSize, IORING_OFF_SQES);
        _sqHead = (uint*)(_sqRing + parameters.sq_off.head);
        _sqTail = (uint*)(_sqRing + parameters.sq_off.tail);
        _sqMask = *(uint*)(_sqRing + parameters.sq_off.ring_mask);
        _sqArray = (uint*)(_sqRing + parameters.sq_off.array);
        _cqHead = (uint*)(_cqRing + parameters.cq_off.head);
        _cqTail = (uint*)(_cqRing + parameters.cq_off.tail);
        _cqMask = *(uint*)(_cqRing + parameters.cq_off.ring_mask);
        _cqes = (io_uring_cqe*)(_cqRing + parameters.cq_off.cqes);
        _nextTail = *_sqTail;
    }

    /// <summary>Sets up a ring of <paramref name="entries"/> 128-byte submission entries.</summary>
    /// <returns>The ring, or null with <paramref name="errno"/> when the kernel refuses one.</returns>
    public static IoUring? Create(uint entries, out int errno)
    {
        // Completions are run only when the owning thread waits for them (DEFER_TASKRUN), so the kernel wakes it
        // directly instead of interrupting it; the ring is enabled by the thread that will use it.
        var parameters = new io_uring_params { flags = IORING_SETUP_SQE128 | IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN };
        var fd = (int)syscall(SYS_io_uring_setup, entries, (nint)(&parameters));
        if (fd < 0)
        {
            errno = Marshal.GetLastSystemError();
            return null;
        }
        try
        {
            errno = 0;
            return new IoUring(fd, parameters);
        }
        catch (IOException)
        {
            errno = Marshal.GetLastSystemError();
            _ = Libc.close(fd);
            return null;
        }
    }

    /// <summary>Makes the calling thread the ring's only user; before that the ring takes no submission.</summary>
    /// <returns>0, or a negated errno.</returns>
    public int Enable() =>
        syscall(SYS_io_uring_register, _fd, (nint)IORING_REGISTER_ENABLE_RINGS, 0, 0, 0, 0) < 0 ? -Marshal.GetLastSystemError() : 0;

    /// <summary>A cleared submission entry, to fill before the next <see cref="SubmitAndWait"/> submits it.</summary>
    public io_uring_sqe* NextEntry()
    {
        var index = _nextTail++ & _sqMask;
        var entry = _sqes + (index * SqeSize);
        new Span<byte>(entry, SqeSize).Clear();
        _sqArray[index] = index;
        return (io_uring_sqe*)entry;
    }

    /// <summary>Submits the entries from <see cref="NextEntry"/> and waits for the next completion.</summary>
    /// <returns>The completion's user data and result (0 or more on success, a negated errno otherwise); a failed wait has user data 0.</returns>
    public (ulong UserData, int Result) SubmitAndWait()
    {
        // The kernel reads the entries after it sees the new tail.
        Volatile.Write(ref *_sqTail, _nextTail);
        while (true)
        {
            var head = *_cqHead;
            if (head != Volatile.Read(ref *_cqTail))
            {
                var completion = _cqes[head & _cqMask];
                Volatile.Write(ref *_cqHead, head + 1);
                return (completion.user_data, completion.res);
            }
            // After a signal the entries may or may not have been taken; the ring's head says which.
            var pending = _nextTail - Volatile.Read(ref *_sqHead);
            if (syscall(SYS_io_uring_enter, _fd, (nint)pending, 1, (nint)IORING_ENTER_GETEVENTS, 0, 0) < 0
                && Marshal.GetLastSystemError() != (int)Errno.EINTR)
            {
                return (0, -Marshal.GetLastSystemError());
            }
        }
    }

    public void Dispose()
    {
        _ = munmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing)
        {
            _ = munmap(_cqRing, _cqRingSize);
        }
        _ = munmap(_sqRing, _sqRingSize);
        _ = Libc.close(_fd);
    }

    private byte* Map(nuint size, long offset)
    {
        var address = mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, _fd, offset);
        return address == (byte*)-1 ? throw new IOException($"mmap of an io_uring ring failed: errno {Marshal.GetLastSystemError()}") : address;
    }

    // syscall(2) is variadic; on x86-64 its integer arguments travel in the same registers as a fixed signature's.
    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    private static long syscall(long number, long a1, nint a2) => syscall(number, (nint)a1, a2, 0, 0, 0, 0);

    [LibraryImport("libc", SetLastError = true)]
    private static partial byte* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc")]
    private static partial int munmap(void* address, nuint length);
}

#pragma warning restore CA1707, IDE1006, CS8981
