"""PosixHost and ShellHostBase implement the ShellHost protocol member for member, with the
same signatures."""

from __future__ import annotations

import inspect

import pytest

from fusevm.shell.host import ShellHost, ShellHostBase
from fusevm.shell.posix import PosixHost

PROTOCOL_METHODS = {
    "glob", "tilde_expand", "brace_expand", "word_split", "expand_param", "cmd_subst",
    "process_sub_in", "process_sub_out", "redirect", "heredoc", "herestring",
    "pipeline_begin", "pipeline_stage", "pipeline_end", "subshell_begin", "subshell_end",
    "trap_set", "trap_check", "with_redirects_begin", "with_redirects_end", "call_function",
    "exec", "exec_bg", "str_match", "regex_match",
    # the services the VM uses around the ops
    "bind_runner", "child", "new_shell_state", "close",
}
#: Read-only attributes of the protocol (a host may store them as plain attributes).
PROTOCOL_PROPERTIES = {"name", "stderr_fd", "last_subst_status"}


def _declared(proto: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(proto, inspect.isfunction)
            if not name.startswith("_")}


def test_protocol_lists_exactly_the_host_methods() -> None:
    assert _declared(ShellHost) == PROTOCOL_METHODS
    properties = {name for name, _ in inspect.getmembers(ShellHost,
                                                          lambda m: isinstance(m, property))}
    assert properties == PROTOCOL_PROPERTIES


@pytest.mark.parametrize("cls", [PosixHost, ShellHostBase])
def test_host_classes_are_shell_hosts(cls: type) -> None:
    host = cls()
    assert isinstance(host, ShellHost)
    for name in PROTOCOL_METHODS:
        ours = inspect.signature(getattr(cls, name))
        theirs = inspect.signature(getattr(ShellHost, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        for param in theirs.parameters.values():
            assert ours.parameters[param.name].kind == param.kind, (name, param.name)
    for name in PROTOCOL_PROPERTIES:
        assert hasattr(host, name), name
    host.close()


def test_every_member_has_a_docstring() -> None:
    for name in PROTOCOL_METHODS | PROTOCOL_PROPERTIES:
        assert getattr(ShellHost, name).__doc__, name
    for name in PROTOCOL_METHODS:
        assert getattr(PosixHost, name).__doc__, name
        assert getattr(ShellHostBase, name).__doc__, name
