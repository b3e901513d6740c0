"""Chunk-to-chunk rewrites; the fusion pass lives in `fuse`."""
