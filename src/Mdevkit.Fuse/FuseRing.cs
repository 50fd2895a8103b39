using System.Globalization;
using System.Runtime.InteropServices;
using Mdevkit.Fuse.Native;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse;

/// <summary>
/// FUSE over io_uring (Linux 6.14 and later, when the fuse module's <c>enable_uring</c> parameter is on): the
/// kernel hands each request to a queue of the CPU its caller runs on, and the mount serves each queue with
/// threads pinned to that CPU, so a request is served where it was made, and one system call both answers a
/// request and waits for the next. libfuse 3.14 knows nothing of it: its dispatcher still decodes
/// every request (from the ring's buffers instead of <c>/dev/fuse</c>), and this class takes the answers
/// through libfuse's custom I/O. <c>FORGET</c>, interrupts and notifications keep to <c>/dev/fuse</c>.
/// When the kernel does not offer io_uring, everything goes through <c>/dev/fuse</c> as before.
/// </summary>
/// <remarks>
/// Each thread has one ring entry, which holds one request at a time. A request the tree answers only later
/// keeps its entry and thread: a <c>remove</c> waiting for the holder of an open device, or one whose
/// invalidations wait for the kernel's lock on a directory that a lookup in it holds until it is answered.
/// The kernel gives a request that finds no free entry in its queue only to an entry that has just answered,
/// never to one registered later, so the queue must never run out: each online CPU's queue starts with
/// <see cref="InitialThreadsPerQueue"/> and registers another whenever fewer than <see cref="SpareThreads"/>
/// are free, up to <see cref="MaxThreadsPerQueue"/>.
/// </remarks>
internal sealed unsafe class FuseRing
{
    /// <summary>Threads (each with one ring entry) a queue may grow to.</summary>
    public const int MaxThreadsPerQueue = 256;

    private const int InitialThreadsPerQueue = 4;
    private const int SpareThreads = 2;
    private const uint FUSE_INIT = 26;
    private const uint FUSE_INIT_EXT = 1u << 30;

    // FUSE_OVER_IO_URING is bit 41 of the 64 INIT flags, so bit 9 of flags2.
    private const uint FUSE_OVER_IO_URING_FLAGS2 = 1u << 9;
    private const uint FUSE_IO_URING_CMD_REGISTER = 1;
    private const uint FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2;

    // struct fuse_uring_req_header (linux/fuse.h, 7.42): in_out[128], op_in[128], then fuse_uring_ent_in_out
    // { flags, commit_id, payload_sz, padding, reserved }.
    private const int OpInOffset = 128;
    private const int CommitIdOffset = 256 + 8;
    private const int PayloadSizeOffset = 256 + 16;
    private const int RequestHeaderSize = 288;

    // Room before each payload buffer for the request's headers, so that libfuse gets one contiguous request.
    private const int Prefix = 4096;
    private const ulong FuseCommand = 1;
    private const ulong StopEvent = 2;
    private const uint POLLIN = 1;

    // Submission entries of each thread's ring: the stop event's poll and the FUSE command, submitted together.
    private const uint RingEntries = 2;
    private const int ECANCELED = 125;

    // The entry whose request this thread is dispatching, to recognise its answer among libfuse's writes.
    [ThreadStatic]
    private static Entry? t_dispatching;

    private readonly FuseMount _mount;
    private readonly nint _session;
    private readonly List<Thread> _threads = [];

    // Held to start a thread or to stop starting them.
    private readonly Lock _threadsLock = new();
    private bool _stopping;
    private Queue[] _queues = [];
    private nuint _payloadSize;
    // The mount's own descriptors: /dev/fuse (libfuse closes its own when it unmounts, and a number closed
    // under a ring thread could be another file's by its next commit) and the event that stops the threads.
    private int _deviceFd = -1;
    private int _stopFd = -1;
    private ulong _initUnique;
    private bool _offered;
    private long _served;

    public FuseRing(FuseMount mount, nint session)
    {
        _mount = mount;
        _session = session;
    }

    /// <summary>Whether the connection runs over io_uring.</summary>
    public bool Active => _queues.Length > 0;

    /// <summary>Requests answered through the ring so far.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Looks at what libfuse read from <c>/dev/fuse</c>: only the INIT request matters here.</summary>
    public void Received(byte* buffer, nint count)
    {
        var header = (fuse_in_header*)buffer;
        if (count < sizeof(fuse_in_header) + sizeof(fuse_init_in) || header->opcode != FUSE_INIT)
        {
            return;
        }
        var offer = (fuse_init_in*)(buffer + sizeof(fuse_in_header));
        _initUnique = header->unique;
        _offered = (offer->flags & FUSE_INIT_EXT) != 0 && (offer->flags2 & FUSE_OVER_IO_URING_FLAGS2) != 0;
    }

