"""Tables of the County profile page: the scorecard and the ward table, as people read them."""

from __future__ import annotations

import pandas as pd

from dashboard import formatting
from queries.indicators import INDICATOR_BY_KEY

RANK_COLUMN = "Rank among counties with data (1 = best)"
RANK_NOTE = (
    "Rank among the counties with data: 1 = best; where more is neither better nor worse "
    "(counts of activity), 1 = highest, and the rank says so."
)


def scorecard_table(scorecard: pd.DataFrame, county_name: str, threshold: int) -> pd.DataFrame:
    """Indicator | county | rank | Kenya, with units and the privacy rule's labels. The rank
    comes second among the figures and reads short ('3 of 47'), so that a phone shows it
    beside the county's value without scrolling sideways."""
    rows = []
    for _, row in scorecard.iterrows():
        indicator = INDICATOR_BY_KEY[row["indicator"]]
        # No-break spaces keep "4 of 47" and "(1 =" whole: a phone's narrow column breaks the
        # cell as "4 of 47" / "(1 =" / "highest)", never inside the rank. "(1 = highest)" whole
        # made the column 92 px; with 'Suppressed' in both value columns the four no longer
        # fitted a 390 px phone.
        neutral = " (1\u00a0= highest)" if indicator.higher_is_better is None else ""
        rank = (
            f"{int(row['rank'])}\u00a0of\u00a0{row['ranked_counties']}{neutral}"
            if pd.notna(row["rank"])
            else "–"
        )
        covers = row["period_note"]
        rows.append(
            {
                "Indicator": indicator.label
                if pd.isna(covers)
                else f"{indicator.label} ({covers})",
                county_name: formatting.indicator_value(
                    indicator, row["county_value"], bool(row["county_suppressed"]), threshold
                ),
                RANK_COLUMN: rank,
                "Kenya": formatting.indicator_value(
                    indicator, row["national_value"], bool(row["national_suppressed"]), threshold
                ),
            }
        )
    return pd.DataFrame(rows)


def scorecard_download(scorecard: pd.DataFrame, county_code: str) -> pd.DataFrame:
    """The scorecard as downloaded: one row per indicator, unrounded values in the indicator's
    unit, rank and direction apart; `_suppressed` / `_small` flags so that the download labels
    a hidden count '<5' and any other hidden value 'suppressed', as the screen does."""
    indicators = [INDICATOR_BY_KEY[key] for key in scorecard["indicator"]]
    small = [indicator.kind == "count" for indicator in indicators]
    hidden_county = scorecard["county_suppressed"].astype(bool).to_numpy()
    hidden_kenya = scorecard["national_suppressed"].astype(bool).to_numpy()
    return pd.DataFrame(
        {
            "indicator": scorecard["indicator"].to_numpy(),
            "label": [indicator.label for indicator in indicators],
            "unit": [indicator.unit for indicator in indicators],
            "county_code": county_code,
            "county_value": scorecard["county_value"].to_numpy(),
            "county_value_suppressed": hidden_county,
            "county_value_small": small,
            "kenya_value": scorecard["national_value"].to_numpy(),
            "kenya_value_suppressed": hidden_kenya,
            "kenya_value_small": small,
            "rank": scorecard["rank"].astype("Int64").to_numpy(),
            "ranked_counties": scorecard["ranked_counties"].to_numpy(),
            "rank_1_is": [
                {True: "best", False: "lowest", None: "highest"}[indicator.higher_is_better]
                for indicator in indicators
            ],
        }
    )


def ward_table(wards: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """One row per ward: incidents, resolution, open cases, RAs, forums, training, referrals.
    Two wards of one name (Nakuru has two Biasharas) are told apart by their codes."""
    twin = wards["ward_name"].duplicated(keep=False)
    names = wards["ward_name"].where(~twin, wards["ward_name"] + " (" + wards["ward_code"] + ")")
    return pd.DataFrame(
        {
            "Ward": names,
            "Incidents": wards["incidents_reported"],
            "Resolved %": wards["incidents_resolved_pct"].round(1),
            "Open incidents": wards["open_incidents"],
            "Registered RAs": wards["ras_registered"],
            "Active RAs": wards["ras_active"],
            "Forums": wards["forums_held"],
            "People trained": wards["people_trained"],
            "Rehab referrals": formatting.count_cells(wards, "rehab_referrals", threshold),
        }
    ).sort_values("Incidents", ascending=False, kind="stable")
