"""Inbound messages: when the webhook stopped waiting for the answer (it then goes through the
outbox). Answers may be worked out in another process, so this is decided in the database.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", recreate="never") as batch:
        batch.add_column(sa.Column("gave_up_waiting_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", recreate="never") as batch:
        batch.drop_column("gave_up_waiting_at")
