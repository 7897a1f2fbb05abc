"""What every paged list of the services has in common (its own module: every service uses it,
and it depends on nothing)."""

from __future__ import annotations


class Paged:
    """What the pager needs of a page with ``page``, ``per_page`` and ``total``."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
