"""Login lockout (django-axes) in front of Django's own password check."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request.

    Every login a client can attempt (the admin, `/api-auth/login/`, the portal's auth views) passes
    its request. Code that checks a password without one (a management command, the test client's
    `login()`) has no client address to count against: axes would raise, so it is let through to
    the password check unchanged.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
