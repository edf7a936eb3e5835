using ILGPU.Runtime;

namespace IlgpuVae.Model;

/// <summary>
/// A model's parameters (or gradients) as named host tensors in PyTorch's names, shapes and layouts — what a
/// checkpoint stores and a parity fixture holds — translated from and to the model's flat buffer.
/// </summary>
internal static class ModelTensors
{
    /// <summary>Every parameter (or gradient) of <paramref name="model"/>, in PyTorch's layout.</summary>
    public static IReadOnlyList<(ParameterTensor Tensor, float[] Data)> Read(VaeModel model, bool gradients = false)
    {
        var flat = new float[model.Layout.Count];
        (gradients ? model.Gradients : model.Parameters).CopyToCPU(flat);
        return model.Layout.Tensors.Select(t =>
        {
            var data = new float[t.Length];
            for (int i = 0; i < t.Length; i++) data[t.FileIndex?.Invoke(i) ?? i] = flat[t.Offset + i];
            return (t, data);
        }).ToList();
    }

    /// <summary>
    /// Loads parameters by name into <paramref name="model"/>. Every parameter of the model must be given, with its
    /// exact shape, and a masked weight zero wherever its mask is; anything missing, extra, misshapen or connected
    /// where the model's masks are not is refused, naming <paramref name="source"/>, before the device is touched.
    /// </summary>
    public static void Load(VaeModel model, IReadOnlyDictionary<string, (int[] Shape, float[] Data)> named, string source)
    {
        var layout = model.Layout;
        var flat = new float[layout.Count];
        foreach (var t in layout.Tensors)
        {
            if (!named.TryGetValue(t.Name, out var given))
                throw new ArgumentException($"{source} has no tensor '{t.Name}', which a {model.Spec} model needs: it was saved for another architecture.");
            if (!given.Shape.SequenceEqual(t.Shape) || given.Data.Length != t.Length)
                throw new ArgumentException(
                    $"{source}: tensor '{t.Name}' has shape [{string.Join(", ", given.Shape)}]; a {model.Spec} model needs [{string.Join(", ", t.Shape)}].");
            for (int i = 0; i < t.Length; i++) flat[t.Offset + i] = given.Data[t.FileIndex?.Invoke(i) ?? i];
            if (t.Mask is { } mask && FirstUnmasked(mask, flat.AsSpan(t.Offset, t.Length)) is var at && at >= 0)
                throw new ArgumentException(
                    $"{source}: masked weight '{t.Name}' holds {flat[t.Offset + at]} at [{string.Join(", ", IndexIn(t.Shape, t.FileIndex?.Invoke(at) ?? at))}], " +
                    "where this model's masks have no connection: it was saved with other masks (another order or degree rule: made_degrees in its config.json), so it cannot be loaded into this model.");
        }
        var extra = named.Keys.Except(layout.Tensors.Select(t => t.Name)).ToList();
        if (extra.Count > 0)
            throw new ArgumentException($"{source} holds tensors this model does not have ({string.Join(", ", extra)}): it was saved for another architecture.");
        model.Parameters.CopyFromCPU(flat);
    }

    /// <summary>The first index where the mask is 0 and the weight is not, or −1 (both in the layout the model keeps).</summary>
    static int FirstUnmasked(float[] mask, ReadOnlySpan<float> weights)
    {
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] == 0f && weights[i] != 0f) return i;
        return -1;
    }

    /// <summary>The multi-index of the row-major element <paramref name="flat"/> of a tensor of <paramref name="shape"/>.</summary>
    static int[] IndexIn(int[] shape, int flat)
    {
        var index = new int[shape.Length];
        for (int a = shape.Length - 1; a >= 0; a--) (index[a], flat) = (flat % shape[a], flat / shape[a]);
        return index;
    }
}
