"""Writes for organizations, users and memberships."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from audit_platform.accounts.models import Membership, Organization, Role
from audit_platform.accounts.selectors import user_can_admin, user_can_write


def require_write(user: User | AnonymousUser | None, organization: Organization) -> None:
    """Raise PermissionDenied unless ``user`` may change things in ``organization``.

    ``None`` is the system (scans, management commands), which may always write.
    """
    if user is not None and not user_can_write(user, organization):
        raise PermissionDenied(f"you cannot change anything in {organization.name}")


def require_admin(user: User | AnonymousUser | None, organization: Organization) -> None:
    if user is not None and not user_can_admin(user, organization):
        raise PermissionDenied(f"only owners and admins of {organization.name} can do this")


def organization_create(*, name: str, slug: str = "", owner: User | None = None) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError("the organization needs a name")
    slug = slugify(slug or name)
    if not slug:
        raise ValidationError(f"cannot make a slug from {name!r}; give one")
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError(f"an organization with slug {slug!r} already exists")
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug)
        if owner is not None:
            Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def membership_set(
    *,
    organization: Organization,
    user: User,
    role: str,
    actor: User | None = None,
) -> Membership:
    """Add ``user`` to ``organization`` with ``role``, or change their role."""
    if role not in Role.values:
        raise ValidationError(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    require_admin(actor, organization)
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


def membership_remove(*, membership: Membership, actor: User | None = None) -> None:
    """Take a member out of the organization. The last owner stays: an organization without
    one could never be administered again."""
    organization = membership.organization
    require_admin(actor, organization)
    with transaction.atomic():
        owners = Membership.objects.select_for_update().filter(
            organization=organization, role=Role.OWNER
        )
        if membership.role == Role.OWNER and owners.count() <= 1:
            raise ValidationError(f"{membership.user} is the last owner of {organization.name}")
        membership.delete()


def user_create(*, username: str, email: str = "", password: str | None = None) -> User:
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValidationError(f"a user named {username!r} already exists")
    user: User = user_model.objects.create_user(username=username, email=email, password=password)
    return user
