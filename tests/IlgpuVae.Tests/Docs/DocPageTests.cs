namespace IlgpuVae.Tests.Docs;

/// <summary>The docs check itself: what it finds in a page, and that it refuses what it must.</summary>
public sealed class DocPageTests
{
    const string Page = """
        Intro with a [link](docs/x.md) and a [site](https://example.org) and an [anchor](#top).
          ```` ```sh run ```` in a line is text.

        ```sh limited
        IlgpuVae.Cli train --epochs 9 \
          --latent 3   # a comment
        dotnet test -c Release
        ```

          ```sh parse
          mpiexec -n 2 IlgpuVae.Cli train --device "cuda"
          ```

        ```sh
        ilgpuvae devices
        ```

            IlgpuVae.Cli eval runs/x

        ```csharp
        var x = 1;
        ```
        """;

    [Fact]
    public void FindsMarkedCommandsAndRefusesUnmarkedOrIndentedOnes()
    {
        var (commands, problems) = DocPage.FromText("page.md", Page).Commands();
        Assert.Equal(["train --epochs 9 --latent 3", "", "train --device cuda"],
            commands.Select(c => string.Join(" ", c.CliArguments ?? [])));
        Assert.Equal([BlockCheck.Limited, BlockCheck.Limited, BlockCheck.Parse], commands.Select(c => c.Check));
        Assert.Equal([5, 7, 11], commands.Select(c => c.Line));
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("page.md:14: a shell block must say how it is checked", problems[0]);
        Assert.StartsWith("page.md:18: a command in an indented block", problems[1]);
    }

    [Fact]
    public void LocalLinksLeaveOutAddressesAndAnchors() =>
        Assert.Equal([(1, "docs/x.md")], DocPage.FromText("page.md", Page).LocalLinks());

    [Theory]
    [InlineData("train --epochs 2", null)]
    [InlineData("train --epoch 2", "train has no option --epoch.")]
    [InlineData("trian", "'trian' is not a command")]
    [InlineData("train --epochs two", "--epochs takes a whole number")]
    [InlineData("eval RUN --profile", null)]
    [InlineData("eval RUN --profil", "eval has no option --profil.")]
    public void ParseFindsUnknownOptionsAndBadValues(string command, string? problem)
    {
        string? found = DocCommandTests.ParseProblem(command.Split(' '));
        if (problem is null) Assert.Null(found);
        else Assert.Contains(problem, found);
    }

    [Fact]
    public void LimitSetsSizesReplacingThePagesValues()
    {
        Assert.Equal(["train", "--epochs", "1", "--batch-size", "64", "--train-limit", "256", "--test-limit", "64"],
            DocCommandTests.Limit(["train", "--epochs", "10", "--batch-size", "64"]));
        Assert.Equal(["train", "--resume", "r", "--epochs", "2"], DocCommandTests.Limit(["train", "--resume", "r", "--epochs", "20"]));
        Assert.Equal(["eval", "r", "--iwae-k", "20", "--limit", "64"], DocCommandTests.Limit(["eval", "r", "--iwae-k", "100"]));
    }
}
