"""Analytics API: parse the query string, call one selector, return its dict."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import require_tenant
from analytics import selectors
from analytics.serializers import (
    DeliveryHealthParams,
    DeliveryHealthSerializer,
    EngagementParams,
    EngagementSerializer,
    GenreTrendsParams,
    GenreTrendsSerializer,
    SessionSummarySerializer,
)


def _params(serializer_class, request) -> dict:
    # A plain dict: DRF reads a QueryDict's empty value as "not given", so `?until=` was ignored.
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)  # 400 naming the parameter
    return serializer.validated_data


class GenreTrendsView(APIView):
    @extend_schema(
        parameters=[GenreTrendsParams], responses=GenreTrendsSerializer, tags=["analytics"],
        summary="Plays, engagement, confidence and characteristics per genre/subgenre, most played first",
    )
    def get(self, request):
        params = _params(GenreTrendsParams, request)
        return Response({"trends": selectors.genre_trends(tenant=require_tenant(request), **params)})


class SessionSummaryView(APIView):
    @extend_schema(
        responses=SessionSummarySerializer, tags=["analytics"],
        parameters=[OpenApiParameter("session_id", str, OpenApiParameter.PATH)],
        summary="A stream's totals, genres, chat and viewer curve (404 for an unknown session)",
    )
    def get(self, request, session_id: str):
        summary = selectors.session_summary(tenant=require_tenant(request), session_id=session_id)
        if summary is None:
            raise NotFound("No such session.")
        return Response(summary)


class EngagementView(APIView):
    @extend_schema(
        parameters=[EngagementParams], responses=EngagementSerializer, tags=["analytics"],
        summary="Plays and audience responses per subgenre and characteristic, per time bucket",
    )
    def get(self, request):
        params = _params(EngagementParams, request)
        return Response(selectors.engagement(tenant=require_tenant(request), **params))


class DeliveryHealthView(APIView):
    @extend_schema(
        parameters=[DeliveryHealthParams], responses=DeliveryHealthSerializer, tags=["analytics"],
        summary="Per webhook endpoint: success rate, p50/p95 latency, failures by status over time",
    )
    def get(self, request):
        params = _params(DeliveryHealthParams, request)
        return Response(selectors.delivery_health(tenant=require_tenant(request), **params))
