using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// Commits a checkpoint's two files — model.safetensors and training_state.safetensors — as one, so that whatever
/// stops the process (kill -9, a full disk, a power loss between two renames) the run folder holds a consistent pair:
/// the new one or the one before it. The steps, each flushed to disk before the next:
/// <list type="number">
/// <item>the new pair is written into the folder <see cref="PendingFolder"/> (the previous pair stays in place);</item>
/// <item>what must exist once the pair does is done (the epoch's metrics line);</item>
/// <item>the marker <see cref="Marker"/> is written into <see cref="PendingFolder"/>: this is the commit;</item>
/// <item>the pair is renamed into the run folder, weights then state, and the pending folder removed.</item>
/// </list>
/// <see cref="Recover"/> (on resume) finishes step 4 for a committed pair and discards an uncommitted one, so
/// model.safetensors and training_state.safetensors always end up holding the newest committed pair. Readers (eval,
/// sample, export) need no recovery: model.safetensors is always a whole file, the newest committed weights or the
/// ones before.
/// </summary>
internal static class CheckpointCommit
{
    /// <summary>The folder inside a run folder where a checkpoint is written before it is committed.</summary>
    public const string PendingFolder = "checkpoint.next";

    /// <summary>The file whose presence in <see cref="PendingFolder"/> commits the pair there.</summary>
    public const string Marker = "COMMITTED";

    /// <summary>
    /// A test hook: <c>STAGE</c> or <c>STAGE@N</c> (one of <see cref="Stages"/>; N counts the commits of this process,
    /// default 1) kills the process there, as kill -9 would, so tests can crash between every two steps.
    /// </summary>
    public const string CrashVariable = "ILGPUVAE_TEST_CRASH_AT";

    /// <summary>The points between the steps, in order, where <see cref="CrashVariable"/> can stop the process.</summary>
    public static readonly string[] Stages = ["weights-written", "state-written", "before-marker", "marked", "weights-moved", "state-moved"];

    static int commits;
    static readonly (string Stage, int Commit)? CrashAt = ParseCrashAt(Environment.GetEnvironmentVariable(CrashVariable));

    /// <summary>
    /// Writes a checkpoint with <paramref name="writeWeights"/> and <paramref name="writeState"/> (each given the path to
    /// write), runs <paramref name="beforeCommit"/>, then commits. On failure (a full disk) the uncommitted files are
    /// deleted, giving their space back, and the previous pair is still the checkpoint.
    /// </summary>
    public static void Save(RunFolder folder, Action<string> writeWeights, Action<string> writeState, Action? beforeCommit = null)
    {
        int commit = Interlocked.Increment(ref commits);
        Recover(folder);
        string next = folder.File(PendingFolder);
        Directory.CreateDirectory(next);
        try
        {
            writeWeights(Path.Combine(next, RunFolder.ModelFile));
            CrashPoint("weights-written", commit);
            writeState(Path.Combine(next, RunFolder.StateFile));
            CrashPoint("state-written", commit);
            beforeCommit?.Invoke();
            CrashPoint("before-marker", commit);
            // Written whole and flushed with its folder: once it can be seen, both files can be too.
            AtomicWrite.ReplaceText(Path.Combine(next, Marker), "The checkpoint in this folder is complete.\n");
        }
        catch
        {
            Discard(next);
            throw;
        }
        CrashPoint("marked", commit);
        RollForward(folder, commit);
    }

    /// <summary>
    /// Brings a folder a process left mid-commit to its newest committed pair; returns what it did, or null when
    /// there was nothing to do. Call it only while holding the run's lock.
    /// </summary>
    public static string? Recover(RunFolder folder)
    {
        string next = folder.File(PendingFolder);
        if (!Directory.Exists(next)) return null;
        if (File.Exists(Path.Combine(next, Marker)))
        {
            RollForward(folder, commit: 0);
            return "Completed a checkpoint that an earlier process committed but had not moved into place.";
        }
        Discard(next);
        return "Discarded a checkpoint that an earlier process had not finished writing; the one before it stands.";
    }

    static void RollForward(RunFolder folder, int commit)
    {
        string next = folder.File(PendingFolder);
        MoveIn(folder, RunFolder.ModelFile);
        CrashPoint("weights-moved", commit);
        MoveIn(folder, RunFolder.StateFile);
        CrashPoint("state-moved", commit);
        // Both files are in place, so the marker has nothing left to vouch for.
        File.Delete(Path.Combine(next, Marker));
        Directory.Delete(next, recursive: true);
        Posix.SyncFolder(folder.Path);
    }

    /// <summary>Renames one file of the committed pair into the run folder (absent: moved before a crash).</summary>
    static void MoveIn(RunFolder folder, string name)
    {
        string from = Path.Combine(folder.File(PendingFolder), name);
        if (!File.Exists(from)) return;
        File.Move(from, folder.File(name), overwrite: true);
        Posix.SyncFolder(folder.Path);
    }

    static void Discard(string next)
    {
        try
        {
            if (Directory.Exists(next)) Directory.Delete(next, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next Recover: without its marker it is never taken for a checkpoint.
        }
    }

    static void CrashPoint(string stage, int commit)
    {
        if (CrashAt is { } at && at.Stage == stage && at.Commit == commit) Posix.KillThisProcess();
    }

    static (string, int)? ParseCrashAt(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var parts = value.Split('@');
        return (parts[0], parts.Length > 1 && int.TryParse(parts[1], out int n) ? n : 1);
    }
}
