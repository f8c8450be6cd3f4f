"""Each protocol version a revision was made from, kept once: the revision names it by its hash,
so that every page, handout and feed of a revision is made from the same protocol, whatever the
file on disk says now.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "protocol_snapshots",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("family", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("protocol_snapshots")
