using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using k8s.Models;
using Mdevkit.Management;
using Mdevkit.Sysfs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// The manifests in deploy/: valid against the Kubernetes API's schemas, with unknown fields rejected, and in
/// agreement with the plugin where they meet (the driver's name, the directories it writes, its options).
/// </summary>
public sealed partial class DeployManifestsTests(ITestOutputHelper output)
{
    private static readonly string Deploy = Path.Join(RepositoryRoot(), "deploy");

    [Fact]
    public void EveryManifest_IsValidAgainstTheKubernetesSchemas_WithUnknownFieldsRejected()
    {
        var files = Manifests();
        Assert.NotEmpty(files);
        var errors = new List<string>();
        foreach (var file in files)
        {
            foreach (var document in ManifestSchema.Documents(file))
            {
                if (ManifestSchema.IsKubeVirt(document.Node))
                {
                    // KubeVirt's kinds are CRDs, outside the API's schemas; KubeVirtExamples_* checks the fields we use.
                    output.WriteLine($"{document.Where}: {document.Node["kind"]} not schema-checked: a KubeVirt CRD, not in the Kubernetes API's schemas");
                    continue;
                }
                errors.AddRange(ManifestSchema.Check(document));
            }
        }
        output.WriteLine($"checked against the models of Kubernetes {ManifestSchema.KubernetesVersion}");

        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void ADaemonSetWithAnUnknownField_IsRejected_NamingTheField()
    {
        var daemonSet = File.ReadAllText(Path.Join(Deploy, "daemonset.yaml"));
        var broken = daemonSet.Replace("      serviceAccountName: mdevkit-dra\n", "      serviceAccountName: mdevkit-dra\n      hostPidd: true\n", StringComparison.Ordinal);
        Assert.NotEqual(daemonSet, broken);
        using var directory = new TempDirectory();
        var file = Path.Join(directory.Path, "daemonset.yaml");
        File.WriteAllText(file, broken);

        var errors = ManifestSchema.Documents(file).SelectMany(ManifestSchema.Check).ToList();

        var error = Assert.Single(errors);
        Assert.StartsWith($"{file}:3: DaemonSet mdevkit-dra: ", error, StringComparison.Ordinal);
        Assert.Contains("'hostPidd'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("      maxSurge: 0\n", "      maxSurge: [0]\n", "$.spec.updateStrategy.rollingUpdate.maxSurge")]
    [InlineData("            memory: 64Mi\n", "            memory: 64MQ\n", "quantity")]
    [InlineData("apiVersion: apps/v1\n", "apiVersion: apps/v2\n", "no kind DaemonSet in apps/v2")]
    [InlineData("        securityContext:\n          privileged: true\n", "        securityContext:\n          privileged: yes please\n", "$.spec.template.spec.containers[0].securityContext.privileged")]
    public void ADaemonSetWithAWrongValueOrVersion_IsRejected(string field, string wrong, string named)
    {
        var daemonSet = File.ReadAllText(Path.Join(Deploy, "daemonset.yaml"));
        var broken = daemonSet.Replace(field, wrong, StringComparison.Ordinal);
        Assert.NotEqual(daemonSet, broken);
        using var directory = new TempDirectory();
        var file = Path.Join(directory.Path, "daemonset.yaml");
        File.WriteAllText(file, broken);

        var error = Assert.Single(ManifestSchema.Documents(file).SelectMany(ManifestSchema.Check));

        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceClasses_SelectTheDriversDevices_AndItsAttributeDomain()
    {
        var classes = Typed<V1DeviceClass>().ToList();

        Assert.Contains(classes, deviceClass => deviceClass.Metadata.Name == DraNames.Driver);
        foreach (var deviceClass in classes)
        {
            var expression = Assert.Single(deviceClass.Spec.Selectors).Cel.Expression;
            Assert.StartsWith($"device.driver == \"{DraNames.Driver}\"", expression, StringComparison.Ordinal);
            Assert.EndsWith(DraNames.Driver, deviceClass.Metadata.Name, StringComparison.Ordinal);
            Assert.All(AttributeDomain().Matches(expression), domain => Assert.Equal(DraNames.Driver, domain.Groups[1].Value));
        }
        // The claim template asks for a class that exists, in the driver's attribute domain.
        var template = Assert.Single(Typed<V1ResourceClaimTemplate>());
        var request = Assert.Single(template.Spec.Spec.Devices.Requests);
        Assert.Contains(classes, deviceClass => deviceClass.Metadata.Name == request.Exactly.DeviceClassName);
        Assert.All(request.Exactly.Selectors, selector =>
            Assert.All(AttributeDomain().Matches(selector.Cel.Expression), domain => Assert.Equal(DraNames.Driver, domain.Groups[1].Value)));
    }

    [Fact]
    public void DaemonSet_MountsFromTheHostAtTheSamePaths_EveryDirectoryThePluginUses()
    {
        var daemonSet = Assert.Single(Typed<V1DaemonSet>());
        var pod = daemonSet.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var options = container.Args.Select(argument => argument.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        var root = options["--root"];
        var kubelet = options["--kubelet-dir"];
        string[] used =
        [
            Path.Join(root, SysfsPaths.Sys),
            Path.Join(root, "dev/vfio"),
            Path.Join(root, MdevctlEnvironment.ConfigPath),
            Path.Join(root, MdevkitPaths.LockFile),
            Path.Join(root, MdevkitPaths.CapacityDirectory),
            Path.Join(root, MdevkitPaths.OwnedDevices),
            // The kubelet's directories: registration sockets, and the plugin's own (its socket and the device metadata).
            Path.Join(kubelet, "plugins_registry"),
            Path.Join(kubelet, "plugins", DraNames.Driver, "dra-device-metadata"),
            options["--cdi-dir"],
        ];
        var volumes = pod.Volumes.ToDictionary(volume => volume.Name);

        Assert.Equal("/", root);
        foreach (var mount in container.VolumeMounts)
        {
            // The plugin runs with --root /, so a host directory must appear where the host has it.
            Assert.Equal(volumes[mount.Name].HostPath.Path, mount.MountPath);
            Assert.NotEqual(true, mount.ReadOnlyProperty);
        }
        Assert.All(used, path => Assert.True(
            container.VolumeMounts.Any(mount => path == mount.MountPath || path.StartsWith(mount.MountPath + "/", StringComparison.Ordinal)),
            $"{path} is not mounted from the host"));
        var nodeName = Assert.Single(container.Env, variable => variable.Name == "NODE_NAME");
        Assert.Equal("spec.nodeName", nodeName.ValueFrom.FieldRef.FieldPath);
        Assert.True(container.SecurityContext.Privileged);
        Assert.Equal("RollingUpdate", daemonSet.Spec.UpdateStrategy.Type);
        Assert.Equal("0", daemonSet.Spec.UpdateStrategy.RollingUpdate.MaxSurge?.Value);
        Assert.Equal("1", daemonSet.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable?.Value);
    }

    [Fact]
    public void Rbac_AndAdmissionPolicy_NameThePluginsServiceAccount()
    {
        var daemonSet = Assert.Single(Typed<V1DaemonSet>());
        var account = Assert.Single(Typed<V1ServiceAccount>());
        var binding = Assert.Single(Typed<V1ClusterRoleBinding>());
        var role = Assert.Single(Typed<V1ClusterRole>());
        var policy = Assert.Single(Typed<V1ValidatingAdmissionPolicy>());
        var policyBinding = Assert.Single(Typed<V1ValidatingAdmissionPolicyBinding>());

        Assert.Equal(account.Metadata.Name, daemonSet.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(account.Metadata.NamespaceProperty, daemonSet.Metadata.NamespaceProperty);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal((account.Metadata.Name, account.Metadata.NamespaceProperty), (subject.Name, subject.NamespaceProperty));
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Equal(["get", "list", "watch"], role.Rules.Single(rule => rule.Resources.Contains("resourceclaims")).Verbs);
        // udev's events are heard only in the host's network namespace.
        Assert.True(daemonSet.Spec.Template.Spec.HostNetwork);
        // The Node owns the node's slices: the plugin reads its UID.
        Assert.Equal(["get"], role.Rules.Single(rule => rule.Resources.Contains("nodes")).Verbs);
        Assert.Equal(
            ["create", "delete", "get", "list", "patch", "update", "watch"],
            role.Rules.Single(rule => rule.Resources.Contains("resourceslices")).Verbs.Order(StringComparer.Ordinal));
        var matches = Assert.Single(policy.Spec.MatchConditions).Expression;
        Assert.Contains($"\"system:serviceaccount:{account.Metadata.NamespaceProperty}:{account.Metadata.Name}\"", matches, StringComparison.Ordinal);
        Assert.Equal(policy.Metadata.Name, policyBinding.Spec.PolicyName);
        Assert.Equal(["Deny"], policyBinding.Spec.ValidationActions);
    }

    [Fact]
    public void KubeVirtExamples_UseTheClaimTemplateAndItsRequest_AndLeaveMdevsToThePlugin()
    {
        // KubeVirt's CRDs are not in the API's schemas: these are the fields the examples depend on, by their KubeVirt names.
        var documents = Manifests().SelectMany(ManifestSchema.Documents).Where(document => ManifestSchema.IsKubeVirt(document.Node)).ToList();
        var machine = Assert.Single(documents, document => (string?)document.Node["kind"] == "VirtualMachine").Node;
        var kubevirt = Assert.Single(documents, document => (string?)document.Node["kind"] == "KubeVirt").Node;
        var template = Assert.Single(Typed<V1ResourceClaimTemplate>());

        Assert.Equal("kubevirt.io/v1", (string?)machine["apiVersion"]);
        var vmi = machine["spec"]!["template"]!["spec"]!;
        var claim = Assert.Single(vmi["resourceClaims"]!.AsArray())!;
        Assert.Equal(["name", "resourceClaimTemplateName"], claim.AsObject().Select(field => field.Key));
        Assert.Equal(template.Metadata.Name, (string?)claim["resourceClaimTemplateName"]);
        Assert.Equal(template.Metadata.NamespaceProperty, (string?)machine["metadata"]!["namespace"]);
        var gpu = Assert.Single(vmi["domain"]!["devices"]!["gpus"]!.AsArray())!;
        Assert.Equal(["name", "claimName", "requestName"], gpu.AsObject().Select(field => field.Key));
        Assert.Equal((string?)claim["name"], (string?)gpu["claimName"]);
        Assert.Equal(Assert.Single(template.Spec.Spec.Devices.Requests).Name, (string?)gpu["requestName"]);

        var configuration = kubevirt["spec"]!["configuration"]!;
        Assert.Contains("GPUsWithDRA", configuration["developerConfiguration"]!["featureGates"]!.AsArray().Select(gate => (string?)gate));
        Assert.False((bool)configuration["mediatedDevicesConfiguration"]!["enabled"]!);
        Assert.Empty(configuration["mediatedDevicesConfiguration"]!["mediatedDeviceTypes"]!.AsArray());
        Assert.All(configuration["permittedHostDevices"]!["mediatedDevices"]!.AsArray(), device =>
        {
            Assert.Equal(["mdevNameSelector", "resourceName", "externalResourceProvider"], device!.AsObject().Select(field => field.Key));
            Assert.True((bool)device["externalResourceProvider"]!);
        });
    }

    private static List<string> Manifests() =>
        [.. Directory.EnumerateFiles(Deploy, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    private static IEnumerable<T> Typed<T>() =>
        Manifests().SelectMany(ManifestSchema.Documents).Where(document => ManifestSchema.ModelOf(document.Node) == typeof(T))
            .Select(document => (T)ManifestSchema.Deserialize(document.Node, typeof(T)));

    private static string RepositoryRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Join(directory, "mdevkit.slnx")))
        {
            directory = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(directory)) ?? throw new InvalidOperationException("mdevkit.slnx not found above the test output");
        }
        return directory;
    }

    [GeneratedRegex("""device\.attributes\["([^"]*)"\]""")]
    private static partial Regex AttributeDomain();

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("deploy-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>One YAML document of a manifest file, as JSON, with where it starts.</summary>
internal sealed record ManifestDocument(string File, long Line, JsonObject Node)
{
    public string Where => $"{File}:{Line}";
}

/// <summary>
/// A strict schema check of Kubernetes manifests against KubernetesClient's models, which are generated from the
/// Kubernetes API's OpenAPI document of one release: the kind must exist in that apiVersion, every field must be
/// one of the model's (unknown fields are errors, as with <c>kubectl --validate=strict</c>), and every value must
/// have the field's type. YAML is read as the API server reads it: plain scalars that look like numbers,
/// booleans or null are those, everything else a string.
/// </summary>
internal static class ManifestSchema
{
    private static readonly Assembly Models = typeof(V1DaemonSet).Assembly;

    private static readonly Dictionary<(string ApiVersion, string Kind), Type> Kinds = Models.GetTypes()
        .Select(type => (Type: type, Entity: type.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(entry => entry.Entity is not null && !entry.Type.Name.EndsWith("List", StringComparison.Ordinal))
        .ToDictionary(entry => (entry.Entity!.Group.Length == 0 ? entry.Entity.ApiVersion : $"{entry.Entity.Group}/{entry.Entity.ApiVersion}", entry.Entity.Kind), entry => entry.Type);

    private static readonly JsonSerializerOptions Strict = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The Kubernetes release the models describe: KubernetesClient's major version N is Kubernetes 1.(N+16).</summary>
    public static string KubernetesVersion => $"1.{Models.GetName().Version!.Major + 16} (KubernetesClient {Models.GetName().Version!.ToString(3)})";

    public static bool IsKubeVirt(JsonObject node) => ((string?)node["apiVersion"])?.StartsWith("kubevirt.io/", StringComparison.Ordinal) == true;

    public static Type? ModelOf(JsonObject node) =>
        Kinds.GetValueOrDefault(((string?)node["apiVersion"] ?? "", (string?)node["kind"] ?? ""));

    public static object Deserialize(JsonObject node, Type model) => JsonSerializer.Deserialize(node, model, Strict)!;

    public static IEnumerable<ManifestDocument> Documents(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            try
            {
                stream.Load(reader);
            }
            catch (YamlException exception)
            {
                throw new InvalidDataException($"{file}:{exception.Start.Line}:{exception.Start.Column}: not YAML: {exception.Message}", exception);
            }
        }
        foreach (var document in stream.Documents)
        {
            yield return new ManifestDocument(file, document.RootNode.Start.Line, (JsonObject)ToJson(document.RootNode)!);
        }
    }

    /// <summary>What is wrong with the document: nothing, or one line naming the file, line, object and field.</summary>
    public static IEnumerable<string> Check(ManifestDocument document)
    {
        var (apiVersion, kind, name) = ((string?)document.Node["apiVersion"], (string?)document.Node["kind"], (string?)document.Node["metadata"]?["name"]);
        var model = ModelOf(document.Node);
        if (model is null)
        {
            yield return $"{document.Where}: no kind {kind} in {apiVersion} in Kubernetes {KubernetesVersion}";
            yield break;
        }
        string? error = null;
        try
        {
            Deserialize(document.Node, model);
        }
        catch (JsonException exception)
        {
            error = $"{exception.Message} (at {exception.Path})";
        }
        // The models' own converters (IntOrString, quantities) refuse a value of the wrong shape with these.
        catch (Exception exception) when (exception is NotSupportedException or ArgumentException or FormatException)
        {
            error = exception.Message;
        }
        if (string.IsNullOrEmpty(name))
        {
            error ??= "metadata.name is required";
        }
        if (error is not null)
        {
            yield return $"{document.Where}: {kind} {name}: {error}";
        }
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(child =>
            KeyValuePair.Create(((YamlScalarNode)child.Key).Value!, ToJson(child.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new InvalidDataException($"unsupported YAML node at line {node.Start.Line}"),
    };

    private static JsonValue? Plain(string value) => value switch
    {
        "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
        _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !double.IsInfinity(number) => JsonValue.Create(number),
        _ => JsonValue.Create(value),
    };
}
