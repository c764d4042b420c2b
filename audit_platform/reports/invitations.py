"""Inviting people by e-mail: an existing account joins at once; a new address gets an account
without a password and an e-mail with a link to set one (Django's password-reset token)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit_platform.accounts import services as account_services
from audit_platform.accounts.models import Membership, Organization

logger = logging.getLogger(__name__)


def _free_username(email: str) -> str:
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "", email.split("@", 1)[0])[:120] or "member"
    taken = set(
        get_user_model()
        .objects.filter(username__startswith=base)
        .values_list("username", flat=True)
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


def member_invite(
    *,
    organization: Organization,
    email: str,
    role: str,
    actor: User,
    accept_url: Callable[[str], str],
) -> tuple[Membership, bool]:
    """Add the person with this e-mail; returns (membership, whether an invitation was sent)."""
    email = email.strip().lower()
    existing = list(get_user_model().objects.filter(email__iexact=email)[:2])
    if len(existing) > 1:
        raise ValidationError(
            f"several accounts use {email}; add the person by username in the admin"
        )
    with transaction.atomic():
        if existing:
            user = existing[0]
            invited = False
        else:
            user = account_services.user_create(
                username=_free_username(email), email=email, password=None
            )
            invited = True
        membership = account_services.membership_set(
            organization=organization, user=user, role=role, actor=actor
        )
    if invited:
        _send_invitation(user, organization, actor, accept_url)
    return membership, invited


def _send_invitation(
    user: User, organization: Organization, actor: User, accept_url: Callable[[str], str]
) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = accept_url(reverse("password_reset_confirm", args=[uid, token]))
    context = {
        "organization": organization,
        "inviter": actor.get_full_name() or actor.get_username(),
        "link": link,
        "username": user.get_username(),
    }
    message = EmailMultiAlternatives(
        subject=f"You're invited to {organization.name} on the audit platform",
        body=render_to_string("emails/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    message.send()
    logger.info("invitation to %s sent for organization %s", user.email, organization.slug)
