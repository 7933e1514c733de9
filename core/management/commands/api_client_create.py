from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from core.services import api_client_create


class Command(BaseCommand):
    help = "Create an OAuth2 client-credentials application with the given scopes; print its id and secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the client, e.g. billing-system")
        parser.add_argument(
            "--scopes", required=True, help='Space-separated, e.g. "billing:read billing:write"'
        )

    def handle(self, *args: Any, name: str, scopes: str, **options: Any) -> None:
        try:
            client, secret = api_client_create(name=name, scopes=scopes.replace(",", " ").split())
        except DomainError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"client_id={client.application.client_id}")
        self.stdout.write(f"client_secret={secret}")
        self.stdout.write(f"scopes={client.scopes}")
        self.stdout.write(self.style.WARNING("The secret is shown only now; it is stored hashed."))
