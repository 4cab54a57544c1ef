"""Reaching people first: timed jobs, departure journeys and check-ins, consent with its
wording, licence watches, WhatsApp templates; the outbox gains priorities and templates by key;
contacts a time zone (quiet hours).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('whatsapptemplate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('content_sid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('approval_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('rejection_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'language', name='uq_whatsapptemplate_key_lang')
    )
    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('wording', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_contact_id'), ['contact_id'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_job_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_subject'), ['subject'], unique=False)

    op.create_table('journey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('departs_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_contact_id'), ['contact_id'], unique=False)

    op.create_table('licencewatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('licence_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('asked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status_told', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('alerted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'licence_no', name='uq_licencewatch_contact_licence')
    )
    with op.batch_alter_table('licencewatch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licencewatch_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licencewatch_licence_no'), ['licence_no'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_journey_id'), ['journey_id'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('template_variables', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24),
                                      nullable=False, server_default="reply"))
        batch_op.create_index('ix_outbox_due', ['status', 'priority', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_column('kind')
        batch_op.drop_column('priority')
        batch_op.drop_column('language')
        batch_op.drop_column('template_variables')
        batch_op.drop_column('template_key')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('timezone')

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_journey_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_contact_id'))

    op.drop_table('checkin')
    with op.batch_alter_table('licencewatch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licencewatch_licence_no'))
        batch_op.drop_index(batch_op.f('ix_licencewatch_contact_id'))

    op.drop_table('licencewatch')
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_contact_id'))

    op.drop_table('journey')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_subject'))
        batch_op.drop_index('ix_job_due')
        batch_op.drop_index(batch_op.f('ix_job_contact_id'))

    op.drop_table('job')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_contact_id'))

    op.drop_table('consent')
    op.drop_table('whatsapptemplate')
