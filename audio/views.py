from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def meter(request):
    """The live meter: the page polls /api/listen/level ten times a second."""
    return render(request, "audio/meter.html")
