"""WebDataset shards (ARCHITECTURE §3): the codec of one sample, atomic deterministic tar writing, the index,
incremental builds keyed by content hash and annotator versions, and readers."""

from preprocess.shards.codec import (
    SampleEncodingError,
    decode_sample,
    encode_sample,
    sample_meta,
    source_jpeg,
)
from preprocess.shards.incremental import BuildPlan, ShardBuildResult, build_shards, plan_build
from preprocess.shards.index import fields_hash, read_index, versions_of
from preprocess.shards.reader import iter_samples, read_sample, shard_urls

__all__ = [
    "BuildPlan",
    "SampleEncodingError",
    "ShardBuildResult",
    "build_shards",
    "decode_sample",
    "encode_sample",
    "fields_hash",
    "iter_samples",
    "plan_build",
    "read_index",
    "read_sample",
    "sample_meta",
    "shard_urls",
    "source_jpeg",
    "versions_of",
]
