"""factory_boy factories for the domain models."""

from __future__ import annotations

import hashlib

import factory
from django.contrib.auth import get_user_model

from audit_platform.accounts.models import Membership, Organization, Role
from audit_platform.findings.models import Finding, FindingStatus, Severity
from audit_platform.projects.models import Project, SourceKind
from audit_platform.scans.models import Scan, ScanSourceKind, ScanStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("secret-password")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    source_kind = SourceKind.GIT
    git_url = "https://git.example.com/acme/service.git"
    default_branch = "main"


class ScanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scan

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    source_kind = ScanSourceKind.GIT
    branch = "main"
    status = ScanStatus.SUCCEEDED


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    project = factory.SubFactory(ProjectFactory)
    fingerprint = factory.Sequence(lambda n: hashlib.sha256(f"finding-{n}".encode()).hexdigest())
    category = "ASYNC-BLOCKING-SLEEP"
    rule_id = "blocking-sleep-in-async"
    severity = Severity.HIGH
    title = "time.sleep blocks the event loop"
    path = factory.Sequence(lambda n: f"app/module{n}.py")
    start_line = 10
    end_line = 10
    status = FindingStatus.OPEN
