using System.Globalization;

namespace IlgpuVae.Data;

/// <summary>
/// A factors file: the ground-truth factors of a set's images, for <c>eval --factors FILE</c>. Text, comma-separated: the
/// first line names the factors (<c>shape,scale,x</c>), then one line per image with a number per factor, line i + 2 for
/// the set's image i (the order eval reads them in: an IDX file's order; for an image folder the order of its test
/// split). Lines starting with # and empty lines are skipped. Each factor's distinct values are its classes, so values
/// are labels of a discrete grid (0, 1, 2 or 0.5, 0.6 …), not measurements.
/// </summary>
public static class FactorsFile
{
    /// <summary>
    /// <paramref name="set"/> with the factors of <paramref name="path"/>'s first <see cref="ImageSet.Count"/> rows; a
    /// file with fewer rows, a row of another length, or a value that is not a finite number throws
    /// <see cref="DataFormatException"/> naming the line.
    /// </summary>
    public static ImageSet Attach(ImageSet set, string path)
    {
        ArgumentNullException.ThrowIfNull(set);
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"The factors file '{path}' cannot be read: {e.Message}");
        }
        var rows = lines.Select((text, i) => (Text: text.Trim(), Line: i + 1)).Where(l => l.Text.Length > 0 && !l.Text.StartsWith('#')).ToList();
        if (rows.Count == 0) throw new DataFormatException($"The factors file '{path}' is empty: its first line names the factors, then one line per image.");
        var names = rows[0].Text.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(n => n.Length == 0 || double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new DataFormatException($"The factors file '{path}' must start with a line naming the factors (e.g. shape,scale,x); line {rows[0].Line} is '{rows[0].Text}'.");
        if (rows.Count - 1 < set.Count)
            throw new DataFormatException($"The factors file '{path}' has {rows.Count - 1} rows of factors; the {set.Count} evaluated images of '{set.Name}' need one each.");
        int f = names.Length;
        var factors = new float[set.Count * f];
        for (int i = 0; i < set.Count; i++)
        {
            var (text, line) = rows[i + 1];
            var cells = text.Split(',', StringSplitOptions.TrimEntries);
            if (cells.Length != f)
                throw new DataFormatException($"The factors file '{path}', line {line}: {cells.Length} values where the header names {f} factors.");
            for (int j = 0; j < f; j++)
                factors[i * f + j] = float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
                    : throw new DataFormatException($"The factors file '{path}', line {line}: factor {names[j]} is '{cells[j]}', not a finite number.");
        }
        return new ImageSet(set.Name, set.Height, set.Width, set.Pixels, set.Labels, set.LabelNames, factors, names, set.Channels);
    }
}
