"""The POSIX sh frontend.

Modules, bottom layer first (each imports only modules above it in this list):
    errors    the shell's exceptions
    ast       the syntax tree (words keep their quoting structure)
    words     marked strings: field splitting, globbing and quote removal
    printf    `printf` formatting
    arith     `$(( ))` evaluation
    state     ShState: variables, options, traps, jobs; start-up values, subshell reset,
              waiting for children, redirection apply/restore
    testcmd   `test` / `[`
    lexer     characters -> tokens and words
    parser    tokens -> commands (XCU 2.10), one complete command at a time
    opset     the `sh` ExtensionSet's op declarations and operand flags
    compiler  commands -> Chunk (core jumps, shell ops, `sh` extension ops)
    host      ShHost: Redirect, WithRedirects and CmdSubst behind the core shell ops
    runtime   running scripts and chunks, forks, simple commands, functions, externals,
              traps; the BUILTINS registry
    ops       the handlers of the `sh` ops (attached to opset's SH on import)
    builtins  special builtins and the helpers all builtins share
    commands  regular builtins (with printf and testcmd)
    main      the `fusevm sh` command line; imports ops, builtins and commands
    api       source -> Chunk for tools (`fusevm dis --sh`)
"""
