using System.Reflection;
using System.Runtime.InteropServices;
using Mdevkit.Fuse.Native;
using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>
/// The structs under <c>Native/</c> against the C headers they copy (glibc's <c>struct stat</c>, libfuse3's
/// structs, the kernel's FUSE and io_uring structs): a small C program compiled here prints each size and offset, and ours must be the same.
/// </summary>
public sealed class NativeLayoutTests : IDisposable
{
    // Fields that stand in for C bit-fields, which have no offset of their own.
    private static readonly HashSet<string> s_bitFieldStandIns = ["fuse_file_info.bits", "fuse_file_info.padding2"];

    private static readonly Type[] s_structs = [typeof(fuse_args), typeof(fuse_ctx), typeof(fuse_conn_info), typeof(fuse_entry_param), typeof(fuse_file_info), typeof(timespec), typeof(stat), typeof(fuse_lowlevel_ops),
        typeof(fuse_buf), typeof(fuse_custom_io), typeof(iovec), typeof(fuse_in_header), typeof(fuse_out_header), typeof(fuse_init_in), typeof(fuse_init_out),
        typeof(io_sqring_offsets), typeof(io_cqring_offsets), typeof(io_uring_params), typeof(io_uring_sqe), typeof(io_uring_cqe)];

    private readonly TempRoot _root = new(nameof(NativeLayoutTests));

    public void Dispose() => _root.Dispose();

    [Fact]
    public void OurStructs_HaveTheSizesAndOffsetsOfTheCHeaders()
    {
        _root.File("layout.c", CProgram(s_structs));
        var compile = CommandRunner.Run("gcc", ["-D_FILE_OFFSET_BITS=64", "-DFUSE_USE_VERSION=312", "-I/usr/include/fuse3", "-o", _root.Join("layout"), _root.Join("layout.c")]);
        Assert.Equal(new CommandResult(0, "", ""), compile);

        var headers = CommandRunner.Run(_root.Join("layout"), []);

        Assert.Equal(new CommandResult(0, Ours(s_structs), ""), headers);
    }

    [Fact]
    public void ThisArchitecture_IsOneWhoseLayoutsAreChecked()
    {
        // The layout test above runs on this architecture, so it is the one NativeLayout may let mount.
        NativeLayout.RequireChecked();

        Assert.Contains(RuntimeInformation.ProcessArchitecture, NativeLayout.Checked);
    }

    private static IEnumerable<FieldInfo> Fields(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(field => !s_bitFieldStandIns.Contains($"{type.Name}.{field.Name}"));

    private static string CProgram(Type[] structs)
    {
        var lines = structs.SelectMany(type =>
            Fields(type).Select(field => $"    printf(\"{type.Name}.{field.Name} %zu\\n\", offsetof(struct {type.Name}, {field.Name}));")
            .Prepend($"    printf(\"{type.Name} size %zu\\n\", sizeof(struct {type.Name}));"));
        return $$"""
            #include <stddef.h>
            #include <stdio.h>
            #include <sys/stat.h>
            #include <time.h>
            #include <sys/uio.h>
            #include <fuse_lowlevel.h>
            #include <linux/fuse.h>
            #include <linux/io_uring.h>

            int main(void)
            {
            {{string.Join('\n', lines)}}
                return 0;
            }

            """;
    }

    private static string Ours(Type[] structs) => string.Concat(structs.SelectMany(type =>
        Fields(type).Select(field => $"{type.Name}.{field.Name} {Marshal.OffsetOf(type, field.Name)}\n")
        .Prepend($"{type.Name} size {Marshal.SizeOf(type)}\n")));
}
