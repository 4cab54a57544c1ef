"""Inbound messages: a processing lease (a retry or the sweep takes over a dead copy's work)
and Twilio's idempotency token.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("idempotency_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_unique_constraint("uq_message_idempotency_token", ["idempotency_token"])
    op.create_index("ix_message_unanswered", "message", ["handled_at", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_message_unanswered", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint("uq_message_idempotency_token", type_="unique")
        batch.drop_column("idempotency_token")
        batch.drop_column("lease_until")
