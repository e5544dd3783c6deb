"""OAI-PMH re-exposure: set memberships that outlive deletion, an exposure flag, keyset index,
and the persisted secret behind resumption tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00

A deleted ICH record loses its JSON (and so its category and countries), yet OAI-PMH
harvesters that select by set must still receive its deletion (spec 2.5.1, 4.6), and a
record that was never published must not appear at all.  The database keeps both facts
itself, with triggers, so every writer of ``ich_records`` (crosswalk, remap, anything
later) maintains them inside its own transaction without knowing about OAI-PMH:

* ``oai_sets``: " source:<s> category:<c> country:<CC> ... " (space-delimited, so a set
  test is a LIKE on " <spec> "), recomputed whenever the record JSON is present and kept
  as it was when the record is deleted;
* ``oai_exposed``: true once the row has been published (not deleted, not quarantined);
  it never goes back, so a later delete or quarantine is exposed as a deletion.
"""
import secrets
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_SQLITE_SETS = """(' source:' || {row}.source || ' '
    || COALESCE('category:' || json_extract({row}.record, '$.category') || ' ', '')
    || COALESCE((SELECT group_concat('country:' || value, ' ') || ' '
                 FROM json_each({row}.record, '$.countries')
                 WHERE json_type({row}.record, '$.countries') = 'array'), ''))"""

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER tr_ich_records_oai_insert AFTER INSERT ON ich_records
    BEGIN
      UPDATE ich_records SET
        oai_sets = CASE WHEN NEW.record IS NULL OR NOT json_valid(NEW.record)
                        THEN ' source:' || NEW.source || ' '
                        ELSE {_SQLITE_SETS.format(row='NEW')} END,
        oai_exposed = (NOT NEW.deleted AND NOT NEW.quarantined)
      WHERE id = NEW.id;
    END""",
    f"""CREATE TRIGGER tr_ich_records_oai_update AFTER UPDATE OF record, deleted, quarantined, source
    ON ich_records
    BEGIN
      UPDATE ich_records SET
        oai_sets = CASE WHEN NEW.record IS NULL OR NOT json_valid(NEW.record)
                        THEN COALESCE(OLD.oai_sets, ' source:' || NEW.source || ' ')
                        ELSE {_SQLITE_SETS.format(row='NEW')} END,
        oai_exposed = (COALESCE(OLD.oai_exposed, 0) OR (NOT NEW.deleted AND NOT NEW.quarantined))
      WHERE id = NEW.id;
    END""",
)

_PG_FUNCTION = """CREATE OR REPLACE FUNCTION ich_records_oai() RETURNS trigger AS $$
DECLARE
  doc json;
  memberships text;
BEGIN
  IF NEW.record IS NOT NULL THEN
    BEGIN
      doc := NEW.record::json;
      memberships := ' source:' || NEW.source || ' '
        || COALESCE('category:' || (doc ->> 'category') || ' ', '')
        || CASE WHEN json_typeof(doc -> 'countries') = 'array' THEN
             COALESCE((SELECT string_agg('country:' || c, ' ') || ' '
                       FROM json_array_elements_text(doc -> 'countries') AS c), '')
           ELSE '' END;
    EXCEPTION WHEN others THEN
      memberships := NULL;  -- unreadable JSON must never fail the writer's transaction
    END;
  END IF;
  IF memberships IS NOT NULL THEN
    NEW.oai_sets := memberships;
  ELSIF TG_OP = 'UPDATE' AND OLD.oai_sets IS NOT NULL THEN
    NEW.oai_sets := OLD.oai_sets;
  ELSE
    NEW.oai_sets := ' source:' || NEW.source || ' ';
  END IF;
  NEW.oai_exposed := (TG_OP = 'UPDATE' AND COALESCE(OLD.oai_exposed, false))
                     OR (NOT NEW.deleted AND NOT NEW.quarantined);
  RETURN NEW;
END
$$ LANGUAGE plpgsql"""

_PG_TRIGGER = """CREATE TRIGGER tr_ich_records_oai
BEFORE INSERT OR UPDATE OF record, deleted, quarantined, source ON ich_records
FOR EACH ROW EXECUTE FUNCTION ich_records_oai()"""


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column('ich_records', sa.Column('oai_sets', sa.Text(), nullable=True))
    op.add_column('ich_records', sa.Column('oai_exposed', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.create_index('ix_ich_records_oai_order', 'ich_records', ['changed_at', 'id'])
    op.create_table(
        'service_keys',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_service_keys')),
    )
    op.bulk_insert(sa.table('service_keys', sa.column('name', sa.String), sa.column('value', sa.Text),
                            sa.column('created_at', sa.DateTime(timezone=True))),
                   [{"name": "oai-resumption-token", "value": secrets.token_hex(32),
                     "created_at": datetime.now(timezone.utc)}])
    if bind.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    # Existing rows: fire the triggers once so they get their memberships.  Their history is
    # unknown, so a row that changed since its first mapping may have been published: it is
    # exposed (a harvester ignores the deletion of a record it never had; it cannot recover
    # from missing one it has).
    op.execute("UPDATE ich_records SET source = source")
    op.execute(sa.text("UPDATE ich_records SET oai_exposed = :yes WHERE version > 1")
               .bindparams(yes=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tr_ich_records_oai ON ich_records")
        op.execute("DROP FUNCTION IF EXISTS ich_records_oai()")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_ich_records_oai_insert")
        op.execute("DROP TRIGGER IF EXISTS tr_ich_records_oai_update")
    op.drop_table('service_keys')
    op.drop_index('ix_ich_records_oai_order', table_name='ich_records')
    with op.batch_alter_table('ich_records') as batch_op:
        batch_op.drop_column('oai_exposed')
        batch_op.drop_column('oai_sets')