    /// <summary>Writes one of libfuse's answers or notifications: into the ring entry it answers, or onto the device.</summary>
    /// <returns>The bytes written, or a negated errno.</returns>
    public nint Write(int fd, iovec* vector, int count)
    {
        var header = (fuse_out_header*)vector[0].iov_base;
        if (t_dispatching is { } entry && header->unique == entry.Unique)
        {
            return entry.Answer(vector, count);
        }
        if (header->unique != 0 && header->unique == _initUnique && count == 2 && header->error == 0)
        {
            return AnswerInit(fd, vector);
        }
        return DeviceIo.WriteDevice(fd, vector, count);
    }

    /// <summary>
    /// Ends every ring thread and closes what the ring holds, so that the device is released and the connection
    /// ends as it does over /dev/fuse. Each thread finishes the request it is answering first.
    /// </summary>
    /// <returns>Whether all ended in time.</returns>
    public bool Stop(TimeSpan timeout)
    {
        Thread[] threads;
        lock (_threadsLock)
        {
            if (!_stopping && _stopFd >= 0)
            {
                ulong one = 1;
                _ = Libc.write(_stopFd, &one, sizeof(ulong));
            }
            _stopping = true;
            threads = [.. _threads];
        }
        var deadline = DateTime.UtcNow + timeout;
        foreach (var thread in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (!thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                return false;
            }
        }
        lock (_threadsLock)
        {
            CloseDescriptors();
        }
        return true;
    }

    // Takes up the kernel's offer in the INIT answer, once the rings for every queue exist, and starts serving
    // them right after the kernel has read it: until every queue has an entry, the kernel holds all requests.
    // Whatever goes wrong before the answer leaves the connection on /dev/fuse; the answer always goes out.
    private nint AnswerInit(int fd, iovec* vector)
    {
        _initUnique = 0;
        var answer = (fuse_init_out*)vector[1].iov_base;
        Queue[]? plan = null;
        IoUring[]? rings = null;
        try
        {
            plan = _offered && (answer->flags & FUSE_INIT_EXT) != 0 ? PlanQueues() : null;
            rings = plan is null || !OpenDescriptors(fd) ? null : CreateRings(plan.Sum(queue => queue.Initial));
        }
        catch (Exception e)
        {
            _mount.Warn($"serving over /dev/fuse: setting up io_uring failed: {e}");
        }
        if (rings is not null)
        {
            answer->flags2 |= FUSE_OVER_IO_URING_FLAGS2;
        }
        var written = DeviceIo.WriteDevice(fd, vector, 2);
        if (rings is null || plan is null || written < 0)
        {
            Array.ForEach(rings ?? [], ring => ring.Dispose());
            CloseDescriptors();
            return written;
        }
        var page = (nuint)Environment.SystemPageSize;
        _payloadSize = Math.Max(Math.Max(8192, answer->max_write), answer->max_pages * page);
        _queues = plan;
        var next = 0;
        foreach (var queue in plan)
        {
            for (var i = 0; i < queue.Initial; i++)
            {
                StartThread(queue, rings[next++]);
            }
        }
        return written;
    }

    /// <summary>
    /// The queues the kernel makes for a connection, from the CPU lists in <paramref name="cpuDirectory"/>
    /// (<c>/sys/devices/system/cpu</c>): one per possible CPU, needed all before the kernel sends anything
    /// through them, of which only the online CPUs' get requests.
    /// </summary>
    /// <returns>(CPU, online) for each queue; null when the lists cannot be read.</returns>
    internal static (int Cpu, bool Online)[]? PlanQueues(string cpuDirectory)
    {
        if (CpuList(Path.Join(cpuDirectory, "online")) is not { } online || CpuList(Path.Join(cpuDirectory, "possible")) is not { Count: > 0 } possible)
        {
            return null;
        }
        return [.. Enumerable.Range(0, possible.Max() + 1).Select(cpu => (cpu, online.Contains(cpu)))];
    }

    private Queue[]? PlanQueues()
    {
        const string cpus = "/sys/devices/system/cpu";
        if (PlanQueues(cpus) is not { } plan)
        {
            _mount.Warn($"serving over /dev/fuse: {cpus}/online and possible do not say which CPUs there are");
            return null;
        }
        return [.. plan.Select(queue => new Queue(queue.Cpu, queue.Online))];
    }

