using System.Reflection;
using System.Reflection.Emit;

namespace IlgpuVae.Tests.Architecture;

/// <summary>
/// The library's namespaces depend on each other one way only: kernels ← compute ← data, IO, ONNX ← model ← training,
/// evaluation, export, verification (side by side) ← runs ← the public API, and settings' declarations and metric keys under all that use them. Read from the compiled assembly — every
/// type's fields, signatures, base types and the members its method bodies touch — so a dependency is caught however
/// it is written, and a new one against the direction fails here, naming the types.
/// </summary>
public sealed class DependencyTests
{
    /// <summary>What each namespace of IlgpuVae may use besides itself (and the kernels, the root's fault type, the BCL and packages).</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Settings"] = [],
        ["Metrics"] = [],
        ["Compute"] = [],
        ["IO"] = [],
        ["Onnx"] = [],
        ["Images"] = ["IO"],
        ["Data"] = ["Compute", "IO"],
        ["Model"] = ["Compute", "Data", "IO", "Onnx"],
        ["Training"] = ["Metrics", "Model", "Compute", "Data", "IO"],
        ["Evaluation"] = ["Metrics", "Settings", "Model", "Compute", "Data", "IO"],
        ["Export"] = ["Model", "Compute", "IO", "Onnx"],
        ["Verification"] = ["Model", "Compute", "Data", "IO"],
        ["Benchmarking"] = ["Training", "Model", "Compute", "Data", "IO"],
        ["Runs"] = ["Metrics", "Settings", "Training", "Evaluation", "Export", "Verification", "Model", "Compute", "Data", "IO", "Images", "Onnx"],
        ["(api)"] = ["Metrics", "Settings", "Runs", "Benchmarking", "Training", "Evaluation", "Export", "Verification", "Model", "Compute", "Data", "IO", "Images", "Onnx"],
    };

    /// <summary>The root namespace's types that every layer may use: the bug marker, thrown where an invariant breaks.</summary>
    static readonly HashSet<string> Shared = ["IlgpuVae.InternalFaultException"];

    static readonly Assembly Library = typeof(IlgpuVae.Vae).Assembly;

    /// <summary>The layer of a type of the library: its namespace below IlgpuVae, or "(api)" for the root's.</summary>
    static string? LayerOf(Type type)
    {
        while (type.IsNested) type = type.DeclaringType!;
        if (type.Assembly != Library || type.FullName is null || Shared.Contains(type.FullName)) return null;
        string ns = type.Namespace ?? "";
        if (ns == "IlgpuVae") return "(api)";
        return ns.StartsWith("IlgpuVae.", StringComparison.Ordinal) ? ns["IlgpuVae.".Length..].Split('.')[0] : null;
    }

    [Fact]
    public void EveryNamespaceIsKnown()
    {
        var layers = Library.GetTypes().Select(LayerOf).OfType<string>().Distinct().ToList();
        Assert.All(layers, l => Assert.True(Allowed.ContainsKey(l), $"The namespace {l} has no place in the dependency order: add it to {nameof(Allowed)}."));
    }

    [Fact]
    public void DependenciesPointOneWay()
    {
        var violations = new SortedSet<string>();
        foreach (var type in Library.GetTypes())
        {
            if (LayerOf(type) is not { } from || !Allowed.TryGetValue(from, out var allowed)) continue;
            foreach (var used in Used(type))
                if (LayerOf(used) is { } to && to != from && !allowed.Contains(to))
                    violations.Add($"{from} → {to}: {type.FullName} uses {used.FullName}");
        }
        Assert.True(violations.Count == 0, "Dependencies against the direction:\n" + string.Join("\n", violations.Take(40)));
    }

    /// <summary>A check that the scan sees what it must: a type in the API layer that uses Runs is found using it.</summary>
    [Fact]
    public void TheScanFindsADependencyOfTheApi() =>
        Assert.Contains(Used(typeof(IlgpuVae.Vae)), t => LayerOf(t) == "Runs");

    const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The types <paramref name="type"/> names: base and interfaces, fields, properties, method signatures, and what its method bodies reference.</summary>
    static IEnumerable<Type> Used(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType && !t.IsGenericTypeDefinition) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(Everything)) Add(f.FieldType);
        foreach (var p in type.GetProperties(Everything)) Add(p.PropertyType);
        foreach (var m in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            foreach (var t in BodyReferences(m)) Add(t);
        }
        return found;
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The declaring types of the members, and the types, that a method body's instructions name.</summary>
    static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int at = 0; at < il.Length;)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            var op = OpCodesByValue[value];
            at += op.Size;
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                Type? t = null;
                try
                {
                    var member = module.ResolveMember(BitConverter.ToInt32(il, at), typeArgs, methodArgs);
                    t = member as Type ?? member?.DeclaringType;
                }
                catch (ArgumentException)
                {
                    // A generic instantiation the open context cannot resolve: its open form names the same types.
                }
                if (t is not null) yield return t;
            }
            at += operand;
        }
    }
}
