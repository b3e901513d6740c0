"""The POSIX sh frontend.

Modules:
    ast       the syntax tree (words keep their quoting structure)
    parser    characters -> commands (XCU 2.10), one complete command at a time
    words     marked strings: field splitting, globbing and quote removal
    arith     `$(( ))` evaluation
    compiler  commands -> Chunk (core jumps, shell ops, `sh` extension ops)
    ops       the `sh` ExtensionSet and its handlers
    host      ShHost: Redirect, WithRedirects and CmdSubst behind the core shell ops
    state     ShState: variables, options, traps, jobs; redirection apply/restore
    runtime   running chunks, forks, simple commands, functions, externals, traps
    builtins  special and regular builtins (with printf and testcmd)
    main      the `fusevm sh` command line
"""
