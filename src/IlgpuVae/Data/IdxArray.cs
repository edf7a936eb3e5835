namespace IlgpuVae.Data;

/// <summary>
/// The content of an IDX file: its dimensions, outermost first, and its unsigned bytes in row-major order;
/// <c>Data.Length</c> = ∏ <c>Dims</c>.
/// </summary>
internal sealed record IdxArray(int[] Dims, byte[] Data);
