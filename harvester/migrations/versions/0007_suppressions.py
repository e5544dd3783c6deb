"""suppressions: records an operator withholds from publication, kept across re-harvests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:30:00

A community or partner may ask that a record stop being shown (sensitive knowledge, consent
withdrawn, a takedown request).  The raw record is kept, as every raw record is; the
suppression makes the crosswalk quarantine it on every mapping until it is lifted.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("suppressed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suppressed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
