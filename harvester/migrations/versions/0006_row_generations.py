"""raw_records.rewritten_generation: a page memo is checked against its own rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 12:00:00

Until now one rewritten or tombstoned row of a source retired every page memo of that
source, so a full re-harvest with a few scattered changes parsed every page after the first
change, and the nightly incremental harvests between two full harvests retired every memo
the first one had left.  Each row now carries the source's ``raw_generation`` of its last
rewrite or tombstone; a memo of an older generation still holds when none of its rows was
rewritten after it.

Existing rows get the source's current generation: memos of that generation stay valid
(the quick check is unchanged), older ones fail the row check, as they failed before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("raw_records", sa.Column("rewritten_generation", sa.BigInteger(),
                                           nullable=False, server_default="0"))
    op.execute("UPDATE raw_records SET rewritten_generation = COALESCE("
               "(SELECT s.raw_generation FROM source_state s WHERE s.source = raw_records.source), 0)")


def downgrade() -> None:
    with op.batch_alter_table("raw_records") as batch_op:
        batch_op.drop_column("rewritten_generation")
