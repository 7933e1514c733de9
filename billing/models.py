from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

account_number_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{2,31}$", "Account numbers are 3-32 characters: capital letters, digits and '-'."
)


class Customer(models.Model):
    """A billed account. Personal data is limited to what billing and the portal need."""

    account_number = models.CharField(max_length=32, unique=True, validators=[account_number_validator])
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="The portal login of this customer.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account_number} {self.name}"
