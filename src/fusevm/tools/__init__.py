"""Developer tools that derive files from the op table."""
