"""Metric definitions over the warehouse (built in the warehouse issue)."""
