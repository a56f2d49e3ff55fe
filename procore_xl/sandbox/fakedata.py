"""Realistic fake values: names, companies, money strings, dates, text (with unicode and formula-like text).

``Gen`` wraps one ``random.Random`` seeded for one record, so each record is reproducible on its own.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

FIRST_NAMES = [
    "Dana", "Miguel", "Aisha", "Jürgen", "Zoë", "Hiroshi", "Priya", "Liam", "Chloé", "Olusegun",
    "Mei", "Ólafur", "Sofia", "Kwame", "Ingrid", "Mateo", "Yuki", "Fatima", "Noah", "Élodie",
    "Raj", "Grace", "Björn", "Lucía", "Tomás", "Hannah", "Wei", "Siobhán", "Andrés", "Nadia",
]
LAST_NAMES = [
    "Reyes", "Okafor", "Müller", "Tanaka", "Nguyen", "O'Brien", "García", "Schmidt", "Kowalski",
    "Johansson", "Patel", "Dubois", "Rossi", "Kim", "Novák", "Haddad", "Silva", "Fischer", "Larsen",
    "Ødegaard", "Brown", "Wang", "Sato", "Martínez", "Cohen", "Fernández", "Walker", "田中", "Smith",
]
VENDOR_NAMES = [
    "Apex Concrete Co.", "Bayside Electric LLC", "Müller Elektrotechnik GmbH", "Summit Steel Erectors",
    "Pacific Glazing & Curtainwall", "日本建設株式会社", "Café Concrete 🏗️ LLC", "Northgate Plumbing",
    "Ironclad Fire Protection", "Evergreen Landscaping", "Precision HVAC Services", "Øresund Structural AB",
    "Keystone Drywall", "Blue Ridge Roofing", "Crescent Elevator Co.", "Delta Earthworks",
    "Granite State Masonry", "Lumière Lighting Design", "Redwood Millwork", "Sterling Waterproofing",
    "Titan Cranes & Rigging", "Urban Paving Partners", "Vanguard Insulation", "Westshore Painting",
]
TRADES = [
    "Concrete", "Electrical", "Plumbing", "HVAC", "Drywall", "Roofing", "Masonry", "Glazing",
    "Structural Steel", "Fire Protection", "Painting", "Earthwork", "Elevators", "Landscaping",
]
WORDS = [
    "beam", "column", "slab", "footing", "rebar", "conduit", "duct", "riser", "curtain wall", "anchor",
    "embed", "shaft", "stair", "canopy", "parapet", "membrane", "joist", "header", "sleeve", "damper",
    "level 3", "grid B/4", "north elevation", "roof", "lobby", "garage", "mezzanine", "core wall",
]
SUBJECT_TEMPLATES = [
    "Clarify {w} dimension at {w2}", "Conflict between {w} and {w2}", "Substitution request: {w}",
    "Missing detail for {w} at {w2}", "Confirm {w} elevation", "Coordination of {w} with {w2}",
    "Revised {w} layout", "{w} finish schedule — Bauherr approval?", "Déjà vu: {w} resubmitted",
    "日本 supplier lead time for {w}",
]
# Text that a spreadsheet would take for a formula unless written as text.
FORMULA_LIKE = [
    "=SUM(A1:A9) check", "+1 (555) 010-2000 call back", "-3 days schedule slip", "@channel please review",
    "=HYPERLINK(\"http://example.com\")",
]
# Text real records carry that naive writers get wrong: a carriage return alone (an old Mac line
# end pasted from an e-mail) and a lone UTF-16 surrogate (JSON can carry the escape "\\ud800";
# UTF-8 cannot encode it).
AWKWARD_TEXT = ["Riser clash at level 3\rsee markup SK-4", "Sleeve size \ud800 per field note"]
# A custom field label of company 8002 (Coastal Civil Group) that a spreadsheet would run as a formula.
FORMULA_LIKE_LABEL = "+/- Cost Variance"
EMOJI = ["🏗️", "✅", "⚠️", "🔧", "📐"]
STREETS = ["Harbor Way", "Market St", "Königstraße", "Rue de Rivoli", "Ocean Ave", "Pine St", "Main St"]
CITIES = [("San Francisco", "CA", "US", "94105"), ("Seattle", "WA", "US", "98101"),
          ("Austin", "TX", "US", "78701"), ("Boston", "MA", "US", "02110"), ("Denver", "CO", "US", "80202")]

EPOCH_UTC = timezone.utc


def iso_ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(d: date) -> str:
    return d.isoformat()


class Gen:
    """Random values for one record."""

    def __init__(self, *key: object):
        self.rng = random.Random(":".join(str(k) for k in key))

    # -- primitives
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def int(self, lo: int, hi: int) -> int:
        return lo + int(self.rng.random() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def sample(self, seq, k: int) -> list:
        return self.rng.sample(list(seq), min(k, len(seq)))

    def maybe(self, value, p_null: float = 0.2):
        return None if self.chance(p_null) else value

    # -- people and companies
    def person_name(self) -> str:
        return f"{self.pick(FIRST_NAMES)} {self.pick(LAST_NAMES)}"

    def vendor_name(self) -> str:
        return self.pick(VENDOR_NAMES)

    # -- money and numbers
    def money(self, lo: float = 100, hi: float = 250_000) -> str:
        return f"{self.rng.uniform(lo, hi):.2f}"

    def amount(self, lo: float = 100, hi: float = 250_000) -> float:
        return round(self.rng.uniform(lo, hi), 2)

    # -- time
    def day_between(self, start: date, end: date) -> date:
        span = max((end - start).days, 0)
        return start + timedelta(days=self.int(0, span))

    def moment(self, day: date) -> datetime:
        seconds = self.int(6 * 3600, 19 * 3600)
        return datetime.combine(day, time(0, 0), tzinfo=timezone.utc) + timedelta(seconds=seconds)

    def ts(self, day: date) -> str:
        """An ISO 8601 UTC timestamp during the working hours of ``day``."""
        seconds = self.int(6 * 3600, 19 * 3600)
        return f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"

    def ts_between(self, start: date, end: date) -> str:
        return self.ts(self.day_between(start, end))

    # -- text
    def subject(self, index: int) -> str:
        if index % 37 == 5:
            return FORMULA_LIKE[(index // 37) % len(FORMULA_LIKE)]
        if index % 53 == 11:                 # indexes 11, 64, 117, 170...: one CR, one surrogate...
            return AWKWARD_TEXT[(index // 53) % len(AWKWARD_TEXT)]
        text = self.pick(SUBJECT_TEMPLATES).format(w=self.pick(WORDS), w2=self.pick(WORDS))
        if index % 23 == 7:
            text += " " + self.pick(EMOJI)
        return text

    def sentence(self, words: int = 8) -> str:
        text = " ".join(self.rng.choices(WORDS, k=words))
        return text[0].upper() + text[1:] + "."

    def address(self) -> dict:
        city, state, country, zip_code = self.pick(CITIES)
        return {"address": f"{self.int(1, 999)} {self.pick(STREETS)}", "city": city,
                "state_code": state, "country_code": country, "zip": zip_code}
