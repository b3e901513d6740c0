"""The interpreter: the VM and its run loop (`vm`), op handlers and their registry."""
