"""source_state.unmarked_epoch: the full harvest in which unchanged rows were not stamped seen

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 23:00:00

Stamping every unchanged raw row with the full-harvest epoch is the one write an unchanged
page costs, and only reconciliation reads it — which runs only for repositories that do not
keep deletions (deletedRecord no/transient).  Runs against a repository that keeps them
skip the stamps and record the epoch here, so that if the repository changes its policy in
the middle of a full harvest, the stamps are known to be incomplete and nothing is
tombstoned on their account.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_state", sa.Column("unmarked_epoch", sa.Integer(), nullable=False,
                                            server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("source_state") as batch_op:
        batch_op.drop_column("unmarked_epoch")
