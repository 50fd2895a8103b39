using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mdevkit.Kubernetes.Protos.Registration;
using V1 = Mdevkit.Kubernetes.Protos.Dra.V1;
using V1Beta1 = Mdevkit.Kubernetes.Protos.Dra.V1Beta1;
using Health = Mdevkit.Kubernetes.Protos.DraHealth.V1;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// The kubelet's side of DRA, on the real protocols over the real Unix sockets: its plugin watcher finds the
/// registration socket in <c>plugins_registry</c>, asks <c>GetInfo</c>, checks the plugin type and picks the first
/// service version it knows, tells the plugin it is registered, and then prepares and unprepares claims as the kubelet
/// does: with its 45-second deadline, asking again for every claim the answer left out. Every call ends when
/// <paramref name="cancellation"/> is cancelled; what a kubelet would refuse throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class FakeKubelet(string kubeletDirectory, CancellationToken cancellation)
{
    /// <summary>The DRA service versions this kubelet knows, in the order it prefers them.</summary>
    public static readonly string[] KnownVersions = ["v1.DRAPlugin", "v1beta1.DRAPlugin"];

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(45);

    /// <summary>How many times a claim missing from an answer is asked for again.</summary>
    private const int Retries = 3;

    /// <summary>Finds the one registration socket, registers the plugin on it, and connects to its DRA service.</summary>
    public async Task<RegisteredPlugin> RegisterAsync(string[]? knownVersions = null)
    {
        var sockets = Directory.GetFiles(Path.Join(kubeletDirectory, "plugins_registry"), "*.sock");
        if (sockets.Length != 1)
        {
            throw new InvalidOperationException($"{sockets.Length} registration sockets in {kubeletDirectory}, not one: {string.Join(", ", sockets)}");
        }
        using var channel = Channel(sockets[0]);
        var registration = new Registration.RegistrationClient(channel);
        var info = await registration.GetInfoAsync(new InfoRequest(), deadline: Deadline(), cancellationToken: cancellation);
        if (info.Type != "DRAPlugin")
        {
            throw new InvalidOperationException($"the plugin is of type {info.Type}, not DRAPlugin");
        }
        var version = info.SupportedVersions.FirstOrDefault((knownVersions ?? KnownVersions).Contains);
        if (version is null)
        {
            await registration.NotifyRegistrationStatusAsync(new RegistrationStatus { PluginRegistered = false, Error = "no supported version" }, cancellationToken: cancellation);
            throw new InvalidOperationException($"the plugin serves none of {string.Join(", ", knownVersions ?? KnownVersions)}");
        }
        await registration.NotifyRegistrationStatusAsync(new RegistrationStatus { PluginRegistered = true }, deadline: Deadline(), cancellationToken: cancellation);
        return new RegisteredPlugin(info, version, Channel(info.Endpoint), cancellation);
    }

    public static DateTime Deadline() => DateTime.UtcNow + s_deadline;

    // Every connection of the channel goes to the Unix socket; the address is only the HTTP/2 authority.
    private static GrpcChannel Channel(string socket) => GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = (_, cancellation) => Mdevkit.Management.UnixSocketStreams.ConnectAsync(socket, cancellation),
        },
    });

    /// <summary>A plugin the kubelet registered: its answer to GetInfo, the version picked, and its DRA service.</summary>
    public sealed class RegisteredPlugin(PluginInfo info, string version, GrpcChannel channel, CancellationToken cancellation) : IDisposable
    {
        public PluginInfo Info { get; } = info;

        public string Version { get; } = version;

        /// <summary>Prepares the claims on the picked version; each claim's answer, asking again for those left out.</summary>
        public Task<IReadOnlyDictionary<string, V1.NodePrepareResourceResponse>> PrepareAsync(params V1.Claim[] claims) =>
            AskAsync<V1.NodePrepareResourceResponse>(claims, async pending =>
            {
                var request = new V1.NodePrepareResourcesRequest { Claims = { pending } };
                return Version == "v1.DRAPlugin"
                    ? (await new V1.DRAPlugin.DRAPluginClient(channel).NodePrepareResourcesAsync(request, deadline: Deadline(), cancellationToken: cancellation)).Claims
                    : Carry((await new V1Beta1.DRAPlugin.DRAPluginClient(channel).NodePrepareResourcesAsync(Carry(request, V1Beta1.NodePrepareResourcesRequest.Parser),
                        deadline: Deadline(), cancellationToken: cancellation)), V1.NodePrepareResourcesResponse.Parser).Claims;
            });

        /// <summary>Unprepares the claims on the picked version; each claim's answer, asking again for those left out.</summary>
        public Task<IReadOnlyDictionary<string, V1.NodeUnprepareResourceResponse>> UnprepareAsync(params V1.Claim[] claims) =>
            AskAsync<V1.NodeUnprepareResourceResponse>(claims, async pending =>
            {
                var request = new V1.NodeUnprepareResourcesRequest { Claims = { pending } };
                return Version == "v1.DRAPlugin"
                    ? (await new V1.DRAPlugin.DRAPluginClient(channel).NodeUnprepareResourcesAsync(request, deadline: Deadline(), cancellationToken: cancellation)).Claims
                    : Carry((await new V1Beta1.DRAPlugin.DRAPluginClient(channel).NodeUnprepareResourcesAsync(Carry(request, V1Beta1.NodeUnprepareResourcesRequest.Parser),
                        deadline: Deadline(), cancellationToken: cancellation)), V1.NodeUnprepareResourcesResponse.Parser).Claims;
            });

        /// <summary>Watches the health of the plugin's devices, as the kubelet does on the DRA endpoint once it registered.</summary>
        public AsyncServerStreamingCall<Health.NodeWatchResourcesResponse> WatchHealth() =>
            new Health.DRAResourceHealth.DRAResourceHealthClient(channel).NodeWatchResources(new Health.NodeWatchResourcesRequest(), cancellationToken: cancellation);

        public void Dispose() => channel.Dispose();

        // The kubelet speaks v1's messages; v1beta1's are the same on the wire.
        private static T Carry<T>(IMessage message, MessageParser<T> parser) where T : IMessage<T> =>
            parser.ParseFrom(message.ToByteString());

        private static async Task<IReadOnlyDictionary<string, T>> AskAsync<T>(V1.Claim[] claims, Func<IEnumerable<V1.Claim>, Task<IDictionary<string, T>>> ask)
        {
            var answers = new Dictionary<string, T>(StringComparer.Ordinal);
            for (var attempt = 0; attempt <= Retries && answers.Count < claims.Length; attempt++)
            {
                foreach (var (uid, answer) in await ask(claims.Where(claim => !answers.ContainsKey(claim.Uid))))
                {
                    answers[uid] = answer;
                }
            }
            return answers.Count == claims.Length
                ? answers
                : throw new InvalidOperationException($"the plugin left out claims after {Retries} retries: {string.Join(", ", claims.Select(claim => claim.Uid).Except(answers.Keys))}");
        }
    }
}
