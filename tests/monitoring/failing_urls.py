"""The real URLconf plus one view that fails, to see a 500 counted."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from nexusops.urls import urlpatterns as real


@login_not_required
def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom", boom, name="boom"), *real]
