using System.Linq.Expressions;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuVae.Compute;

/// <summary>
/// One kernel of a <see cref="KernelSet"/>, declared in one line where the set uses it:
/// <code>readonly Kernel&lt;Action&lt;Index1D, SgdStep, ArrayView&lt;float&gt;, …&gt;&gt; sgd = new(load, Optimizers.SgdMomentum);</code>
/// The launcher type <typeparamref name="TLaunch"/> is written once and says how the kernel launches:
/// <c>Action&lt;Index1D, …&gt;</c> for a method taking a thread index first (ILGPU picks the groups),
/// <c>Action&lt;KernelConfig, …&gt;</c> for an explicitly grouped method (no index; groups, shared memory and barriers); the
/// rest are the method's parameters, which are checked against it when the kernel loads. The kernel is compiled
/// when the set is built, and every call of <see cref="Launch"/> is counted (<see cref="KernelSet.Launches"/>) and, while
/// profiling, timed.
/// </summary>
internal sealed class Kernel<TLaunch> where TLaunch : Delegate
{
    /// <summary>Loads <paramref name="method"/>, a static method of <c>IlgpuVae.Kernels</c>, counting its launches unless <paramref name="counted"/> is false.</summary>
    public Kernel(KernelLoader load, Delegate method, bool counted = true)
    {
        var launch = load.Load<TLaunch>(method.Method);
        Launch = counted ? Counted(launch, load, $"{method.Method.DeclaringType?.Name}.{method.Method.Name}") : launch;
    }

    /// <summary>
    /// Loads whichever of two variants with the same parameters the set runs: <paramref name="gpu"/> in <see cref="GpuKernels"/>,
    /// <paramref name="cpu"/> in <see cref="CpuKernels"/> (the same results, written for the backend).
    /// </summary>
    public Kernel(KernelLoader load, Delegate gpu, Delegate cpu) : this(load, load.Gpu ? gpu : cpu) { }

    /// <summary>Launches the kernel on the device's default stream.</summary>
    public TLaunch Launch { get; }

    /// <summary><paramref name="launch"/>, then <see cref="KernelLoader.Launched"/>: the same parameters, so no argument is boxed or copied.</summary>
    static TLaunch Counted(TLaunch launch, KernelLoader load, string name)
    {
        var parameters = typeof(TLaunch).GetMethod("Invoke")!.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        var body = Expression.Block(
            Expression.Invoke(Expression.Constant(launch), parameters),
            Expression.Call(Expression.Constant(load), typeof(KernelLoader).GetMethod(nameof(KernelLoader.Launched))!, Expression.Constant(name)));
        return Expression.Lambda<TLaunch>(body, parameters).Compile();
    }
}

/// <summary>
/// Loads a kernel set's kernels (<see cref="Kernel{TLaunch}"/>) onto one accelerator, lists them, and counts their launches.
/// <paramref name="gpu"/>: whether the set is <see cref="GpuKernels"/>, which picks between a kernel's two variants.
/// </summary>
internal sealed class KernelLoader(Accelerator accelerator, bool gpu)
{
    readonly List<LoadedKernel> loaded = [];

    /// <summary>Whether the set runs the GPU kernels (<see cref="GpuKernels"/>), on whatever accelerator.</summary>
    public bool Gpu => gpu;

    /// <summary>The method of every kernel loaded so far, with whether it is explicitly grouped.</summary>
    public IReadOnlyList<LoadedKernel> Loaded => loaded;

    /// <summary>Launches so far.</summary>
    public long Launches { get; private set; }

    /// <summary>While set, every launch is waited for and timed; null in training.</summary>
    public KernelProfile? Profile { get; set; }

    /// <summary>The name the next launch is profiled under instead of its kernel's (a product's shapes); used once.</summary>
    public string? NextLabel { get; set; }

    /// <summary>Counts one launch of <paramref name="kernel"/>, timed when profiling.</summary>
    public void Launched(string kernel)
    {
        Launches++;
        Profile?.Launched(NextLabel ?? kernel, accelerator);
        NextLabel = null;
    }

    /// <summary>ILGPU's stream launcher of <paramref name="method"/>, loaded with the generic loader <typeparamref name="TLaunch"/> names.</summary>
    internal TLaunch Load<TLaunch>(MethodInfo method) where TLaunch : Delegate
    {
        var arguments = typeof(TLaunch).IsGenericType ? typeof(TLaunch).GetGenericArguments() : [];
        bool grouped = arguments is [var first, ..] && first == typeof(KernelConfig);
        if (arguments.Length == 0 || typeof(TLaunch) != Expression.GetActionType(arguments) || !grouped && arguments[0] != typeof(Index1D))
            throw new InternalFaultException($"Kernel {method.Name}'s launcher is {typeof(TLaunch).Name}; it must be an Action taking Index1D or KernelConfig first.");
        var parameters = grouped ? arguments[1..] : arguments;
        Delegate kernel;
        try { kernel = method.CreateDelegate(Expression.GetActionType(parameters)); }
        catch (ArgumentException)
        {
            throw new InternalFaultException($"Kernel {method.DeclaringType?.Name}.{method.Name} does not take the parameters of its launcher, {string.Join(", ", arguments.Select(a => a.Name))}.");
        }
        var loader = typeof(KernelLoaders).GetMethods().Single(m =>
            m.Name == (grouped ? nameof(KernelLoaders.LoadStreamKernel) : nameof(KernelLoaders.LoadAutoGroupedStreamKernel))
            && m.GetGenericArguments().Length == parameters.Length && m.GetParameters().Length == 2);
        var launch = (TLaunch)loader.MakeGenericMethod(parameters).Invoke(null, BindingFlags.DoNotWrapExceptions, null, [accelerator, kernel], null)!;
        loaded.Add(new LoadedKernel(method, grouped));
        return launch;
    }
}
