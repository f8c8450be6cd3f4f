"""The first tables: users, API keys, plans, revisions, feed tokens, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created", stamp, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", stamp, nullable=False),
        sa.Column("revoked", stamp, nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("plan_id", sa.String(100), nullable=False, index=True),
        sa.Column("protocol", sa.String(100), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created", stamp, nullable=False),
        sa.Column("deleted", stamp, nullable=True),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("created", stamp, nullable=False),
        sa.Column("who", sa.String(300), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("protocol_version", sa.String(100), nullable=False),
        sa.Column("protocol_hash", sa.String(64), nullable=False),
        sa.Column("calendar", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.UniqueConstraint("plan", "number"),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", stamp, nullable=False),
        sa.Column("revoked", stamp, nullable=True),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", stamp, nullable=False, index=True),
        sa.Column("who", sa.String(300), nullable=False),
        sa.Column("action", sa.String(40), nullable=False, index=True),
        sa.Column("plan", sa.Integer, sa.ForeignKey("plans.id"), nullable=True, index=True),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "feed_tokens", "revisions", "plans", "api_keys", "users"):
        op.drop_table(table)
