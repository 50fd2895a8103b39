using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

public sealed class DefinitionStoreTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(DefinitionStoreTests));
    private readonly DefinitionStore _store;
    private readonly List<string> _warnings = [];

    public DefinitionStoreTests() => _store = new DefinitionStore(new MdevctlEnvironment(_root.Path, _warnings.Add));

    [Fact]
    public void Save_WritesPrettyJsonAtomicallyWithoutLeftovers()
    {
        var uuid = Guid.NewGuid();
        var config = new DeviceConfig("mtty-2", AutoStart: true, [new("a", "1")]);

        _store.Save(new Definition("mtty", uuid, config));
        _store.Save(new Definition("mtty", uuid, config with { AutoStart = false }));

        var directory = _root.Join("etc/mdevctl.d/mtty");
        Assert.Equal([uuid.ToString()], Directory.GetFiles(directory).Select(Path.GetFileName));
        Assert.Equal((config with { AutoStart = false }).ToPrettyJson(), File.ReadAllText(Path.Join(directory, uuid.ToString())));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../tmp")]
    [InlineData("a/b")]
    [InlineData("scripts.d")]
    [InlineData("")]
    public void Save_ParentLeavingConfigDirectory_IsRefusedAndWritesNothing(string parent)
    {
        Assert.Throws<ArgumentException>(() => _store.Save(new Definition(parent, Guid.NewGuid(), new DeviceConfig("t", false, []))));

        Assert.False(Directory.Exists(_root.Join("etc")) && Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Load_SkipsScriptsDirectoryAndWarnsAboutNonUuidFiles()
    {
        var uuid = Guid.NewGuid();
        _store.Save(new Definition("0.0.0123", uuid, new DeviceConfig("vfio_ccw-io", false, [])));
        _root.File("etc/mdevctl.d/scripts.d/callouts/x", "");
        _root.File("etc/mdevctl.d/0.0.0123/notes.txt", "");

        var definition = Assert.Single(_store.Load());

        Assert.Equal(("0.0.0123", uuid), (definition.Parent, definition.Uuid));
        Assert.Equal(["Can't determine uuid for file 'notes.txt'"], _warnings);
    }

    [Fact]
    public void Delete_RemovesFileKeepsParentDirectory()
    {
        var uuid = Guid.NewGuid();
        _store.Save(new Definition("mtty", uuid, new DeviceConfig("mtty-1", false, [])));

        _store.Delete("mtty", uuid);

        Assert.False(_store.Exists("mtty", uuid));
        Assert.True(Directory.Exists(_root.Join("etc/mdevctl.d/mtty")));
    }

    [Fact]
    public void Load_UppercaseFileName_IsSkippedWithWarning()
    {
        _root.File("etc/mdevctl.d/mtty/3333AAAA-3333-3333-3333-333333333333", """{"mdev_type":"mtty-1","start":"manual"}""");
        _root.File("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333", """{"mdev_type":"mtty-2","start":"manual"}""");

        var loaded = _store.Load();

        Assert.Equal(["mtty-2"], loaded.Select(definition => definition.Config.MdevType));
        Assert.Equal(["Can't determine uuid for file '3333AAAA-3333-3333-3333-333333333333'"], _warnings);
    }

    [Fact]
    public void Load_ParentDirectoryNotUtf8_IsSkippedWithWarning()
    {
        _root.File("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333", """{"mdev_type":"mtty-2","start":"manual"}""");
        // .NET cannot spell a name that is not UTF-8; the shell can.
        var made = CommandRunner.Run("sh", ["-c", "mkdir \"$0/$(printf 'p\\377')\" && echo '{}' > \"$0/$(printf 'p\\377')/3333aaaa-3333-3333-3333-333333333333\"", _root.Join("etc/mdevctl.d")]);

        var loaded = _store.Load();

        Assert.Equal(0, made.ExitCode);
        Assert.Equal(["mtty"], loaded.Select(definition => definition.Parent));
        Assert.Equal(["Can't determine parent for directory 'p\uFFFD': not a valid parent name"], _warnings);
    }

    [Fact]
    public void Load_InvalidFile_NamesItsPath()
    {
        var path = _root.Join("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333");
        _root.File("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333", """{"mdev_type":"\ud800","start":"manual"}""");

        var e = Assert.Throws<ConfigException>(() => _store.Load());

        Assert.Equal($"{path}: unexpected end of hex escape at line 1 column 21", e.Message);
    }

    [Fact]
    public void Load_FileBeyondReadLimit_IsFileTooLarge()
    {
        var path = _root.Join("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333");
        _root.File("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333", "");
        using (var file = new FileStream(path, FileMode.Open))
        {
            // Sparse: a gigabyte of length without a gigabyte of disk.
            file.SetLength((1L << 30) + 1);
        }

        var e = Assert.Throws<ConfigException>(() => _store.Load());

        Assert.Equal($"{path}: File too large (os error 27)", e.Message);
    }

    [Fact]
    public void Load_DanglingLinkNamedLikeUuid_IsSkippedWithWarning()
    {
        _root.File("etc/mdevctl.d/mtty/3333aaaa-3333-3333-3333-333333333333", """{"mdev_type":"mtty-2","start":"manual"}""");
        // A link whose target is gone reads as a definition deleted between listing and reading.
        _root.Link("etc/mdevctl.d/mtty/4444aaaa-3333-3333-3333-333333333333", "deleted");

        var loaded = _store.Load();
        var found = _store.TryLoad("mtty", Guid.Parse("4444aaaa-3333-3333-3333-333333333333"), out _);

        Assert.Equal(["mtty-2"], loaded.Select(definition => definition.Config.MdevType));
        Assert.False(found);
        var link = _root.Join("etc/mdevctl.d/mtty/4444aaaa-3333-3333-3333-333333333333");
        Assert.Equal([$"Skipping '{link}': not a regular file, so not a definition", $"Skipping '{link}': not a regular file, so not a definition"], _warnings);
    }

    [Fact]
    public async Task Load_WhileDefinitionsAndParentsAreDeleted_NeverFails()
    {
        var config = new DeviceConfig("mtty-1", false, []);
        void Populate()
        {
            for (var parent = 0; parent < 4; parent++)
            {
                for (var device = 0; device < 25; device++)
                {
                    _store.Save(new Definition($"parent{parent}", Guid.NewGuid(), config));
                }
            }
        }
        Populate();
        using var stop = new CancellationTokenSource();
        var deleter = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var directory in Directory.GetDirectories(_root.Join("etc/mdevctl.d")))
                {
                    foreach (var file in Directory.GetFiles(directory))
                    {
                        File.Delete(file);
                    }
                    Directory.Delete(directory);
                }
                Populate();
            }
        }, TestContext.Current.CancellationToken);

        try
        {
            for (var listing = 0; listing < 300; listing++)
            {
                Assert.All(_store.Load(), definition => Assert.Equal("mtty-1", definition.Config.MdevType));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await deleter;
        }
    }

    [Fact]
    public void SaveAndDelete_ParentDirectoryIsSymbolicLink_AreRefused()
    {
        Directory.CreateDirectory(_root.Join("outside"));
        _root.Link("etc/mdevctl.d/mtty", "../../outside");
        _root.File("outside/3333aaaa-3333-3333-3333-333333333333", "{}");
        var uuid = Guid.NewGuid();

        var save = Assert.Throws<MdevctlException>(() => _store.Save(new Definition("mtty", uuid, new DeviceConfig("mtty-1", false, []))));
        var delete = Assert.Throws<MdevctlException>(() => _store.Delete("mtty", Guid.Parse("3333aaaa-3333-3333-3333-333333333333")));

        var expected = $"Refusing to write through '{_root.Join("etc/mdevctl.d/mtty")}': it is a symbolic link (to '../../outside'), and definitions are written only to directories inside '{_root.Join("etc/mdevctl.d")}'";
        Assert.Equal((expected, expected), (save.Message, delete.Message));
        Assert.Equal([_root.Join("outside/3333aaaa-3333-3333-3333-333333333333")], Directory.GetFiles(_root.Join("outside")));
    }

    public void Dispose() => _root.Dispose();
}
