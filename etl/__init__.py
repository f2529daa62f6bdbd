"""`xueji etl`: the only writer of the DuckDB warehouse (see etl/README.md).

- `etl.cli.run_etl(argv) -> int`: the command line (wired into `xueji etl`);
- `etl.pipeline.run(source_url, warehouse_dir, *, pseudonym_key, keep, mode, progress, …)`:
  one extract → pseudonymize → transform → check → publish run, returning its `Manifest`;
- `etl.store.SnapshotStore(root)`: for readers of the published snapshots;
- `etl/schema.sql`: the warehouse schema, documented column by column.

Imports neither Flask nor `admin`.
"""
