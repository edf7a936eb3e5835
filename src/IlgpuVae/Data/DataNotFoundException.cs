namespace IlgpuVae.Data;

/// <summary>
/// A data set's files are in none of the folders searched and could not be downloaded. A subtype of
/// <see cref="DataFormatException"/> so one catch handles every data error; its message lists the folders
/// searched and where to put the files.
/// </summary>
public sealed class DataNotFoundException : DataFormatException
{
    /// <summary>An error whose message the user reads as it is.</summary>
    public DataNotFoundException(string message) : base(message) { }

    /// <summary>An error whose message the user reads as it is, caused by <paramref name="inner"/>.</summary>
    public DataNotFoundException(string message, Exception inner) : base(message, inner) { }
}
