using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Mdevkit.Agent;

/// <summary>
/// A large JSON array answered from UTF-8 bytes kept between requests. The array is made of parts (a parent's devices,
/// a parent), each serialized again only when what it was made from changes, so a change costs one part's
/// serialization, and a request none: its answer is the parts' bytes written one after the other, with the length
/// known ahead and an entity tag that <c>If-None-Match</c> can name to get <c>304 Not Modified</c>.
/// </summary>
internal sealed class JsonAnswer
{
    /// <summary>One part of the array.</summary>
    /// <param name="Name">Names the part from one answer to the next.</param>
    /// <param name="Stamp">What the part is made from: it is serialized again when this is no longer equal (<see cref="object.Equals(object, object)"/>).</param>
    /// <param name="Json">The part's elements as a JSON array; an empty one adds nothing.</param>
    public sealed record Part(string Name, object Stamp, Func<byte[]> Json);

    private sealed record Built(object Key, Answer Answer);

    // Entity tags name one answer of this process: a restarted agent's generations start again, under another prefix.
    private static readonly string s_process = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private readonly Lock _building = new();
    private Dictionary<string, (object Stamp, ReadOnlyMemory<byte> Elements)> _parts = new(StringComparer.Ordinal);
    private Built? _last;
    private long _generation;

    /// <summary>
    /// The answer for <paramref name="key"/> (what every part depends on together: a snapshot and the files read
    /// with it): the one built last when the key is the same, else built from <paramref name="parts"/>, reusing each
    /// part whose stamp did not change. One request builds while the others wait for it.
    /// </summary>
    public Answer Get(object key, Func<IEnumerable<Part>> parts)
    {
        if (Volatile.Read(ref _last) is { } last && last.Key.Equals(key))
        {
            return last.Answer;
        }
        lock (_building)
        {
            if (_last is { } built && built.Key.Equals(key))
            {
                return built.Answer;
            }
            var next = new Dictionary<string, (object Stamp, ReadOnlyMemory<byte> Elements)>(StringComparer.Ordinal);
            var changed = false;
            foreach (var part in parts())
            {
                if (_parts.TryGetValue(part.Name, out var kept) && kept.Stamp.Equals(part.Stamp))
                {
                    next[part.Name] = kept;
                    continue;
                }
                var json = part.Json();
                // The elements without the array's brackets: "[]" leaves none.
                next[part.Name] = (part.Stamp, json.AsMemory(1, json.Length - 2));
                changed = true;
            }
            var answer = !changed && _last is { } previous && next.Keys.SequenceEqual(_parts.Keys, StringComparer.Ordinal)
                ? previous.Answer
                : Answer.Join(next.Values.Select(part => part.Elements), $"\"{s_process}-{++_generation}\"");
            _parts = next;
            Volatile.Write(ref _last, new Built(key, answer));
            return answer;
        }
    }

    /// <summary>The bytes of one answer, as chunks, and its entity tag.</summary>
    public sealed class Answer : IResult
    {
        private static readonly ReadOnlyMemory<byte> s_open = "["u8.ToArray(), s_comma = ","u8.ToArray(), s_close = "]"u8.ToArray();

        // Kestrel takes what is written into its own buffers until a flush sends them: a flush every so often keeps
        // the buffered part of a large answer small.
        private const int FlushEvery = 64 * 1024;

        private readonly List<ReadOnlyMemory<byte>> _chunks;

        private Answer(List<ReadOnlyMemory<byte>> chunks, string tag)
        {
            _chunks = chunks;
            ETag = tag;
            Length = chunks.Sum(chunk => (long)chunk.Length);
        }

        /// <summary>The strong entity tag, quoted.</summary>
        public string ETag { get; }

        /// <summary>How many bytes the answer has.</summary>
        public long Length { get; }

        public static Answer Join(IEnumerable<ReadOnlyMemory<byte>> elements, string tag)
        {
            var chunks = new List<ReadOnlyMemory<byte>> { s_open };
            foreach (var part in elements.Where(part => !part.IsEmpty))
            {
                if (chunks.Count > 1)
                {
                    chunks.Add(s_comma);
                }
                chunks.Add(part);
            }
            chunks.Add(s_close);
            return new Answer(chunks, tag);
        }

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var (request, response) = (httpContext.Request, httpContext.Response);
            response.Headers.ETag = ETag;
            response.Headers.CacheControl = "no-cache";
            if (request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } tags
                && tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(new EntityTagHeaderValue(ETag), useStrongComparison: false)))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = Length;
            var (body, unflushed) = (response.BodyWriter, 0);
            foreach (var chunk in _chunks)
            {
                body.Write(chunk.Span);
                unflushed += chunk.Length;
                if (unflushed < FlushEvery)
                {
                    continue;
                }
                unflushed = 0;
                // A client that went away completes the writer: the rest is not written.
                if ((await body.FlushAsync()).IsCompleted)
                {
                    return;
                }
            }
            await body.FlushAsync();
        }
    }
}
