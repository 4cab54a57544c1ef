"""The official licence list's own date, recorded at import.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licenceimport") as batch:
        batch.add_column(sa.Column("list_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licenceimport") as batch:
        batch.drop_column("list_date")
