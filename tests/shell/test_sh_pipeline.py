"""Pipelines over real os.pipe()s: concurrency, statuses, pipefail, PIPESTATUS
(docs/shell.md#pipelines)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from shellkit import needs_bash, read, run_bash

from fusevm.errors import HostError
from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost

pytestmark = pytest.mark.process


def run_pipeline(host: PosixHost, *stages: list[str], out: str | None = None) -> int:
    host.pipeline_begin(len(stages))
    for i, argv in enumerate(stages):
        if i:
            host.pipeline_stage()
        if out is not None and i == len(stages) - 1:
            host.redirect(1, Redir.WRITE, out)
        assert host.exec(argv) == 0  # a stage only starts; its status comes at the end
    return host.pipeline_end()


def test_two_stages(host: PosixHost, in_tmp: Path) -> None:
    assert run_pipeline(host, ["printf", "b\\na\\n"], ["sort"], out="o") == 0
    assert read(in_tmp / "o") == "a\nb\n"


def test_three_stages(host: PosixHost, in_tmp: Path) -> None:
    status = run_pipeline(host, ["printf", "b\\na\\nc\\n"], ["sort", "-r"], ["tr", "a-z", "A-Z"],
                          out="o")
    assert status == 0 and read(in_tmp / "o") == "C\nB\nA\n"
    assert host.pipestatus == [0, 0, 0]


def test_status_is_the_last_stage(host: PosixHost) -> None:
    assert run_pipeline(host, ["false"], ["true"]) == 0
    assert run_pipeline(host, ["true"], ["sh", "-c", "exit 3"]) == 3
    assert host.pipestatus == [0, 3]
    assert host.last_status == 3


def test_pipefail_takes_the_rightmost_failure(host: PosixHost) -> None:
    host.pipefail = True
    assert run_pipeline(host, ["sh", "-c", "exit 2"], ["sh", "-c", "exit 5"], ["true"]) == 5
    assert host.pipestatus == [2, 5, 0]
    assert run_pipeline(host, ["true"], ["true"]) == 0


def test_stages_run_concurrently(host: PosixHost) -> None:
    start = time.monotonic()
    run_pipeline(host, ["sleep", "0.3"], ["sleep", "0.3"], ["sleep", "0.3"])
    assert time.monotonic() - start < 0.8


def test_big_data_flows_through(host: PosixHost, in_tmp: Path) -> None:
    status = run_pipeline(host, ["seq", "1", "200000"], ["cat"], ["wc", "-l"], out="n")
    assert status == 0 and read(in_tmp / "n").strip() == "200000"


def test_early_reader_exit_sends_sigpipe(host: PosixHost, in_tmp: Path) -> None:
    assert run_pipeline(host, ["yes"], ["head", "-n", "2"], out="o") == 0
    assert host.pipestatus == [141, 0] and read(in_tmp / "o") == "y\ny\n"


def test_missing_command_in_a_stage(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(2, Redir.WRITE, "err")
    host.with_redirects_begin(1)
    try:
        assert run_pipeline(host, ["true"], ["no_such_cmd_q"]) == 127
        assert host.pipestatus == [0, 127]
        assert run_pipeline(host, ["no_such_cmd_q"], ["cat"]) == 0
    finally:
        host.with_redirects_end()
    assert "no_such_cmd_q: command not found" in read(in_tmp / "err")


def test_redirects_apply_on_top_of_the_pipes(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "in").write_text("from file\n")
    host.pipeline_begin(2)
    host.redirect(0, Redir.READ, "in")  # overrides stage 1's inherited stdin
    host.redirect(2, Redir.DUP_WRITE, "1")  # stderr joins the pipe (|&)
    host.exec(["sh", "-c", "cat; echo err >&2"])
    host.pipeline_stage()
    host.redirect(1, Redir.WRITE, "o")
    host.exec(["cat"])
    assert host.pipeline_end() == 0
    assert read(in_tmp / "o") == "from file\nerr\n"


def test_herestring_into_a_pipeline(host: PosixHost, in_tmp: Path) -> None:
    host.pipeline_begin(2)
    host.herestring("hello")
    host.exec(["cat"])
    host.pipeline_stage()
    host.redirect(1, Redir.WRITE, "o")
    host.exec(["tr", "a-z", "A-Z"])
    host.pipeline_end()
    assert read(in_tmp / "o") == "HELLO\n"


def test_function_stage_writes_into_the_pipe(host: PosixHost, in_tmp: Path) -> None:
    def shout(args: list[str]) -> int:
        os.write(1, " ".join(args).encode() + b"\n")
        return 0

    host.functions["shout"] = shout
    host.pipeline_begin(2)
    assert host.call_function("shout", ["hello", "pipe"]) == 0
    host.pipeline_stage()
    host.redirect(1, Redir.WRITE, "o")
    host.exec(["tr", "a-z", "A-Z"])
    assert host.pipeline_end() == 0
    assert read(in_tmp / "o") == "HELLO PIPE\n"


def test_single_stage_and_misuse(host: PosixHost) -> None:
    host.pipeline_begin(1)
    host.exec(["true"])
    assert host.pipeline_end() == 0
    with pytest.raises(HostError):
        host.pipeline_end()
    with pytest.raises(HostError):
        host.pipeline_stage()


@needs_bash
def test_pipestatus_agrees_with_bash(host: PosixHost) -> None:
    got = run_pipeline(host, ["sh", "-c", "exit 1"], ["yes"], ["head", "-1"],
                       ["sh", "-c", "cat >/dev/null; exit 4"])
    bash = run_bash("(exit 1) | yes | head -1 | (cat >/dev/null; exit 4); "
                    "echo $? ${PIPESTATUS[@]}").stdout.split()
    assert [got, *host.pipestatus] == [int(x) for x in bash]
