"""Memberships of a tenant: invite by e-mail, change a role, remove.

Only owners grant, change or remove the owner role, and a tenant always keeps one owner. An invited
person without a password gets Django's password-reset e-mail (through EMAIL_BACKEND) to set one.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template import loader

from accounts.models import Membership, Tenant
from accounts.roles import OWNER, role_at_least
from accounts.signals import user_created
from core.exceptions import Conflict

logger = logging.getLogger(__name__)


class _InviteForm(PasswordResetForm):
    """Django's reset e-mail for exactly the invited user (the stock form skips users without a password)."""

    def __init__(self, *, user, **kwargs):
        super().__init__(data={"email": user.email}, **kwargs)
        self.invited = user

    def get_users(self, email):
        return [self.invited]

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        """As Django's, but a failure reaches the caller (Django's logs and forgets it)."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        EmailMultiAlternatives(subject, body, from_email, [to_email]).send()


EMAIL_MAX_LENGTH = 150  # an invited person's e-mail is also their username (AbstractUser.username)


def _require_may_touch(*, acting_role: str, role: str) -> None:
    if role == OWNER and not role_at_least(acting_role, OWNER):
        raise PermissionDenied("Only an owner can grant, change or remove the owner role.")


def _keep_an_owner(membership: Membership) -> None:
    if membership.role == OWNER and not Membership.objects.filter(
        tenant_id=membership.tenant_id, role=OWNER).exclude(pk=membership.pk).exists():
        raise ValidationError({"role": ["A tenant keeps at least one owner; make someone else owner first."]})


def member_invite(
    *, tenant: Tenant, email: str, role: str, acting_role: str, request=None
) -> tuple[Membership, bool]:
    """Add the person with `email` to `tenant`, creating the account if needed; returns (membership, e-mailed).

    A new account has an unusable password and is sent the password-reset e-mail, which links to a page
    where the person sets one. Raises ValidationError naming `email` or `role`, PermissionDenied for an
    owner invited by a non-owner.
    """
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid e-mail address."]}) from None
    if len(email) > EMAIL_MAX_LENGTH:  # it becomes the username, and Django's usernames stop there
        raise ValidationError({"email": [f"Use an address of at most {EMAIL_MAX_LENGTH} characters."]})
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Choose one of {', '.join(Membership.Role.values)}."]})
    _require_may_touch(acting_role=acting_role, role=role)
    email = email.strip().lower()
    User = get_user_model()
    with transaction.atomic():
        # The e-mail is also the username of users made here; either match is the same person.
        user = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
        created = user is None
        if created:
            user = User.objects.create_user(username=email, email=email, password=None)
        try:
            with transaction.atomic():  # a concurrent invite of the same person meets the unique constraint
                membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        except IntegrityError:
            raise Conflict({"email": [f"{email} is already a member of {tenant.slug}."]}) from None
        if created:
            user_created.send(sender=member_invite, user=user, tenant=tenant)
    emailed = not user.has_usable_password() and bool(user.email)
    if emailed:
        emailed = _send_invitation(user=user, tenant=tenant, role=role, request=request)
    return membership, emailed


def _send_invitation(*, user, tenant: Tenant, role: str, request) -> bool:
    """The membership stands even when the mail server is down: the caller learns it was not sent."""
    form = _InviteForm(user=user)
    form.is_valid()
    try:
        form.save(
            request=request, use_https=bool(request and request.is_secure()),
            domain_override=None if request else "localhost",
            subject_template_name="accounts/invite_subject.txt",
            email_template_name="accounts/invite_email.txt",
            extra_email_context={"tenant": tenant, "role": role},
        )
    except OSError as exc:  # smtplib's errors are OSErrors, as are refused connections
        logger.warning("invitation e-mail to user %s for tenant %s not sent: %s", user.pk, tenant.slug,
                       type(exc).__name__)
        return False
    return True


def member_change_role(*, membership: Membership, role: str, acting_role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Choose one of {', '.join(Membership.Role.values)}."]})
    _require_may_touch(acting_role=acting_role, role=membership.role)
    _require_may_touch(acting_role=acting_role, role=role)
    if role != membership.role:
        if role != OWNER:
            _keep_an_owner(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def member_remove(*, membership: Membership, acting_role: str) -> None:
    """The person loses access at once: tokens they made in this tenant stop working (accounts.tokens)."""
    _require_may_touch(acting_role=acting_role, role=membership.role)
    _keep_an_owner(membership)
    membership.delete()
