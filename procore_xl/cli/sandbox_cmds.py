"""The built-in sandbox and the demo: sandbox, demo."""
from __future__ import annotations

import argparse

from ..errors import ConfigurationError
from .common import _number, print


def cmd_sandbox(args: argparse.Namespace) -> int:
    import errno

    from ..sandbox import serve_forever
    from ..sandbox import process as sandbox_process
    from ..sandbox.config import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
    from ..sandbox.faults import describe

    url = f"http://{args.host}:{args.port}"
    if args.stop:
        sandbox_process.stop(url)
        print(f"Sandbox at {url} stopped.")
        return 0
    if args.background:
        if args.port == 0:
            raise ConfigurationError("--background needs a fixed --port, so that other commands can find it")
        argv = [a for a in _given_argv(args) if a != "--background"]
        url, pid = sandbox_process.start_in_background(argv)
        stop = "procore-xl sandbox --stop" + (f" --port {args.port}" if args.port != DEFAULT_SANDBOX_PORT else "")
        print(f"Procore sandbox running in the background at {url} (process {pid}); stop it with `{stop}`")
        return 0
    config = _sandbox_config(args)
    print(("Lenient: undocumented filters, sorts and parameters are ignored" if args.lenient else
           "Strict: any request Procore's reference does not document is answered 400"), flush=True)
    print(f"Rate limits per access token: {config.rate_limit_hourly:,} per hour, {config.rate_limit_spike} per "
          f"{config.rate_limit_spike_seconds} s; {describe(config.faults)}", flush=True)
    try:
        serve_forever(config)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise ConfigurationError(f"Port {args.port} on {args.host} is in use - stop what runs there or "
                                     f"choose another with --port") from None
        raise
    return 0


def _sandbox_config(args: argparse.Namespace):
    """The sandbox ``procore-xl sandbox ARGS`` runs; with no options, the demo's (same data)."""
    from ..sandbox import Faults, SandboxConfig
    from ..sandbox.config import DEMO_RFIS_PER_PROJECT
    from ..sandbox.ratelimit import DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS

    knobs = {field: getattr(args, field) for _, field, _, _ in FAULT_OPTIONS if getattr(args, field) is not None}
    faults = Faults(latency_ms=args.latency_ms, retry_after=not args.no_retry_after,
                    clock_skew_seconds=args.clock_skew, **knobs)
    spike, spike_seconds = ((DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS) if args.documented_spike_limit
                            else (args.spike_limit, args.spike_seconds))
    rfis = args.rfis_per_project
    if rfis is None and args.scale is None:
        rfis = DEMO_RFIS_PER_PROJECT
    return SandboxConfig(host=args.host, port=args.port, scale=args.scale or 1, seed=args.seed, faults=faults,
                         rfis_per_project=rfis, rate_limit_hourly=args.hourly_limit,
                         rate_limit_spike=spike, rate_limit_spike_seconds=spike_seconds,
                         access_token_ttl=args.token_lifetime, quiet=not args.verbose, strict=not args.lenient)


def _given_argv(args: argparse.Namespace) -> list[str]:
    """The arguments this command was given (after its name), to run it again in another process."""
    argv = list(args.argv)
    return argv[argv.index(args.command) + 1:] if args.command in argv else argv


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(out=args.out, force=args.force, rfis_per_project=args.rfis_per_project,
                    latency_ms=args.latency_ms)


