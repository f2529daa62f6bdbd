"""`xueji etl`: the only writer of the DuckDB warehouse (built in the warehouse issue)."""
