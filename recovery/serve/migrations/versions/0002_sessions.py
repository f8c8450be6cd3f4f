"""Sessions kept by the server: a clinician's login is a row, ended on logout or when the user's
password changes or the user is removed; the browser's cookie holds only a random key to it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created", stamp, nullable=False),
        sa.Column("seen", stamp, nullable=False),
        sa.Column("ended", stamp, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sessions")
