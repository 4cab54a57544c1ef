"""Reach: sources (codes, touches, sessions), a contact's first source, home district and when
they were asked about alerts; alerts to many with their events; an outbox item's alert.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('audience_count', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_for', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('queued_up_to_contact_id', sa.Integer(), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sending_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['cancelled_by_staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_status'), ['status'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('centre', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['owner_staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_source_owner_staff_id'), ['owner_staff_id'], unique=False)

    op.create_table('alertevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alertevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alertevent_alert_id'), ['alert_id'], unique=False)

    op.create_table('outreachsession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('recorded_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outreachsession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreachsession_source_id'), ['source_id'], unique=False)

    op.create_table('sourcetouch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('first', sa.Boolean(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sourcetouch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sourcetouch_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_sourcetouch_source_time', ['source_id', 'created_at'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('alerts_asked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_source_id'), ['source_id'], unique=False)
        batch_op.create_foreign_key('fk_contact_source_id', 'source', ['source_id'], ['id'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_alert_id'), ['alert_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_alert_id', 'alert', ['alert_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_alert_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_alert_id'))
        batch_op.drop_column('alert_id')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_source_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contact_source_id'))
        batch_op.drop_index(batch_op.f('ix_contact_district'))
        batch_op.drop_column('alerts_asked_at')
        batch_op.drop_column('district')
        batch_op.drop_column('source_id')

    with op.batch_alter_table('sourcetouch', schema=None) as batch_op:
        batch_op.drop_index('ix_sourcetouch_source_time')
        batch_op.drop_index(batch_op.f('ix_sourcetouch_contact_id'))

    op.drop_table('sourcetouch')
    with op.batch_alter_table('outreachsession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreachsession_source_id'))

    op.drop_table('outreachsession')
    with op.batch_alter_table('alertevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alertevent_alert_id'))

    op.drop_table('alertevent')
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_owner_staff_id'))
        batch_op.drop_index(batch_op.f('ix_source_code'))

    op.drop_table('source')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_status'))

    op.drop_table('alert')
