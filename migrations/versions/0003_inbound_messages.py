"""Inbound messages by provider id, so that an opt-out word is acted on once

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 21:05:00

A signed STOP replayed after a START would otherwise opt the number out again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_inbound_messages_provider_id")),
    )


def downgrade():
    op.drop_table("inbound_messages")
