from django.shortcuts import redirect


def home(request):
    # The console opens on the incident list: that is what someone signing in came for.
    return redirect("incident-list")
