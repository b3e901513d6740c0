"""The trace tier: hot paths through calls, globals and floats, recorded and compiled.

* `states`: abort reasons and the lifecycle of a trace anchor, each declared once;
* `recorder`: steps the interpreter from a hot point and writes down the path;
* `ir`: the path as trace IR with snapshots (`build`, `format_ir`);
* `lower`: the IR as a chunk the block tier's code generator compiles, plus its exits;
* `executor`: the IR executor (runs the IR in Python, no native code) (no native code);
* `meta`: `TraceMetadata`, JSON export and import;
* `tree`: a trace tree's traces and unit, and the state moving in and out of it;
* `tier`: anchors, the dispatch chain, side exits, side traces, blacklisting, counters;
* `funcir`: LLVM IR of pure Int code (a self-recursive function, or root code calling
  such functions), its stack effects and control read from the op table;
* `calls`: functions pure over Ints compiled whole with native self-calls (deep
  recursion, which traces only inline up to `max_inline_recursion`), and the one
  compile-and-swap sequence (`make_native`: disk cache, quick code, re-optimisation);
* `main`: a chunk's root code run whole natively when it calls only such functions.

The policy (`fusevm.jit.policy`) installs `tier.trace_step` at hot points whose region no
block tier takes, when the VM was given `enable_tracing_jit()`.
"""
