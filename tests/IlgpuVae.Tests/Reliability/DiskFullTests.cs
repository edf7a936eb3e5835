using System.Diagnostics;
using System.Runtime.InteropServices;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>A fact that needs root (mounting a tmpfs): it runs as root on Linux, as CI does, and is skipped elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    [DllImport("libc")] static extern uint geteuid();

    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || geteuid() != 0) Skip = "needs root on Linux, to mount a small tmpfs and fill it.";
    }
}

/// <summary>A disk that fills during training: one line naming the folder, exit 1, and a checkpoint that resume continues from.</summary>
public sealed class DiskFullTests
{
    static void Mount(string point, string options)
    {
        using var mount = Process.Start("mount", ["-t", "tmpfs", "-o", options, "tmpfs", point])!;
        mount.WaitForExit();
        Assert.True(mount.ExitCode == 0, $"mount -o {options} failed");
    }

    [RootFact]
    public void AFullDiskIsOneLineNamingTheFolderAndResumeAfterFreeingSpaceIsBitIdentical()
    {
        using var temp = new TempFolder();
        string straight = temp.File("straight"), disk = temp.File("disk"), run = Path.Combine(disk, "run");
        Assert.Equal(0, CliRunner.Train(straight, "--epochs", "3").Exit);
        Directory.CreateDirectory(disk);
        // Room for one checkpoint (about 470 kB: weights and the optimizer's two moments), not for the next one beside it.
        Mount(disk, "size=700k");
        try
        {
            var (exit, _, error) = CliRunner.Train(run, "--epochs", "3");
            Assert.Equal(1, exit);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains($"The disk holding {run} is full", error);
            Assert.Contains("The checkpoint after epoch 1 (optimizer step 6) is kept", error);
            Assert.False(Directory.Exists(Path.Combine(run, CheckpointCommit.PendingFolder)), "the unfinished checkpoint's space was not given back");

            Mount(disk, "remount,size=16m");
            var (resumed, output, resumeError) = CliRunner.Run("train", "--resume", run);
            Assert.True(resumed == 0, resumeError);
            Assert.Contains("after epoch 1 of 3", output);
            RunFiles.AssertSameCheckpoint(straight, run);
        }
        finally
        {
            using var umount = Process.Start("umount", [disk])!;
            umount.WaitForExit();
        }
    }
}
