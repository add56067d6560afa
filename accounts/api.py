from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.members import member_change_role, member_invite, member_remove
from accounts.models import ApiToken, Membership
from accounts.roles import request_is_tenant_admin, request_role
from accounts.scoping import TenantScopedMixin, require_tenant
from accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    MemberInvitedSerializer,
    MemberInviteSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    TenantSerializer,
)
from accounts.tokens import token_create, token_revoke


class OwnTokenOrTenantAdmin(BasePermission):
    message = "Only owners and admins manage other people's tokens."

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.user_id == request.user.pk or request_is_tenant_admin(request)


@extend_schema(tags=["tenant"])
class TenantView(APIView):
    @extend_schema(responses=TenantSerializer, summary="The tenant this credential acts for")
    def get(self, request):
        return Response(TenantSerializer(require_tenant(request)).data)


@extend_schema(tags=["tokens"])
class ApiTokenViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API tokens of your tenant (owners and admins: all of them; members: their own).
    `DELETE` revokes: the row stays for the audit trail (the admin shows it), the API forgets it."""

    queryset = ApiToken.objects.filter(revoked_at__isnull=True)
    serializer_class = ApiTokenSerializer
    filterset_fields = ["name"]
    member_actions = {"create", "destroy"}  # their own: OwnTokenOrTenantAdmin refuses the others'

    def get_permissions(self):
        return [*super().get_permissions(), OwnTokenOrTenantAdmin()]

    def get_queryset(self):
        tokens = super().get_queryset()
        if self.action != "list" or request_is_tenant_admin(self.request):
            return tokens  # a member naming a colleague's token gets 403, not a misleading 404
        return tokens.filter(user=self.request.user)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.get("name", "default")  # the model's default; a form may omit it
        token, key = token_create(tenant=self.tenant, user=request.user, name=name)
        token.token = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        token_revoke(token=instance)


@extend_schema(tags=["members"])
@extend_schema_view(
    list=extend_schema(summary="Members of your tenant and their roles"),
    retrieve=extend_schema(summary="One member"),
    destroy=extend_schema(summary="Remove a member (their tokens for this tenant stop working at once)"),
)
class MemberViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who belongs to your tenant. Everyone reads; owners and admins invite, change roles and remove;
    only owners touch owners, and a tenant keeps one owner."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MemberSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["role"]

    @extend_schema(summary="Invite someone by e-mail", request=MemberInviteSerializer,
                   responses={201: MemberInvitedSerializer,
                              409: OpenApiResponse(description="The address already belongs to a member.")},
                   description="Creates the account if there is none (with no password) and e-mails a link "
                               "to choose one.")
    def create(self, request, *args, **kwargs):
        serializer = MemberInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, emailed = member_invite(
            tenant=self.tenant, acting_role=request_role(request), request=request,
            **serializer.validated_data)
        membership.invitation_sent = emailed
        return Response(MemberInvitedSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a member's role", request=MemberRoleSerializer, responses={200: MemberSerializer})
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "role" in serializer.validated_data:  # a PATCH that names nothing to change changes nothing
            member_change_role(membership=membership, role=serializer.validated_data["role"],
                               acting_role=request_role(request))
        return Response(MemberSerializer(membership).data)

    def perform_destroy(self, instance):
        member_remove(membership=instance, acting_role=request_role(self.request))
