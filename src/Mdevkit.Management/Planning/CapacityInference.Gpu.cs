namespace Mdevkit.Management.Planning;

public static partial class CapacityInference
{
    /// <summary>
    /// Probes an idle SR-IOV GPU through <paramref name="target"/>, whose availability is what a free virtual
    /// function offers (1 or 0 a type) and whose devices each take a virtual function of their own. Types of one
    /// framebuffer size (<paramref name="sizes"/>, as the types state them) are filled one size at a time, up to
    /// <paramref name="slots"/>: if a device of one size ever leaves another size offered, sizes mix and the
    /// framebuffer is a pool (<see cref="CapacityKind.SharedPool"/>, costs in MiB); otherwise the GPU holds one size
    /// at a time (<see cref="CapacityKind.OneSize"/>). The model must reproduce every offer seen to be verified.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled; what was made is gone.</exception>
    public static CapacityModel InferGpu(string gpu, int slots, IProbeTarget target, IReadOnlyDictionary<string, int?> sizes, CancellationToken cancellation = default)
    {
        var idle = target.Availability();
        // A type without a stated size is a size of its own.
        var sizeOf = (string type) => sizes.GetValueOrDefault(type) is { } size ? $"{size}" : $"type {type}";
        var observations = new List<Observation>();
        var maxOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var size in idle.Where(type => type.Value > 0).Select(type => type.Key).GroupBy(sizeOf).OrderBy(size => sizes.GetValueOrDefault(size.First()) ?? int.MaxValue))
        {
            var seen = Fill(target, size.First(), slots, cancellation);
            observations.AddRange(seen);
            maxOf[size.Key] = seen.Count;
        }
        var mixed = observations.Any(seen => seen.Availability.Any(type => type.Value > 0 && sizeOf(type.Key) != sizeOf(seen.Type)));
        var max = (string type) => idle.GetValueOrDefault(type) > 0 ? maxOf[sizeOf(type)] : 0;
        CapacityModel model;
        if (mixed)
        {
            // The framebuffer is at least what the fullest size took; a type without a size takes its share of it.
            var pool = idle.Keys.Where(type => max(type) > 0 && sizes.GetValueOrDefault(type) is not null).Select(type => max(type) * sizes[type]!.Value).DefaultIfEmpty(1).Max();
            model = new CapacityModel(gpu, CapacityKind.SharedPool,
                [.. idle.Keys.Select(type => new TypeCapacity(type, max(type), sizes.GetValueOrDefault(type) ?? (max(type) > 0 ? (pool + max(type) - 1) / max(type) : pool + 1), sizes.GetValueOrDefault(type)))],
                pool, Slots: slots);
        }
        else
        {
            model = new CapacityModel(gpu, CapacityKind.OneSize, [.. idle.Keys.Select(type => new TypeCapacity(type, max(type), Size: sizes.GetValueOrDefault(type)))], Slots: slots);
        }
        // A free virtual function offers 1 or 0: what must match is whether each type is offered at all.
        return model with
        {
            Verified = observations.All(seen => model.Types.All(type =>
                model.Available(type.Type, new Dictionary<string, int> { [seen.Type] = seen.Count }) > 0 == seen.Availability.GetValueOrDefault(type.Type) > 0)),
        };
    }
}
