"""Pages every app shares: the home page at `/`."""

from django.shortcuts import render


def home(request):
    """Where a person lands: links to every face of Streamhook, whether signed in or not."""
    return render(request, "core/home.html")
