"""Summarise py-spy's collapsed stacks (``py-spy record --format raw``, as ``run.py --profile`` writes them).

    .venv/bin/python benchmarks/profile_summary.py /tmp/prof/embedded-page.txt [--top 25] [--match advocacy/]

Prints the share of samples per function, inclusive (the function or anything it calls; ``--match`` keeps
the names holding that text), self (the function itself on top of the stack), and the deepest frame of our
code (``advocacy/`` or a template) with the leaf it was in, over the samples of the gunicorn request
threads; the other threads (embedded worker, scheduler, gunicorn's main loop) are counted apart.
``run.py --profile`` samples only the thread holding the GIL (CPU time in Python); with ``--profile-wall``
every thread, waits included.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")
PROJECT_MARK = "(advocacy/"
REQUEST_MARKERS = ("handle_request (gunicorn/", "ThreadWorker.handle_request", "SyncWorker.handle_request")


def frame_name(frame: str) -> str:
    """``func (path/file.py:123)`` -> ``func (path/file.py)``: lines of one function fold together."""
    match = FRAME.match(frame)
    return f"{match['func']} ({match['file']})" if match else frame


def read(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        stacks.append((frames, int(count)))
    return stacks


def summarise(path: Path, top: int, match: str | None, all_threads: bool = False) -> str:
    stacks = read(path)
    total = sum(count for _, count in stacks)
    request = [(frames, count) for frames, count in stacks
               if frames and (all_threads or any(m in f for f in frames for m in REQUEST_MARKERS))]
    request_total = sum(count for _, count in request)
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    for frames, count in request:
        names = [frame_name(f) for f in frames]
        for name in set(names):
            if not match or match in name:
                inclusive[name] += count
        own[names[-1]] += count
        project = [n for n in names if PROJECT_MARK in n or ".html)" in n]
        ours[f"{project[-1]} -> {names[-1]}" if project else f"(no project frame) -> {names[-1]}"] += count
    lines = [f"{path.name}: {total} samples, {request_total} in request threads "
             f"({100 * request_total / total if total else 0:.0f}%), {total - request_total} elsewhere"]
    if not request_total:
        return "\n".join(lines)

    def table(title: str, counter: collections.Counter[str]) -> None:
        lines.append(f"  {title}")
        for name, count in counter.most_common(top):
            lines.append(f"    {100 * count / request_total:5.1f}%  {name}")

    table("inclusive (% of request samples)", inclusive)
    table("self (% of request samples)", own)
    table("deepest project frame -> leaf (% of request samples)", ours)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="only functions whose name or file holds this text, e.g. advocacy/")
    parser.add_argument("--all-threads", action="store_true",
                        help="every sample, not only gunicorn's request threads (e.g. a worker's profile)")
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top, args.match, args.all_threads))
        print()


if __name__ == "__main__":
    main()
