from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from accounts.members import member_invite
from accounts.models import ApiToken, Membership, Tenant
from accounts.roles import OWNER
from accounts.signals import user_created
from accounts.tokens import token_create


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_active", "retention_days", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


class MembershipInviteForm(forms.ModelForm):
    """Add someone by e-mail: the account is created if needed and gets a set-your-password e-mail."""

    email = forms.EmailField(max_length=254)

    class Meta:
        model = Membership
        fields = ["tenant", "email", "role"]

    def clean(self):
        data = super().clean()
        tenant, email = data.get("tenant"), data.get("email")
        if tenant and email and Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
            self.add_error("email", f"{email} is already a member of {tenant}.")
        return data


class MembershipRoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def clean_role(self):
        role = self.cleaned_data["role"]
        last_owner = self.instance.role == OWNER and not Membership.objects.filter(
            tenant_id=self.instance.tenant_id, role=OWNER).exclude(pk=self.instance.pk).exists()
        if last_owner and role != OWNER:
            raise forms.ValidationError("A tenant keeps at least one owner; make someone else owner first.")
        return role


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "tenant__slug"]
    raw_id_fields = ["user", "tenant"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipInviteForm if obj is None else MembershipRoleForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["tenant", "email", "role"] if obj is None else ["user", "tenant", "role"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "tenant"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["role"])
            return
        # The operator stands in for the tenant's owner: any role may be granted here.
        membership, emailed = member_invite(tenant=form.cleaned_data["tenant"], email=form.cleaned_data["email"],
                                            role=form.cleaned_data["role"], acting_role=OWNER, request=request)
        obj.pk, obj.user = membership.pk, membership.user
        if emailed:
            self.message_user(request, f"Invited {membership.user.email}; an e-mail with a link to choose a "
                                       "password was sent.", messages.SUCCESS)
        elif membership.user.has_usable_password():
            self.message_user(request, f"Added {membership.user.email} (an existing account: no e-mail needed).",
                              messages.SUCCESS)
        else:
            self.message_user(request, f"Added {membership.user.email}, but the invitation e-mail could not be "
                                       "sent; check EMAIL_URL.", messages.WARNING)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["tenant", "user", "name"]

    def clean(self):
        data = super().clean()
        tenant, user = data.get("tenant"), data.get("user")
        if tenant and user and not Membership.objects.filter(tenant=tenant, user=user).exists():
            # A token only works for a member of its tenant; refuse one that would be dead on arrival.
            raise forms.ValidationError(f"{user} is not a member of {tenant}; add the membership first.")
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["prefix", "name", "tenant", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "tenant"]
    list_select_related = ["tenant", "user"]
    search_fields = ["prefix", "name", "tenant__slug"]
    raw_id_fields = ["tenant", "user"]
    fields = ["tenant", "user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        token, key = token_create(tenant=obj.tenant, user=obj.user, name=obj.name)
        obj.pk, obj.prefix = token.pk, token.prefix
        # The only time the key is visible: the operator copies it from this message.
        self.message_user(request, f"Token created: {key} (copy it now; it is not shown again)", messages.WARNING)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:  # a new account: tell each tenant it joined
            for membership in Membership.objects.filter(user=form.instance).select_related("tenant"):
                user_created.send(sender=UserAdmin, user=form.instance, tenant=membership.tenant)
