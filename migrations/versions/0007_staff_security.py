"""Staff security: sign-in throttling in its own table (per account and per address), TOTP
and recovery codes, session stages and idle time.

Existing sessions are ended: admins and supervisors must now pass a second factor.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("loginthrottle",
    sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("blocked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("key")
    )
    op.create_table("staffrecoverycode",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("staff_id", sa.Integer(), nullable=False),
    sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("staffrecoverycode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffrecoverycode_staff_id"), ["staff_id"], unique=False)

    # "never": SQLite (3.35+) drops these columns in place. Rebuilding the table instead would
    # fail on the rows of other tables that point at staff.
    with op.batch_alter_table("staff", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")

    op.execute("DELETE FROM staffsession")
    # The table is empty now, so the new NOT NULL columns need no default; on SQLite, whose
    # ALTER TABLE cannot add a NOT NULL column without one, the table is rebuilt instead.
    rebuild = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("staffsession", schema=None, recreate=rebuild) as batch_op:
        batch_op.add_column(sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False))
        batch_op.add_column(sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM staffsession")
    with op.batch_alter_table("staffsession", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("stage")

    with op.batch_alter_table("staff", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("staffrecoverycode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffrecoverycode_staff_id"))
    op.drop_table("staffrecoverycode")
    op.drop_table("loginthrottle")
