using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.SimHost.Native;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// The simulator's log file, bounded: past <see cref="Cap"/> bytes the file becomes <c>NAME.1</c> (replacing the
/// previous one) and a new file takes its place, so a long-running simulator keeps at most twice the cap.
/// A daemon's log is also its standard error, so that what the runtime itself writes there (a crash's last
/// words) lands in the current file too.
/// </summary>
public sealed class RotatingLog : TextWriter
{
    /// <summary>The size at which the file is rotated.</summary>
    public const long Cap = 1 << 20;

    private readonly string _path;
    private readonly bool _isStandardError;
    private readonly Lock _lock = new();
    private FileStream _file;

    /// <summary>Opens (appends to) the log at <paramref name="path"/>.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="isStandardError">Whether the file is also made the process's standard error (a daemon's log).</param>
    /// <exception cref="SimException">The file cannot be opened.</exception>
    public RotatingLog(string path, bool isStandardError)
    {
        _path = path;
        _isStandardError = isStandardError;
        _file = Open();
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
        var bytes = Encoding.UTF8.GetBytes(value);
        lock (_lock)
        {
            _file.Write(bytes);
            _file.Flush();
            if (_file.Length > Cap)
            {
                Rotate();
            }
        }
    }

    /// <inheritdoc/>
    public override void WriteLine(string? value) => Write(value + NewLine);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }
        base.Dispose(disposing);
    }

    private void Rotate()
    {
        File.Move(_path, _path + ".1", overwrite: true);
        var next = Open();
        _file.Dispose();
        _file = next;
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
