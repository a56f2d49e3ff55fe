"""The local record store: cache info, cache clear."""
from __future__ import annotations

import argparse
import sys

from ..errors import ConfigurationError
from .common import _add_verbose, _Parser, print


def cmd_cache_info(args: argparse.Namespace) -> int:
    from ..store import RecordStore

    store = RecordStore()
    info = store.info()                  # a damaged store is set aside first (one warning line)
    _warn(store.take_notices())
    oldest = info.oldest.strftime("%Y-%m-%d %H:%M UTC") if info.oldest else "-"
    print(f"Record store: {info.path}", f"  size:    {info.size_bytes / 1e6:.1f} MB",
          f"  entries: {info.entries} endpoint calls, {info.records} records",
          f"  oldest:  {oldest} (last complete fetch)", sep="\n")
    aside = store.set_aside_files()
    if aside:
        print(f"  set aside: {len(aside)} damaged store(s) beside it, safe to delete: "
              + ", ".join(p.name for p in aside))
    return 0


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from ..environments import CUSTOM, ENVIRONMENTS, environment_name
    from ..kept_lists import LISTS_FILE_NAME, KeptLists
    from ..store import RecordStore

    env = environment_name(args.env.strip()) if args.env else None
    if env is not None and env not in (*ENVIRONMENTS, CUSTOM):
        raise ConfigurationError(f"Unknown environment {args.env!r}: use one of {', '.join([*ENVIRONMENTS, CUSTOM])}")
    store = RecordStore()
    removed = store.clear(env=env)       # a damaged store is set aside (never deleted): nothing left to clear
    _warn(store.take_notices())
    lists = KeptLists(store.path.with_name(LISTS_FILE_NAME))    # the names and lists kept beside it
    lists.clear(env=env)
    lists.close()
    print(f"Removed {removed} stored endpoint call(s)" + (f" of {env}" if env else "") + ".")
    return 0


def _warn(warnings) -> None:
    for warning in warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)


def _cache_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="cache_command", required=True, metavar="ACTION", parser_class=_Parser)
    info = sub.add_parser("info", help="where the store is, its size, entries and oldest fetch")
    info.set_defaults(func=cmd_cache_info)
    clear = sub.add_parser("clear", help="forget stored records (of one environment with --env)")
    clear.add_argument("--env", metavar="NAME",
                       help="production, sandbox, monthly, federal or custom (default: all)")
    clear.set_defaults(func=cmd_cache_clear)
    for q in (info, clear):
        _add_verbose(q)

