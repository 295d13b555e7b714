"""The places the service works at, as the pages, the API and the domain look them up."""

from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import Block


def blocks_by_name() -> list[Block]:
    """Every custody block, in the order people read a list of them."""
    return list(db.session.scalars(select(Block).order_by(Block.name)))


def blocks_by_code() -> list[Block]:
    """Every custody block, in the API's stable order."""
    return list(db.session.scalars(select(Block).order_by(Block.code)))


def block_with_code(code: str) -> Block | None:
    return db.session.scalar(select(Block).where(Block.code == code))
