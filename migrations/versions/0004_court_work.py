"""Court work: courts as places beside custody blocks, and suitability assessments

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00

A court is a block of kind `court`, so court duty is rostered like custody cover; every
existing block is a custody block. Suitability assessments keep each adjournment as a row of
its own; an appointment booked for one has the requirement `suitability`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REQUIREMENTS_BEFORE = "requirement IN ('initial', 'follow_up', 'voluntary')"
REQUIREMENTS_AFTER = "requirement IN ('initial', 'follow_up', 'voluntary', 'suitability')"


def upgrade():
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="custody", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_blocks_kind_allowed"), "kind IN ('custody', 'court')"
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_requirement_allowed"), type_="check")
        batch_op.create_check_constraint(op.f("ck_bookings_requirement_allowed"), REQUIREMENTS_AFTER)

    op.create_table(
        "suitability_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("court_id", sa.Integer(), nullable=False),
        sa.Column("hearing_date", sa.Date(), nullable=False),
        sa.Column("listed_for", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=2), nullable=False),
        sa.Column("requested_by", sa.String(length=20), nullable=False),
        sa.Column("setting", sa.String(length=20), nullable=False),
        sa.Column("arrest_block_id", sa.Integer(), nullable=True),
        sa.Column("custody_record", sa.String(length=40), nullable=True),
        sa.Column("person_name", sa.String(length=100), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("drr", sa.String(length=20), nullable=True),
        sa.Column("atr", sa.String(length=20), nullable=True),
        sa.Column("willing", sa.Boolean(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_completed_reason", sa.String(length=20), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sentence", sa.String(length=30), nullable=True),
        sa.Column("sentenced_on", sa.Date(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "atr IN ('suitable', 'not_suitable', 'not_assessed')",
            name=op.f("ck_suitability_assessments_atr_allowed"),
        ),
        sa.CheckConstraint(
            "drr IN ('suitable', 'not_suitable', 'not_assessed')",
            name=op.f("ck_suitability_assessments_drr_allowed"),
        ),
        sa.CheckConstraint(
            "not_completed_reason IN ('declined', 'not_produced', 'unfit', 'no_time', 'other')",
            name=op.f("ck_suitability_assessments_not_completed_reason_allowed"),
        ),
        sa.CheckConstraint(
            "requested_by IN ('probation', 'bench', 'defence', 'worker')",
            name=op.f("ck_suitability_assessments_requested_by_allowed"),
        ),
        sa.CheckConstraint(
            "sentence IN ('drr', 'atr', 'drr_and_atr', 'other_community_order', 'custody', "
            "'other', 'not_known')",
            name=op.f("ck_suitability_assessments_sentence_allowed"),
        ),
        sa.CheckConstraint(
            "session IN ('am', 'pm')", name=op.f("ck_suitability_assessments_session_allowed")
        ),
        sa.CheckConstraint(
            "setting IN ('custody', 'court')",
            name=op.f("ck_suitability_assessments_setting_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'completed', 'not_completed', 'adjourned')",
            name=op.f("ck_suitability_assessments_status_allowed"),
        ),
        sa.CheckConstraint(
            "setting <> 'custody' OR arrest_block_id IS NOT NULL",
            name=op.f("ck_suitability_assessments_custody_has_arrest_block"),
        ),
        sa.ForeignKeyConstraint(
            ["arrest_block_id"],
            ["blocks.id"],
            name=op.f("fk_suitability_assessments_arrest_block_id_blocks"),
        ),
        sa.ForeignKeyConstraint(
            ["court_id"], ["blocks.id"], name=op.f("fk_suitability_assessments_court_id_blocks")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_suitability_assessments_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suitability_assessments")),
        sa.UniqueConstraint("reference", name=op.f("uq_suitability_assessments_reference")),
    )
    with op.batch_alter_table("suitability_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suitability_assessments_court_listed", ["court_id", "listed_for"], unique=False
        )

    op.create_table(
        "suitability_adjournments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("hearing_date", sa.Date(), nullable=False),
        sa.Column("adjourned_to", sa.Date(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "adjourned_to > hearing_date",
            name=op.f("ck_suitability_adjournments_later_hearing"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["suitability_assessments.id"],
            name=op.f("fk_suitability_adjournments_assessment_id_suitability_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_suitability_adjournments_booking_id_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_suitability_adjournments_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suitability_adjournments")),
    )
    with op.batch_alter_table("suitability_adjournments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suitability_adjournments_assessment_id"),
            ["assessment_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("suitability_adjournments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suitability_adjournments_assessment_id"))
    op.drop_table("suitability_adjournments")
    with op.batch_alter_table("suitability_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_suitability_assessments_court_listed")
    op.drop_table("suitability_assessments")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_requirement_allowed"), type_="check")
        batch_op.create_check_constraint(op.f("ck_bookings_requirement_allowed"), REQUIREMENTS_BEFORE)

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_blocks_kind_allowed"), type_="check")
        batch_op.drop_column("kind")
