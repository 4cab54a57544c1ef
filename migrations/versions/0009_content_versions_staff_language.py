"""Content edited in the dashboard: every proposed, published or sent-back version of a text;
staff accounts gain a content role (editor, reviewer) and the language of their pages; simulator
contacts are marked as tests (left out of the impact figures).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contentversion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False, server_default=""),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("review_comment", sa.String(length=1000), nullable=False, server_default=""),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_contentversion_key_language", "contentversion", ["key", "language"])
    op.create_index("ix_contentversion_status", "contentversion", ["status"])
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.add_column(sa.Column("content_role", sa.String(length=16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ui_language", sa.String(length=8), nullable=False,
                                   server_default="en"))
    with op.batch_alter_table("contact", recreate="never") as batch:
        batch.add_column(sa.Column("is_test", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("contact", recreate="never") as batch:
        batch.drop_column("is_test")
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.drop_column("ui_language")
        batch.drop_column("content_role")
    op.drop_index("ix_contentversion_status", "contentversion")
    op.drop_index("ix_contentversion_key_language", "contentversion")
    op.drop_table("contentversion")
