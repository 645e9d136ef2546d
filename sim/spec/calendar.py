"""Dated events of 2027-2036 that the model uses: guarantor and US elections (ODD eq. 22).

Each election is a dated shock: in every world whose ceasefire holds on that day, with probability
``model.election_turnover``, the state's government becomes less committed (ODD eq. 22; section 3, step 0).
Dates are the scheduled or latest legal dates; where only a window is known, the date is the one
named in ``basis``. Later elections follow the fixed terms (France 5 years, UK at most 5,
Germany 4, US presidential 4).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Election:
    """One scheduled election of a guarantor (UK, FR, DE) or of the monitor (US)."""

    code: str
    date: datetime.date
    kind: str
    basis: str


ELECTIONS: tuple[Election, ...] = (
    Election("FR", datetime.date(2027, 4, 25), "presidential",
             "French presidential election, spring 2027 (two rounds, April-May); second round assumed 25 April 2027"),
    Election("US", datetime.date(2028, 11, 7), "presidential", "US presidential election, 7 November 2028"),
    Election("DE", datetime.date(2029, 3, 1), "federal",
             "German federal election due by spring 2029 (four-year term from the Bundestag elected 23 Feb 2025)"),
    Election("UK", datetime.date(2029, 8, 15), "general",
             "UK general election due by August 2029 (Parliament first met 9 July 2024; five-year limit)"),
    Election("FR", datetime.date(2032, 4, 25), "presidential", "five years after 2027"),
    Election("US", datetime.date(2032, 11, 2), "presidential", "US presidential election, 2 November 2032"),
    Election("DE", datetime.date(2033, 3, 1), "federal", "four years after 2029"),
    Election("UK", datetime.date(2034, 8, 15), "general", "at most five years after 2029"),
    Election("US", datetime.date(2036, 11, 4), "presidential", "US presidential election, 4 November 2036"),
)
"""Elections in date order."""


def election_days(start_date: datetime.date, horizon_days: int) -> list[tuple[int, str]]:
    """``(day, code)`` of every election on days 1..horizon_days after ``start_date``, in order."""
    days = [((e.date - start_date).days, e.code) for e in ELECTIONS]
    return [(day, code) for day, code in days if 1 <= day <= horizon_days]
