"""Failures of an ETL run. Each carries the exit code of `xueji etl` and a one-line reason;
none of them ever leaves the previous snapshot anything but current."""

from __future__ import annotations


class EtlError(Exception):
    """An ETL run that cannot complete; str(error) is the one-line reason."""

    exit_code = 1


class ConfigError(EtlError):
    """Bad key, bad arguments, unusable warehouse folder."""

    exit_code = 2


class LockBusy(EtlError):
    """Another ETL holds the warehouse lock."""

    exit_code = 3


class SourceError(EtlError):
    """The operational database cannot be reached or read."""

    exit_code = 4


class CheckFailed(EtlError):
    """A pre-publish check failed: reconciliation, orphans, codes or privacy."""

    exit_code = 5


class SpaceError(EtlError):
    """Not enough free disk space, or the disk filled up while writing."""

    exit_code = 6


class PublishError(EtlError):
    """Writing or publishing the snapshot failed (I/O)."""

    exit_code = 7
