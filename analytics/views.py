"""The operators' dashboard: the analytics selectors drawn as server-rendered SVG."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.scoping import request_tenant, tenants_pickable
from analytics import charts, selectors
from analytics.aggregates import as_utc
from streams.models import StreamSession


@login_required
def dashboard(request):
    tenant = request_tenant(request)
    choices = tenants_pickable(request.user)
    if tenant is None:  # e.g. a superuser who opened it from the admin: it picks a tenant here
        return render(request, "analytics/no_tenant.html", {"choices": choices, "next": request.path}, status=403)
    trends = selectors.genre_trends(tenant=tenant, limit=12)
    genre_chart = charts.horizontal_bars([
        (f"{t['main_genre']} / {t['subgenre']}", t["total_plays"],
         {"genre": t["main_genre"], "subgenre": t["subgenre"], "plays": t["total_plays"],
          "engagement": t["total_engagement"]})
        for t in trends
    ], label_width=250)

    sessions = list(StreamSession.objects.filter(tenant=tenant).order_by("-started_at", "-id")[:25])
    chosen = request.GET.get("session") or (sessions[0].session_id if sessions else None)
    summary = selectors.session_summary(tenant=tenant, session_id=chosen) if chosen else None
    viewer_chart = chat_chart = None
    if summary:
        viewer_chart, chat_chart = _session_charts(summary)
        if chosen not in {s.session_id for s in sessions}:  # an older one, asked for by id: keep it selectable
            sessions.append(StreamSession.objects.get(tenant=tenant, session_id=chosen))

    health = selectors.delivery_health(tenant=tenant)
    endpoints = health["endpoints"]
    delivery_chart = charts.horizontal_bars([
        (e["url"], round(e["success_rate"] * 100, 2) if e["success_rate"] is not None else 0,
         {"endpoint": e["endpoint_id"], "success-rate": e["success_rate"], "p50": e["latency_ms"]["p50"],
          "p95": e["latency_ms"]["p95"], "failed": e["deliveries"]["failed"]})
        for e in endpoints
    ], label_width=250)
    for bar, endpoint in zip(delivery_chart.bars, endpoints, strict=True):
        bar.data["decided"] = endpoint["success_rate"] is not None  # no finished delivery: no rate to draw
    return render(request, "analytics/dashboard.html", {
        "tenant": tenant, "trends": trends, "genre_chart": genre_chart, "sessions": sessions, "chosen": chosen,
        "summary": summary, "viewer_chart": viewer_chart, "chat_chart": chat_chart, "endpoints": endpoints,
        "delivery_chart": delivery_chart, "health": health, "duration": _duration(summary),
        "choices": choices if len(choices) > 1 else [], "current": tenant, "next": request.path,
    })


def _duration(summary: dict | None) -> str | None:
    seconds = summary and summary["session"]["duration_seconds"]
    if seconds is None:
        return None
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _session_charts(summary: dict):
    session = summary["session"]
    timeline = [(as_utc(p["at"]), p["viewers"]) for p in summary["viewer_timeline"]]
    tracks = [(as_utc(t["played_at"]), f"{t['artist']} - {t['title']} ({t['subgenre'] or 'unclassified'})",
               {"subgenre": t["subgenre"], "played-at": t["played_at"]}) for t in summary["tracks"]]
    chat = [(as_utc(m["minute"]), {"chat": m["messages"], "bot": m["interactions"]},
             {"minute": m["minute"], "messages": m["messages"], "interactions": m["interactions"],
              "responses": m["responses"]}) for m in summary["chat_timeline"]]
    moments = [t for t, *_ in timeline] + [t for t, *_ in tracks] + [t for t, *_ in chat]
    start = as_utc(session["started_at"]) or min(moments, default=datetime.now(UTC))
    ends = [as_utc(session["ended_at"]) or start, *moments]
    if session["duration_seconds"] is not None:  # a live session: up to the latest event heard of
        ends.append(start + timedelta(seconds=session["duration_seconds"]))
    end = max(ends)
    viewer_chart = charts.time_chart(start=start, end=end, line=timeline, markers=tracks)
    chat_chart = charts.time_chart(start=start, end=end, columns=chat, markers=tracks, height=170)
    return viewer_chart, chat_chart
