"""Configuration of the sandbox: what to generate, how fast to answer, which faults to inject."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

# `procore-xl sandbox` listens here by default: not 8765, the port of the default sign-in redirect
# URI (http://localhost:8765/callback), so `procore-xl login` and the sandbox run side by side.
DEFAULT_PORT = 8766
# The demo's data, which `procore-xl sandbox` serves by default too: a workbook the demo wrote
# refreshes against it without its data changing.
DEMO_RFIS_PER_PROJECT = 25


@dataclass
class Faults:
    """Fault knobs, mutable while the server runs. ``0``/``None`` turns a knob off.

    Faults apply to API paths (``/rest/...``) only, never to OAuth. Counters count API requests.
    """

    latency_ms: int = 0                 # sleep this long in the handler thread before answering
    rate_limit_every: int | None = None  # every Nth API request -> 429, Retry-After: 1
    retry_after: bool = True             # False: 429s carry only X-Rate-Limit-Reset (Procore's rate-limit page)
    unavailable_every: int | None = None  # every Nth API request starts a burst of 503s
    unavailable_burst: int = 1           # length of each 503 burst
    drop_every: int | None = None        # every Nth API request: close the connection, no response
    token_dies_after: int | None = None  # an access token becomes invalid after N uses (401)
    malformed_every: int | None = None   # every Nth API request: 200 with a truncated JSON body
    gone_paths: frozenset[str] = frozenset()  # these API paths answer 404 (records deleted since listed)
    clock_skew_seconds: int = 0          # the Date header runs this far ahead (negative: behind) of updated_at
    # hostile or broken answers (200s), every Nth API request:
    gzip_bomb_every: int | None = None   # a gzip body that expands to gzip_bomb_mib MiB of JSON whitespace
    gzip_bomb_mib: int = 1024
    huge_total_every: int | None = None  # a list answer whose Total header says 1,000,000,000
    deep_nesting_every: int | None = None  # a list of one record with a field nested 10,000 levels deep
    object_body_every: int | None = None  # a list answer's first record alone: an object where a list is documented
    scalar_list_every: int | None = None  # a list answer of [1, "two", null]: not records

    def copy(self) -> "Faults":
        return dataclasses.replace(self)


@dataclass
class SandboxConfig:
    port: int = 0                        # 0 = pick a free port
    host: str = "127.0.0.1"
    scale: int = 1                       # multiplies record counts (RFIs per project = 200 * scale)
    seed: int = 7                        # same seed -> same data
    latency_ms: int = 0                  # initial faults.latency_ms when faults.latency_ms is 0
    faults: Faults = field(default_factory=Faults)
    rfis_per_project: int | None = None  # exact RFI count of every readable project (overrides scale)
    today: date | None = None            # "today" of the generated world (daily logs); None = date.today()
    rate_limit_hourly: int = 3600        # requests per access token per hour
    rate_limit_spike: int = 100          # requests per access token per spike window
    rate_limit_spike_seconds: int = 10   # length of the spike window
    access_token_ttl: int = 5400         # seconds (Procore: 90 minutes)
    code_ttl: int = 600                  # authorization code lifetime, seconds (Procore: 10 minutes)
    quiet: bool = True                   # no per-request log lines on stderr
    # Procore's reference: a Developer Managed Service Account (client credentials) must send the
    # Procore-Company-Id header even on /me and /companies.
    service_account_needs_company_header: bool = True
    # strict: 400 for any request the published reference does not document (undocumented path,
    # parameter, filter, sort or view value, missing required parameter or company header).
    # lenient (strict=False, the demo): undocumented filters, sorts and parameters are ignored.
    strict: bool = True
    # documented fields left out of every answer until World.release (a field Procore starts
    # sending later), as "entity.field", e.g. ("rfis.reference",)
    withheld_fields: tuple[str, ...] = ()
