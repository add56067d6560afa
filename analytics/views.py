"""The operators' dashboard: the analytics selectors drawn as server-rendered SVG."""

from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.scoping import require_tenant
from analytics import charts, selectors
from analytics.aggregates import as_utc
from streams.models import StreamSession


@login_required
def dashboard(request):
    tenant = require_tenant(request)
    trends = selectors.genre_trends(tenant=tenant, limit=12)
    genre_chart = charts.horizontal_bars([
        (f"{t['main_genre']} / {t['subgenre']}", t["total_plays"],
         {"genre": t["main_genre"], "subgenre": t["subgenre"], "plays": t["total_plays"],
          "engagement": t["total_engagement"]})
        for t in trends
    ])

    sessions = list(StreamSession.objects.filter(tenant=tenant).order_by("-started_at", "-id")[:25])
    chosen = request.GET.get("session") or (sessions[0].session_id if sessions else None)
    summary = selectors.session_summary(tenant=tenant, session_id=chosen) if chosen else None
    viewer_chart = chat_chart = None
    if summary:
        viewer_chart, chat_chart = _session_charts(summary)

    health = selectors.delivery_health(tenant=tenant)
    endpoints = health["endpoints"]
    delivery_chart = charts.horizontal_bars([
        (e["url"], round((e["success_rate"] or 0) * 100, 2),
         {"endpoint": e["endpoint_id"], "success-rate": e["success_rate"], "p50": e["latency_ms"]["p50"],
          "p95": e["latency_ms"]["p95"], "failed": e["deliveries"]["failed"]})
        for e in endpoints
    ])
    return render(request, "analytics/dashboard.html", {
        "tenant": tenant, "trends": trends, "genre_chart": genre_chart, "sessions": sessions, "chosen": chosen,
        "summary": summary, "viewer_chart": viewer_chart, "chat_chart": chat_chart, "endpoints": endpoints,
        "delivery_chart": delivery_chart, "health": health,
    })


def _session_charts(summary: dict):
    session = summary["session"]
    timeline = [(as_utc(p["at"]), p["viewers"]) for p in summary["viewer_timeline"]]
    tracks = [(as_utc(t["played_at"]), f"{t['artist']} - {t['title']}",
               {"subgenre": t["subgenre"], "played-at": t["played_at"]}) for t in summary["tracks"]]
    chat = [(as_utc(m["minute"]), m["messages"] + m["interactions"],
             {"minute": m["minute"], "messages": m["messages"], "interactions": m["interactions"],
              "responses": m["responses"]}) for m in summary["chat_timeline"]]
    moments = [t for t, *_ in timeline] + [t for t, *_ in tracks] + [t for t, *_ in chat]
    start = as_utc(session["started_at"]) or min(moments, default=datetime.now(UTC))
    end = max([as_utc(session["ended_at"]) or start, *moments], default=start)
    viewer_chart = charts.time_chart(start=start, end=end, line=timeline, markers=tracks)
    chat_chart = charts.time_chart(start=start, end=end, columns=chat, markers=tracks, height=160)
    return viewer_chart, chat_chart
