"""The CI gate for framework upgrades: diff against a baseline, golden outputs, shards and merge, and the pytest
plugin. session.py wires the `run` options (--baseline, --golden, --save-golden, --shard, --junit, --markdown,
--html) into a run; cli.py holds the `diff`, `merge` and `schema` commands.

May import every layer below it; only `eqcheck.cli` sits above.
"""
