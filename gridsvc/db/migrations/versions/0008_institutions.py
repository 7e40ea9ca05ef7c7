"""Institution grounds and their parties: compounds.kind ('residential' | 'institution'), party kind 'institution'.

A university, school, hospital or government compound mapped as grounds is stored with the compounds (its
interior becomes an area zone, as a compound's does) and is held by the institution itself.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_KINDS = "('unit', 'property_manager', 'building_head', 'market_operator', 'street_steward', 'grid_officer')"
NEW_KINDS = ("('unit', 'property_manager', 'building_head', 'market_operator', 'street_steward', 'grid_officer', "
             "'institution')")


def upgrade() -> None:
    op.add_column("compounds", sa.Column("kind", sa.Text(), nullable=False, server_default="residential"))
    op.create_check_constraint("compound_kind_known", "compounds", "kind IN ('residential', 'institution')")
    op.drop_constraint("party_kind_known", "parties")
    op.create_check_constraint("party_kind_known", "parties", f"kind IN {NEW_KINDS}")


def downgrade() -> None:
    # Institution grounds and what institutions hold go with them: the older schema has no place for either
    # (zones name their party ON DELETE RESTRICT, so their versions go first).
    op.execute("DELETE FROM zones WHERE party_id IN (SELECT id FROM parties WHERE kind = 'institution') "
               "OR compound_id IN (SELECT id FROM compounds WHERE kind = 'institution')")
    op.execute("DELETE FROM compounds WHERE kind = 'institution'")
    op.execute("DELETE FROM parties WHERE kind = 'institution'")
    op.drop_constraint("party_kind_known", "parties")
    op.create_check_constraint("party_kind_known", "parties", f"kind IN {OLD_KINDS}")
    op.drop_constraint("compound_kind_known", "compounds")
    op.drop_column("compounds", "kind")