    private bool OpenDescriptors(int fd)
    {
        _deviceFd = Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0);
        _stopFd = _deviceFd < 0 ? -1 : Libc.eventfd(0, Libc.EFD_CLOEXEC);
        if (_stopFd < 0)
        {
            _mount.Warn($"serving over /dev/fuse: no descriptor for io_uring (errno {Marshal.GetLastPInvokeError()})");
            CloseDescriptors();
            return false;
        }
        return true;
    }

    private void CloseDescriptors()
    {
        foreach (var fd in (int[])[_deviceFd, _stopFd])
        {
            if (fd >= 0)
            {
                _ = Libc.close(fd);
            }
        }
        _deviceFd = _stopFd = -1;
    }

    private IoUring[]? CreateRings(int count)
    {
        var rings = new List<IoUring>();
        for (var i = 0; i < count; i++)
        {
            if (IoUring.Create(RingEntries, out var errno) is not { } ring)
            {
                _mount.Warn($"serving over /dev/fuse: io_uring_setup failed with errno {errno}");
                rings.ForEach(created => created.Dispose());
                return null;
            }
            rings.Add(ring);
        }
        return [.. rings];
    }

    private void StartThread(Queue queue, IoUring ring)
    {
        lock (_threadsLock)
        {
            if (_stopping)
            {
                ring.Dispose();
                return;
            }
            Interlocked.Increment(ref queue.Threads);
            var thread = new Thread(() => Serve(queue, ring))
            {
                IsBackground = true,
                Name = $"fuse ring {queue.Cpu.ToString(CultureInfo.InvariantCulture)}",
            };
            _threads.Add(thread);
            thread.Start();
        }
    }

    // Called when a request left fewer than SpareThreads of the queue free: one more, up to the limit.
    private void Grow(Queue queue)
    {
        if (Volatile.Read(ref queue.Threads) >= MaxThreadsPerQueue)
        {
            return;
        }
        if (IoUring.Create(RingEntries, out var errno) is { } ring)
        {
            StartThread(queue, ring);
        }
        else
        {
            _mount.Warn($"could not add a thread to FUSE queue {queue.Cpu}: io_uring_setup failed with errno {errno}");
        }
    }

    private void Serve(Queue queue, IoUring ring)
    {
        using var entry = new Entry(_payloadSize);
        try
        {
            if (queue.Online)
            {
                PinTo(queue.Cpu);
            }
            var enabled = ring.Enable();
            if (enabled != 0)
            {
                _mount.Warn($"FUSE queue {queue.Cpu} could not start: errno {-enabled}");
                return;
            }
            var buffers = stackalloc iovec[2];
            buffers[0] = new iovec { iov_base = entry.Headers, iov_len = RequestHeaderSize };
            buffers[1] = new iovec { iov_base = entry.Payload, iov_len = _payloadSize };
            var stop = ring.NextEntry();
            stop->opcode = IoUring.IORING_OP_POLL_ADD;
            stop->fd = _stopFd;
            stop->uring_cmd_flags = POLLIN; // poll32_events: the same word of the union
            stop->user_data = StopEvent;
            var register = Command(ring, queue, FUSE_IO_URING_CMD_REGISTER, 0);
            register->addr = (ulong)buffers;
            register->len = 2;
            var (completed, result) = ring.SubmitAndWait();
            while (completed == FuseCommand && result == 0)
            {
                if (Volatile.Read(ref queue.Threads) - Interlocked.Increment(ref queue.Busy) < SpareThreads)
                {
                    Grow(queue);
                }
                try
                {
                    Dispatch(entry);
                }
                catch (Exception e)
                {
                    // The caller still gets an answer: a request left unanswered would hang it for good.
                    _mount.Warn($"FUSE request on queue {queue.Cpu} failed: {e}");
                    entry.Fail();
                }
                Interlocked.Decrement(ref queue.Busy);
                Interlocked.Increment(ref _served);
                _ = Command(ring, queue, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, entry.CommitId);
                (completed, result) = ring.SubmitAndWait();
            }
            // The stop event, or ENOTCONN and ECANCELED once the connection is gone: how every entry ends.
            if (completed != StopEvent && result != -(int)Errno.ENOTCONN && result != -ECANCELED)
            {
                _mount.Warn($"FUSE queue {queue.Cpu} stopped: errno {-result}");
            }
        }
        catch (Exception e)
        {
            _mount.Warn($"FUSE queue {queue.Cpu} failed: {e}");
        }
        finally
        {
            ring.Dispose();
        }
    }

    private io_uring_sqe* Command(IoUring ring, Queue queue, uint command, ulong commitId)
    {
        var entry = ring.NextEntry();
        entry->opcode = IoUring.IORING_OP_URING_CMD;
        entry->fd = _deviceFd;
        entry->cmd_op = command;
        entry->user_data = FuseCommand;
        // struct fuse_uring_cmd_req { flags, commit_id, qid } in the command area.
        var request = (byte*)&entry->addr3;
        *(ulong*)(request + 8) = commitId;
        *(ushort*)(request + 16) = (ushort)queue.Cpu;
        return entry;
    }

    // Lays the request out as libfuse reads it from /dev/fuse (header, operation header, payload), in front of
    // the payload where it already is, and lets libfuse dispatch it; the callbacks answer before they return.
    private void Dispatch(Entry entry)
    {
        var header = (fuse_in_header*)entry.Headers;
        var payloadSize = *(uint*)(entry.Headers + PayloadSizeOffset);
        entry.Start(header->unique, *(ulong*)(entry.Headers + CommitIdOffset));
        var operationSize = (long)header->len - sizeof(fuse_in_header) - payloadSize;
        if (operationSize is < 0 or > OpInOffset)
        {
            _mount.Warn($"FUSE request {header->opcode} of {header->len} bytes does not fit its ring entry");
            entry.Fail();
            return;
        }
        var start = entry.Payload - sizeof(fuse_in_header) - operationSize;
        Buffer.MemoryCopy(entry.Headers, start, sizeof(fuse_in_header), sizeof(fuse_in_header));
        Buffer.MemoryCopy(entry.Headers + OpInOffset, start + sizeof(fuse_in_header), operationSize, operationSize);
        var request = new fuse_buf { size = header->len, mem = start, fd = -1 };
        t_dispatching = entry;
        try
        {
            LibFuse.fuse_session_process_buf(_session, &request);
        }
        finally
        {
            t_dispatching = null;
        }
        if (!entry.Answered)
        {
            _mount.Warn($"FUSE request {header->opcode} got no answer");
            entry.Fail();
        }
    }

    // A kernel CPU list such as "0-3,6"; null when it cannot be read.
    private static HashSet<int>? CpuList(string path)
    {
        var cpus = new HashSet<int>();
        try
        {
            foreach (var range in File.ReadAllText(path).Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var bounds = range.Split('-');
                var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                var last = int.Parse(bounds[^1], CultureInfo.InvariantCulture);
                for (var cpu = first; cpu <= last; cpu++)
                {
                    cpus.Add(cpu);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
        return cpus;
    }

    private void PinTo(int cpu)
    {
        var mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        mask[cpu / 64] = 1ul << (cpu % 64);
        if (Libc.sched_setaffinity(0, 16 * sizeof(ulong), mask) != 0)
        {
            _mount.Warn($"could not pin a FUSE queue thread to CPU {cpu}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private sealed class Queue(int cpu, bool online)
    {
        public int Cpu { get; } = cpu;

        public bool Online { get; } = online;

        public int Initial => Online ? InitialThreadsPerQueue : 1;

        public int Threads;
        public int Busy;
    }

    // One ring entry's buffers: the headers, and the payload with room in front for a request's headers.
    private sealed class Entry : IDisposable
    {
        private readonly byte* _block;
        private readonly nuint _payloadSize;

        public Entry(nuint payloadSize)
        {
            _payloadSize = payloadSize;
            Headers = (byte*)NativeMemory.AlignedAlloc(RequestHeaderSize, 64);
            _block = (byte*)NativeMemory.AlignedAlloc(Prefix + payloadSize, 4096);
        }

        public byte* Headers { get; }

        public byte* Payload => _block + Prefix;

        public ulong Unique { get; private set; }

        public ulong CommitId { get; private set; }

        public bool Answered { get; private set; }

        public void Start(ulong unique, ulong commitId)
        {
            Unique = unique;
            CommitId = commitId;
            Answered = false;
        }

        // libfuse's answer: the out header into the headers, the rest into the payload, as the kernel reads them.
        public nint Answer(iovec* vector, int count)
        {
            nuint size = 0;
            for (var i = 1; i < count; i++)
            {
                size += vector[i].iov_len;
            }
            if (size > _payloadSize || vector[0].iov_len != (nuint)sizeof(fuse_out_header))
            {
                Fail();
                return -(int)Errno.EIO;
            }
            Buffer.MemoryCopy(vector[0].iov_base, Headers, sizeof(fuse_out_header), sizeof(fuse_out_header));
            nuint offset = 0;
            for (var i = 1; i < count; i++)
            {
                Buffer.MemoryCopy(vector[i].iov_base, Payload + offset, (long)(_payloadSize - offset), (long)vector[i].iov_len);
                offset += vector[i].iov_len;
            }
            *(uint*)(Headers + PayloadSizeOffset) = (uint)size;
            Answered = true;
            return (nint)(size + (nuint)sizeof(fuse_out_header));
        }

        public void Fail()
        {
            var header = (fuse_out_header*)Headers;
            *header = new fuse_out_header { len = (uint)sizeof(fuse_out_header), error = -(int)Errno.EIO, unique = CommitId };
            *(uint*)(Headers + PayloadSizeOffset) = 0;
            Answered = true;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Headers);
            NativeMemory.AlignedFree(_block);
        }
    }
}
