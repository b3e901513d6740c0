"""Chunk-to-chunk rewrites: the fusion pass (`fuse`) and its table-derived patterns."""
