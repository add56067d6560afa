"""The audio frontend's listening API, tenant-scoped: `/api/listen/start`, `/stop`, `/status`, plus `/level`."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import require_tenant
from audio import services
from core.fields import StrictCharField


class ListenRequestSerializer(serializers.Serializer):
    # The audio frontend's document's ListenRequest; the frontend sends it, nothing depends on it, so it may
    # be left out.
    timestamp = StrictCharField(required=False, allow_blank=True, max_length=64)


def _check_listen_request(request) -> None:
    """An empty body or the audio frontend's `{"timestamp": "..."}`; anything else is a 400 naming what is wrong.

    (The FastAPI backend in the audio frontend's document answered such bodies with 422; we never act on a body
    we cannot read.)
    """
    data = request.data  # a body over the upload limit is a JSON 413 (core/exceptions.py)
    if not isinstance(data, Mapping):
        raise serializers.ValidationError(
            {"non_field_errors": ['Expected a JSON object such as {"timestamp": "2026-11-22T10:00:00Z"}.']})
    ListenRequestSerializer(data=data).is_valid(raise_exception=True)


_START = inline_serializer("ListenStartResponse", {
    "success": serializers.BooleanField(), "message": serializers.CharField(),
    "sessionId": serializers.CharField(), "webhookUrl": serializers.CharField(allow_null=True),
})
_STOP = inline_serializer("ListenStopResponse", {
    "success": serializers.BooleanField(), "message": serializers.CharField(),
    "sessionId": serializers.CharField(allow_null=True),
})
_STATUS = inline_serializer("ListenStatusResponse", {
    "isListening": serializers.BooleanField(), "sessionId": serializers.CharField(allow_null=True),
})


def _level_webhook_url(tenant) -> str | None:
    """Where this tenant's `audio.level` events go: its first active endpoint subscribed to them."""
    endpoints = services.level_endpoints(tenant=tenant)
    return endpoints[0].url if endpoints else None


class ListenStartView(APIView):
    member_actions = {"post"}

    @extend_schema(summary="Start listening (the audio frontend)", tags=["audio"], request=ListenRequestSerializer,
                   responses={200: _START, 400: None, 413: None})
    def post(self, request):
        _check_listen_request(request)
        tenant = require_tenant(request)
        result = services.listening_start(tenant=tenant, started_by="api")
        message = "Listening started successfully" if result.created else "Already listening"
        return Response({"success": True, "message": message, "sessionId": result.session.session_id,
                         "webhookUrl": _level_webhook_url(tenant)})


class ListenStopView(APIView):
    member_actions = {"post"}

    @extend_schema(summary="Stop listening (the audio frontend)", tags=["audio"], request=ListenRequestSerializer,
                   responses={200: _STOP, 400: None, 413: None})
    def post(self, request):
        _check_listen_request(request)
        session = services.listening_stop(tenant=require_tenant(request))
        if session is None:
            return Response({"success": True, "message": "Not listening", "sessionId": None})
        return Response({"success": True, "message": "Listening stopped successfully",
                         "sessionId": session.session_id})


class ListenStatusView(APIView):
    @extend_schema(summary="Listening status (the audio frontend)", tags=["audio"], responses={200: _STATUS})
    def get(self, request):
        session = services.listening_active(tenant=require_tenant(request))
        return Response({"isListening": session is not None, "sessionId": session.session_id if session else None})


class ListenLevelView(APIView):
    @extend_schema(summary="The latest level of the active listening session (for the meter page)", tags=["audio"],
                   responses={200: inline_serializer("ListenLevelResponse", {
                       "isListening": serializers.BooleanField(), "sessionId": serializers.CharField(allow_null=True),
                       "level": serializers.DictField(allow_null=True)})})
    def get(self, request):
        return Response(services.level_latest(tenant=require_tenant(request)))
