"""PosixHost implements the ShellHost protocol method for method, with the same signatures."""

from __future__ import annotations

import inspect

from fusevm.shell.host import ShellHost
from fusevm.shell.posix import PosixHost

PROTOCOL_METHODS = {
    "glob", "tilde_expand", "brace_expand", "word_split", "expand_param", "cmd_subst",
    "process_sub_in", "process_sub_out", "redirect", "heredoc", "herestring",
    "pipeline_begin", "pipeline_stage", "pipeline_end", "subshell_begin", "subshell_end",
    "trap_set", "trap_check", "with_redirects_begin", "with_redirects_end", "call_function",
    "exec", "exec_bg", "str_match", "regex_match",
}


def _declared(proto: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(proto, inspect.isfunction)
            if not name.startswith("_")}


def test_protocol_lists_exactly_the_host_methods() -> None:
    assert _declared(ShellHost) == PROTOCOL_METHODS


def test_posix_host_is_a_shell_host() -> None:
    host = PosixHost()
    assert isinstance(host, ShellHost)
    for name in PROTOCOL_METHODS:
        ours = inspect.signature(getattr(PosixHost, name))
        theirs = inspect.signature(getattr(ShellHost, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        for param in theirs.parameters.values():
            assert ours.parameters[param.name].kind == param.kind, (name, param.name)
    host.close()


def test_every_method_has_a_docstring() -> None:
    for name in PROTOCOL_METHODS:
        assert getattr(ShellHost, name).__doc__
        assert getattr(PosixHost, name).__doc__
