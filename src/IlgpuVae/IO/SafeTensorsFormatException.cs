namespace IlgpuVae.IO;

/// <summary>A checkpoint file is not valid safetensors; the message says what, in which file, and what to do.</summary>
public sealed class SafeTensorsFormatException(string message, Exception? inner = null) : Exception(message, inner);
