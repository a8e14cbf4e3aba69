"""The reporting database's data contract (v1) as SQLAlchemy Core tables and allowed values.

The dashboard only reads these tables; `queries.demo` is the one place that creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.dialects import sqlite


class _SqliteTimestamp(TypeDecorator):
    """A contract TIMESTAMP on SQLite, which keeps it as text.

    Written and bound in one fixed 'YYYY-MM-DD HH:MM:SS' form. Another writer may have stored
    '2026-11-30T20:05:33', '...Z' or fractions: a selected column is read through `datetime()`
    (the canonical form) before Python parses it, and every comparison or conversion goes
    through `queries.dialect.normalised`, which does the same inside the query.
    """

    impl = sqlite.DATETIME(
        storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d",
        regexp=r"(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)(?:\.(\d+))?",
    )
    cache_ok = True

    def column_expression(self, column):
        return func.datetime(column, type_=self)


class _SqliteDate(TypeDecorator):
    """A contract DATE on SQLite: a selected column is read through `date()`, so a date written
    with a time part ('2026-11-30T00:00:00') parses as the date (see `_SqliteTimestamp`)."""

    impl = sqlite.DATE
    cache_ok = True

    def column_expression(self, column):
        return func.date(column, type_=self)


# The types of the contract's TIMESTAMP and DATE columns: the engine's own, but on SQLite with
# the canonical reads above. PostgreSQL's SQL is untouched.
Timestamp = DateTime().with_variant(_SqliteTimestamp(), "sqlite")
Day = Date().with_variant(_SqliteDate(), "sqlite")

metadata = MetaData()

SETTLEMENT_TYPES = ("estate", "informal_settlement", "gated_community", "village", "mixed")
RA_STATUSES = ("active", "dormant", "suspended")
FORUM_TYPES = (
    "ra_meeting",
    "security_baraza",
    "joint_patrol_briefing",
    "youth_forum",
    "faith_forum",
)
INCIDENT_CATEGORIES = (
    "theft",
    "burglary",
    "robbery",
    "assault",
    "gbv",
    "drugs_alcohol",
    "vandalism",
    "fraud",
    "suspicious_activity",
    "public_disorder",
    "other",
)
INCIDENT_CHANNELS = (
    "hatua_app",
    "ra_forum",
    "police_station",
    "chief_office",
    "private_security",
    "hotline",
)
SEVERITIES = ("low", "medium", "high")
INCIDENT_STATUSES = ("reported", "acknowledged", "actioned", "resolved", "dismissed")
OPEN_INCIDENT_STATUSES = ("reported", "acknowledged", "actioned")
RESPONDERS = ("police", "ngao", "private_security", "ra", "nacada", "other")
TRAINING_TOPICS = (
    "community_policing",
    "drug_abuse_prevention",
    "incident_reporting",
    "conflict_resolution",
    "gbv_response",
    "first_aid",
    "legal_rights",
)
TRAINING_AUDIENCES = (
    "residents",
    "private_security",
    "ngao",
    "police",
    "youth",
    "faith_leaders",
    "mixed",
)
TRAINING_PARTNERS = (
    "ministry_interior",
    "nacada",
    "psra",
    "national_police",
    "county_government",
    "ngo",
)
CENTRE_KINDS = ("community_based", "public", "private")
REFERRAL_SOURCES = (
    "faith_institution",
    "peer_outreach",
    "residents_association",
    "police",
    "ngao",
    "family",
    "self",
    "health_facility",
    "school",
)
SUBSTANCES = (
    "alcohol",
    "cannabis",
    "khat",
    "heroin",
    "prescription",
    "tobacco",
    "multiple",
    "other",
)
SEXES = ("female", "male", "unknown")
AGE_BANDS = ("under_15", "15_19", "20_24", "25_34", "35_49", "50_plus")
YOUTH_AGE_BANDS = ("15_19", "20_24", "25_34")
REFERRAL_STATUSES = ("referred", "assessed", "admitted", "completed", "dropped_out", "declined")
ADMITTED_REFERRAL_STATUSES = ("admitted", "completed", "dropped_out")

# Enumerated columns and their allowed values, for validation and the data-quality checks.
ALLOWED_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("residents_associations", "settlement_type"): SETTLEMENT_TYPES,
    ("residents_associations", "status"): RA_STATUSES,
    ("forums", "forum_type"): FORUM_TYPES,
    ("incidents", "category"): INCIDENT_CATEGORIES,
    ("incidents", "channel"): INCIDENT_CHANNELS,
    ("incidents", "severity"): SEVERITIES,
    ("incidents", "status"): INCIDENT_STATUSES,
    ("incidents", "responder"): RESPONDERS,
    ("trainings", "topic"): TRAINING_TOPICS,
    ("trainings", "audience"): TRAINING_AUDIENCES,
    ("trainings", "partner"): TRAINING_PARTNERS,
    ("rehab_centres", "kind"): CENTRE_KINDS,
    ("rehab_referrals", "source"): REFERRAL_SOURCES,
    ("rehab_referrals", "substance"): SUBSTANCES,
    ("rehab_referrals", "sex"): SEXES,
    ("rehab_referrals", "age_band"): AGE_BANDS,
    ("rehab_referrals", "status"): REFERRAL_STATUSES,
}


def _updated_at() -> Column:
    return Column("updated_at", Timestamp, nullable=True)


counties = Table(
    "counties",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("population", Integer, nullable=False),
    Column("area_km2", Float, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("programme_start", Day, nullable=True),
    _updated_at(),
)

wards = Table(
    "wards",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("county_code", Text, ForeignKey("counties.code"), nullable=False, index=True),
    Column("constituency", Text, nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    _updated_at(),
)

residents_associations = Table(
    "residents_associations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("county_code", Text, ForeignKey("counties.code"), nullable=False, index=True),
    Column("ward_code", Text, ForeignKey("wards.code"), nullable=True),
    Column("settlement_type", Text, nullable=False),
    Column("registered_on", Day, nullable=False),
    Column("status", Text, nullable=False),
    Column("members", Integer, nullable=False),
    _updated_at(),
)

forums = Table(
    "forums",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("ra_id", Integer, ForeignKey("residents_associations.id"), nullable=True),
    Column("county_code", Text, nullable=False),
    Column("ward_code", Text, nullable=True),
    Column("held_on", Day, nullable=False, index=True),
    Column("forum_type", Text, nullable=False),
    Column("attendance", Integer, nullable=False),
    Column("police_present", Boolean(create_constraint=False), nullable=False),
    Column("ngao_present", Boolean(create_constraint=False), nullable=False),
    Column("private_security_present", Boolean(create_constraint=False), nullable=False),
    Column("actions_agreed", Integer, nullable=False),
    _updated_at(),
)

ra_monthly_reports = Table(
    "ra_monthly_reports",
    metadata,
    Column("ra_id", Integer, ForeignKey("residents_associations.id"), nullable=False),
    Column("month", Day, nullable=False, index=True),
    Column("submitted_on", Day, nullable=True),
    PrimaryKeyConstraint("ra_id", "month"),
    _updated_at(),
)

incidents = Table(
    "incidents",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("reported_at", Timestamp, nullable=False, index=True),
    Column("occurred_at", Timestamp, nullable=True),
    Column("county_code", Text, nullable=False),
    Column("ward_code", Text, nullable=True),
    Column("ra_id", Integer, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("category", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("acknowledged_at", Timestamp, nullable=True),
    Column("resolved_at", Timestamp, nullable=True),
    Column("responder", Text, nullable=True),
    _updated_at(),
)

trainings = Table(
    "trainings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("county_code", Text, nullable=False, index=True),
    Column("ward_code", Text, nullable=True),
    Column("held_on", Day, nullable=False),
    Column("topic", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("partner", Text, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("participants_female", Integer, nullable=False),
    Column("participants_youth", Integer, nullable=False),
    Column("certified", Integer, nullable=False),
    _updated_at(),
)

security_firms = Table(
    "security_firms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("county_code", Text, nullable=False),
    Column("officers_registered", Integer, nullable=False),
    Column("partnered_on", Day, nullable=True),
    _updated_at(),
)

rehab_centres = Table(
    "rehab_centres",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("county_code", Text, nullable=False),
    Column("ward_code", Text, nullable=True),
    Column("opened_on", Day, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    _updated_at(),
)

rehab_referrals = Table(
    "rehab_referrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("referred_on", Day, nullable=False, index=True),
    Column("county_code", Text, nullable=False),
    Column("ward_code", Text, nullable=True),
    Column("centre_id", Integer, ForeignKey("rehab_centres.id"), nullable=True),
    Column("source", Text, nullable=False),
    Column("substance", Text, nullable=False),
    Column("sex", Text, nullable=False),
    Column("age_band", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("assessed_on", Day, nullable=True),
    Column("admitted_on", Day, nullable=True),
    Column("completed_on", Day, nullable=True),
    _updated_at(),
)

targets = Table(
    "targets",
    metadata,
    Column("county_code", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period_start", Day, nullable=False),
    Column("period_end", Day, nullable=False),
    Column("target", Float, nullable=False),
    PrimaryKeyConstraint("county_code", "indicator", "period_start"),
)

CONTRACT_TABLES: tuple[str, ...] = tuple(metadata.tables)


def primary_key_names(table: Table) -> list[str]:
    """The names of a contract table's key columns, in key order."""
    return [column.name for column in table.primary_key.columns]
