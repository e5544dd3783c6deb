"""raw_records keyset index per (source, metadata_prefix, id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:40:00

The crosswalk stage and the follower walk one source's raw records in id order in batches
(``WHERE source = ? AND metadata_prefix = ? AND id > ? ORDER BY id LIMIT n``).  With only
the unique (source, metadata_prefix, identifier) index, SQLite read and sorted the whole
source for every batch — quadratic in the source's size.  This index makes each batch a
range scan.
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_raw_records_source_prefix_id", "raw_records",
                    ["source", "metadata_prefix", "id"])


def downgrade() -> None:
    op.drop_index("ix_raw_records_source_prefix_id", table_name="raw_records")
