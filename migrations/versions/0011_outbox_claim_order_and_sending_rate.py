"""The outbox at scale: claims in priority order from a partial index, and each sender
number's next free sending slot, shared by every worker (bot/messaging/rate.py). A WhatsApp
template keeps its approved Content SID in use while a changed text awaits approval.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

CLAIMABLE = "status IN ('queued', 'sending')"


def upgrade() -> None:
    op.create_table('sendingrate',
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('next_free', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sender')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_claim', ['channel', 'priority', 'id'], unique=False,
                              postgresql_where=sa.text(CLAIMABLE),
                              sqlite_where=sa.text(CLAIMABLE))
    with op.batch_alter_table('whatsapptemplate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_use_sid', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('whatsapptemplate', schema=None) as batch_op:
        batch_op.drop_column('in_use_sid')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_claim')
    op.drop_table('sendingrate')
