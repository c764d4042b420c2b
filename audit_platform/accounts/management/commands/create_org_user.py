"""``manage.py create_org_user --org "Acme" --username alice [--password ...] [--role owner]``.

Safe to run again: an existing organization (by slug) and user are reused, the membership's
role is set. Without ``--password`` a new user gets a random one, printed once.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from audit_platform.accounts.models import Organization, Role
from audit_platform.accounts.services import membership_set, organization_create, user_create


class Command(BaseCommand):
    help = "Create (or reuse) an organization and a user, and make the user a member."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization name")
        parser.add_argument("--org-slug", default="", help="default: slug of the name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="default: a random one, printed")
        parser.add_argument("--role", default=Role.OWNER, choices=Role.values)
        parser.add_argument("--superuser", action="store_true", help="also a Django admin user")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = slugify(options["org_slug"] or options["org"])
        password = options["password"]
        try:
            with transaction.atomic():
                organization = Organization.objects.filter(slug=slug).first()
                if organization is None:
                    organization = organization_create(name=options["org"], slug=slug)
                    self.stdout.write(f"created organization {organization.name} ({slug})")
                user = get_user_model().objects.filter(username=options["username"]).first()
                if user is None:
                    password = password or secrets.token_urlsafe(12)
                    user = user_create(
                        username=options["username"], email=options["email"], password=password
                    )
                    self.stdout.write(f"created user {user.get_username()}")
                elif password:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                if options["superuser"]:
                    user.is_staff = user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
                membership_set(organization=organization, user=user, role=options["role"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.get_username()} is {options['role']} of {organization.name} ({slug})"
            )
        )
        if password:
            self.stdout.write(f"username: {user.get_username()}\npassword: {password}")
