"""What follows an assessment: on-site assessments and contacts, and pathways

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:20:00

An on-site assessment keeps a reference and coded facts only. A pathway hangs off exactly one
assessment (an attended booking, an on-site assessment, or a completed suitability assessment)
and copies its reference, place and local date, so the figures are counted from it alone.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "on_site_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('required_initial', 'required_follow_up', 'voluntary', 'contact_only')",
            name=op.f("ck_on_site_assessments_kind_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["blocks.id"], name=op.f("fk_on_site_assessments_place_id_blocks")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_on_site_assessments_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_on_site_assessments")),
        sa.UniqueConstraint("reference", name=op.f("uq_on_site_assessments_reference")),
    )
    with op.batch_alter_table("on_site_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_on_site_assessments_assessed_at", ["assessed_at"], unique=False)

    op.create_table(
        "pathways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("on_site_assessment_id", sa.Integer(), nullable=True),
        sa.Column("suitability_assessment_id", sa.Integer(), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("naloxone", sa.String(length=20), nullable=True),
        sa.Column("harm_reduction", sa.Boolean(), nullable=True),
        sa.Column("referred", sa.Boolean(), nullable=True),
        sa.Column("referral_area", sa.String(length=20), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=True),
        sa.Column("entry", sa.String(length=20), nullable=True),
        sa.Column("entered_on", sa.Date(), nullable=True),
        sa.Column("non_conversion_reason", sa.String(length=30), nullable=True),
        sa.Column("not_converted_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closure_reason", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(COALESCE(entry, '') = 'not_converted') = (non_conversion_reason IS NOT NULL)",
            name=op.f("ck_pathways_reason_when_not_converted"),
        ),
        sa.CheckConstraint(
            "closure_reason IN ('treatment_entered', 'no_further_action', 'transferred', 'disengaged', 'custody', 'other')",
            name=op.f("ck_pathways_closure_reason_allowed"),
        ),
        sa.CheckConstraint(
            "entry IN ('awaiting', 'entered', 'not_converted')",
            name=op.f("ck_pathways_entry_allowed"),
        ),
        sa.CheckConstraint(
            "naloxone IN ('issued', 'declined', 'already_has', 'not_appropriate')",
            name=op.f("ck_pathways_naloxone_allowed"),
        ),
        sa.CheckConstraint(
            "non_conversion_reason IN ('did_not_attend', 'declined', 'unable_to_contact', 'moved_away', 'custody', 'provider_declined', 'died', 'already_in_treatment', 'other')",
            name=op.f("ck_pathways_non_conversion_reason_allowed"),
        ),
        sa.CheckConstraint(
            "referral_area IN ('birmingham', 'coventry', 'dudley', 'sandwell', 'solihull', 'walsall', 'wolverhampton', 'out_of_area', 'unknown')",
            name=op.f("ck_pathways_referral_area_allowed"),
        ),
        sa.CheckConstraint(
            "(CASE WHEN booking_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN on_site_assessment_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN suitability_assessment_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_pathways_one_assessment"),
        ),
        sa.CheckConstraint(
            "(closed_on IS NULL) = (closure_reason IS NULL)",
            name=op.f("ck_pathways_closed_with_reason"),
        ),
        sa.CheckConstraint(
            "COALESCE(referred, false) OR (referral_area IS NULL AND referred_on IS NULL AND entry IS NULL)",
            name=op.f("ck_pathways_referral_facts_need_referral"),
        ),
        sa.CheckConstraint(
            "entered_on IS NULL OR entered_on >= referred_on", name=op.f("ck_pathways_entry_after")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_pathways_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["on_site_assessment_id"],
            ["on_site_assessments.id"],
            name=op.f("fk_pathways_on_site_assessment_id_on_site_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["blocks.id"], name=op.f("fk_pathways_place_id_blocks")
        ),
        sa.ForeignKeyConstraint(
            ["suitability_assessment_id"],
            ["suitability_assessments.id"],
            name=op.f("fk_pathways_suitability_assessment_id_suitability_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_pathways_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathways")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_pathways_booking_id")),
        sa.UniqueConstraint(
            "on_site_assessment_id", name=op.f("uq_pathways_on_site_assessment_id")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_pathways_reference")),
        sa.UniqueConstraint(
            "suitability_assessment_id", name=op.f("uq_pathways_suitability_assessment_id")
        ),
    )
    with op.batch_alter_table("pathways", schema=None) as batch_op:
        batch_op.create_index("ix_pathways_assessed_on", ["assessed_on"], unique=False)
        batch_op.create_index("ix_pathways_closed_on", ["closed_on"], unique=False)
        batch_op.create_index("ix_pathways_entered_on", ["entered_on"], unique=False)
        batch_op.create_index("ix_pathways_not_converted_on", ["not_converted_on"], unique=False)
        batch_op.create_index("ix_pathways_referred_on", ["referred_on"], unique=False)


def downgrade():
    with op.batch_alter_table("pathways", schema=None) as batch_op:
        batch_op.drop_index("ix_pathways_referred_on")
        batch_op.drop_index("ix_pathways_not_converted_on")
        batch_op.drop_index("ix_pathways_entered_on")
        batch_op.drop_index("ix_pathways_closed_on")
        batch_op.drop_index("ix_pathways_assessed_on")

    op.drop_table("pathways")
    with op.batch_alter_table("on_site_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_on_site_assessments_assessed_at")

    op.drop_table("on_site_assessments")
