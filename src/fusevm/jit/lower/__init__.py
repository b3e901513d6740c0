"""Per-op lowering: the rule registry, the lowering context and the LLVM IR backend."""
