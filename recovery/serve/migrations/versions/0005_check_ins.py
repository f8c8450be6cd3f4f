"""Check-ins: what a patient reported each day (exercises done, pain during them, the morning
after, a warning sign), one row per plan and day; and on each plan what its stage's rule said
last (`attention`: advance, hold, step-back, red-flag, review or "", indexed for the clinic's list).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("done", sa.String(10), nullable=False),
        sa.Column("pain", sa.Integer, nullable=True),
        sa.Column("morning", sa.String(10), nullable=True),
        sa.Column("red_flag", sa.String(60), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan", "day", name="one_check_in_a_day"),
    )
    # ALTER TABLE … ADD COLUMN, which SQLite does in place (a batch would copy the table, which
    # the revisions' foreign key forbids).
    op.add_column("plans", sa.Column("attention", sa.String(20), nullable=False, server_default=""))
    op.add_column("plans", sa.Column("verdict", sa.JSON, nullable=True))
    op.create_index("plans_attention", "plans", ["attention"])


def downgrade() -> None:
    op.drop_index("plans_attention", "plans")
    op.drop_column("plans", "verdict")
    op.drop_column("plans", "attention")
    op.drop_table("check_ins")
