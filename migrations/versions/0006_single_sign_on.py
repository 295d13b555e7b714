"""Users who sign in with the force's OpenID Connect provider

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 16:40:00

Such a user is known by the provider's issuer and subject. They have no password, may have no
email address (the provider may not give one, or it may already be another user's), and have
no role until one is given.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column("role", existing_type=sa.String(length=20), nullable=True)
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
        batch_op.create_unique_constraint(
            "uq_users_oidc_identity", ["oidc_issuer", "oidc_subject"]
        )


def downgrade():
    # Users of the provider have no password nor, perhaps, a role or an email address, and the
    # audit trail names them: going back would lose who did what, so it is refused while any
    # is left (disable and remove them by hand first, if that is really wanted).
    provider_users = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM users WHERE oidc_subject IS NOT NULL")
    )
    if provider_users:
        raise RuntimeError(
            f"{provider_users} users sign in with the force's provider: 0006 cannot be undone"
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_oidc_identity", type_="unique")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("role", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
