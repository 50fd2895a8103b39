using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.SimHost.Native;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// The simulator's log file, bounded: a line that would take the file past <see cref="Cap"/> bytes goes to a new
/// file instead, the old one becoming <c>NAME.1</c> (replacing the previous one), so a long-running simulator
/// keeps at most about twice the cap. A daemon's log is also its standard error, so that what the runtime itself
/// writes there (a crash's last words) lands in the current file too.
/// </summary>
/// <remarks>
/// Lines are collected in memory and written together within <see cref="FlushInterval"/>, or by the writer
/// whose line takes them past <see cref="EagerBytes"/>: a FUSE request that logs its uevents then pays for a copy, not for a write to the
/// disk (which cost more than the rest of a create). <see cref="Flush"/> and disposing write what waits; a
/// process killed outright loses at most the last interval's lines.
/// </remarks>
public sealed class RotatingLog : TextWriter
{
    /// <summary>The size past which the next lines start a new file.</summary>
    public const long Cap = 1 << 20;

    /// <summary>How long a line may wait in memory.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How much may wait in memory: the line that reaches it is written with the rest at once.</summary>
    public const int EagerBytes = 64 << 10;

    private readonly string _path;
    private readonly bool _isStandardError;
    // Guards the lines waiting; held only to copy, never while writing.
    private readonly Lock _pendingLock = new();
    // Orders the writes: lines reach the file in the order they were taken.
    private readonly Lock _fileLock = new();
    private readonly Timer _flushTimer;
    private ArrayBufferWriter<byte> _pending = new(EagerBytes);
    private ArrayBufferWriter<byte> _writing = new(EagerBytes);
    private bool _flushScheduled;
    private FileStream _file;
    private long _fileLength;
    private bool _disposed;

    /// <summary>Opens (appends to) the log at <paramref name="path"/>.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="isStandardError">Whether the file is also made the process's standard error (a daemon's log).</param>
    /// <exception cref="SimException">The file cannot be opened.</exception>
    public RotatingLog(string path, bool isStandardError)
    {
        _path = path;
        _isStandardError = isStandardError;
        _file = Open();
        _fileLength = _file.Length;
        _flushTimer = new Timer(_ => FlushInBackground());
    }

    /// <inheritdoc/>
    public override Encoding Encoding => Encoding.UTF8;

    /// <inheritdoc/>
    public override string NewLine => "\n";

    /// <inheritdoc/>
    public override void Write(char value) => Write(value.ToString());

    /// <inheritdoc/>
    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }
        bool full;
        lock (_pendingLock)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            Encoding.UTF8.GetBytes(value, _pending.GetSpan(length));
            _pending.Advance(length);
            full = _pending.WrittenCount >= EagerBytes;
            if (!full && _flushScheduled)
            {
                return;
            }
            _flushScheduled = !full;
        }
        if (full)
        {
            Flush();
        }
        else
        {
            _flushTimer.Change(FlushInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <inheritdoc/>
    public override void WriteLine(string? value) => Write(value + NewLine);

    /// <summary>Writes every line taken so far to the file.</summary>
    public override void Flush()
    {
        lock (_fileLock)
        {
            lock (_pendingLock)
            {
                (_pending, _writing) = (_writing, _pending);
                _flushScheduled = false;
            }
            if (_writing.WrittenCount == 0 || _disposed)
            {
                return;
            }
            try
            {
                if (_fileLength > 0 && _fileLength + _writing.WrittenCount > Cap)
                {
                    Rotate();
                }
                _file.Write(_writing.WrittenSpan);
                _file.Flush();
                _fileLength += _writing.WrittenCount;
            }
            finally
            {
                _writing.ResetWrittenCount();
            }
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _flushTimer.Dispose();
            Flush();
            lock (_fileLock)
            {
                _disposed = true;
                _file.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    // A log that cannot be written (a full disk) has nowhere to say so: what waited is dropped, and the
    // simulator goes on rather than dying on a timer's thread.
    private void FlushInBackground()
    {
        try
        {
            Flush();
        }
        catch (IOException)
        {
        }
    }

    private void Rotate()
    {
        File.Move(_path, _path + ".1", overwrite: true);
        var next = Open();
        _file.Dispose();
        _file = next;
        _fileLength = 0;
    }

    private FileStream Open()
    {
        FileStream file;
        try
        {
            file = new FileStream(_path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SimException($"cannot open the log {_path}: {SysfsException.Describe(SysfsException.ToErrno(e))}");
        }
        if (_isStandardError && Libc.dup2((int)file.SafeFileHandle.DangerousGetHandle(), Libc.STDERR_FILENO) < 0)
        {
            var errno = (Errno)Marshal.GetLastPInvokeError();
            file.Dispose();
            throw new SimException($"cannot make the log {_path} standard error: {SysfsException.Describe(errno)}");
        }
        return file;
    }
}
