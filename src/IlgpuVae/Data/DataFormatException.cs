namespace IlgpuVae.Data;

/// <summary>
/// The one error type for data that cannot be used: a missing, truncated or malformed file, or values out of
/// range. Its message says what is wrong, names the file or data set and the offending value, and says what to
/// do about it, so the command line can print it as it is.
/// </summary>
public class DataFormatException : Exception
{
    /// <summary>An error whose message the user reads as it is.</summary>
    public DataFormatException(string message) : base(message) { }

    /// <summary>An error whose message the user reads as it is, caused by <paramref name="inner"/>.</summary>
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}
