using System.Runtime.InteropServices;
using Mdevkit.Sysfs.Native;
using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

/// <summary>The structs and constants declared in <c>Native/</c>, compared with what the C headers say on this machine.</summary>
public sealed class NativeLayoutTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(NativeLayoutTests));

    private const string Program = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        #include <linux/openat2.h>
        int main(void)
        {
            printf("open_how %zu %zu %zu %zu\n", sizeof(struct open_how), offsetof(struct open_how, flags), offsetof(struct open_how, mode), offsetof(struct open_how, resolve));
            printf("statx %zu %zu %zu %zu\n", sizeof(struct statx), offsetof(struct statx, stx_mask), offsetof(struct statx, stx_uid), offsetof(struct statx, stx_mode));
            printf("resolve %d %d\n", RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS);
            printf("open %d %d %d %d %d\n", O_WRONLY, O_NONBLOCK, O_NOFOLLOW, O_PATH, O_CLOEXEC);
            printf("at %d %d\n", AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH);
            printf("mask %d %d %d\n", STATX_TYPE, STATX_MODE, STATX_UID);
            printf("mode %d %d %d %d\n", S_IFMT, S_IFREG, S_IFDIR, S_IFLNK);
            printf("syscall %d\n", SYS_openat2);
            return 0;
        }
        """;

    [Fact]
    public void Declarations_MatchTheCHeaders()
    {
        _root.File("layout.c", Program);
        var compile = CommandRunner.Run("gcc", ["-o", _root.Join("layout"), _root.Join("layout.c")]);
        Assert.Equal((0, ""), (compile.ExitCode, compile.Error));

        var expected = string.Join('\n',
            $"open_how {Layout<Libc.open_how>(nameof(Libc.open_how.flags), nameof(Libc.open_how.mode), nameof(Libc.open_how.resolve))}",
            $"statx {Layout<Libc.statx_t>(nameof(Libc.statx_t.stx_mask), nameof(Libc.statx_t.stx_uid), nameof(Libc.statx_t.stx_mode))}",
            $"resolve {Libc.RESOLVE_BENEATH} {Libc.RESOLVE_NO_SYMLINKS}",
            $"open {Libc.O_WRONLY} {Libc.O_NONBLOCK} {Libc.O_NOFOLLOW} {Libc.O_PATH} {Libc.O_CLOEXEC}",
            $"at {Libc.AT_SYMLINK_NOFOLLOW} {Libc.AT_EMPTY_PATH}",
            $"mask {Libc.STATX_TYPE} {Libc.STATX_MODE} {Libc.STATX_UID}",
            $"mode {Libc.S_IFMT} {Libc.S_IFREG} {Libc.S_IFDIR} {Libc.S_IFLNK}",
            $"syscall {Libc.SYS_openat2}") + "\n";
        Assert.Equal(new CommandResult(0, expected, ""), CommandRunner.Run(_root.Join("layout"), []));
    }

    // The size, then each field's offset.
    private static string Layout<T>(params string[] fields) where T : struct =>
        string.Join(' ', [Marshal.SizeOf<T>(), .. fields.Select(field => Marshal.OffsetOf<T>(field))]);

    public void Dispose() => _root.Dispose();
}
