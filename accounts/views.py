"""The tenant picker: which tenant a signed-in person's pages (dashboard, meter, portal) act for; and
where an invited person lands after choosing a password."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetCompleteView
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.scoping import SESSION_TENANT_KEY, request_tenant, tenants_pickable


@login_required
@require_http_methods(["GET", "POST"])
def tenant_pick(request):
    """A superuser may pick any active tenant; anyone else one of their own."""
    choices = tenants_pickable(request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or "/dashboard/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/dashboard/"
    if request.method == "POST":
        slug = request.POST.get("tenant", "")
        if slug not in {t.slug for t in choices}:
            return HttpResponseBadRequest("tenant: not one you may act for.")
        request.session[SESSION_TENANT_KEY] = slug
        return redirect(next_url)
    return render(request, "accounts/tenant_pick.html", {
        "choices": choices, "current": request_tenant(request), "next": next_url,
    })


class PasswordChosenView(PasswordResetCompleteView):
    """Its "Log in" leads to the portal, where a tenant's members work; the stock page links LOGIN_URL,
    the browsable API's login, which an invited member has no use for."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_url"] = reverse("portal:login")
        return context
