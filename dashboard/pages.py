"""The one registry of the dashboard's pages: navigation, each page's headline cards, and tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from queries.rehab import REHAB_HEADLINE_KEYS

VIEWS_DIR = Path(__file__).resolve().parent / "views"


@dataclass(frozen=True)
class Page:
    """One page of the dashboard.

    Attributes:
        title: the name in the navigation menu.
        file: the page's script, a file name under dashboard/views.
        url_path: the URL pathname, without slashes; the default page is served at the root URL
            instead, but Streamlit still keys the page by this path.
        icon: a Material icon, ':material/name:'.
        admin_only: shown only to users whose grant sees the data-quality checks.
        cards: the indicator keys of the page's headline cards, in order; empty for none.
        default: the landing page, served at the root URL.
    """

    title: str
    file: str
    url_path: str
    icon: str
    admin_only: bool = False
    cards: tuple[str, ...] = ()
    default: bool = False

    @property
    def script(self) -> Path:
        """The page's script as an absolute path, for `st.Page`."""
        return VIEWS_DIR / self.file

    @property
    def view(self) -> str:
        """The page's script relative to the entry point, as `AppTest.switch_page` takes it."""
        return f"views/{self.file}"

    @property
    def public_path(self) -> str:
        """The path a browser opens: '/' for the default page, else '/url_path'."""
        return "/" if self.default else f"/{self.url_path}"


OVERVIEW = Page(
    title="Overview",
    file="overview.py",
    url_path="overview",
    icon=":material/dashboard:",
    cards=(
        "incidents_reported",
        "incident_rate_per_100k",
        "incidents_resolved_7d_pct",
        "ras_active",
        "ra_reporting_rate",
        "people_trained",
        "rehab_referrals",
        "referral_admission_30d_pct",
    ),
    default=True,
)
INCIDENTS = Page(
    title="Incidents",
    file="incidents.py",
    url_path="incidents",
    icon=":material/report:",
    cards=(
        "incidents_reported",
        "incident_rate_per_100k",
        "incidents_resolved_7d_pct",
        "incidents_resolved_pct",
        "median_hours_to_acknowledge",
        "median_hours_to_resolve",
        "open_incidents",
    ),
)
ASSOCIATIONS = Page(
    title="Residents' Associations",
    file="associations.py",
    url_path="associations",
    icon=":material/groups:",
    cards=(
        "ras_registered",
        "ras_active",
        "ra_reporting_rate",
        "ra_on_time_rate",
        "forums_held",
        "forum_attendance",
        "joint_forum_pct",
    ),
)
TRAINING = Page(
    title="Training",
    file="training.py",
    url_path="training",
    icon=":material/school:",
    cards=(
        "people_trained",
        "trained_female_pct",
        "trained_youth_pct",
        "trained_certified_pct",
        "private_security_coverage_pct",
    ),
)
REHABILITATION = Page(
    title="Rehabilitation",
    file="rehabilitation.py",
    url_path="rehabilitation",
    icon=":material/healing:",
    # The page's cards come from `queries.indicators.rehab_headline`, which returns exactly these.
    cards=REHAB_HEADLINE_KEYS,
)
COUNTY_PROFILE = Page(
    title="County profile",
    file="county_profile.py",
    url_path="county",
    icon=":material/location_on:",
    cards=(
        "incidents_reported",
        "incidents_resolved_7d_pct",
        "open_incidents",
        "ras_active",
        "forums_held",
        "people_trained",
        "rehab_referrals",
        "referral_admission_30d_pct",
    ),
)
BRIEFING = Page(
    title="Briefing",
    file="briefing.py",
    url_path="briefing",
    icon=":material/slideshow:",
)
GLOSSARY = Page(
    title="Glossary",
    file="glossary.py",
    url_path="glossary",
    icon=":material/menu_book:",
)
DATA_QUALITY = Page(
    title="Data quality",
    file="data_quality.py",
    url_path="data-quality",
    icon=":material/rule:",
    admin_only=True,
)

# In navigation order.
PAGES: tuple[Page, ...] = (
    OVERVIEW,
    INCIDENTS,
    ASSOCIATIONS,
    TRAINING,
    REHABILITATION,
    COUNTY_PROFILE,
    BRIEFING,
    GLOSSARY,
    DATA_QUALITY,
)


def visible_pages(sees_data_quality: bool) -> tuple[Page, ...]:
    """The pages a user sees: every page, less the admin-only ones unless they may see them."""
    return tuple(page for page in PAGES if sees_data_quality or not page.admin_only)
