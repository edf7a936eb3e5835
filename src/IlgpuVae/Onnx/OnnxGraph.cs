using System.Runtime.InteropServices;

namespace IlgpuVae.Onnx;

/// <summary>One dimension of a graph input or output: a fixed size, or a named symbolic one (the batch, "N").</summary>
internal readonly record struct OnnxDim(long Size, string? Name)
{
    /// <summary>A fixed size.</summary>
    public static implicit operator OnnxDim(int size) => new(size, null);

    /// <summary>A symbolic size, the same wherever the name appears.</summary>
    public static implicit operator OnnxDim(string name) => new(0, name);
}

/// <summary>A node attribute: an integer, a list of integers or a float.</summary>
internal sealed record OnnxAttribute(string Name, long? Int = null, long[]? Ints = null, float? Float = null)
{
    /// <summary>An INTS attribute (kernel_shape, strides, pads …).</summary>
    public static OnnxAttribute List(string name, params long[] values) => new(name, Ints: values);
}

/// <summary>
/// An ONNX graph being built: float32 inputs and outputs, float32 and int64 initializers, and nodes of the
/// default domain, serialized as a model (IR version 8, opset 17) by <see cref="ToModel(string)"/>. Value names are
/// unique within the graph: <see cref="Fresh"/> makes new ones from a hint.
/// </summary>
internal sealed class OnnxGraph(string name)
{
    /// <summary>The opset the nodes are written for; ONNX Runtime 1.14 and later and PyTorch's exporter know it.</summary>
    public const int Opset = 17;
    const int IrVersion = 8, FloatType = 1, Int64Type = 7;

    readonly List<Action<ProtoWriter>> nodes = [], initializers = [], inputs = [], outputs = [];
    readonly HashSet<string> names = [];
    readonly Dictionary<float, string> scalars = [];

    /// <summary>A value name not yet used in this graph: <paramref name="hint"/>, or hint_2, hint_3 ….</summary>
    public string Fresh(string hint)
    {
        string candidate = hint;
        for (int i = 2; !names.Add(candidate); i++) candidate = $"{hint}_{i}";
        return candidate;
    }

    /// <summary>Declares a float32 graph input.</summary>
    public string Input(string value, params OnnxDim[] dims)
    {
        Claim(value);
        inputs.Add(w => ValueInfo(w, value, dims));
        return value;
    }

    /// <summary>Declares a float32 graph output: some node must write <paramref name="value"/>.</summary>
    public void Output(string value, params OnnxDim[] dims) => outputs.Add(w => ValueInfo(w, value, dims));

    /// <summary>A float32 constant of the given shape, stored little-endian as raw data; returns its value name.</summary>
    public string Floats(string hint, long[] dims, float[] data)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != data.Length)
            throw new InternalFaultException($"ONNX initializer '{hint}' has {data.Length} values for shape [{string.Join(", ", dims)}].");
        string value = Fresh(hint);
        var bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
            throw new InternalFaultException("ONNX export writes float data little-endian and this machine is big-endian.");
        initializers.Add(w => Tensor(w, value, dims, FloatType, t => t.Bytes(9, bytes)));
        return value;
    }

    /// <summary>A float32 scalar constant, one per value in the graph; returns its value name.</summary>
    public string Scalar(string hint, float value)
    {
        if (!scalars.TryGetValue(value, out var name)) scalars[value] = name = Floats(hint, [], [value]);
        return name;
    }

    /// <summary>A 1-D int64 constant (a Reshape's shape, a Split's sizes); returns its value name.</summary>
    public string Int64s(string hint, params long[] data)
    {
        string value = Fresh(hint);
        initializers.Add(w => Tensor(w, value, [data.Length], Int64Type, t =>
        {
            foreach (long v in data) t.Varint(7, v);
        }));
        return value;
    }

    /// <summary>Adds a node of <paramref name="op"/> writing new values named after <paramref name="outputHints"/>; returns their names.</summary>
    public string[] Node(string op, string[] inputValues, string[] outputHints, params OnnxAttribute[] attributes)
    {
        var outs = outputHints.Select(Fresh).ToArray();
        string nodeName = $"{op}_{nodes.Count}";
        nodes.Add(w =>
        {
            foreach (var i in inputValues) w.String(1, i);
            foreach (var o in outs) w.String(2, o);
            w.String(3, nodeName).String(4, op);
            foreach (var a in attributes) w.Message(5, m => Attribute(m, a));
        });
        return outs;
    }

    /// <summary>A node with one output.</summary>
    public string Node(string op, string[] inputValues, string outputHint, params OnnxAttribute[] attributes) =>
        Node(op, inputValues, [outputHint], attributes)[0];

    /// <summary>The graph as a whole ONNX model file's bytes.</summary>
    /// <summary>The model's bytes, produced by IlgpuVae at this assembly's version, with <paramref name="doc"/> saying what it computes.</summary>
    public byte[] ToModel(string doc) => ToModel("IlgpuVae", Version, doc);

    static string Version =>
        typeof(OnnxGraph).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0";

    /// <summary>Throws unless a node's outputs got exactly the names a graph output promises (no other value took them first).</summary>
    public static void Expect(string[] actual, params string[] expected)
    {
        if (!actual.SequenceEqual(expected))
            throw new InternalFaultException($"ONNX outputs are named {string.Join(", ", actual)} instead of {string.Join(", ", expected)}.");
    }

    public byte[] ToModel(string producer, string version, string doc) => new ProtoWriter()
        .Varint(1, IrVersion)
        .String(2, producer)
        .String(3, version)
        .String(6, doc)
        .Message(7, g =>
        {
            foreach (var n in nodes) g.Message(1, n);
            g.String(2, name);
            foreach (var t in initializers) g.Message(5, t);
            foreach (var i in inputs) g.Message(11, i);
            foreach (var o in outputs) g.Message(12, o);
        })
        .Message(8, o => o.String(1, "").Varint(2, Opset))
        .ToArray();

    void Claim(string value)
    {
        if (!names.Add(value)) throw new InternalFaultException($"ONNX value name '{value}' is used twice.");
    }

    static void Tensor(ProtoWriter w, string value, long[] dims, int type, Action<ProtoWriter> data)
    {
        foreach (long d in dims) w.Varint(1, d);
        w.Varint(2, type).String(8, value);
        data(w);
    }

    static void ValueInfo(ProtoWriter w, string value, OnnxDim[] dims) => w
        .String(1, value)
        .Message(2, type => type.Message(1, tensor => tensor
            .Varint(1, FloatType)
            .Message(2, shape =>
            {
                foreach (var d in dims)
                    shape.Message(1, dim =>
                    {
                        if (d.Name is { } symbol) dim.String(2, symbol);
                        else dim.Varint(1, d.Size);
                    });
            })));

    // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
    static void Attribute(ProtoWriter w, OnnxAttribute a)
    {
        w.String(1, a.Name);
        if (a.Float is float f) w.Float(2, f).Varint(20, 1);
        else if (a.Int is long i) w.Varint(3, i).Varint(20, 2);
        else if (a.Ints is { } list)
        {
            foreach (long v in list) w.Varint(8, v);
            w.Varint(20, 7);
        }
        else throw new InternalFaultException($"ONNX attribute '{a.Name}' has no value.");
    }
}
