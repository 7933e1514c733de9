"""Admin helpers shared by the apps."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Pages a huge table without COUNT(*): the number of pages is not known, there is always a next one."""

    @cached_property
    def count(self) -> int:
        return 10**9


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write (readings, aggregates, ledgers): staff may look, never change."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
