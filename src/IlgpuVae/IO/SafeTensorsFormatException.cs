namespace IlgpuVae.IO;

/// <summary>
/// A checkpoint file that is missing, unreadable or not valid safetensors. The message names the file, says
/// what is wrong with it and what to do; <see cref="SafeTensors"/>' readers throw no other exception type.
/// </summary>
public sealed class SafeTensorsFormatException(string message, Exception? inner = null) : Exception(message, inner);