# option, sandbox.Faults field, lowest value, help
FAULT_OPTIONS = (
    ("--rate-limit-every", "rate_limit_every", 0, "every Nth API request answers 429 Too Many Requests"),
    ("--unavailable-every", "unavailable_every", 0, "every Nth API request starts a burst of 503 Service Unavailable"),
    ("--unavailable-burst", "unavailable_burst", 1, "503 answers in a row per burst (default 1)"),
    ("--drop-every", "drop_every", 0, "every Nth API request: the connection closes without an answer"),
    ("--malformed-every", "malformed_every", 0, "every Nth API request: 200 with a truncated JSON body"),
    ("--token-uses", "token_dies_after", 1, "an access token stops working (401) after N API requests"),
    ("--gzip-bomb-every", "gzip_bomb_every", 0, "every Nth API request: a gzip body expanding to 1 GiB"),
    ("--huge-total-every", "huge_total_every", 0, "every Nth API request: a list whose Total says 1,000,000,000"),
    ("--deep-nesting-every", "deep_nesting_every", 0, "every Nth API request: a record nested 10,000 levels deep"),
    ("--object-body-every", "object_body_every", 0, "every Nth API request: an object where a list is documented"),
    ("--scalar-list-every", "scalar_list_every", 0, 'every Nth API request: [1, "two", null] for a list'),
)


def _sandbox_arguments(p: argparse.ArgumentParser) -> None:
    from ..sandbox.config import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
    from ..sandbox.ratelimit import DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS

    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_number(0, 65535), default=DEFAULT_SANDBOX_PORT,
                   help=f"port (default {DEFAULT_SANDBOX_PORT}, not the sign-in redirect's 8765; 0 picks a free one)")
    p.add_argument("--background", action="store_true",
                   help="start it in the background and return once it answers (stop it with --stop)")
    p.add_argument("--stop", action="store_true", help="stop the sandbox running on --host/--port")
    p.add_argument("--scale", type=_number(1, 1000),
                   help="multiplies record counts (200 RFIs per project each; default: the demo's data, "
                        "25 RFIs per project)")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000), metavar="N",
                   help="exact RFI count per project (overrides --scale)")
    p.add_argument("--seed", type=int, default=7, help="same seed, same data (default 7)")
    p.add_argument("--lenient", action="store_true",
                   help="ignore undocumented filters, sorts and parameters, as Procore is reported to "
                        "(default: strict, answer 400 naming what Procore's reference does not document)")
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, metavar="MS",
                   help="added to every API request")
    g = p.add_argument_group("rate limits, per access token (answers carry X-Rate-Limit-* headers)")
    g.add_argument("--hourly-limit", type=_number(1, 10_000_000), default=3600, metavar="N",
                   help="requests per hour (default 3600)")
    spike = g.add_mutually_exclusive_group()
    spike.add_argument("--spike-limit", type=_number(1, 10_000_000), default=100, metavar="N",
                       help="requests per spike window (default 100)")
    spike.add_argument("--documented-spike-limit", action="store_true",
                       help=f"Procore's documented example: {DOCUMENTED_SPIKE_LIMIT} requests per "
                            f"{SPIKE_SECONDS} s")
    g.add_argument("--spike-seconds", type=_number(1, 3600), default=SPIKE_SECONDS, metavar="S",
                   help=f"length of the spike window (default {SPIKE_SECONDS})")
    g.add_argument("--no-retry-after", action="store_true",
                   help="429 answers carry only X-Rate-Limit-Reset, no Retry-After (as Procore's rate-limit "
                        "page documents)")
    g = p.add_argument_group("faults to rehearse (API requests only, never OAuth; 0 = off)")
    for flag, field, low, text in FAULT_OPTIONS:
        g.add_argument(flag, dest=field, type=_number(low, 1_000_000_000), metavar="N", help=text)
    g.add_argument("--token-lifetime", type=_number(1, 1_000_000_000), default=5400, metavar="SECONDS",
                   help="access token lifetime (default 5400: Procore's 90 minutes)")
    g.add_argument("--clock-skew", type=_number(-86_400, 86_400), default=0, metavar="SECONDS",
                   help="the Date header runs this far ahead of the updated_at stamps (negative: behind)")


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo.xlsx", metavar="FILE", help="the workbook to write (default demo.xlsx)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000), default=25, metavar="N",
                   help="sandbox size (default 25, as `procore-xl sandbox` serves); the RFI roll-ups make "
                        "one request per RFI")
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, metavar="MS",
                   help="added to every API request")

