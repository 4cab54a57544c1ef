"""referral queue and evidence; handoff requests become callback referrals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('agent_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('licence_no', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('location_country', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('location_district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('callback_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('referred_to', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('centre', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('in_progress_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('waiting_on_worker_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('referred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['licence_id'], ['licence.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_centre'), ['centre'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_priority'), ['priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_reference'), ['reference'], unique=True)
        batch_op.create_index(batch_op.f('ix_referral_status'), ['status'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('stored_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_status'), ['status'], unique=False)

    op.create_table('referralevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('for_worker', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referralevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referralevent_referral_id'), ['referral_id'], unique=False)

    _handoffs_to_callback_referrals()
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoffrequest_contact_id'))

    op.drop_table('handoffrequest')


def _handoffs_to_callback_referrals() -> None:
    """Every recorded "talk to a person" request becomes a callback referral: none is lost."""
    import secrets

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT h.contact_id, h.channel, h.language, h.created_at, c.phone "
        "FROM handoffrequest h JOIN contact c ON c.id = h.contact_id")).fetchall()
    alphabet = "ACDEFHJKMNPRTUVWXY3479"
    for contact_id, channel, language, created_at, phone in rows:
        reference = "".join(secrets.choice(alphabet) for _ in range(5)) + secrets.choice("3479")
        connection.execute(sa.text(
            "INSERT INTO referral (reference, contact_id, category, description, agent_name, "
            "licence_no, location_country, location_district, callback_phone, priority, status, "
            "centre, language, channel, created_at, updated_at) VALUES (:reference, :contact_id, "
            "'callback', '', '', '', '', '', :phone, 'normal', 'new', 'mrc-islamabad', :language, "
            ":channel, :created_at, :created_at)"),
            {"reference": reference, "contact_id": contact_id, "phone": phone,
             "language": language, "channel": channel, "created_at": created_at})


def downgrade() -> None:
    op.create_table('handoffrequest',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('contact_id', sa.INTEGER(), nullable=False),
    sa.Column('message_id', sa.INTEGER(), nullable=True),
    sa.Column('channel', sa.VARCHAR(length=16), nullable=False),
    sa.Column('language', sa.VARCHAR(length=8), nullable=False),
    sa.Column('created_at', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoffrequest_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('referralevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referralevent_referral_id'))

    op.drop_table('referralevent')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_status'))
        batch_op.drop_index(batch_op.f('ix_evidence_referral_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_contact_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_status'))
        batch_op.drop_index(batch_op.f('ix_referral_reference'))
        batch_op.drop_index(batch_op.f('ix_referral_priority'))
        batch_op.drop_index(batch_op.f('ix_referral_created_at'))
        batch_op.drop_index(batch_op.f('ix_referral_contact_id'))
        batch_op.drop_index(batch_op.f('ix_referral_centre'))
        batch_op.drop_index(batch_op.f('ix_referral_assignee_id'))

    op.drop_table('referral')
