from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.scoping import TenantScopedMixin, request_is_tenant_admin, require_tenant
from accounts.serializers import ApiTokenCreatedSerializer, ApiTokenSerializer, TenantSerializer
from accounts.tokens import token_create, token_revoke


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

    def get_queryset(self):
        tokens = super().get_queryset()
        return tokens if request_is_tenant_admin(self.request) else tokens.filter(user=self.request.user)

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
