from django.conf import settings

from . import roles


def console(request):
    user = getattr(request, "user", None)
    return {
        "user_role": roles.user_role(user) if user is not None else "",
        "nexusops_mode": settings.MODE,
        # The header's "Declare incident" button and the "d" shortcut, on every page.
        "nav_can_declare": bool(
            user is not None
            and user.is_authenticated
            and user.has_perm("incidents.declare_incident")
        ),
    }
