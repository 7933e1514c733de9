"""Bulk writes on audited models go through the audit helpers (issue 10 item 19; RELIABILITY.md check 43).

`QuerySet.update`, `bulk_update` and `bulk_create` bypass django-auditlog. This scan fails on any such call
on an audited model (`<Model>.objects…update(…)`) outside `config/audit.py`, except in the functions listed
below, which write their own entries with `log_entries_create` in the same function.
"""

import ast
from pathlib import Path

import pytest
from auditlog.registry import auditlog

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = (
    "config",
    "metering",
    "forecasting",
    "pricing",
    "billing",
    "grid",
)  # bench/ seeds data: not app code
BULK = {"update", "bulk_update", "bulk_create"}
HELPER = Path("config/audit.py")
# Functions that bulk-insert audited rows and write one entry per row themselves.
WRITES_OWN_ENTRIES = {(Path("billing/services/bill_writes.py"), "invoices_save")}


def audited_model_names() -> set[str]:
    # Invoices and credit notes are audited by the billing services' own entries.
    return {model.__name__ for model in auditlog.get_models()} | {"Invoice", "CreditNote"}


def _root(node: ast.expr) -> tuple[str | None, list[str]]:
    """The name at the root of `A.objects.filter(...).update` and the attribute names on the way."""
    attributes = []
    while True:
        if isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            return node.id, attributes
        else:
            return None, attributes


def bulk_calls(source: str, audited: set[str]) -> list[tuple[str | None, int, str]]:
    """(enclosing function, line, model) of each bulk call on an audited model whose function does not
    also call `log_entries_create`."""
    found = []

    def visit(node: ast.AST, function: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in BULK
            ):
                name, attributes = _root(child.func.value)
                if name in audited and "objects" in attributes:
                    found.append((getattr(function, "name", None), child.lineno, name))
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def test_the_scan_finds_a_new_bulk_call_on_an_audited_model():
    """Check 43: the guard itself: a new `Customer.objects.filter(...).update(...)` is reported."""
    source = (
        "def rename(ids):\n    Customer.objects.filter(pk__in=ids).update(name='x')\n    {}.update(a=1)\n"
    )

    assert bulk_calls(source, {"Customer"}) == [("rename", 2, "Customer")]


@pytest.mark.django_db
def test_no_bulk_write_on_an_audited_model_bypasses_the_audit_helpers():
    """Check 43: every bulk path on an audited model writes audit entries."""
    audited = audited_model_names()
    assert {"Customer", "TariffVersion", "User", "Group", "Invoice"} <= audited
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == HELPER or "migrations" in relative.parts:
                continue
            source = path.read_text()
            for function, line, model in bulk_calls(source, audited):
                if (relative, function) in WRITES_OWN_ENTRIES and "log_entries_create" in source:
                    continue
                offenders.append(f"{relative}:{line} {model} in {function}()")
    assert offenders == [], "use core.audit.bulk_create_audited / bulk_update_audited / update_audited"
