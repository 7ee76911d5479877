from django.conf import settings

from . import roles


def console(request):
    user = getattr(request, "user", None)
    return {
        "user_role": roles.user_role(user) if user is not None else "",
        "nexusops_mode": settings.MODE,
    }
