"""Where ``procore-xl sync`` loads (:mod:`procore_xl.warehouse`): the dlt destination and the
working folder dlt keeps for it (its own, so two destinations never share one), a load a stopped
sync left dropped with a warning, files private to the user, and dlt's failures in one line.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.destination import Destination
from dlt.common.destination.exceptions import UnknownDestinationModule
from dlt.common.exceptions import DltException

from .environments import data_dir
from .errors import ConfigurationError, ProcoreError

PIPELINE_NAME = "procore"          # the dlt pipeline; procore.duckdb in the current folder by default


@dataclass(frozen=True)
class Target:
    """Where a sync loads: the dlt destination, how to name it to a person, and the folder dlt
    works in for it (its own, so two destinations never share one)."""
    name: str
    location: str
    destination: Any          # what dlt.pipeline takes
    pipelines_dir: Path


def target_of(destination: str, dataset: str, pipelines_dir: str | os.PathLike | None) -> Target:
    """``duckdb``: the configured file, else ``procore.duckdb`` in the current folder, with dlt's
    working folder beside it (``.procore.duckdb.dlt``); another destination: dlt's description of
    its configuration (passwords masked) and a working folder in the per-user data folder keyed
    by it. ``pipelines_dir`` overrides the working folder."""
    kind = Destination.from_reference(destination)
    config = kind.configuration(kind.spec(), accept_partial=True)
    folder = Path(pipelines_dir) if pipelines_dir is not None else None
    if kind.destination_name == "duckdb":
        database = getattr(getattr(config, "credentials", None), "database", None)
        path = Path(database if isinstance(database, str) and database and not database.startswith(":")
                    else f"{PIPELINE_NAME}.duckdb").expanduser().resolve()
        folder = folder or path.parent / f".{path.name}.dlt" / _slug(dataset)
        return Target("duckdb", str(path), dlt.destinations.duckdb(credentials=str(path)), folder)
    described = config.__str__()      # dlt's description; None for one not set up (filesystem without bucket_url)
    location = described if isinstance(described, str) else ""
    digest = hashlib.sha256("\x1f".join((destination, location, dataset)).encode()).hexdigest()[:16]
    folder = folder or data_dir() / "sync" / f"{_slug(destination)}-{digest}"
    return Target(kind.destination_name, location, destination, folder)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", text).strip("._") or "_"


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created meanwhile are the user's alone (umask 077): the DuckDB file and
    its WAL, dlt's working folder and load packages (they hold the data). The umask is the
    process's: a sync is the only work of a ``procore-xl sync`` process."""
    before = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(before)


def pipeline_in(target: Target, dataset: str, warn: Callable[[str], None]):
    """The pipeline in the target's working folder, with no load left pending: a load a stopped
    sync left (extracted, normalized or partly loaded) is dropped with a warning, never loaded
    late (this sync reads every report it covers again). A working folder dlt cannot read is
    set aside: it holds nothing the destination does not (the schema and state come back from it)."""
    def attach():
        pipeline = dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=target.destination,
                                dataset_name=dataset, pipelines_dir=str(target.pipelines_dir))
        if pipeline.has_pending_data:
            pipeline.abort_packages()
            warn(f"dropped the unfinished load a stopped sync left in {pipeline.working_dir} "
                       f"(not loaded: this sync reads its reports again)")
        return pipeline
    try:
        return attach()
    except (DltException, OSError, ValueError) as exc:
        if isinstance(exc, (ConfigFieldMissingException, UnknownDestinationModule)):
            raise
        working = target.pipelines_dir / PIPELINE_NAME
        if not working.exists():
            raise
        aside = working.with_name(f"{working.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        working.rename(aside)
        warn(f"dlt could not use its working folder ({type(exc).__name__}): moved it to {aside}; "
                   f"this sync starts a new one")
        return attach()


def load_error(exc: DltException, destination: str) -> ProcoreError:
    """dlt's failure as one line a person can act on (dlt's own text runs over many lines)."""
    if isinstance(exc, UnknownDestinationModule):
        return ConfigurationError(f'Unknown dlt destination "{destination}" - use duckdb, motherduck, postgres, '
                                  f"snowflake, bigquery, databricks, mssql, clickhouse, filesystem... "
                                  f"(https://dlthub.com/docs/dlt-ecosystem/destinations/)")
    cause = getattr(exc, "exception", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()] or [type(cause).__name__]
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:     # "... you may do the following:" - and what to do
        first = f"{first} {lines[1]}"
    if isinstance(cause, ConfigFieldMissingException):
        return ConfigurationError(f"{destination} is not configured: {first} - set it in .dlt/secrets.toml "
                                  f"(or .dlt/config.toml) or DESTINATION__{destination.upper()}__... "
                                  f"environment variables")
    return ProcoreError(f"dlt could not load into {destination}: {first}")
