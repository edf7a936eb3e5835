#!/usr/bin/env python3
"""Merges the test results files (TRX) of CI's passes and prints "N passed, N failed, N skipped".

    .ci/summarize-tests.py TestResults/results.trx TestResults/opencl.trx [more.trx ...]

The passes run the same suite in different places (the host, the OpenCL root, a copy of the tree without
../shared), so one test case can appear in several files: it counts once, as failed if it failed anywhere, else as
passed if it passed anywhere, else as skipped. A case on the OpenCL device is skipped on a host without one and run
in the OpenCL pass, so in CI it counts as run. Exits 1 when a case failed, when none passed, or when a case is
still skipped for want of an OpenCL device (CI sets that device up, so such a skip means its pass went missing).
"""
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
RANK = {"Failed": 3, "Passed": 2, "NotExecuted": 1}
OPENCL_SKIP = "No usable OpenCL device"


def results(path):
    """(test name, outcome, message) of every result in one TRX file; Error/Timeout/Aborted count as failed."""
    for r in ET.parse(path).getroot().iter(f"{{{NS['t']}}}UnitTestResult"):
        outcome = r.get("outcome", "Failed")
        outcome = outcome if outcome in RANK else ("NotExecuted" if outcome == "Inconclusive" else "Failed")
        message = r.find("t:Output/t:ErrorInfo/t:Message", NS)
        yield r.get("testName"), outcome, (message.text or "") if message is not None else ""


def main(paths):
    best = {}
    for path in paths:
        for name, outcome, message in results(path):
            if name not in best or RANK[outcome] > RANK[best[name][0]]:
                best[name] = (outcome, message)
    count = lambda o: sum(1 for v in best.values() if v[0] == o)
    passed, failed, skipped = count("Passed"), count("Failed"), count("NotExecuted")
    missing = sorted(n for n, (o, m) in best.items() if o == "NotExecuted" and OPENCL_SKIP in m)
    if missing:
        print(f"{len(missing)} cases on the OpenCL device did not run, e.g. {missing[0]}.", file=sys.stderr)
    if passed == 0:
        print("The test runs executed no test.", file=sys.stderr)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
