"""page_memos and source_state.raw_generation: recognise unchanged list pages by fingerprint

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00

A full re-harvest of an unchanged repository spent most of its time parsing and hashing
records only to find each one unchanged.  A page memo says "the store holds exactly the
records of the page with this fingerprint"; it stays true until a stored record of the
source is rewritten or tombstoned, which moves ``raw_generation``.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_state", sa.Column("raw_generation", sa.BigInteger(), nullable=False,
                                            server_default="0"))
    op.create_table(
        "page_memos",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("metadata_prefix", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("max_datestamp", sa.String(40), nullable=True),
        sa.Column("raw_ids", sa.Text(), nullable=False),
        sa.Column("used_epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "metadata_prefix", "digest", name="pk_page_memos"),
    )


def downgrade() -> None:
    op.drop_table("page_memos")
    with op.batch_alter_table("source_state") as batch_op:
        batch_op.drop_column("raw_generation")
